-- pgbench script: the INSERTs one submission performs (the application with every stage, its
-- approval log entry and its notification), in one transaction. make bench compares the
-- service's submit throughput with this, measured in the same run.
\set n random(1, 1000000000000)
BEGIN;
INSERT INTO loan_applications (application_id, name, email, phone, region, country, country_code,
    income, debt, credit_score, loan_amount, loan_purpose, dti_ratio, documents_uploaded,
    documents, kyc_status, kyc_remarks, kyc_verified_at, compliance_status, compliance_remarks,
    compliance_verified_at, eligibility_status, eligibility_remarks, eligibility_verified_at,
    final_status, final_remarks, final_decision_at, review_flags, screening_list,
    screening_list_version, risk_model_version, risk_pd, risk_points, risk_grade, risk_reasons,
    rate_base_symbol, rate_base_bps, rate_base_as_of, rate_spread_bps, rate_bps, failed_rules)
VALUES ('LOAN-20260101-' || right(lpad(upper(to_hex(:n)), 10, '0'), 8), 'John Doe',
    'pgbench.' || :n || '@example.com', '+1234567890', 'AMERICAS', 'United States', 'US',
    85000.00, 25000.00, 720, 250000.00, 'Home Purchase', 0.2941, true,
    ARRAY['ID_Proof', 'Income_Statement', 'Address_Proof'], 'APPROVED',
    'Identity, contact details and documents verified', now(), 'APPROVED',
    'No sanctions, PEP, related-party or country-risk findings', now(), 'APPROVED',
    'Risk grade C (probability of default 0.0570, 592 points, model version 1); Annual rate '
    '9.37% = SOFR 3.87% (as of 2026-11-20) + grade C spread 5.50%; DTI 0.2941, credit score 720, '
    'loan within 3 x income and the 255,000.00 cap', now(),
    'APPROVED', 'All verification stages passed', now(), '{}', 'OFAC SDN', '0123456789abcdef',
    1, 0.057000, 592, 'C', '[{"code":"R03","description":"Loan amount is high relative to income"}]',
    'SOFR', 387, '2026-11-20', 550, 937, '{}');
INSERT INTO approval_logs (application_id, action, actor_email, status_after)
VALUES ('LOAN-20260101-' || right(lpad(upper(to_hex(:n)), 10, '0'), 8), 'submit', 'pgbench',
    'APPROVED');
INSERT INTO notifications (application_id, kind, recipient, subject, body)
VALUES ('LOAN-20260101-' || right(lpad(upper(to_hex(:n)), 10, '0'), 8), 'email',
    'pgbench.' || :n || '@example.com', 'Your loan application was approved',
    'Dear John Doe, your application has been APPROVED.');
END;
