-- 006_risk_model.sql: the credit-risk scorecard's coefficients, grades and spreads, by version.
--
-- The scoring itself is app/pipeline/risk.c; docs/risk-model.md is the model card for version 1.
-- A version's rows are immutable: once a decision has used a version, its numbers must stay what
-- they were, so UPDATE, DELETE and TRUNCATE are refused on all three tables. A new model is a new
-- version, inserted inactive and then made active. The only change allowed to an existing row is
-- risk_models.active, and at most one version is active at a time. To switch, in one
-- transaction, first deactivate the old version, then activate the new one (two statements: the
-- unique index is checked row by row, so one UPDATE touching both rows may fail on order).
--
-- tests/unit/test_risk.c reads the INSERT rows of this file and checks that they are the model it
-- tests, so keep each row on one line, numbers as plain decimals and no apostrophes in texts.
-- The migration runner wraps the file in a transaction, so it has no BEGIN/COMMIT of its own.

CREATE TABLE risk_models (
    version       integer     PRIMARY KEY CHECK (version >= 1),
    intercept     numeric     NOT NULL,
    pdo           numeric     NOT NULL DEFAULT 50 CHECK (pdo > 0),
    base_points   numeric     NOT NULL DEFAULT 600,
    base_odds_bad numeric     NOT NULL DEFAULT (1.0 / 19) CHECK (base_odds_bad > 0),
    active        boolean     NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    note          text        NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX risk_models_one_active ON risk_models ((true)) WHERE active;

CREATE TABLE risk_model_features (
    version     integer NOT NULL REFERENCES risk_models (version),
    feature     text    NOT NULL CHECK (feature IN ('dti', 'credit_score', 'loan_to_income',
                                                    'ln_income', 'overdue_accounts',
                                                    'enquiries_6m')),
    coef        numeric NOT NULL,
    ref         numeric NOT NULL,
    lo          numeric NOT NULL,
    hi          numeric NOT NULL,
    reason_code text    NOT NULL CHECK (char_length(reason_code) BETWEEN 1 AND 7),
    reason_text text    NOT NULL CHECK (char_length(reason_text) BETWEEN 1 AND 95),
    PRIMARY KEY (version, feature),
    CHECK (lo <= ref AND ref <= hi)
);

CREATE TABLE risk_grades (
    version    integer NOT NULL REFERENCES risk_models (version),
    grade      char(1) NOT NULL CHECK (grade IN ('A', 'B', 'C', 'D', 'E')),
    min_points integer NOT NULL,
    spread_bps integer NOT NULL CHECK (spread_bps >= 0),
    PRIMARY KEY (version, grade)
);

-- risk_models rows may change only in `active`; everything else about a version is fixed.
CREATE FUNCTION risk_models_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND
       (NEW.version, NEW.intercept, NEW.pdo, NEW.base_points, NEW.base_odds_bad, NEW.created_at,
        NEW.note)
       IS NOT DISTINCT FROM
       (OLD.version, OLD.intercept, OLD.pdo, OLD.base_points, OLD.base_odds_bad, OLD.created_at,
        OLD.note) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'risk_models: a version is immutable except for active; % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER risk_models_immutable
    BEFORE UPDATE OR DELETE ON risk_models
    FOR EACH ROW EXECUTE FUNCTION risk_models_guard();
CREATE TRIGGER risk_models_no_truncate
    BEFORE TRUNCATE ON risk_models
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER risk_model_features_append_only
    BEFORE UPDATE OR DELETE ON risk_model_features
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER risk_model_features_no_truncate
    BEFORE TRUNCATE ON risk_model_features
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER risk_grades_append_only
    BEFORE UPDATE OR DELETE ON risk_grades
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER risk_grades_no_truncate
    BEFORE TRUNCATE ON risk_grades
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- Version 1: expert-set coefficients around a reference applicant (DTI 0.20, score 720, loan
-- 1.0 x income, income about 60,000, no overdue account, 1 enquiry) whose PD is 2.99 % (grade
-- B, 639 points). E's min_points is the lowest integer: E is everything below D.
INSERT INTO risk_models (version, intercept, pdo, base_points, base_odds_bad, active, note) VALUES
    (1, -3.48, 50, 600, 1.0 / 19, true, 'Expert-set scorecard, see docs/risk-model.md');

INSERT INTO risk_model_features (version, feature, coef, ref, lo, hi, reason_code, reason_text) VALUES
    (1, 'dti',              1.6,   0.20, 0.0,   0.8, 'R01', 'Debt-to-income ratio is high'),
    (1, 'credit_score',    -0.011, 720,  300,   900, 'R02', 'Credit score is low'),
    (1, 'loan_to_income',   0.16,  1.0,  0.0,   5.0, 'R03', 'Loan amount is high relative to income'),
    (1, 'ln_income',       -0.40,  11.0, 9.5,  13.5, 'R04', 'Income is low'),
    (1, 'overdue_accounts', 0.65,  0,    0,       5, 'R05', 'Overdue accounts on the credit report'),
    (1, 'enquiries_6m',     0.12,  1,    0,      10, 'R06', 'Many credit enquiries in the last 6 months');

INSERT INTO risk_grades (version, grade, min_points, spread_bps) VALUES
    (1, 'A',         640,  200),
    (1, 'B',         600,  350),
    (1, 'C',         560,  550),
    (1, 'D',         520,  800),
    (1, 'E', -2147483648, 1200);
