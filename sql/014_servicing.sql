-- Lending II: what a loan owes and what it has paid. Repayments are kept as entered (amount,
-- value date, reference; a reversal marks a row, never deletes it); the installments' paid
-- buckets, penal charges and settled dates, the loan's balances and its closure are what the
-- replay (app/pipeline/servicing.c, svc_replay) derives from them in value-date order, written in
-- the repayment's transaction. The day-end (close of business, `loanctl cob`) is set-based: it
-- levies the penal charge of each installment unpaid at its due date's day-end, counts days past
-- due from the oldest installment unsettled, classifies (SMA-0/1/2, NPA, an NPA borrower's other
-- loans too), keeps the history of classifications, and queues reminders and notices.

ALTER TABLE approval_logs DROP CONSTRAINT approval_logs_action_check;
ALTER TABLE approval_logs ADD CONSTRAINT approval_logs_action_check CHECK (action IN (
    'submit', 'first_approval', 'approve', 'reject', 'reprocess',
    'offer_created', 'offer_withdrawn', 'offer_accepted', 'otp_sent', 'otp_failed', 'agreement_signed',
    'disbursal_approved', 'disbursal_requested', 'disbursal_failed', 'payout_update',
    'loan_activated', 'repayment', 'repayment_reversed', 'prepayment', 'loan_closed',
    'payment_link_created'));

-- How the product splits a repayment (svc_allocate), and when it reminds.
ALTER TABLE loan_products ADD COLUMN allocation text NOT NULL DEFAULT 'rbi_india'
    CHECK (allocation IN ('rbi_india', 'standard'));
ALTER TABLE loan_products ADD COLUMN rate_type text NOT NULL DEFAULT 'fixed'
    CHECK (rate_type IN ('fixed', 'floating'));
ALTER TABLE loan_products ADD COLUMN reminder_days integer NOT NULL DEFAULT 3
    CHECK (reminder_days BETWEEN 0 AND 30);

-- The loan's derived balances (svc_replay) and its classification as of the last day-end.
ALTER TABLE loans ADD COLUMN allocation text NOT NULL DEFAULT 'rbi_india';
ALTER TABLE loans ADD COLUMN penal_charge bigint NOT NULL DEFAULT 0;
ALTER TABLE loans ADD COLUMN credit_balance bigint NOT NULL DEFAULT 0 CHECK (credit_balance >= 0);
ALTER TABLE loans ADD COLUMN days_past_due integer NOT NULL DEFAULT 0 CHECK (days_past_due >= 0);
-- own: by this loan's days past due; classification: with the borrower's other loans (NPA).
ALTER TABLE loans ADD COLUMN own_classification text NOT NULL DEFAULT 'STANDARD';
ALTER TABLE loans ADD COLUMN classification text NOT NULL DEFAULT 'STANDARD'
    CHECK (classification IN ('STANDARD', 'SMA-0', 'SMA-1', 'SMA-2', 'NPA'));
ALTER TABLE loans ADD COLUMN classified_on date;
ALTER TABLE loans ADD COLUMN closed_on date;
ALTER TABLE loans ADD COLUMN close_reason text
    CHECK (close_reason IN ('obligations_met', 'foreclosed', 'cooling_off_exit'));
ALTER TABLE loans ADD CONSTRAINT loans_closed_check CHECK ((state = 'CLOSED') = (closed_on IS NOT NULL));
CREATE INDEX loans_active_user ON loans (user_id) WHERE state = 'ACTIVE';
CREATE INDEX loans_delinquent ON loans (classification, loan_id) WHERE classification <> 'STANDARD';

UPDATE loans l SET allocation = p.allocation, penal_charge = p.penal_charge
FROM loan_products p WHERE p.code = l.product_code AND p.version = l.product_version;

-- Each installment: what it was scheduled to be, its penal charge (levied when it is unpaid at
-- its due date's day-end), what has been paid into each bucket, and the value date it was
-- settled (interest and principal paid in full; penal charges never age a loan).
ALTER TABLE loan_installments ADD COLUMN penal bigint NOT NULL DEFAULT 0 CHECK (penal >= 0);
ALTER TABLE loan_installments ADD COLUMN paid_penal bigint NOT NULL DEFAULT 0;
ALTER TABLE loan_installments ADD COLUMN paid_interest bigint NOT NULL DEFAULT 0;
ALTER TABLE loan_installments ADD COLUMN paid_principal bigint NOT NULL DEFAULT 0;
ALTER TABLE loan_installments ADD COLUMN settled_on date;
ALTER TABLE loan_installments ADD CONSTRAINT loan_installments_paid_check CHECK (
    paid_penal BETWEEN 0 AND penal AND paid_interest BETWEEN 0 AND interest
    AND paid_principal BETWEEN 0 AND principal);
CREATE INDEX loan_installments_unsettled ON loan_installments (due_date, loan_id) WHERE settled_on IS NULL;

-- Money in. kind: repayment (split by the product's allocation), prepayment (dues, then the
-- principal, re-scheduled by mode), foreclosure (a prepayment that covered the payoff), or
-- cooling_off_exit. reference is the payment's own id (the gateway's payment id, a UTR, a cheque
-- number): one payment, one row. The split is the replay's.
CREATE TABLE loan_repayments (
    id               bigserial   PRIMARY KEY,
    repayment_id     text        NOT NULL UNIQUE,
    loan_id          text        NOT NULL REFERENCES loans (loan_id),
    kind             text        NOT NULL CHECK (kind IN ('repayment', 'prepayment', 'foreclosure', 'cooling_off_exit')),
    channel          text        NOT NULL CHECK (channel IN ('gateway', 'officer')),
    mode             text        CHECK (mode IN ('reduce_emi', 'reduce_tenure')),
    amount           bigint      NOT NULL CHECK (amount > 0),
    currency         char(3)     NOT NULL,
    value_date       date        NOT NULL,
    reference        text        NOT NULL UNIQUE CHECK (char_length(reference) BETWEEN 1 AND 64),
    payment_link_id  text,
    to_penal         bigint      NOT NULL DEFAULT 0,
    to_fee           bigint      NOT NULL DEFAULT 0,
    to_interest      bigint      NOT NULL DEFAULT 0,
    to_principal     bigint      NOT NULL DEFAULT 0,
    to_credit        bigint      NOT NULL DEFAULT 0,
    recorded_by      bigint      REFERENCES users (id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    reversed_at      timestamptz,
    reversed_by      bigint      REFERENCES users (id),
    reversal_reason  text,
    CHECK (to_penal + to_fee + to_interest + to_principal + to_credit = amount OR reversed_at IS NOT NULL),
    CHECK ((reversed_at IS NULL) = (reversal_reason IS NULL))
);
CREATE INDEX loan_repayments_loan ON loan_repayments (loan_id, value_date, id);
CREATE INDEX loan_repayments_month ON loan_repayments (value_date) WHERE reversed_at IS NULL;

-- Payment links asked of the gateway (the borrower's "pay now").
CREATE TABLE loan_payment_links (
    link_id      text        PRIMARY KEY,
    loan_id      text        NOT NULL REFERENCES loans (loan_id),
    purpose      text        NOT NULL DEFAULT 'repayment' CHECK (purpose IN ('repayment', 'cooling_off_exit')),
    amount       bigint      NOT NULL CHECK (amount > 0),
    currency     char(3)     NOT NULL,
    reference    text        NOT NULL UNIQUE,
    short_url    text        NOT NULL,
    status       text        NOT NULL DEFAULT 'created',
    expires_at   timestamptz,
    created_by   bigint      REFERENCES users (id),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX loan_payment_links_loan ON loan_payment_links (loan_id, created_at DESC);

-- The day-ends run, one row a business date; a day-end is one transaction, so a row is only
-- ever seen finished.
CREATE TABLE cob_runs (
    business_date  date        PRIMARY KEY,
    started_at     timestamptz NOT NULL,
    finished_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    loans_active   bigint      NOT NULL,
    loans_overdue  bigint      NOT NULL,
    penal_levied   bigint      NOT NULL,
    reminders      bigint      NOT NULL,
    notices        bigint      NOT NULL,
    replayed       boolean     NOT NULL DEFAULT false
);

-- The classification history: a row on each day-end that changed a loan's classification.
CREATE TABLE loan_dpd_history (
    loan_id         text    NOT NULL REFERENCES loans (loan_id),
    as_of           date    NOT NULL,
    days_past_due   integer NOT NULL,
    classification  text    NOT NULL,
    PRIMARY KEY (loan_id, as_of)
);

-- The business date advances with the day-end, as in a core-banking system: after the day-end
-- of D the bank is in D + 1 even before midnight in India, and in development and test a
-- day-end run for a future date moves the whole system there (simulated time).
CREATE OR REPLACE FUNCTION business_date() RETURNS date LANGUAGE sql STABLE AS $$
    SELECT greatest((now() AT TIME ZONE 'Asia/Kolkata')::date,
                    (SELECT max(business_date) + 1 FROM cob_runs))
$$;
