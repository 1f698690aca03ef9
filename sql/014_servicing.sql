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
    'payment_link_created', 'penal_charged', 'classification_changed'));

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
ALTER TABLE loans ADD COLUMN own_classification text NOT NULL DEFAULT 'STANDARD'
    CHECK (own_classification IN ('STANDARD', 'SMA-0', 'SMA-1', 'SMA-2', 'NPA'));
ALTER TABLE loans ADD COLUMN classification text NOT NULL DEFAULT 'STANDARD'
    CHECK (classification IN ('STANDARD', 'SMA-0', 'SMA-1', 'SMA-2', 'NPA'));
ALTER TABLE loans ADD COLUMN closed_on date;
ALTER TABLE loans ADD COLUMN close_reason text
    CHECK (close_reason IN ('obligations_met', 'foreclosed', 'cooling_off_exit'));
-- The due date of the oldest installment not settled (NULL: none), kept by activation and by
-- every replay: the day-end finds the loans with something due through it, never through the
-- installments of every loan.
ALTER TABLE loans ADD COLUMN next_unsettled_due date;
ALTER TABLE loans ADD CONSTRAINT loans_closed_check CHECK ((state = 'CLOSED') = (closed_on IS NOT NULL));
CREATE INDEX loans_active_user ON loans (user_id) WHERE state = 'ACTIVE';
CREATE INDEX loans_unsettled ON loans (next_unsettled_due) WHERE state = 'ACTIVE';
CREATE INDEX loans_delinquent ON loans (classification, loan_id) WHERE classification <> 'STANDARD';
CREATE INDEX loans_own_delinquent ON loans (own_classification, loan_id) WHERE own_classification <> 'STANDARD';
-- No index covers days_past_due or updated_at, and pages keep room, so the day-end's daily
-- count of an overdue loan is a HOT update (no index written).
ALTER TABLE loans SET (fillfactor = 90);

UPDATE loans l SET allocation = p.allocation, penal_charge = p.penal_charge
FROM loan_products p WHERE p.code = l.product_code AND p.version = l.product_version;
UPDATE loans l SET next_unsettled_due = l.first_due_date WHERE l.state = 'ACTIVE';

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
-- Room on each page, so the day-end's penal charge (a column no index covers) is a HOT update.
ALTER TABLE loan_installments SET (fillfactor = 90);

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
CREATE TRIGGER loan_repayments_kept BEFORE DELETE ON loan_repayments
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER loan_repayments_kept_all BEFORE TRUNCATE ON loan_repayments
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
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

-- The classification history: a row on each day-end that changed a loan's own classification
-- (by its days past due; loans.classification adds the borrower's other loans).
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

-- The regulator's classes by days past due.
CREATE FUNCTION cob_class(dpd integer) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN dpd <= 0 THEN 'STANDARD' WHEN dpd <= 30 THEN 'SMA-0' WHEN dpd <= 60 THEN 'SMA-1'
                WHEN dpd <= 90 THEN 'SMA-2' ELSE 'NPA' END
$$;

-- Minor units as text with two decimals (the one product's INR; notices only).
CREATE FUNCTION money_text(amount bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN amount < 0 THEN '-' ELSE '' END || (abs(amount) / 100)::text || '.'
           || lpad((abs(amount) % 100)::text, 2, '0')
$$;

-- Every active loan of a borrower with an NPA loan is NPA; the others take their own class.
-- Only rows that change are written, each change a row of the lending trail (p_actor: who).
CREATE FUNCTION cob_contagion(p_users bigint[], p_date date, p_actor text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    -- Candidates through the partial indexes, with what the decision needs (no second read of
    -- loans): loans delinquent by their own count or by their borrower's, and the active loans
    -- of borrowers with an NPA loan. Temporary tables are ANALYZEd, so the planner sees a few
    -- thousand rows where it would otherwise assume many and scan every loan.
    CREATE TEMP TABLE cob_npa ON COMMIT DROP AS
    SELECT DISTINCT user_id FROM loans
     WHERE own_classification = 'NPA' AND state = 'ACTIVE' AND user_id IS NOT NULL
       AND (p_users IS NULL OR user_id = ANY (p_users));
    ANALYZE cob_npa;
    CREATE TEMP TABLE cob_want ON COMMIT DROP AS
    SELECT c.*, CASE WHEN c.user_id IN (SELECT user_id FROM cob_npa) THEN 'NPA'
                     ELSE c.own_classification END AS cls
      FROM (SELECT loan_id, application_id, user_id, classification, own_classification, days_past_due
              FROM loans
             WHERE own_classification <> 'STANDARD' AND state = 'ACTIVE'
               AND (p_users IS NULL OR user_id = ANY (p_users))
            UNION
            SELECT loan_id, application_id, user_id, classification, own_classification, days_past_due
              FROM loans
             WHERE classification <> 'STANDARD' AND state = 'ACTIVE'
               AND (p_users IS NULL OR user_id = ANY (p_users))
            UNION
            SELECT l.loan_id, l.application_id, l.user_id, l.classification, l.own_classification,
                   l.days_past_due
              FROM cob_npa x JOIN loans l ON l.user_id = x.user_id WHERE l.state = 'ACTIVE') c;
    DELETE FROM cob_want WHERE classification = cls;
    ANALYZE cob_want;
    WITH changed AS (
        UPDATE loans l SET classification = w.cls, updated_at = now()
          FROM cob_want w WHERE l.loan_id = w.loan_id
        RETURNING l.loan_id, l.application_id, w.classification AS old, w.cls,
                  w.own_classification AS own, w.days_past_due
    )
    INSERT INTO approval_logs (application_id, action, actor_email, status_before, status_after, details)
    SELECT application_id, 'classification_changed', p_actor, 'APPROVED', 'APPROVED',
           jsonb_build_object('loan_id', loan_id, 'from', old, 'to', cls, 'days_past_due', days_past_due,
                              'as_of', p_date,
                              'reason', CASE WHEN cls = own THEN 'days_past_due' ELSE 'borrower_npa' END)
      FROM changed;
    GET DIAGNOSTICS n = ROW_COUNT;
    DROP TABLE cob_want;
    DROP TABLE cob_npa;
    RETURN n;
END
$$;

-- The day-end of d, set-based (loanctl cob runs it in a transaction of its own, in date order):
-- penal charges, days past due and classes, the history, reminders and notices. A date already
-- run returns its row unchanged.
CREATE FUNCTION cob_day(d date) RETURNS cob_runs LANGUAGE plpgsql AS $$
DECLARE
    started timestamptz := clock_timestamp();
    r cob_runs;
    n_pen bigint;
    n_rem bigint := 0;
    n_not bigint;
    n_tmp bigint;
    rd integer;
BEGIN
    SELECT * INTO r FROM cob_runs WHERE business_date = d;
    IF FOUND THEN
        RETURN r;
    END IF;

    -- 1. The penal charge of each installment due by d and unsettled (once: penal = 0).
    -- The loans the day concerns: something due by d and unsettled now, delinquent yesterday,
    -- or paid by a payment valued after d (a day-end catching up, or the first one: as of d,
    -- an installment settled later was unsettled). Each is read as of d.
    CREATE TEMP TABLE cob_set ON COMMIT DROP AS
    SELECT l.loan_id FROM loans l
     WHERE l.state = 'ACTIVE' AND l.next_unsettled_due <= d
    UNION
    SELECT l.loan_id FROM loans l
     WHERE l.state = 'ACTIVE' AND l.own_classification <> 'STANDARD'
    UNION
    SELECT p.loan_id FROM loan_repayments p JOIN loans l ON l.loan_id = p.loan_id AND l.state = 'ACTIVE'
     WHERE p.value_date > d AND p.reversed_at IS NULL;
    ANALYZE cob_set;

    WITH charged AS (
        UPDATE loan_installments i SET penal = l.penal_charge
          FROM cob_set c JOIN loans l ON l.loan_id = c.loan_id
         WHERE l.penal_charge > 0 AND i.loan_id = l.loan_id AND i.due_date <= d AND i.penal = 0
           AND (i.settled_on IS NULL OR i.settled_on > i.due_date)
        RETURNING i.loan_id, i.number, i.due_date, i.penal, l.application_id
    )
    INSERT INTO approval_logs (application_id, action, actor_email, status_before, status_after, details)
    SELECT application_id, 'penal_charged', 'day-end', 'APPROVED', 'APPROVED',
           jsonb_build_object('loan_id', loan_id, 'installment', number, 'due_date', due_date,
                              'amount', money_text(penal), 'as_of', d)
      FROM charged;
    GET DIAGNOSTICS n_pen = ROW_COUNT;

    -- 2. Days past due from the oldest installment unsettled (the due date's day-end is day 1),
    --    for loans with one, and back to 0 for loans that had some.
    CREATE TEMP TABLE cob_dpd ON COMMIT DROP AS
    SELECT l.loan_id,
           coalesce(d - (SELECT min(i.due_date) FROM loan_installments i
                          WHERE i.loan_id = l.loan_id AND i.due_date <= d
                            AND (i.settled_on IS NULL OR i.settled_on > d)) + 1, 0) AS dpd,
           l.days_past_due AS old_dpd, l.own_classification AS old_cls, l.user_id, l.application_id
      FROM cob_set c JOIN loans l ON l.loan_id = c.loan_id;
    ANALYZE cob_dpd;

    UPDATE loans l SET days_past_due = c.dpd, own_classification = cob_class(c.dpd), updated_at = now()
      FROM cob_dpd c
     WHERE l.loan_id = c.loan_id AND (l.days_past_due <> c.dpd OR l.own_classification <> cob_class(c.dpd));

    -- 3. The history, where the class changed.
    INSERT INTO loan_dpd_history (loan_id, as_of, days_past_due, classification)
    SELECT loan_id, d, dpd, cob_class(dpd) FROM cob_dpd WHERE cob_class(dpd) <> old_cls
    ON CONFLICT (loan_id, as_of) DO UPDATE
       SET days_past_due = excluded.days_past_due, classification = excluded.classification;

    -- 4. The borrower's other loans.
    PERFORM cob_contagion(NULL, d, 'day-end');

    -- 5. Reminders of installments due in the product's reminder_days, notices of a loan that fell
    --    overdue or moved to a worse class.
    FOR rd IN SELECT DISTINCT reminder_days FROM loan_products WHERE reminder_days > 0 LOOP
        INSERT INTO notifications (application_id, kind, recipient, subject, body)
        SELECT l.application_id, 'email', a.email,
               format('Loanflow: your installment of %s %s is due on %s', l.currency,
                      money_text(i.installment - i.paid_interest - i.paid_principal), i.due_date),
               format(E'Dear %s,\n\ninstallment %s of your loan %s, %s %s, is due on %s. Please keep the amount in your account or pay it from your loan page.\n\nLoanflow',
                      a.name, i.number, l.loan_id, l.currency,
                      money_text(i.installment - i.paid_interest - i.paid_principal), i.due_date)
          FROM loan_installments i
          JOIN loans l ON l.loan_id = i.loan_id AND l.state = 'ACTIVE'
          JOIN loan_products p ON p.code = l.product_code AND p.version = l.product_version
          JOIN loan_applications a ON a.application_id = l.application_id
         WHERE i.settled_on IS NULL AND i.due_date = d + rd AND p.reminder_days = rd;
        GET DIAGNOSTICS n_tmp = ROW_COUNT;
        n_rem := n_rem + n_tmp;
    END LOOP;

    INSERT INTO notifications (application_id, kind, recipient, subject, body)
    SELECT c.application_id, 'email', a.email,
           CASE WHEN c.old_cls = 'STANDARD' THEN format('Loanflow: your loan %s is overdue', c.loan_id)
                ELSE format('Loanflow: your loan %s is %s days past due', c.loan_id, c.dpd) END,
           format(E'Dear %s,\n\nas of %s your loan %s has %s %s unpaid, %s days past due (%s). Please pay it from your loan page; a penal charge applies to each installment unpaid after its due date, as your Key Fact Statement says.\n\nLoanflow',
                  a.name, d, c.loan_id, l.currency,
                  money_text((SELECT sum(i.installment - i.paid_interest - i.paid_principal + i.penal - i.paid_penal)
                                FROM loan_installments i WHERE i.loan_id = c.loan_id AND i.due_date <= d)::bigint),
                  c.dpd, cob_class(c.dpd))
      FROM cob_dpd c
      JOIN loans l ON l.loan_id = c.loan_id
      JOIN loan_applications a ON a.application_id = c.application_id
     WHERE c.dpd > 0 AND cob_class(c.dpd) <> c.old_cls
       AND (c.old_cls = 'STANDARD' OR cob_class(c.dpd) IN ('SMA-1', 'SMA-2', 'NPA'));
    GET DIAGNOSTICS n_not = ROW_COUNT;

    INSERT INTO cob_runs (business_date, started_at, loans_active, loans_overdue, penal_levied,
                          reminders, notices)
    VALUES (d, started, (SELECT count(*) FROM loans WHERE state = 'ACTIVE'),
            (SELECT count(*) FROM cob_dpd WHERE dpd > 0), n_pen, n_rem, n_not)
    RETURNING * INTO r;
    DROP TABLE cob_dpd;
    DROP TABLE cob_set;
    RETURN r;
END
$$;

-- Re-classifies loans from p_from to the last day-end from their installments as they are now
-- (after a backdated payment or a reversal): the history from p_from is rebuilt, days past due
-- and classes are set as of the last day-end, and the borrowers' other loans follow. p_loans
-- NULL: every loan that was active on or after p_from. Penal charges are not touched (the
-- replay of the account derives them).
CREATE FUNCTION cob_reclassify(p_loans text[], p_from date) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    last date := (SELECT max(business_date) FROM cob_runs);
    n bigint;
BEGIN
    IF last IS NULL OR p_from > last THEN
        RETURN 0;
    END IF;
    CREATE TEMP TABLE cob_set ON COMMIT DROP AS
    SELECT loan_id, user_id FROM loans
     WHERE (p_loans IS NULL OR loan_id = ANY (p_loans))
       AND disbursal_date IS NOT NULL AND (closed_on IS NULL OR closed_on >= p_from);
    DELETE FROM loan_dpd_history h USING cob_set s WHERE h.loan_id = s.loan_id AND h.as_of >= p_from;
    WITH days AS (
        SELECT s.loan_id, g.d::date AS d,
               coalesce(g.d::date - (SELECT min(i.due_date) FROM loan_installments i
                                      WHERE i.loan_id = s.loan_id AND i.due_date <= g.d::date
                                        AND (i.settled_on IS NULL OR i.settled_on > g.d::date)) + 1, 0) AS dpd
          FROM cob_set s
          JOIN loans l ON l.loan_id = s.loan_id
         CROSS JOIN LATERAL generate_series(greatest(p_from, l.disbursal_date),
                                            least(last, coalesce(l.closed_on - 1, last)), interval '1 day') g(d)
    ), marked AS (
        SELECT loan_id, d, dpd, cob_class(dpd) AS cls,
               lag(cob_class(dpd)) OVER (PARTITION BY loan_id ORDER BY d) AS prev
          FROM days
    )
    INSERT INTO loan_dpd_history (loan_id, as_of, days_past_due, classification)
    SELECT m.loan_id, m.d, m.dpd, m.cls FROM marked m
     WHERE m.cls <> coalesce(m.prev,
                             (SELECT h.classification FROM loan_dpd_history h
                               WHERE h.loan_id = m.loan_id AND h.as_of < p_from
                               ORDER BY h.as_of DESC LIMIT 1), 'STANDARD');
    UPDATE loans l SET days_past_due = x.dpd, own_classification = cob_class(x.dpd), updated_at = now()
      FROM (SELECT s.loan_id,
                   CASE WHEN l2.state <> 'ACTIVE' THEN 0 ELSE
                   coalesce(last - (SELECT min(i.due_date) FROM loan_installments i
                                     WHERE i.loan_id = s.loan_id AND i.due_date <= last
                                       AND (i.settled_on IS NULL OR i.settled_on > last)) + 1, 0) END AS dpd
              FROM cob_set s JOIN loans l2 ON l2.loan_id = s.loan_id) x
     WHERE l.loan_id = x.loan_id;
    UPDATE loans l SET classification = 'STANDARD'
      FROM cob_set s WHERE l.loan_id = s.loan_id AND l.state <> 'ACTIVE' AND l.classification <> 'STANDARD';
    UPDATE loans l SET classification = l.own_classification
      FROM cob_set s WHERE l.loan_id = s.loan_id AND s.user_id IS NULL AND l.state = 'ACTIVE'
       AND l.classification <> l.own_classification;
    IF p_loans IS NULL THEN
        PERFORM cob_contagion(NULL, last, 're-classification');
    ELSE
        PERFORM cob_contagion(ARRAY(SELECT DISTINCT user_id FROM cob_set WHERE user_id IS NOT NULL),
                              last, 're-classification');
    END IF;
    SELECT count(*) INTO n FROM cob_set;
    DROP TABLE cob_set;
    RETURN n;
END
$$;
