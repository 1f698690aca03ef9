-- 007_market_data.sql: public market reference data (GET /data) and the base rates that loan
-- pricing reads from it.
--
-- Design. market_data holds one current row per symbol; `loanctl market load FILE.csv` replaces
-- the whole table in one transaction (rows missing from the file are removed) and records the
-- load in market_loads, so the table is always exactly one file's content and the history says
-- which file, when and by whom. Values are NUMERIC(18,6), never floating point: what the file
-- says is what the API shows and what pricing uses. Rows with category 'rate' are annual rates
-- in percent (6.500000 means 6.50 %).
--
-- base_rate_symbols says which market_data symbol is the base rate of loans in a country
-- (ISO 3166-1 alpha-2), with '*' as the default for countries without a row of their own. It
-- is configuration, not market data: a market load never touches it, and there is deliberately
-- no foreign key to market_data, so a file that lacks a configured symbol loads (pricing for
-- those countries then reports the base rate as unavailable instead of the load failing).
--
-- The migration runner wraps the file in a transaction, so it has no BEGIN/COMMIT of its own.

CREATE TABLE market_data (
    symbol    text          PRIMARY KEY CHECK (symbol ~ '^[A-Z0-9_.^-]{1,24}$'),
    name      text          NOT NULL CHECK (name <> ''),
    category  text          NOT NULL CHECK (category IN ('index', 'rate', 'fx', 'commodity')),
    value     numeric(18,6) NOT NULL,
    change    numeric(18,6) NOT NULL DEFAULT 0,
    as_of     date          NOT NULL,
    source    text          NOT NULL DEFAULT '',
    loaded_at timestamptz   NOT NULL DEFAULT now()
);

COMMENT ON TABLE market_data IS
    'Current market reference data, replaced as a whole by loanctl market load.';
COMMENT ON COLUMN market_data.value IS
    'Level, price or exchange rate; for category rate an annual rate in percent.';
COMMENT ON COLUMN market_data.change IS 'Change against the previous value (value - previous).';

CREATE TABLE base_rate_symbols (
    country_code text PRIMARY KEY CHECK (country_code ~ '^([A-Z]{2}|\*)$'),
    symbol       text NOT NULL CHECK (symbol ~ '^[A-Z0-9_.^-]{1,24}$')
);

COMMENT ON TABLE base_rate_symbols IS
    'The market_data rate each country''s loans are priced over; ''*'' is the default.';

INSERT INTO base_rate_symbols (country_code, symbol) VALUES
    ('IN', 'RBI_REPO'),
    ('GB', 'BOE_BANK_RATE'),
    ('*', 'SOFR');

CREATE TABLE market_loads (
    id        bigserial   PRIMARY KEY,
    file_name text        NOT NULL,
    rows      int         NOT NULL CHECK (rows >= 0),
    sha256    text        NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    loaded_by text        NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE market_loads IS 'One row per successful loanctl market load.';
