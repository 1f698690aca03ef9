-- Dashboard aggregates that stay fast at millions of applications. Every write to
-- loan_applications appends a +1/-1 delta row (inserts never wait on each other, so concurrent
-- submissions do not queue on a hot counter); the notifier folds the deltas into loan_stats
-- every few seconds with loan_stats_compact(). Readers aggregate loan_stats_all (the summary
-- plus the deltas not yet folded), a few thousand rows whatever the table's size.

CREATE TABLE loan_stats (
    day                  date    NOT NULL,
    region               text    NOT NULL,
    country_code         char(2) NOT NULL,
    final_status         text    NOT NULL,
    kyc_status           text    NOT NULL,
    compliance_status    text    NOT NULL,
    eligibility_status   text    NOT NULL,
    political_connection boolean NOT NULL,
    senior_relative      boolean NOT NULL,
    n                    bigint  NOT NULL,
    sum_credit           bigint  NOT NULL,
    sum_dti              numeric NOT NULL,
    n_dti                bigint  NOT NULL,
    sum_loan             numeric NOT NULL,
    sum_income           numeric NOT NULL,
    PRIMARY KEY (day, region, country_code, final_status, kyc_status, compliance_status,
                 eligibility_status, political_connection, senior_relative)
);

CREATE TABLE loan_stats_delta (LIKE loan_stats);
ALTER TABLE loan_stats_delta ADD COLUMN id bigserial PRIMARY KEY;

CREATE VIEW loan_stats_all AS
    SELECT day, region, country_code, final_status, kyc_status, compliance_status,
           eligibility_status, political_connection, senior_relative, n, sum_credit, sum_dti,
           n_dti, sum_loan, sum_income FROM loan_stats
    UNION ALL
    SELECT day, region, country_code, final_status, kyc_status, compliance_status,
           eligibility_status, political_connection, senior_relative, n, sum_credit, sum_dti,
           n_dti, sum_loan, sum_income FROM loan_stats_delta;

CREATE FUNCTION loan_stats_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND
       (OLD.created_at, OLD.region, OLD.country_code, OLD.final_status, OLD.kyc_status,
        OLD.compliance_status, OLD.eligibility_status, OLD.political_connection,
        OLD.senior_relative, OLD.credit_score, OLD.dti_ratio, OLD.loan_amount, OLD.income)
       IS NOT DISTINCT FROM
       (NEW.created_at, NEW.region, NEW.country_code, NEW.final_status, NEW.kyc_status,
        NEW.compliance_status, NEW.eligibility_status, NEW.political_connection,
        NEW.senior_relative, NEW.credit_score, NEW.dti_ratio, NEW.loan_amount, NEW.income) THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO loan_stats_delta (day, region, country_code, final_status, kyc_status,
            compliance_status, eligibility_status, political_connection, senior_relative, n,
            sum_credit, sum_dti, n_dti, sum_loan, sum_income)
        VALUES ((OLD.created_at AT TIME ZONE 'UTC')::date, OLD.region, OLD.country_code,
            OLD.final_status, OLD.kyc_status, OLD.compliance_status, OLD.eligibility_status,
            OLD.political_connection, OLD.senior_relative, -1, -OLD.credit_score,
            -coalesce(OLD.dti_ratio, 0), CASE WHEN OLD.dti_ratio IS NULL THEN 0 ELSE -1 END,
            -OLD.loan_amount, -OLD.income);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO loan_stats_delta (day, region, country_code, final_status, kyc_status,
            compliance_status, eligibility_status, political_connection, senior_relative, n,
            sum_credit, sum_dti, n_dti, sum_loan, sum_income)
        VALUES ((NEW.created_at AT TIME ZONE 'UTC')::date, NEW.region, NEW.country_code,
            NEW.final_status, NEW.kyc_status, NEW.compliance_status, NEW.eligibility_status,
            NEW.political_connection, NEW.senior_relative, 1, NEW.credit_score,
            coalesce(NEW.dti_ratio, 0), CASE WHEN NEW.dti_ratio IS NULL THEN 0 ELSE 1 END,
            NEW.loan_amount, NEW.income);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER loan_applications_stats
    AFTER INSERT OR UPDATE OR DELETE ON loan_applications
    FOR EACH ROW EXECUTE FUNCTION loan_stats_track();

-- Folds the deltas into the summary; returns how many delta rows it moved.
CREATE FUNCTION loan_stats_compact() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE moved bigint;
BEGIN
    WITH d AS (DELETE FROM loan_stats_delta RETURNING *),
    g AS (SELECT day, region, country_code, final_status, kyc_status, compliance_status,
                 eligibility_status, political_connection, senior_relative, sum(n) AS n,
                 sum(sum_credit) AS sum_credit, sum(sum_dti) AS sum_dti, sum(n_dti) AS n_dti,
                 sum(sum_loan) AS sum_loan, sum(sum_income) AS sum_income, count(*) AS rows
          FROM d GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9),
    up AS (INSERT INTO loan_stats (day, region, country_code, final_status, kyc_status,
                compliance_status, eligibility_status, political_connection, senior_relative,
                n, sum_credit, sum_dti, n_dti, sum_loan, sum_income)
           SELECT day, region, country_code, final_status, kyc_status, compliance_status,
                  eligibility_status, political_connection, senior_relative, n, sum_credit,
                  sum_dti, n_dti, sum_loan, sum_income FROM g
           ON CONFLICT (day, region, country_code, final_status, kyc_status, compliance_status,
                        eligibility_status, political_connection, senior_relative)
           DO UPDATE SET n = loan_stats.n + excluded.n,
                         sum_credit = loan_stats.sum_credit + excluded.sum_credit,
                         sum_dti = loan_stats.sum_dti + excluded.sum_dti,
                         n_dti = loan_stats.n_dti + excluded.n_dti,
                         sum_loan = loan_stats.sum_loan + excluded.sum_loan,
                         sum_income = loan_stats.sum_income + excluded.sum_income
           RETURNING 1)
    SELECT coalesce(sum(rows), 0) INTO moved FROM g;
    DELETE FROM loan_stats WHERE n = 0;
    RETURN moved;
END
$$;

-- Applications that existed before this migration.
INSERT INTO loan_stats
SELECT (created_at AT TIME ZONE 'UTC')::date, region, country_code, final_status, kyc_status,
       compliance_status, eligibility_status, political_connection, senior_relative, count(*),
       sum(credit_score), coalesce(sum(dti_ratio), 0), count(dti_ratio), sum(loan_amount),
       sum(income)
FROM loan_applications GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9;

-- A debt-to-income ratio has no natural upper bound (a tiny income, a large debt): the column
-- must hold any ratio the pipeline computes rather than fail the submission.
ALTER TABLE loan_applications ALTER COLUMN dti_ratio TYPE numeric;
