-- Lending I: the products, the offer an approval makes with its Key Fact Statement, the
-- agreement and its one-time codes, the loan account, its payouts and the gateway's events.
--
-- Money is BIGINT minor units (paise) beside its currency; rates are basis points. The offer
-- keeps its KFS as the exact text that was hashed (text, not jsonb: jsonb would reorder the
-- keys and the hash would no longer be of what was shown), and the agreement keeps the exact
-- bytes that were signed.

-- The lending trail joins the review trail (approval_logs, append-only): each step of an
-- application's offer, agreement and loan is a row with its details.
ALTER TABLE approval_logs DROP CONSTRAINT approval_logs_action_check;
ALTER TABLE approval_logs ADD CONSTRAINT approval_logs_action_check CHECK (action IN (
    'submit', 'first_approval', 'approve', 'reject', 'reprocess',
    'offer_created', 'offer_withdrawn', 'offer_accepted', 'otp_sent', 'otp_failed', 'agreement_signed',
    'disbursal_approved', 'disbursal_requested', 'disbursal_failed', 'payout_update',
    'loan_activated'));
ALTER TABLE approval_logs ADD COLUMN details jsonb;

-- The tenure the applicant asked for (NULL: the product's default).
ALTER TABLE loan_applications ADD COLUMN tenure_months integer CHECK (tenure_months BETWEEN 1 AND 600);

-- Products, versioned like the scorecard: a version is immutable once written; the active one
-- of a country is the one new offers use, and an offer names the version it was made under.
CREATE TABLE loan_products (
    code                  text        NOT NULL,
    version               integer     NOT NULL CHECK (version >= 1),
    name                  text        NOT NULL,
    country_code          char(2)     NOT NULL,
    currency              char(3)     NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    method                text        NOT NULL DEFAULT 'emi' CHECK (method IN ('emi', 'flat', 'equal_principal')),
    rounding              text        NOT NULL DEFAULT 'half_even'
                                      CHECK (rounding ~ '^(half_even|ceil_unit|multiple:[1-9][0-9]{0,5})$'),
    tenures               integer[]   NOT NULL CHECK (cardinality(tenures) > 0),
    default_tenure        integer     NOT NULL,
    fee_bps               integer     NOT NULL CHECK (fee_bps BETWEEN 0 AND 1000),
    fee_min               bigint      NOT NULL CHECK (fee_min >= 0),
    fee_max               bigint      NOT NULL,
    fee_tax_bps           integer     NOT NULL CHECK (fee_tax_bps BETWEEN 0 AND 5000),
    penal_charge          bigint      NOT NULL CHECK (penal_charge >= 0),
    foreclosure_bps       integer     NOT NULL DEFAULT 0 CHECK (foreclosure_bps BETWEEN 0 AND 1000),
    prepayment_rule       text        NOT NULL DEFAULT 'reduce_tenure'
                                      CHECK (prepayment_rule IN ('reduce_tenure', 'reduce_emi')),
    cooling_off_days      integer     NOT NULL CHECK (cooling_off_days >= 1),
    offer_valid_days      integer     NOT NULL CHECK (offer_valid_days >= 3),
    lender_name           text        NOT NULL,
    lender_address        text        NOT NULL,
    grievance_name        text        NOT NULL,
    grievance_email       text        NOT NULL,
    grievance_phone       text        NOT NULL,
    active                boolean     NOT NULL DEFAULT false,
    created_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (code, version),
    CHECK (default_tenure = ANY (tenures)),
    CHECK (fee_max >= fee_min)
);
CREATE UNIQUE INDEX loan_products_active ON loan_products (country_code) WHERE active;

INSERT INTO loan_products (code, version, name, country_code, currency, method, rounding, tenures,
    default_tenure, fee_bps, fee_min, fee_max, fee_tax_bps, penal_charge, foreclosure_bps,
    prepayment_rule, cooling_off_days, offer_valid_days, lender_name, lender_address,
    grievance_name, grievance_email, grievance_phone, active)
VALUES ('personal_loan', 1, 'Personal loan', 'IN', 'INR', 'emi', 'half_even',
    '{3,6,9,12,18,24,36,48,60}', 12, 200, 100000, 2500000, 1800, 50000, 0, 'reduce_tenure', 3, 3,
    'Loanflow Finance Private Limited', '1 Lending Street, Bengaluru 560001, India',
    'Grievance Redressal Officer', 'grievance@loanflow.local', '+91 80 4000 0000', true);

-- One offer per application, made in the approval's transaction. A re-evaluation that takes the
-- approval back withdraws an offer nobody accepted (WITHDRAWN); a new approval replaces it. schedule_json and kfs are
-- the texts shown; kfs_sha256 is the SHA-256 of kfs's bytes.
CREATE TABLE loan_offers (
    offer_id          text        PRIMARY KEY,
    application_id    text        NOT NULL UNIQUE REFERENCES loan_applications (application_id),
    user_id           bigint      REFERENCES users (id),
    product_code      text        NOT NULL,
    product_version   integer     NOT NULL,
    currency          char(3)     NOT NULL,
    principal         bigint      NOT NULL CHECK (principal > 0),
    rate_bps          integer     NOT NULL CHECK (rate_bps >= 0),
    tenure_months     integer     NOT NULL CHECK (tenure_months >= 1),
    emi               bigint      NOT NULL,
    fee               bigint      NOT NULL CHECK (fee >= 0),
    fee_tax           bigint      NOT NULL CHECK (fee_tax >= 0),
    net_disbursed     bigint      NOT NULL CHECK (net_disbursed > 0),
    total_interest    bigint      NOT NULL,
    apr_bps           integer     NOT NULL,
    first_due_date    date        NOT NULL,
    valid_until       date        NOT NULL,
    offer_json        text        NOT NULL,
    kfs               text        NOT NULL,
    kfs_sha256        text        NOT NULL CHECK (kfs_sha256 ~ '^[0-9a-f]{64}$'),
    state             text        NOT NULL DEFAULT 'OPEN' CHECK (state IN ('OPEN', 'ACCEPTED', 'SIGNED', 'WITHDRAWN')),
    created_at        timestamptz NOT NULL DEFAULT now(),
    accepted_at       timestamptz,
    FOREIGN KEY (product_code, product_version) REFERENCES loan_products (code, version),
    CHECK (net_disbursed = principal - fee - fee_tax)
);

-- The agreement: the canonical bytes of the terms (with the KFS inside), their SHA-256, and
-- once signed the lender's Ed25519 signature over those bytes and the key that made it.
CREATE TABLE agreements (
    agreement_id    text        PRIMARY KEY,
    offer_id        text        NOT NULL UNIQUE REFERENCES loan_offers (offer_id),
    application_id  text        NOT NULL REFERENCES loan_applications (application_id),
    user_id         bigint      REFERENCES users (id),
    terms           text        NOT NULL,
    sha256          text        NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    kfs_sha256      text        NOT NULL,
    phone_masked    text        NOT NULL,
    state           text        NOT NULL DEFAULT 'UNSIGNED' CHECK (state IN ('UNSIGNED', 'SIGNED')),
    key_id          text,
    signature       text        CHECK (signature ~ '^[0-9a-f]{128}$'),
    signed_at       timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((state = 'SIGNED') = (signature IS NOT NULL AND signed_at IS NOT NULL AND key_id IS NOT NULL))
);

-- One-time codes: only a keyed hash of the code is kept. The newest unsuperseded row of an
-- agreement is the live code.
CREATE TABLE agreement_otps (
    id            bigserial   PRIMARY KEY,
    agreement_id  text        NOT NULL REFERENCES agreements (agreement_id),
    code_hash     bytea       NOT NULL,
    expires_at    timestamptz NOT NULL,
    tries         integer     NOT NULL DEFAULT 0,
    superseded    boolean     NOT NULL DEFAULT false,
    used_at       timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX agreement_otps_live ON agreement_otps (agreement_id, id DESC);

-- SMS messages (one-time codes) travel in the outbox with the code sealed (PII key), never in
-- clear: body holds the text with a {code} placeholder the notifier fills when it delivers.
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('email', 'alert', 'sms'));
ALTER TABLE notifications ADD COLUMN sealed bytea;

-- The loan account, created when the agreement is signed.
CREATE TABLE loans (
    loan_id                 text        PRIMARY KEY,
    application_id          text        NOT NULL UNIQUE REFERENCES loan_applications (application_id),
    offer_id                text        NOT NULL UNIQUE REFERENCES loan_offers (offer_id),
    agreement_id            text        NOT NULL UNIQUE REFERENCES agreements (agreement_id),
    user_id                 bigint      REFERENCES users (id),
    product_code            text        NOT NULL,
    product_version         integer     NOT NULL,
    currency                char(3)     NOT NULL,
    principal               bigint      NOT NULL CHECK (principal > 0),
    rate_bps                integer     NOT NULL,
    apr_bps                 integer     NOT NULL,
    tenure_months           integer     NOT NULL,
    emi                     bigint      NOT NULL,
    fee                     bigint      NOT NULL,
    fee_tax                 bigint      NOT NULL,
    net_disbursed           bigint      NOT NULL,
    method                  text        NOT NULL,
    rounding                text        NOT NULL,
    state                   text        NOT NULL DEFAULT 'AWAITING_DISBURSAL'
                                        CHECK (state IN ('AWAITING_DISBURSAL', 'DISBURSING', 'ACTIVE', 'CLOSED')),
    tranche                 integer     NOT NULL DEFAULT 0,
    disbursal_first_by      bigint      REFERENCES users (id),
    last_disbursal_error    text,
    disbursed_at            timestamptz,
    disbursal_date          date,
    first_due_date          date,
    outstanding_principal   bigint      NOT NULL,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (product_code, product_version) REFERENCES loan_products (code, version),
    CHECK ((state = 'ACTIVE' OR state = 'CLOSED') = (disbursed_at IS NOT NULL))
);
CREATE INDEX loans_state ON loans (state, created_at DESC, loan_id);
CREATE INDEX loans_user ON loans (user_id, created_at DESC);

-- The schedule, fixed when the payout is processed (from the disbursal date).
CREATE TABLE loan_installments (
    loan_id      text    NOT NULL REFERENCES loans (loan_id),
    number       integer NOT NULL CHECK (number >= 1),
    due_date     date    NOT NULL,
    installment  bigint  NOT NULL,
    interest     bigint  NOT NULL,
    principal    bigint  NOT NULL,
    balance      bigint  NOT NULL CHECK (balance >= 0),
    PRIMARY KEY (loan_id, number),
    CHECK (installment = interest + principal)
);

-- A payout per disbursal attempt (tranche); the idempotency key is the loan id and tranche.
CREATE TABLE loan_payouts (
    id               bigserial   PRIMARY KEY,
    loan_id          text        NOT NULL REFERENCES loans (loan_id),
    tranche          integer     NOT NULL,
    idempotency_key  text        NOT NULL UNIQUE,
    amount           bigint      NOT NULL CHECK (amount > 0),
    currency         char(3)     NOT NULL,
    payout_id        text        UNIQUE,
    status           text        NOT NULL DEFAULT 'requested'
                                 CHECK (status IN ('requested', 'queued', 'pending', 'processing',
                                                   'processed', 'reversed', 'failed', 'cancelled',
                                                   'refused')),
    utr              text,
    failure_reason   text,
    requested_by     bigint      REFERENCES users (id),
    approved_by      bigint      REFERENCES users (id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (loan_id, tranche)
);

-- Every webhook event received with a valid signature, once (the event id is the key).
CREATE TABLE gateway_events (
    event_id     text        PRIMARY KEY,
    event        text        NOT NULL,
    payout_id    text,
    status       text,
    outcome      text        NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now()
);
