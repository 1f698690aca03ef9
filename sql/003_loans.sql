-- Loan applications, their review trail, notifications outbox, idempotency keys, and the
-- compliance reference data (sanctions lists, politically exposed persons, senior employees).

CREATE DOMAIN loan_status AS text CHECK (VALUE IN ('PENDING', 'APPROVED', 'REJECTED'));

CREATE TABLE loan_applications (
    id                      bigserial PRIMARY KEY,
    application_id          text        NOT NULL UNIQUE
                                        CHECK (application_id ~ '^LOAN-[0-9]{8}-[A-Z0-9]{8}$'),
    user_id                 bigint      REFERENCES users (id),
    name                    text        NOT NULL,
    email                   text        NOT NULL,
    phone                   text        NOT NULL,
    city                    text,
    region                  text        NOT NULL
                            CHECK (region IN ('APAC','EMEA','AMERICAS','MEA','NA','SA','EU','ASIA')),
    country                 text        NOT NULL,            -- display name of country_code
    country_code            char(2)     NOT NULL REFERENCES countries (alpha2),
    income                  numeric(14,2) NOT NULL CHECK (income >= 0),
    debt                    numeric(14,2) NOT NULL CHECK (debt >= 0),
    credit_score            integer     NOT NULL CHECK (credit_score BETWEEN 300 AND 900),
    loan_amount             numeric(14,2) NOT NULL CHECK (loan_amount >= 0),
    loan_purpose            text        NOT NULL DEFAULT '',
    dti_ratio               numeric(10,4),
    documents_uploaded      boolean     NOT NULL DEFAULT false,
    documents               text[]      NOT NULL DEFAULT '{}',

    kyc_status              loan_status NOT NULL DEFAULT 'PENDING',
    kyc_verified_at         timestamptz,
    kyc_remarks             text        NOT NULL DEFAULT '',
    compliance_status       loan_status NOT NULL DEFAULT 'PENDING',
    compliance_verified_at  timestamptz,
    compliance_remarks      text        NOT NULL DEFAULT '',
    -- findings (declared by the applicant, or found on the PEP / senior-employee lists)
    political_connection    boolean     NOT NULL DEFAULT false,
    senior_relative         boolean     NOT NULL DEFAULT false,
    -- what the applicant declared, kept apart so a reprocess re-screens the lists afresh
    declared_political_connection boolean NOT NULL DEFAULT false,
    declared_senior_relative      boolean NOT NULL DEFAULT false,
    eligibility_status      loan_status NOT NULL DEFAULT 'PENDING',
    eligibility_verified_at timestamptz,
    eligibility_remarks     text        NOT NULL DEFAULT '',
    final_status            loan_status NOT NULL DEFAULT 'PENDING',
    final_decision_at       timestamptz,
    final_remarks           text        NOT NULL DEFAULT '',
    alert_sent              boolean     NOT NULL DEFAULT false,
    email_sent              boolean     NOT NULL DEFAULT false,

    -- why it waits in the review queue (empty when decided automatically)
    review_flags            text[]      NOT NULL DEFAULT '{}',
    reviewed_by             bigint      REFERENCES users (id),
    reviewed_at             timestamptz,
    review_reason           text,

    -- sanctions screening evidence of the last run
    screening_list          text,
    screening_list_version  text,
    screening_entry_id      bigint,
    screening_matched_name  text,
    screening_score         numeric(5,4),

    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),

    -- The application's API document, kept by the trigger below on every write, so reads
    -- (status, lists, the review queue) return it without assembling 40 fields each time.
    doc                     text        NOT NULL DEFAULT ''
);

CREATE FUNCTION iso_utc(t timestamptz) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

CREATE FUNCTION loan_doc(a loan_applications) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'application_id', a.application_id, 'name', a.name, 'email', a.email,
        'phone', a.phone, 'city', a.city, 'region', a.region, 'country', a.country,
        'country_code', a.country_code, 'income', a.income, 'debt', a.debt,
        'credit_score', a.credit_score, 'loan_amount', a.loan_amount,
        'loan_purpose', a.loan_purpose, 'dti_ratio', a.dti_ratio,
        'documents_uploaded', a.documents_uploaded, 'documents', to_json(a.documents),
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
        'review_flags', to_json(a.review_flags), 'reviewed_by', a.reviewed_by,
        'reviewed_at', iso_utc(a.reviewed_at), 'review_reason', a.review_reason,
        'screening', CASE WHEN a.screening_list IS NULL THEN NULL ELSE json_build_object(
            'list', a.screening_list, 'list_version', a.screening_list_version,
            'entry_id', a.screening_entry_id, 'matched_name', a.screening_matched_name,
            'score', a.screening_score) END,
        'created_at', iso_utc(a.created_at), 'updated_at', iso_utc(a.updated_at))::text
$$;

CREATE FUNCTION loan_doc_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.doc := loan_doc(NEW);
    RETURN NEW;
END
$$;
CREATE TRIGGER loan_applications_doc
    BEFORE INSERT OR UPDATE ON loan_applications
    FOR EACH ROW EXECUTE FUNCTION loan_doc_refresh();

-- One open application per email address.
CREATE UNIQUE INDEX loan_applications_one_pending
    ON loan_applications (lower(email)) WHERE final_status = 'PENDING';
-- List filters and the dashboard: newest first, by status, region or country.
CREATE INDEX loan_applications_created ON loan_applications (created_at DESC, id DESC);
CREATE INDEX loan_applications_status ON loan_applications (final_status, created_at DESC, id DESC);
CREATE INDEX loan_applications_region ON loan_applications (region, created_at DESC, id DESC);
CREATE INDEX loan_applications_country ON loan_applications (country_code, created_at DESC, id DESC);
CREATE INDEX loan_applications_user ON loan_applications (user_id, created_at DESC, id DESC);

-- The review trail: append-only, like audit_events.
CREATE TABLE approval_logs (
    id              bigserial   PRIMARY KEY,
    application_id  text        NOT NULL REFERENCES loan_applications (application_id),
    action          text        NOT NULL CHECK (action IN ('submit', 'approve', 'reject', 'reprocess')),
    actor_id        bigint      REFERENCES users (id),
    actor_email     text,
    reason          text,
    status_before   loan_status,
    status_after    loan_status NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX approval_logs_time ON approval_logs (created_at DESC, id DESC);
CREATE INDEX approval_logs_application ON approval_logs (application_id, created_at DESC, id DESC);
CREATE TRIGGER approval_logs_append_only
    BEFORE UPDATE OR DELETE ON approval_logs
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER approval_logs_no_truncate
    BEFORE TRUNCATE ON approval_logs
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- Notifications are written here in the transaction that decides, and delivered by the
-- notifier (loanctl notifier), which marks them sent; a message is delivered once.
CREATE TABLE notifications (
    id              bigserial   PRIMARY KEY,
    application_id  text        NOT NULL REFERENCES loan_applications (application_id),
    kind            text        NOT NULL CHECK (kind IN ('email', 'alert')),
    recipient       text        NOT NULL,
    subject         text        NOT NULL,
    body            text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    attempts        integer     NOT NULL DEFAULT 0,
    claimed_at      timestamptz,
    sent_at         timestamptz
);
CREATE INDEX notifications_unsent ON notifications (id) WHERE sent_at IS NULL;

-- Idempotency-Key of submissions: the first response is kept and replayed.
CREATE TABLE idempotency_keys (
    user_id         bigint      NOT NULL REFERENCES users (id),
    key             text        NOT NULL CHECK (char_length(key) BETWEEN 1 AND 200),
    request_hash    text        NOT NULL,
    status          integer,
    response        text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);

-- Sanctions lists loaded by `loanctl sanctions load`; workers index the active version.
CREATE TABLE sanctions_lists (
    id          bigserial   PRIMARY KEY,
    name        text        NOT NULL,
    version     text        NOT NULL,            -- first 16 hex digits of the SHA-256
    sha256      text        NOT NULL,
    source      text        NOT NULL,
    entries     integer     NOT NULL,
    names       integer     NOT NULL,
    loaded_at   timestamptz NOT NULL DEFAULT now(),
    active      boolean     NOT NULL DEFAULT true
);
CREATE UNIQUE INDEX sanctions_lists_one_active ON sanctions_lists (name) WHERE active;

CREATE TABLE sanctions_names (
    list_id     bigint      NOT NULL REFERENCES sanctions_lists (id) ON DELETE CASCADE,
    entry_id    bigint      NOT NULL,
    name        text        NOT NULL,
    type        text,
    programs    text
);
CREATE INDEX sanctions_names_list ON sanctions_names (list_id);

-- Politically exposed persons (enhanced due diligence), maintained by compliance.
CREATE TABLE pep_list (
    id          bigserial   PRIMARY KEY,
    name        text        NOT NULL,
    country     char(2)     REFERENCES countries (alpha2),
    position    text        NOT NULL,
    added_at    timestamptz NOT NULL DEFAULT now()
);

-- Senior employees of the lender, whose relatives' applications need review.
CREATE TABLE senior_employees (
    id          bigserial   PRIMARY KEY,
    name        text        NOT NULL,
    surname     text        NOT NULL,            -- lower case, as the pipeline normalises it
    phone_digits text       NOT NULL DEFAULT '',
    city        text        NOT NULL DEFAULT '',
    title       text        NOT NULL
);
CREATE INDEX senior_employees_surname ON senior_employees (surname);

-- Sample reference data of invented people, for development and tests.
INSERT INTO pep_list (name, country, position) VALUES
    ('Aurelio Vantressa', 'IT', 'Deputy Minister of Finance'),
    ('Miriam Okonkwo-Delacroix', 'FR', 'Member of Parliament'),
    ('Tobias Renkwell', 'DE', 'State Secretary'),
    ('Farida Al-Qassimi Nour', 'AE', 'Ambassador'),
    ('Hector Valdivieso Pranz', 'MX', 'Senator'),
    ('Lakshmi Venkataraghavan', 'IN', 'Member of the Legislative Assembly');
INSERT INTO senior_employees (name, surname, phone_digits, city, title) VALUES
    ('Eleanor Whitcombe', 'whitcombe', '14155550101', 'san francisco', 'Chief Credit Officer'),
    ('Rajiv Malhotrasen', 'malhotrasen', '919820000111', 'mumbai', 'Head of Retail Lending'),
    ('Ingrid Solvberg', 'solvberg', '4722000999', 'oslo', 'Chief Risk Officer'),
    ('Marcus Oyelaran', 'oyelaran', '2348030000777', 'lagos', 'Regional Director');
