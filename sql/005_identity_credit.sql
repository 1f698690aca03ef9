-- Indian eKYC and the credit bureau: protected identity columns on applications, the bureau's
-- versioned tier table, and the sandbox providers' test data.
--
-- Protected identity data. Aadhaar, PAN and the bank account number are never stored in clear.
-- Each is kept three ways: a masked form for display (last four visible), an XChaCha20-Poly1305
-- ciphertext under the key whose id is pii_key_id (the service's PII_KEY; nonce || ciphertext,
-- the application id and field name bound in as associated data, so a ciphertext copied to
-- another row or column does not open), and for Aadhaar and PAN a keyed BLAKE2b blind index
-- that finds the same number on another application without revealing it. `loanctl pii
-- rotate-key` re-encrypts and re-indexes rows under a new key.
--
-- An application is open while its final status is PENDING, as for the one-per-email rule:
-- the same PAN or Aadhaar on two open applications is refused (409).

ALTER TABLE loan_applications
    ADD COLUMN date_of_birth           date,
    ADD COLUMN aadhaar_masked          text CHECK (aadhaar_masked ~ '^XXXX XXXX [0-9]{4}$'),
    ADD COLUMN aadhaar_enc             bytea,
    ADD COLUMN aadhaar_bidx            bytea CHECK (octet_length(aadhaar_bidx) = 32),
    ADD COLUMN pan_masked              text CHECK (pan_masked ~ '^XXXXXX[0-9]{3}[A-Z]$'),
    ADD COLUMN pan_enc                 bytea,
    ADD COLUMN pan_bidx                bytea CHECK (octet_length(pan_bidx) = 32),
    ADD COLUMN bank_account_masked     text CHECK (bank_account_masked ~ '^X{5,14}[0-9]{4}$'),
    ADD COLUMN bank_account_enc        bytea,
    ADD COLUMN bank_ifsc               text CHECK (bank_ifsc ~ '^[A-Z]{4}0[A-Z0-9]{6}$'),
    ADD COLUMN bank_holder_name        text,
    ADD COLUMN pii_key_id              text CHECK (pii_key_id ~ '^[0-9a-f]{16}$'),
    -- what the eKYC provider answered for each check (status, name on record, name score,
    -- reference); never a number
    ADD COLUMN ekyc                    jsonb,
    -- the credit bureau's report and the tier applied
    ADD COLUMN bureau_name             text CHECK (bureau_name IN ('CIBIL', 'CRIF')),
    ADD COLUMN bureau_status           text
               CHECK (bureau_status IN ('OK', 'NO_HISTORY', 'TIMEOUT', 'ERROR')),
    ADD COLUMN bureau_score            integer CHECK (bureau_score BETWEEN 300 AND 900),
    ADD COLUMN bureau_active_loans     integer CHECK (bureau_active_loans >= 0),
    ADD COLUMN bureau_overdue_accounts integer CHECK (bureau_overdue_accounts >= 0),
    ADD COLUMN bureau_enquiries_6m     integer CHECK (bureau_enquiries_6m >= 0),
    ADD COLUMN bureau_reference        text,
    ADD COLUMN bureau_tier_version     integer,
    ADD COLUMN bureau_tier_limit       numeric(14,2),
    -- the risk model's verdict and the price offered
    ADD COLUMN risk_model_version      integer,
    ADD COLUMN risk_pd                 numeric(7,6) CHECK (risk_pd BETWEEN 0 AND 1),
    ADD COLUMN risk_points             integer,
    ADD COLUMN risk_grade              char(1) CHECK (risk_grade IN ('A', 'B', 'C', 'D', 'E')),
    ADD COLUMN risk_reasons            jsonb,
    ADD COLUMN rate_base_symbol        text,
    ADD COLUMN rate_base_bps           integer,
    ADD COLUMN rate_base_as_of         date,
    ADD COLUMN rate_spread_bps         integer,
    ADD COLUMN rate_bps                integer,
    -- the rules no officer can override that the last evaluation failed ("bureau_limit", …)
    ADD COLUMN failed_rules            text[] NOT NULL DEFAULT '{}',
    ADD CONSTRAINT loan_applications_aadhaar_whole CHECK
        ((aadhaar_masked IS NULL) = (aadhaar_enc IS NULL) AND
         (aadhaar_masked IS NULL) = (aadhaar_bidx IS NULL)),
    ADD CONSTRAINT loan_applications_pan_whole CHECK
        ((pan_masked IS NULL) = (pan_enc IS NULL) AND (pan_masked IS NULL) = (pan_bidx IS NULL)),
    ADD CONSTRAINT loan_applications_bank_whole CHECK
        ((bank_account_masked IS NULL) = (bank_account_enc IS NULL) AND
         (bank_account_masked IS NULL) = (bank_ifsc IS NULL)),
    ADD CONSTRAINT loan_applications_pii_keyed CHECK
        ((aadhaar_enc IS NULL AND pan_enc IS NULL AND bank_account_enc IS NULL)
         OR pii_key_id IS NOT NULL);

CREATE UNIQUE INDEX loan_applications_open_pan
    ON loan_applications (pan_bidx) WHERE final_status = 'PENDING' AND pan_bidx IS NOT NULL;
CREATE UNIQUE INDEX loan_applications_open_aadhaar
    ON loan_applications (aadhaar_bidx)
    WHERE final_status = 'PENDING' AND aadhaar_bidx IS NOT NULL;
-- What `loanctl pii rotate-key` walks: rows under a key other than the current one.
CREATE INDEX loan_applications_pii_key ON loan_applications (pii_key_id, id)
    WHERE pii_key_id IS NOT NULL;

-- The application document gains the masked identity, the provider's answers, the bureau
-- report, the risk verdict and the price. Only masked forms appear here.
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
        'created_at', iso_utc(a.created_at), 'updated_at', iso_utc(a.updated_at))::text
$$;

-- Stored documents take the new shape now rather than at their next write.
UPDATE loan_applications SET doc = loan_doc(loan_applications);

-- The bureau tiers of the seed: >= 750 up to 500,000; 650-749 up to 200,000; below 650
-- rejected (max_loan NULL). A version is immutable once written; a new policy is a new version,
-- and each decision records the version it used.
CREATE TABLE bureau_tier_versions (
    version     integer     PRIMARY KEY,
    active      boolean     NOT NULL DEFAULT false,
    note        text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX bureau_tier_versions_one_active ON bureau_tier_versions (active) WHERE active;

CREATE TABLE bureau_tiers (
    version     integer     NOT NULL REFERENCES bureau_tier_versions (version),
    min_score   integer     NOT NULL CHECK (min_score BETWEEN 300 AND 900),
    max_score   integer     NOT NULL CHECK (max_score BETWEEN 300 AND 900),
    max_loan    numeric(14,2) CHECK (max_loan > 0),      -- NULL: scores in this tier are rejected
    label       text        NOT NULL,
    PRIMARY KEY (version, min_score),
    CHECK (min_score <= max_score)
);
CREATE TRIGGER bureau_tiers_immutable BEFORE UPDATE OR DELETE ON bureau_tiers
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

INSERT INTO bureau_tier_versions (version, active, note)
    VALUES (1, true, 'CIBIL/CRIF tiers of the product seed');
INSERT INTO bureau_tiers (version, min_score, max_score, max_loan, label) VALUES
    (1, 750, 900, 500000.00, 'Prime'),
    (1, 650, 749, 200000.00, 'Near prime'),
    (1, 300, 649, NULL,      'Below cut-off');

-- ---------------------------------------------------------------------------------------------
-- Sandbox providers (EKYC_PROVIDER=sandbox, BUREAU_PROVIDER=sandbox). They answer the way a
-- provider's sandbox does: from a fixed table of test identities, deterministically. The tables
-- play the provider's side, so they hold no number in clear either: rows are keyed by the
-- SHA-256 of the number (for bank accounts, of "account@IFSC"). docs/ekyc.md lists the test
-- identities. `loanctl seed` registers its synthetic applicants here (source 'seed').
CREATE TABLE ekyc_sandbox_identities (
    kind            text    NOT NULL CHECK (kind IN ('aadhaar', 'pan', 'bank_account')),
    number_sha256   text    NOT NULL CHECK (number_sha256 ~ '^[0-9a-f]{64}$'),
    name            text    NOT NULL,
    date_of_birth   date,
    outcome         text    NOT NULL CHECK (outcome IN ('verified', 'not_found', 'timeout', 'error')),
    note            text    NOT NULL DEFAULT '',
    source          text    NOT NULL DEFAULT 'fixture',
    PRIMARY KEY (kind, number_sha256)
);

CREATE TABLE bureau_sandbox_reports (
    pan_sha256        text    PRIMARY KEY CHECK (pan_sha256 ~ '^[0-9a-f]{64}$'),
    bureau            text    NOT NULL CHECK (bureau IN ('CIBIL', 'CRIF')),
    score             integer CHECK (score BETWEEN 300 AND 900),   -- NULL: no credit history
    active_loans      integer NOT NULL DEFAULT 0 CHECK (active_loans >= 0),
    overdue_accounts  integer NOT NULL DEFAULT 0 CHECK (overdue_accounts >= 0),
    enquiries_6m      integer NOT NULL DEFAULT 0 CHECK (enquiries_6m >= 0),
    outcome           text    NOT NULL DEFAULT 'ok' CHECK (outcome IN ('ok', 'timeout', 'error')),
    note              text    NOT NULL DEFAULT '',
    source            text    NOT NULL DEFAULT 'fixture'
);

-- Workers keep the sandbox tables in memory and reload them when this counter moves.
CREATE TABLE sandbox_version (one boolean PRIMARY KEY DEFAULT true CHECK (one), version bigint NOT NULL);
INSERT INTO sandbox_version VALUES (true, 1);
CREATE FUNCTION sandbox_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE sandbox_version SET version = version + 1;
    RETURN NULL;
END
$$;
CREATE TRIGGER ekyc_sandbox_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON ekyc_sandbox_identities FOR EACH STATEMENT EXECUTE FUNCTION sandbox_bump();
CREATE TRIGGER bureau_sandbox_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON bureau_sandbox_reports FOR EACH STATEMENT EXECUTE FUNCTION sandbox_bump();

CREATE FUNCTION sandbox_key(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT encode(sha256(convert_to(t, 'UTF8')), 'hex')
$$;

-- The test identities. The clear numbers below are the sandbox's published test data (invented
-- people; valid Verhoeff check digits), never an applicant's.
INSERT INTO ekyc_sandbox_identities (kind, number_sha256, name, date_of_birth, outcome, note) VALUES
    ('aadhaar', sandbox_key('234567890124'), 'Priya Sharma', '1990-04-12', 'verified', 'prime borrower'),
    ('pan', sandbox_key('ABCPS1234K'), 'Priya Sharma', '1990-04-12', 'verified', 'prime borrower'),
    ('bank_account', sandbox_key('50100234567890@HDFC0001234'), 'Priya Sharma', NULL, 'verified', 'prime borrower'),

    ('aadhaar', sandbox_key('345678901238'), 'Rahul Verma', '1985-09-30', 'verified', 'near-prime borrower'),
    ('pan', sandbox_key('BCDPV2345L'), 'Rahul Verma', '1985-09-30', 'verified', 'near-prime borrower'),
    ('bank_account', sandbox_key('012345678901@ICIC0000456'), 'Rahul Verma', NULL, 'verified', 'near-prime borrower'),

    ('aadhaar', sandbox_key('456789012341'), 'Anil Kumar', '1979-01-15', 'verified', 'bureau score below cut-off'),
    ('pan', sandbox_key('CDEPK3456M'), 'Anil Kumar', '1979-01-15', 'verified', 'bureau score below cut-off'),

    ('aadhaar', sandbox_key('567890123458'), 'Meera Nair', '2001-06-05', 'verified', 'no credit history'),
    ('pan', sandbox_key('DEFPN4567N'), 'Meera Nair', '2001-06-05', 'verified', 'no credit history'),

    ('aadhaar', sandbox_key('678901234560'), 'Sunita Rao', '1992-11-23', 'verified', 'Aadhaar registered to another name'),
    ('pan', sandbox_key('EFGPJ5678P'), 'Kavita Joshi', '1992-11-23', 'verified', 'Aadhaar registered to another name'),

    ('aadhaar', sandbox_key('789012345674'), 'Arjun Mehta', NULL, 'not_found', 'Aadhaar not found'),
    ('pan', sandbox_key('GHIPM7890R'), 'Arjun Mehta', '1988-02-29', 'verified', 'Aadhaar not found'),

    ('aadhaar', sandbox_key('890123456784'), 'Deepa Iyer', '1995-07-19', 'timeout', 'eKYC provider times out'),
    ('pan', sandbox_key('HIJPI8901S'), 'Deepa Iyer', '1995-07-19', 'verified', 'eKYC provider times out'),

    ('aadhaar', sandbox_key('987654321096'), 'Sanjay Gupta', '1983-03-08', 'verified', 'bureau times out'),
    ('pan', sandbox_key('IJKPG9012T'), 'Sanjay Gupta', '1983-03-08', 'verified', 'bureau times out'),

    ('aadhaar', sandbox_key('876543210988'), 'Neha Kapoor', '1991-12-01', 'verified', 'bank account of someone else'),
    ('pan', sandbox_key('JKLPK0123U'), 'Neha Kapoor', '1991-12-01', 'verified', 'bank account of someone else'),
    ('bank_account', sandbox_key('11223344556@UTIB0000789'), 'Rohit Malhotra', NULL, 'verified', 'bank account of someone else'),

    ('aadhaar', sandbox_key('765432109878'), 'Farhan Qureshi', '1987-05-14', 'verified', 'many overdue accounts'),
    ('pan', sandbox_key('KLMPQ1234V'), 'Farhan Qureshi', '1987-05-14', 'verified', 'many overdue accounts'),

    ('aadhaar', sandbox_key('543210987652'), 'Rohan Das', '1993-08-21', 'error', 'eKYC and bureau fail'),
    ('pan', sandbox_key('MNOPD3456X'), 'Rohan Das', '1993-08-21', 'verified', 'eKYC and bureau fail'),

    ('aadhaar', sandbox_key('654321098763'), 'Vikram Singh Rathore', '1980-10-10', 'verified', 'name on record has a middle name'),
    ('pan', sandbox_key('LMNPR2345W'), 'Vikram Singh Rathore', '1980-10-10', 'verified', 'name on record has a middle name');

INSERT INTO bureau_sandbox_reports (pan_sha256, bureau, score, active_loans, overdue_accounts, enquiries_6m, outcome, note) VALUES
    (sandbox_key('ABCPS1234K'), 'CIBIL', 782, 1, 0, 1, 'ok', 'prime'),
    (sandbox_key('BCDPV2345L'), 'CRIF', 702, 2, 0, 2, 'ok', 'near prime'),
    (sandbox_key('CDEPK3456M'), 'CIBIL', 612, 3, 2, 5, 'ok', 'below cut-off'),
    (sandbox_key('DEFPN4567N'), 'CIBIL', NULL, 0, 0, 0, 'ok', 'no credit history'),
    (sandbox_key('EFGPJ5678P'), 'CIBIL', 760, 1, 0, 1, 'ok', ''),
    (sandbox_key('GHIPM7890R'), 'CRIF', 740, 1, 0, 1, 'ok', ''),
    (sandbox_key('HIJPI8901S'), 'CIBIL', 771, 0, 0, 0, 'ok', ''),
    (sandbox_key('IJKPG9012T'), 'CIBIL', 755, 1, 0, 1, 'timeout', 'bureau times out'),
    (sandbox_key('JKLPK0123U'), 'CRIF', 768, 1, 0, 1, 'ok', ''),
    (sandbox_key('KLMPQ1234V'), 'CIBIL', 760, 4, 3, 6, 'ok', 'many overdue accounts'),
    (sandbox_key('LMNPR2345W'), 'CIBIL', 790, 1, 0, 0, 'ok', ''),
    (sandbox_key('MNOPD3456X'), 'CIBIL', 745, 1, 0, 1, 'error', 'bureau fails');
