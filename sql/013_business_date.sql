-- The business date of lending: the date in India, the one product's country (sql/012). An
-- offer's validity, the disbursal date and due dates are all of it, in SQL as in C
-- (lending_today in app/store/offers.c): a payout processed at 01:00 in Bengaluru is disbursed
-- that Indian day, not the previous UTC one.
CREATE FUNCTION business_date() RETURNS date LANGUAGE sql STABLE AS $$
    SELECT (now() AT TIME ZONE 'Asia/Kolkata')::date
$$;
