-- make bench's day-end benchmark (scripts/bench-cob.sh): a portfolio of :n ACTIVE loans as it
-- stands just before the day-end of :'d', the last day-end having been :'d' - 1. Run by the
-- cluster's superuser in the benchmark's own scratch database, never in loanflow:
--
--   psql -v n=1000000 -v d=2026-11-28 -d loanflow_cob_bench < tests/bench/cob_portfolio.sql
--
-- Generated set-based (INSERT ... SELECT from generate_series), seeded, so every run builds the
-- same portfolio. What the day-end reads is realistic; what it never reads is left out:
--   * each loan: a 12-month EMI schedule (12 rows, interest on the declining balance), due on one
--     day of the month from 1 to 28 (so 1/28 of the loans are due on any day 1–28 and none on a
--     29th–31st), disbursed a month before its first due date, between 11 months before :'d'
--     and a month after it, so loans sit at every point of their schedule;
--   * installments due before :'d' settled on their due date, except for ~4% of the loans
--     (delinquent), whose last 1–8 installments due before :'d' are unpaid (a third of them with
--     the interest paid and the principal not: any unpaid amount keeps the count running) and
--     carry their penal charge, levied at their due date's day-end; days past due and
--     classification as of the day-end of :'d' - 1 follow from them, and an NPA borrower's other
--     loans are NPA; their class history (loan_dpd_history) is there;
--   * the installments due on :'d' itself were paid during the day (a mandate debit, settled on
--     :'d') except for ~5% of the good loans due that day and for the delinquent ones: the day-end
--     will levy their penal charge and count them overdue; ~5% of the delinquent loans were paid
--     up during :'d' (everything settled on :'d'), and the day-end will bring them back to 0;
--   * one borrower in twenty has two loans;
--   * each loan has its borrower (users), application (name, email: the day-end's reminders and
--     notices join it), offer and agreement, minimal: the columns the constraints ask for.
--
-- session_replication_role = replica (this session only, in this database only) skips the
-- foreign-key checks and the user triggers while generating: every parent row is generated, so
-- the keys hold, but checking 15 million references one by one, and keeping the applications'
-- API documents and the dashboard's counters (which the day-end never reads) through their
-- triggers, would cost far more than the day-end measured. CHECK, NOT NULL and UNIQUE constraints
-- still hold every row. The day-end itself then runs as the serving role with every trigger and
-- foreign key in force (it does fire them: a loan it updates twice in its transaction has its
-- keys checked again, and every notice it queues checks its application).
\set ON_ERROR_STOP on
SET session_replication_role = replica;
SET synchronous_commit = off;
SET work_mem = '256MB';
DO $$ BEGIN PERFORM setseed(0.14); END $$;

-- One row a loan: its terms, its due day, where it stands in its schedule, its delinquency.
CREATE TEMP TABLE gen AS
WITH base AS (
    SELECT i,
           1 + floor(random() * 28)::int AS dd,            -- the due day of the month
           floor(random() * 12)::int - 1 AS k,             -- first due k months before :'d''s month
           random() AS r_del, random() AS r_miss, random() AS r_part, random() AS r_today,
           random() AS r_cure,
           (20 + floor(random() * 480))::bigint * 100000 AS principal,  -- 20,000–499,000 INR
           1100 + 50 * floor(random() * 27)::int AS rate_bps             -- 11–24 %
      FROM generate_series(1, :n) i
), dated AS (
    SELECT b.*,
           (date_trunc('month', :'d'::date) - make_interval(months => b.k)
            + make_interval(days => b.dd - 1))::date AS first_due,
           b.rate_bps / 120000.0::float8 AS r
      FROM base b
), counted AS (
    SELECT x.*,
           -- installments due before :'d', and whether one is due on :'d'
           greatest(0, x.k + CASE WHEN x.dd < extract(day FROM :'d'::date) THEN 1 ELSE 0 END) AS n_past,
           x.k >= 0 AND x.dd = extract(day FROM :'d'::date) AS due_today,
           round(x.principal * x.r / (1 - (1 + x.r) ^ (-12)))::bigint AS emi
      FROM dated x
), marked AS (
    SELECT c.*,
           c.r_del < 0.04 AND c.n_past >= 1 AS delinquent,
           least(c.n_past, CASE WHEN c.r_miss < 0.50 THEN 1 WHEN c.r_miss < 0.70 THEN 2
                                WHEN c.r_miss < 0.82 THEN 3 WHEN c.r_miss < 0.92 THEN 4
                                ELSE 5 + floor((c.r_miss - 0.92) / 0.02)::int END) AS miss
      FROM counted c
)
SELECT m.i, m.dd, m.k, m.first_due, (m.first_due - interval '1 month')::date AS disbursal_date,
       m.principal, m.rate_bps, m.r, m.emi, m.n_past, m.due_today,
       m.delinquent,
       CASE WHEN m.delinquent THEN m.n_past - m.miss + 1 END AS om,   -- oldest installment unpaid
       m.delinquent AND m.r_part < 0.33 AS part,                       -- its interest paid
       m.delinquent AND m.r_cure < 0.05 AS cure,                       -- paid up during :'d'
       NOT m.delinquent AND m.due_today AND m.r_today < 0.05 AS fail_today,
       (SELECT coalesce(max(id), 0) FROM users) + CASE WHEN m.i % 20 = 0 THEN m.i - 1 ELSE m.i END AS user_id,
       upper(lpad(to_hex((m.i::bigint * 2654435761) % 4294967296), 8, '0')) AS tag
  FROM marked m;

-- The days past due as of the day-end of :'d' - 1, the leading installments paid (the loan's
-- outstanding principal is the balance after them), the ids.
ALTER TABLE gen ADD COLUMN dpd integer, ADD COLUMN paid_n integer, ADD COLUMN own_cls text,
    ADD COLUMN cls text, ADD COLUMN loan_id text, ADD COLUMN application_id text,
    ADD COLUMN outstanding bigint;
UPDATE gen SET
    dpd = CASE WHEN delinquent THEN :'d'::date - (first_due + make_interval(months => om - 1))::date ELSE 0 END,
    paid_n = CASE WHEN cure THEN n_past + due_today::int WHEN delinquent THEN om - 1
                  WHEN fail_today THEN n_past ELSE n_past + due_today::int END,
    loan_id = 'LN-' || to_char(disbursal_date, 'YYYYMMDD') || '-' || tag,
    application_id = 'LOAN-' || to_char(disbursal_date - 3, 'YYYYMMDD') || '-' || tag;
UPDATE gen SET own_cls = cob_class(dpd),
    outstanding = CASE WHEN paid_n = 0 THEN principal
                       ELSE round(principal * (1 + r) ^ paid_n - emi * ((1 + r) ^ paid_n - 1) / r)::bigint END;
UPDATE gen g SET cls = CASE WHEN u.npa THEN 'NPA' ELSE g.own_cls END
  FROM (SELECT user_id, bool_or(own_cls = 'NPA') AS npa FROM gen GROUP BY user_id) u
 WHERE u.user_id = g.user_id;
CREATE INDEX ON gen (disbursal_date, i);
ANALYZE gen;

INSERT INTO users (id, name, email, password_hash, role, created_at, updated_at)
SELECT user_id, 'Borrower ' || i, 'borrower.' || i || '@example.com', '!', 'applicant',
       disbursal_date - 4, disbursal_date - 4
  FROM gen WHERE i % 20 <> 0 ORDER BY disbursal_date, i;
DO $$ BEGIN PERFORM setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users)); END $$;

INSERT INTO loan_applications (application_id, user_id, name, email, phone, city, region, country,
    country_code, income, debt, credit_score, loan_amount, loan_purpose, dti_ratio,
    documents_uploaded, documents, kyc_status, kyc_verified_at, compliance_status,
    compliance_verified_at, eligibility_status, eligibility_verified_at, final_status,
    final_decision_at, tenure_months, created_at, updated_at)
SELECT application_id, user_id, 'Borrower ' || i, 'borrower.' || i || '@example.com',
       '+91 98' || lpad((i % 100000000)::text, 8, '0'), 'Bengaluru', 'ASIA', 'India', 'IN',
       1200000, 200000, 650 + i % 200, principal / 100, 'Personal', 0.1667, true,
       '{ID_Proof,Income_Statement,Address_Proof}', 'APPROVED', disbursal_date - 3, 'APPROVED',
       disbursal_date - 3, 'APPROVED', disbursal_date - 3, 'APPROVED', disbursal_date - 3, 12,
       disbursal_date - 3, disbursal_date - 1
  FROM gen ORDER BY disbursal_date, i;

INSERT INTO loan_offers (offer_id, application_id, user_id, product_code, product_version, currency,
    principal, rate_bps, tenure_months, emi, fee, fee_tax, net_disbursed, total_interest, apr_bps,
    first_due_date, valid_until, offer_json, kfs, kfs_sha256, state, created_at, accepted_at)
SELECT 'OF-' || substr(loan_id, 4), application_id, user_id, 'personal_loan', 1, 'INR', principal,
       rate_bps, 12, emi, f.fee, f.fee * 18 / 100, principal - f.fee - f.fee * 18 / 100,
       12 * emi - principal, rate_bps + 250, first_due, disbursal_date + 1, '{}', '',
       repeat('0', 64), 'SIGNED', disbursal_date - 3, disbursal_date - 2
  FROM gen CROSS JOIN LATERAL (SELECT least(2500000, greatest(100000, principal * 2 / 100)) AS fee) f
 ORDER BY disbursal_date, i;

INSERT INTO agreements (agreement_id, offer_id, application_id, user_id, terms, sha256, kfs_sha256,
    phone_masked, state, key_id, signature, signed_at, created_at)
SELECT 'AG-' || substr(loan_id, 4), 'OF-' || substr(loan_id, 4), application_id, user_id, '',
       repeat('0', 64), repeat('0', 64), '+91 ******' || lpad((i % 10000)::text, 4, '0'), 'SIGNED',
       'bench', repeat('0', 128), disbursal_date - 1, disbursal_date - 2
  FROM gen ORDER BY disbursal_date, i;

INSERT INTO loans (loan_id, application_id, offer_id, agreement_id, user_id, product_code,
    product_version, currency, principal, rate_bps, apr_bps, tenure_months, emi, fee, fee_tax,
    net_disbursed, method, rounding, state, tranche, disbursed_at, disbursal_date, first_due_date,
    outstanding_principal, created_at, updated_at, allocation, penal_charge, credit_balance,
    days_past_due, own_classification, classification, next_unsettled_due)
SELECT loan_id, application_id, 'OF-' || substr(loan_id, 4), 'AG-' || substr(loan_id, 4), user_id,
       'personal_loan', 1, 'INR', principal, rate_bps, rate_bps + 250, 12, emi, f.fee, f.fee * 18 / 100,
       principal - f.fee - f.fee * 18 / 100, 'emi', 'half_even', 'ACTIVE', 1,
       disbursal_date + time '05:30', disbursal_date, first_due, outstanding,
       disbursal_date - 1, :'d'::date - 1 + time '18:00', 'rbi_india', 50000, 0, dpd, own_cls, cls,
       CASE WHEN paid_n < 12 THEN (first_due + make_interval(months => paid_n))::date END
  FROM gen CROSS JOIN LATERAL (SELECT least(2500000, greatest(100000, principal * 2 / 100)) AS fee) f
 ORDER BY disbursal_date, i;

-- The schedules: balance after n = P(1+r)^n - EMI((1+r)^n - 1)/r, the last 0; each installment's
-- principal the fall of the balance, its interest the rate on the balance before it.
INSERT INTO loan_installments (loan_id, number, due_date, installment, interest, principal, balance,
    penal, paid_penal, paid_interest, paid_principal, settled_on)
SELECT s.loan_id, s.n, s.due, s.interest + s.prin, s.interest, s.prin, s.bal,
       CASE WHEN s.unpaid_past THEN 50000 ELSE 0 END,
       CASE WHEN s.unpaid_past AND s.cure THEN 50000 ELSE 0 END,
       CASE WHEN s.settled IS NOT NULL OR (s.unpaid_past AND s.part) THEN s.interest ELSE 0 END,
       CASE WHEN s.settled IS NOT NULL THEN s.prin ELSE 0 END,
       s.settled
  FROM (SELECT b.*, b.bal_prev - b.bal AS prin, round(b.bal_prev * b.r)::bigint AS interest,
               b.delinquent AND b.n >= b.om AND b.due < :'d'::date AS unpaid_past,
               CASE WHEN b.n <= b.paid_n THEN
                        CASE WHEN b.due < :'d'::date AND NOT (b.delinquent AND b.n >= b.om) THEN b.due
                             ELSE :'d'::date END END AS settled
          FROM (SELECT g.loan_id, g.r, g.delinquent, g.om, g.part, g.cure, g.paid_n, n,
                       (g.first_due + make_interval(months => n - 1))::date AS due,
                       CASE WHEN n = 1 THEN g.principal
                            ELSE round(g.principal * (1 + g.r) ^ (n - 1) - g.emi * ((1 + g.r) ^ (n - 1) - 1) / g.r)::bigint END AS bal_prev,
                       CASE WHEN n = 12 THEN 0
                            ELSE round(g.principal * (1 + g.r) ^ n - g.emi * ((1 + g.r) ^ n - 1) / g.r)::bigint END AS bal
                  FROM gen g CROSS JOIN generate_series(1, 12) n
                 ORDER BY g.disbursal_date, g.i, n) b) s;

-- The class history of the delinquent loans: the day each class was entered.
INSERT INTO loan_dpd_history (loan_id, as_of, days_past_due, classification)
SELECT g.loan_id, (g.first_due + make_interval(months => g.om - 1))::date + t - 1, t, cob_class(t)
  FROM gen g CROSS JOIN unnest(ARRAY[1, 31, 61, 91]) t
 WHERE g.delinquent AND t <= g.dpd;

-- The last day-end: :'d' - 1.
INSERT INTO cob_runs (business_date, started_at, finished_at, loans_active, loans_overdue,
    penal_levied, reminders, notices)
SELECT :'d'::date - 1, :'d'::date - 1 + time '18:00', :'d'::date - 1 + time '18:01', count(*),
       count(*) FILTER (WHERE dpd > 0), 0, 0, 0
  FROM gen;

-- What was made (bench-cob.sh prints it).
SELECT format('generated: %s loans (%s borrowers, %s with two), %s installments; as of %s: %s delinquent '
              '(SMA-0 %s, SMA-1 %s, SMA-2 %s, NPA %s own, %s by a borrower''s other loan), %s due on %s '
              '(%s unpaid: %s delinquent, %s newly), %s paid up on %s, %s due on %s (reminders)',
              (SELECT count(*) FROM loans), (SELECT count(DISTINCT user_id) FROM gen),
              (SELECT count(*) FROM gen WHERE i % 20 = 0),
              (SELECT count(*) FROM loan_installments), :'d'::date - 1,
              count(*) FILTER (WHERE dpd > 0),
              count(*) FILTER (WHERE own_cls = 'SMA-0'), count(*) FILTER (WHERE own_cls = 'SMA-1'),
              count(*) FILTER (WHERE own_cls = 'SMA-2'), count(*) FILTER (WHERE own_cls = 'NPA'),
              count(*) FILTER (WHERE cls = 'NPA' AND own_cls <> 'NPA'),
              count(*) FILTER (WHERE due_today), :'d',
              count(*) FILTER (WHERE due_today AND (fail_today OR (delinquent AND NOT cure))),
              count(*) FILTER (WHERE due_today AND delinquent AND NOT cure),
              count(*) FILTER (WHERE fail_today),
              count(*) FILTER (WHERE cure), :'d',
              (SELECT count(*) FROM loan_installments WHERE due_date = :'d'::date + 3), :'d'::date + 3)
  FROM gen;
DROP TABLE gen;
