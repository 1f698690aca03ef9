-- make bench's re-screening benchmark (scripts/bench-rescreen.sh): :n open applications, as the
-- customers a new sanctions list version is screened against. Run by the cluster's superuser in
-- the benchmark's own scratch database, never in loanflow:
--
--   psql -v n=100000 -d loanflow_rescreen_bench < tests/bench/rescreen_subjects.sql
--
-- Generated set-based (INSERT ... SELECT from generate_series), seeded, so every run builds the
-- same customers. Each one is of one of ten name cultures (Indian, Arabic, Russian, Hispanic,
-- Chinese, English, German and French, Nigerian, Persian and Turkish, East Asian): a given name
-- and a surname of that culture, a quarter of them with a second given name, written as people
-- type them (accents included); a country of that culture four times in five, else any of the
-- others; a date of birth from 1950 to 2004 for 85 % of them (the rest have none, as most
-- non-Indian applications); 35 % PENDING, the rest APPROVED without a loan (open either way:
-- the re-screening reads them all). Only the columns the constraints ask for and the
-- re-screening reads are filled.
--
-- session_replication_role = replica (this session only, in this database only) skips the
-- foreign-key checks and the user triggers while generating (the applications' API documents and
-- the dashboard's counters, which the re-screening never reads; a match's UPDATE rebuilds the
-- document of its application). CHECK, NOT NULL and UNIQUE constraints still hold every row.
\set ON_ERROR_STOP on
SET session_replication_role = replica;
SET synchronous_commit = off;
DO $$ BEGIN PERFORM setseed(0.18); END $$;

CREATE TEMP TABLE culture (k int PRIMARY KEY, given text[], surname text[], cc text[]);
INSERT INTO culture VALUES
 (1, ARRAY['Aarav', 'Priya', 'Rahul', 'Ananya', 'Vikram', 'Deepa', 'Arjun', 'Kavya', 'Sanjay',
           'Lakshmi', 'Rohan', 'Meera', 'Amit', 'Sunita', 'Karthik', 'Pooja'],
     ARRAY['Sharma', 'Patel', 'Iyer', 'Reddy', 'Singh', 'Gupta', 'Nair', 'Das', 'Mehta', 'Khan',
           'Rao', 'Joshi', 'Kulkarni', 'Banerjee', 'Chatterjee', 'Pillai'],
     ARRAY['IN', 'IN', 'IN', 'GB', 'AE']),
 (2, ARRAY['Mohammed', 'Ahmed', 'Fatima', 'Omar', 'Aisha', 'Hassan', 'Youssef', 'Layla', 'Khalid',
           'Mariam', 'Ali', 'Nour', 'Tariq', 'Salma', 'Hamza', 'Rania'],
     ARRAY['Al-Sayed', 'Haddad', 'Khalil', 'Mansour', 'Nasser', 'Hamdan', 'Aziz', 'Rahman',
           'Saleh', 'Ibrahim', 'Abdullah', 'Qasim', 'El-Masri', 'Farouk', 'Bakr', 'Suleiman'],
     ARRAY['SA', 'AE', 'EG', 'JO', 'LB', 'IQ', 'SY', 'MA']),
 (3, ARRAY['Sergey', 'Olga', 'Dmitry', 'Natalia', 'Ivan', 'Elena', 'Alexei', 'Svetlana', 'Mikhail',
           'Irina', 'Andrei', 'Tatiana', 'Nikolai', 'Yulia', 'Pavel', 'Anastasia'],
     ARRAY['Ivanov', 'Petrova', 'Smirnov', 'Kuznetsova', 'Popov', 'Volkov', 'Sokolov', 'Morozova',
           'Lebedev', 'Novikova', 'Kozlov', 'Orlova', 'Fedorov', 'Pavlova', 'Vasiliev', 'Zaitseva'],
     ARRAY['RU', 'RU', 'BY', 'UA', 'KZ']),
 (4, ARRAY['Juan', 'María', 'Carlos', 'Lucía', 'José', 'Sofía', 'Miguel', 'Valentina', 'Luis',
           'Camila', 'Jorge', 'Isabel', 'Diego', 'Gabriela', 'Andrés', 'Paula'],
     ARRAY['García', 'Rodríguez', 'Martínez', 'Hernández', 'López', 'González', 'Pérez',
           'Sánchez', 'Ramírez', 'Torres', 'Flores', 'Rivera', 'Gómez', 'Díaz', 'Castillo', 'Vargas'],
     ARRAY['MX', 'CO', 'ES', 'AR', 'PE', 'VE', 'US']),
 (5, ARRAY['Wei', 'Li Na', 'Jun', 'Xiu Ying', 'Hao', 'Mei', 'Jian', 'Yan', 'Lei', 'Fang', 'Qiang',
           'Hui'],
     ARRAY['Wang', 'Li', 'Zhang', 'Liu', 'Chen', 'Yang', 'Huang', 'Zhao', 'Wu', 'Zhou', 'Xu', 'Sun'],
     ARRAY['CN', 'CN', 'SG', 'HK', 'TW', 'MY']),
 (6, ARRAY['James', 'Emily', 'Michael', 'Sarah', 'David', 'Jessica', 'Robert', 'Olivia', 'William',
           'Emma', 'Thomas', 'Charlotte', 'Daniel', 'Grace', 'Matthew', 'Chloe'],
     ARRAY['Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Miller', 'Davis', 'Wilson', 'Taylor',
           'Anderson', 'Thomas', 'Moore', 'Clarke', 'Walker', 'Wright', 'Hughes'],
     ARRAY['US', 'GB', 'CA', 'AU', 'IE', 'NZ']),
 (7, ARRAY['Lukas', 'Anna', 'Jonas', 'Léa', 'Pierre', 'Camille', 'Felix', 'Marie', 'Maximilian',
           'Chloé', 'Julien', 'Sophie', 'Matthias', 'Élodie', 'Stefan', 'Manon'],
     ARRAY['Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Dubois', 'Martin', 'Lefèvre',
           'Bernard', 'Moreau', 'Wagner', 'Becker', 'Laurent', 'Girard', 'Hoffmann', 'Roux'],
     ARRAY['DE', 'FR', 'AT', 'CH', 'BE', 'LU']),
 (8, ARRAY['Chinedu', 'Ngozi', 'Oluwaseun', 'Adebayo', 'Amaka', 'Emeka', 'Funmilayo', 'Ikechukwu',
           'Yetunde', 'Tunde', 'Chiamaka', 'Obinna'],
     ARRAY['Okafor', 'Adeyemi', 'Okonkwo', 'Balogun', 'Eze', 'Nwosu', 'Adebayo', 'Olawale',
           'Ogunleye', 'Chukwu', 'Bello', 'Abubakar'],
     ARRAY['NG', 'NG', 'GH', 'GB']),
 (9, ARRAY['Reza', 'Zahra', 'Ali', 'Maryam', 'Mehmet', 'Ayşe', 'Mustafa', 'Elif', 'Hossein',
           'Fatemeh', 'Emre', 'Zeynep', 'Amir', 'Leila', 'Burak', 'Yasmin'],
     ARRAY['Hosseini', 'Ahmadi', 'Karimi', 'Rezaei', 'Moradi', 'Yılmaz', 'Kaya', 'Demir',
           'Şahin', 'Çelik', 'Mohammadi', 'Jafari', 'Aydın', 'Öztürk', 'Sadeghi', 'Arslan'],
     ARRAY['IR', 'TR', 'TR', 'AF', 'AZ', 'DE']),
 (10, ARRAY['Haruto', 'Yui', 'Min-jun', 'Seo-yeon', 'Minh', 'Linh', 'Sota', 'Hana', 'Ji-ho',
            'Thu', 'Kenji', 'Soo-ah'],
      ARRAY['Sato', 'Suzuki', 'Takahashi', 'Tanaka', 'Kim', 'Park', 'Lee', 'Choi', 'Nguyen', 'Tran',
            'Pham', 'Le'],
      ARRAY['JP', 'KR', 'VN', 'KP', 'US']);

INSERT INTO loan_applications (application_id, name, email, phone, region, country,
    country_code, income, debt, credit_score, loan_amount, loan_purpose, date_of_birth,
    kyc_status, compliance_status, eligibility_status, final_status, final_decision_at,
    created_at, updated_at)
SELECT 'LOAN-20261201-' || upper(lpad(to_hex(r.i), 8, '0')),
       c.given[1 + floor(r.r1 * cardinality(c.given))::int]
         || CASE WHEN r.r2 < 0.25 THEN ' ' || c.given[1 + floor(r.r3 * cardinality(c.given))::int]
            ELSE '' END
         || ' ' || c.surname[1 + floor(r.r4 * cardinality(c.surname))::int],
       'customer.' || r.i || '@example.com', '+1 555 ' || lpad(r.i::text, 7, '0'),
       co.region, co.name, co.alpha2, 20000 + floor(r.r5 * 180000), floor(r.r5 * 30000),
       300 + floor(r.r6 * 600), 1000 + floor(r.r7 * 49000), 'Personal',
       CASE WHEN r.r8 < 0.85 THEN date '1950-01-01' + floor(r.r9 * 20089)::int END,
       s.status, s.status, s.status, s.status,
       CASE WHEN s.status = 'APPROVED' THEN now() - interval '1 day' END,
       now() - interval '2 days', now() - interval '1 day'
  FROM (SELECT i, 1 + floor(random() * 10)::int AS k, random() AS r1, random() AS r2,
               random() AS r3, random() AS r4, random() AS r5, random() AS r6, random() AS r7,
               random() AS r8, random() AS r9, random() AS rc, random() AS rs, random() AS ro
          FROM generate_series(1, :n) i) r
  JOIN culture c USING (k)
  CROSS JOIN LATERAL (SELECT CASE WHEN r.rs < 0.35 THEN 'PENDING' ELSE 'APPROVED' END AS status) s
  JOIN countries co ON co.alpha2 = CASE WHEN r.ro < 0.8
       THEN c.cc[1 + floor(r.rc * cardinality(c.cc))::int]
       ELSE (ARRAY['IN', 'US', 'GB', 'DE', 'RU', 'IR', 'MX', 'CN', 'NG', 'BR', 'PK', 'SA', 'TR',
                   'FR', 'JP', 'SY'])[1 + floor(r.rc * 16)::int] END
 ORDER BY r.i;

SELECT format('generated %s open applications: %s PENDING, %s with a date of birth, %s countries',
              count(*), count(*) FILTER (WHERE final_status = 'PENDING'),
              count(date_of_birth), count(DISTINCT country_code))
  FROM loan_applications;
