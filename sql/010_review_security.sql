-- What the adversarial review of issue 11 closed in the application's life.
--
-- Maker-checker: an application flagged for sanctions review or PEP, or above FOUR_EYES_AMOUNT,
-- is decided by two different officers; the first approval is kept on the row (and in the
-- approval log as 'first_approval'), the second decides. A reprocess starts the count again.
--
-- Two documents per row: `doc` is the officers' (every stage's remarks, the screening evidence,
-- the bureau report, the eKYC name scores, who submitted and who approved first), and
-- `applicant_doc` is what the applicant is shown: the seed's fields, with every value that
-- would tip off a sanctions, PEP or related-party finding, or show a bureau report, a name score
-- or a date-of-birth match, made neutral. The trigger keeps both on every write, so a read picks
-- one by the reader's role with no extra work.

ALTER TABLE loan_applications
    ADD COLUMN first_approval_by bigint REFERENCES users (id),
    ADD COLUMN first_approval_at timestamptz,
    ADD COLUMN applicant_doc     text NOT NULL DEFAULT '';

ALTER TABLE approval_logs DROP CONSTRAINT approval_logs_action_check;
ALTER TABLE approval_logs ADD CONSTRAINT approval_logs_action_check
    CHECK (action IN ('submit', 'first_approval', 'approve', 'reject', 'reprocess'));

-- The officers' document: the shape of sql/005, plus who submitted and the first approval.
CREATE OR REPLACE FUNCTION loan_doc(a loan_applications) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'application_id', a.application_id, 'name', a.name, 'email', a.email,
        'phone', a.phone, 'city', a.city, 'region', a.region, 'country', a.country,
        'country_code', a.country_code, 'income', a.income, 'debt', a.debt,
        'credit_score', a.credit_score, 'loan_amount', a.loan_amount,
        'loan_purpose', a.loan_purpose, 'dti_ratio', a.dti_ratio,
        'date_of_birth', a.date_of_birth,
        'documents_uploaded', a.documents_uploaded, 'documents', to_json(a.documents),
        'identity', CASE WHEN a.aadhaar_masked IS NULL AND a.pan_masked IS NULL
                          AND a.bank_account_masked IS NULL AND a.ekyc IS NULL THEN NULL
                    ELSE json_build_object(
            'aadhaar', a.aadhaar_masked, 'pan', a.pan_masked,
            'bank_account', CASE WHEN a.bank_account_masked IS NULL THEN NULL ELSE
                json_build_object('account_number', a.bank_account_masked,
                                  'ifsc', a.bank_ifsc, 'holder_name', a.bank_holder_name) END,
            'ekyc', a.ekyc) END,
        'credit_bureau', CASE WHEN a.bureau_status IS NULL THEN NULL ELSE json_build_object(
            'bureau', a.bureau_name, 'status', a.bureau_status, 'score', a.bureau_score,
            'active_loans', a.bureau_active_loans,
            'overdue_accounts', a.bureau_overdue_accounts,
            'enquiries_6m', a.bureau_enquiries_6m, 'reference', a.bureau_reference,
            'tier_version', a.bureau_tier_version, 'tier_limit', a.bureau_tier_limit) END,
        'risk', CASE WHEN a.risk_grade IS NULL THEN NULL ELSE json_build_object(
            'model_version', a.risk_model_version, 'probability_of_default', a.risk_pd,
            'points', a.risk_points, 'grade', a.risk_grade,
            'reasons', coalesce(a.risk_reasons, '[]'::jsonb)) END,
        'pricing', CASE WHEN a.rate_bps IS NULL THEN NULL ELSE json_build_object(
            'base_rate_symbol', a.rate_base_symbol,
            'base_rate', round(a.rate_base_bps / 100.0, 2),
            'base_rate_as_of', a.rate_base_as_of,
            'spread', round(a.rate_spread_bps / 100.0, 2),
            'annual_rate', round(a.rate_bps / 100.0, 2)) END,
        'kyc_status', a.kyc_status, 'kyc_verified_at', iso_utc(a.kyc_verified_at),
        'kyc_remarks', a.kyc_remarks,
        'compliance_status', a.compliance_status,
        'compliance_verified_at', iso_utc(a.compliance_verified_at),
        'compliance_remarks', a.compliance_remarks,
        'political_connection', a.political_connection, 'senior_relative', a.senior_relative,
        'eligibility_status', a.eligibility_status,
        'eligibility_verified_at', iso_utc(a.eligibility_verified_at),
        'eligibility_remarks', a.eligibility_remarks,
        'final_status', a.final_status, 'final_decision_at', iso_utc(a.final_decision_at),
        'final_remarks', a.final_remarks, 'alert_sent', a.alert_sent, 'email_sent', a.email_sent,
        'review_flags', to_json(a.review_flags), 'failed_rules', to_json(a.failed_rules),
        'reviewed_by', a.reviewed_by,
        'reviewed_at', iso_utc(a.reviewed_at), 'review_reason', a.review_reason,
        'screening', CASE WHEN a.screening_list IS NULL THEN NULL ELSE json_build_object(
            'list', a.screening_list, 'list_version', a.screening_list_version,
            'entry_id', a.screening_entry_id, 'matched_name', a.screening_matched_name,
            'score', a.screening_score) END,
        'submitted_by', CASE WHEN a.user_id IS NULL THEN NULL ELSE json_build_object(
            'user_id', a.user_id,
            'email', (SELECT u.email FROM users u WHERE u.id = a.user_id)) END,
        'first_approval', CASE WHEN a.first_approval_by IS NULL THEN NULL ELSE json_build_object(
            'by', a.first_approval_by,
            'email', (SELECT u.email FROM users u WHERE u.id = a.first_approval_by),
            'at', iso_utc(a.first_approval_at)) END,
        'created_at', iso_utc(a.created_at), 'updated_at', iso_utc(a.updated_at))::text
$$;

-- A stage's remarks for the applicant: the "; "-separated parts that match hide are dropped;
-- when nothing is left, a neutral word for the stage's status.
CREATE FUNCTION loan_neutral_remarks(remarks text, status text, hide text)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(nullif(array_to_string(ARRAY(
               SELECT part FROM unnest(string_to_array(remarks, '; ')) WITH ORDINALITY AS t(part, i)
               WHERE hide IS NULL OR part !~* hide ORDER BY i), '; '), ''),
           CASE status WHEN 'APPROVED' THEN 'Verified'
                       WHEN 'REJECTED' THEN 'We cannot offer a loan'
                       ELSE 'Under review' END)
$$;

-- The eKYC answers without the name scores and birth-date matches.
CREATE FUNCTION loan_neutral_ekyc(e jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN e IS NULL THEN NULL ELSE (
        SELECT jsonb_object_agg(k, CASE WHEN jsonb_typeof(v) = 'object'
                                        THEN v || '{"name_score": null, "dob_match": null}'
                                        ELSE v END)
        FROM jsonb_each(e) AS t(k, v)) END
$$;

-- The applicant's document: every field of the officers' document of the seed's shape, with
-- neutral values where the officers' would tip off a finding or show what the providers said.
-- While the application waits, no stage shows REJECTED (an account held after repeated identity
-- mismatches must not learn which check failed).
CREATE FUNCTION loan_applicant_doc(a loan_applications) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'application_id', a.application_id, 'name', a.name, 'email', a.email,
        'phone', a.phone, 'city', a.city, 'region', a.region, 'country', a.country,
        'country_code', a.country_code, 'income', a.income, 'debt', a.debt,
        'credit_score', a.credit_score, 'loan_amount', a.loan_amount,
        'loan_purpose', a.loan_purpose, 'dti_ratio', a.dti_ratio,
        'date_of_birth', a.date_of_birth,
        'documents_uploaded', a.documents_uploaded, 'documents', to_json(a.documents),
        'identity', CASE WHEN a.aadhaar_masked IS NULL AND a.pan_masked IS NULL
                          AND a.bank_account_masked IS NULL AND a.ekyc IS NULL THEN NULL
                    ELSE json_build_object(
            'aadhaar', a.aadhaar_masked, 'pan', a.pan_masked,
            'bank_account', CASE WHEN a.bank_account_masked IS NULL THEN NULL ELSE
                json_build_object('account_number', a.bank_account_masked,
                                  'ifsc', a.bank_ifsc, 'holder_name', a.bank_holder_name) END,
            'ekyc', loan_neutral_ekyc(a.ekyc)) END,
        'credit_bureau', NULL,
        'risk', CASE WHEN a.risk_grade IS NULL THEN NULL ELSE json_build_object(
            'model_version', a.risk_model_version, 'probability_of_default', a.risk_pd,
            'points', a.risk_points, 'grade', a.risk_grade,
            'reasons', coalesce(a.risk_reasons, '[]'::jsonb)) END,
        'pricing', CASE WHEN a.rate_bps IS NULL THEN NULL ELSE json_build_object(
            'base_rate_symbol', a.rate_base_symbol,
            'base_rate', round(a.rate_base_bps / 100.0, 2),
            'base_rate_as_of', a.rate_base_as_of,
            'spread', round(a.rate_spread_bps / 100.0, 2),
            'annual_rate', round(a.rate_bps / 100.0, 2)) END,
        'kyc_status', s.kyc, 'kyc_verified_at', iso_utc(a.kyc_verified_at),
        'kyc_remarks', loan_neutral_remarks(a.kyc_remarks, s.kyc,
            'name score|\(score |another name|name on record|name to compare|holder''s name|date of birth diff'),
        'compliance_status', a.final_status,
        'compliance_verified_at', iso_utc(a.final_decision_at),
        'compliance_remarks', loan_neutral_remarks('', a.final_status, NULL),
        'political_connection', a.declared_political_connection,
        'senior_relative', a.declared_senior_relative,
        'eligibility_status', s.elig,
        'eligibility_verified_at', iso_utc(a.eligibility_verified_at),
        'eligibility_remarks', loan_neutral_remarks(a.eligibility_remarks, s.elig,
            CASE WHEN a.bureau_status IS NULL THEN NULL
                 ELSE 'CIBIL|CRIF|bureau|credit history|active loans|overdue|enquiries|score|tier|risk grade' END),
        'final_status', a.final_status, 'final_decision_at', iso_utc(a.final_decision_at),
        'final_remarks', CASE a.final_status WHEN 'APPROVED' THEN 'Your loan application is approved'
                                             WHEN 'REJECTED' THEN 'We cannot offer a loan'
                                             ELSE 'Under review' END,
        'alert_sent', false, 'email_sent', a.email_sent,
        'review_flags', to_json(ARRAY(SELECT f FROM unnest(a.review_flags) AS f
                                      WHERE f = 'documents_outstanding')),
        'failed_rules', to_json(CASE WHEN a.final_status = 'PENDING' THEN '{}'::text[] ELSE ARRAY(
            SELECT f FROM unnest(a.failed_rules) AS f
            WHERE f NOT IN ('sanctions', 'country_risk') AND f !~ '^(kyc_.*_name|bureau_|risk_)'
              AND NOT (f = 'credit_score' AND a.bureau_status IS NOT NULL)) END),
        'reviewed_by', NULL,
        'reviewed_at', iso_utc(a.reviewed_at), 'review_reason', NULL,
        'screening', NULL,
        'created_at', iso_utc(a.created_at), 'updated_at', iso_utc(a.updated_at))::text
    FROM (SELECT CASE WHEN a.final_status = 'PENDING' AND a.kyc_status = 'REJECTED'
                      THEN 'PENDING' ELSE a.kyc_status END AS kyc,
                 CASE WHEN a.final_status = 'PENDING' AND a.eligibility_status = 'REJECTED'
                      THEN 'PENDING' ELSE a.eligibility_status END AS elig) AS s
$$;

CREATE OR REPLACE FUNCTION loan_doc_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.doc := loan_doc(NEW);
    NEW.applicant_doc := loan_applicant_doc(NEW);
    RETURN NEW;
END
$$;

-- Stored documents take the new shapes now rather than at their next write.
UPDATE loan_applications SET doc = loan_doc(loan_applications),
                             applicant_doc = loan_applicant_doc(loan_applications);
