-- Screening II (issue 18): partial names, secondary evidence, ongoing monitoring.
--
-- sanctions_entries: one row per listed entry of a list version, with a content hash (so the
-- next version's diff is by entry id and hash: a reload of the same file re-screens nobody) and
-- the facts parsed from its remarks at load: dates of birth in canonical form (screening.h,
-- screen_dob_format) and nationalities resolved to ISO alpha-2 (unresolved names kept as
-- written, never guessed).
CREATE TABLE sanctions_entries (
    list_id           bigint  NOT NULL REFERENCES sanctions_lists (id) ON DELETE CASCADE,
    entry_id          bigint  NOT NULL,
    type              text,
    content_hash      text    NOT NULL,
    dob               text[]  NOT NULL DEFAULT '{}',
    nationality_names text[]  NOT NULL DEFAULT '{}',
    nationalities     text[]  NOT NULL DEFAULT '{}',
    PRIMARY KEY (list_id, entry_id)
);

-- What activating a version re-screened (NULL: not re-screened, e.g. the first list ever).
ALTER TABLE sanctions_lists
    ADD COLUMN rescreen_entries  integer,
    ADD COLUMN rescreen_subjects integer,
    ADD COLUMN rescreen_hits     integer,
    ADD COLUMN rescreen_ms       integer,
    ADD COLUMN rescreened_at     timestamptz;

-- The evidence of the last screening of an application (officers only), and whether
-- re-screening sent it back to review: such an application waits in the queue beside a newer
-- one of the same applicant, so the one-pending-per-email/PAN/Aadhaar indexes (which stop
-- duplicate submissions) do not count it.
ALTER TABLE loan_applications
    ADD COLUMN screening_level    text CHECK (screening_level IN ('clear', 'review', 'block')),
    ADD COLUMN screening_evidence jsonb,
    ADD COLUMN rescreen_hold      boolean NOT NULL DEFAULT false;

DROP INDEX loan_applications_one_pending;
CREATE UNIQUE INDEX loan_applications_one_pending
    ON loan_applications (lower(email)) WHERE final_status = 'PENDING' AND NOT rescreen_hold;
DROP INDEX loan_applications_open_pan;
CREATE UNIQUE INDEX loan_applications_open_pan
    ON loan_applications (pan_bidx)
    WHERE final_status = 'PENDING' AND pan_bidx IS NOT NULL AND NOT rescreen_hold;
DROP INDEX loan_applications_open_aadhaar;
CREATE UNIQUE INDEX loan_applications_open_aadhaar
    ON loan_applications (aadhaar_bidx)
    WHERE final_status = 'PENDING' AND aadhaar_bidx IS NOT NULL AND NOT rescreen_hold;

-- A match found by re-screening an open application or an active borrower against the entries
-- a new list version added or changed: once per subject and entry content.
CREATE TABLE screening_alerts (
    id             bigserial   PRIMARY KEY,
    list_id        bigint      NOT NULL REFERENCES sanctions_lists (id),
    entry_id       bigint      NOT NULL,
    content_hash   text        NOT NULL,
    application_id text        NOT NULL REFERENCES loan_applications (application_id),
    loan_id        text        REFERENCES loans (loan_id),
    matched_name   text        NOT NULL,
    score          numeric(5,4) NOT NULL,
    level          text        NOT NULL CHECK (level IN ('review', 'block')),
    evidence       jsonb       NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    resolved_by    bigint      REFERENCES users (id),
    resolved_at    timestamptz,
    UNIQUE (application_id, entry_id, content_hash)
);
CREATE INDEX screening_alerts_open ON screening_alerts (created_at, id) WHERE resolved_at IS NULL;

ALTER TABLE approval_logs DROP CONSTRAINT approval_logs_action_check;
ALTER TABLE approval_logs ADD CONSTRAINT approval_logs_action_check CHECK (action IN (
    'submit', 'first_approval', 'approve', 'reject', 'reprocess',
    'offer_created', 'offer_withdrawn', 'offer_accepted', 'otp_sent', 'otp_failed', 'agreement_signed',
    'disbursal_approved', 'disbursal_requested', 'disbursal_failed', 'payout_update',
    'loan_activated', 'repayment', 'repayment_reversed', 'prepayment', 'loan_closed',
    'payment_link_created', 'penal_charged', 'classification_changed', 'screening_hit'));

-- The officers' document gains the screening level and evidence and the re-screening alerts.
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
            'score', a.screening_score, 'level', a.screening_level,
            'evidence', a.screening_evidence) END,
        'screening_alerts', (SELECT coalesce(json_agg(json_build_object(
            'alert_id', s.id, 'list_version', l.version, 'entry_id', s.entry_id,
            'matched_name', s.matched_name, 'score', s.score, 'level', s.level,
            'evidence', s.evidence, 'raised_at', iso_utc(s.created_at),
            'resolved_at', iso_utc(s.resolved_at)) ORDER BY s.id), '[]'::json)
            FROM screening_alerts s JOIN sanctions_lists l ON l.id = s.list_id
            WHERE s.application_id = a.application_id),
        'submitted_by', CASE WHEN a.user_id IS NULL THEN NULL ELSE json_build_object(
            'user_id', a.user_id,
            'email', (SELECT u.email FROM users u WHERE u.id = a.user_id)) END,
        'first_approval', CASE WHEN a.first_approval_by IS NULL THEN NULL ELSE json_build_object(
            'by', a.first_approval_by,
            'email', (SELECT u.email FROM users u WHERE u.id = a.first_approval_by),
            'at', iso_utc(a.first_approval_at)) END,
        'created_at', iso_utc(a.created_at), 'updated_at', iso_utc(a.updated_at))::text
$$;

UPDATE loan_applications SET updated_at = updated_at;
