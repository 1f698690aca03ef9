// Loan applications: the public pre-check (POST /loan), submission with its validation, the
// verification pipeline's rules at their boundaries (KYC, compliance, eligibility, the decision),
// sanctions screening against the real OFAC SDN list, idempotent submission, storage, and the
// read endpoints (status, /me/applications, list, pending). Every application uses its own email
// address, so the file runs on any stack, alone or after other files. The approve / reject /
// reprocess side lives in review.test.mjs.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {
  api, assertError, sql, newApplicant, newUser, adminToken, uniqueEmail,
} from './lib.mjs';

// ---- helpers of this file ------------------------------------------------------------------

const SEED = {
  name: 'John Doe',
  email: 'john.doe@example.com',
  phone: '+1234567890',
  region: 'AMERICAS',
  country: 'United States',
  income: 85000,
  debt: 25000,
  credit_score: 720,
  loan_amount: 250000,
  loan_purpose: 'Home Purchase',
  documents_uploaded: true,
  documents: ['ID_Proof', 'Income_Statement', 'Address_Proof'],
};

const STATUSES = ['PENDING', 'APPROVED', 'REJECTED'];
const REVIEW_FLAGS = ['documents_outstanding', 'pep', 'senior_relative', 'high_value',
  'sanctions_review', 'country_monitoring'];

const APPLICATION_KEYS = [
  'application_id', 'name', 'email', 'phone', 'city', 'region', 'country', 'country_code',
  'income', 'debt', 'credit_score', 'loan_amount', 'loan_purpose', 'dti_ratio',
  'documents_uploaded', 'documents', 'kyc_status', 'kyc_verified_at', 'kyc_remarks',
  'compliance_status', 'compliance_verified_at', 'compliance_remarks', 'political_connection',
  'senior_relative', 'eligibility_status', 'eligibility_verified_at', 'eligibility_remarks',
  'final_status', 'final_decision_at', 'final_remarks', 'alert_sent', 'email_sent',
  'review_flags', 'reviewed_by', 'reviewed_at', 'review_reason', 'screening', 'created_at',
  'updated_at',
];

// A valid submission body with its own email; overrides replace fields, undefined removes one.
function body(overrides = {}) {
  const b = { ...SEED, email: uniqueEmail('loan'), ...overrides };
  for (const k of Object.keys(b)) if (b[k] === undefined) delete b[k];
  return b;
}

let A; // an applicant
let B; // another applicant
let clerk; // the officer who files most applications for customers (an applicant files only
// under the account's email, one pending at a time)
let officer;
let admin;

async function submit(b, opts = {}) {
  return api('POST', '/loan-application/submit', { token: clerk.token, ...opts, body: b });
}

// Submits and expects 201; returns the application.
async function submitOk(b, opts = {}) {
  const r = await submit(b, opts);
  assert.equal(r.status, 201, `submit ${JSON.stringify(b)} -> ${r.status}: ${r.text}`);
  assert.equal(r.json.message, 'Loan application submitted and processed successfully');
  assert.ok(r.json.application && typeof r.json.application === 'object', r.text);
  return r.json.application;
}

// Money and ratios are JSON numbers; compared numerically.
function assertNum(v, expected, what) {
  assert.equal(typeof v, 'number', `${what} must be a JSON number, got ${JSON.stringify(v)}`);
  assert.ok(Math.abs(v - expected) < 1e-9, `${what}: expected ${expected}, got ${v}`);
}

function assertStatuses(app, expect, what = '') {
  for (const [k, v] of Object.entries(expect)) {
    assert.equal(app[`${k}_status`], v,
      `${what} ${k}_status: expected ${v}, got ${app[`${k}_status`]} ` +
      `(kyc ${app.kyc_status} "${app.kyc_remarks}", compliance ${app.compliance_status} ` +
      `"${app.compliance_remarks}", eligibility ${app.eligibility_status} "${app.eligibility_remarks}", ` +
      `final ${app.final_status} "${app.final_remarks}", flags ${JSON.stringify(app.review_flags)})`);
  }
}

function assertFlag(app, flag, present = true) {
  assert.ok(Array.isArray(app.review_flags), `review_flags must be an array: ${JSON.stringify(app.review_flags)}`);
  assert.equal(app.review_flags.includes(flag), present,
    `review_flags ${JSON.stringify(app.review_flags)} ${present ? 'should' : 'should not'} contain ${flag}`);
}

// No sanctions match worth a look: screening is null, or the evidence of a search that found
// nothing near (score null, or below the 0.85 review threshold).
function assertNoSanctionsHit(app, what) {
  const s = app.screening;
  assert.ok(s === null || s.score === null || (typeof s.score === 'number' && s.score < 0.85),
    `screening of ${what}: ${JSON.stringify(s)}`);
  if (s && s.score === null) assert.equal(s.entry_id, null, `${what}: no entry without a score`);
}

// A 400 validation_failed answer whose fields name at least every key in keys; returns fields.
function assertFields(r, keys, what = '') {
  const err = assertError(r, 400, 'validation_failed');
  assert.ok(err.fields && typeof err.fields === 'object', `${what}: error.fields expected: ${r.text}`);
  for (const k of keys) {
    assert.ok(k in err.fields, `${what}: error.fields should name ${k}: ${JSON.stringify(err.fields)}`);
    assert.equal(typeof err.fields[k], 'string', `${what}: fields.${k} should be a message`);
  }
  return err.fields;
}

// A 400 that names the query parameter p (in fields or in the message).
function assertParamError(r, p) {
  assert.equal(r.status, 400, `?${p}: expected 400, got ${r.status}: ${r.text}`);
  const err = r.json?.error;
  assert.ok(err, r.text);
  assert.ok((err.fields && p in err.fields) || err.message.includes(p),
    `the 400 should name the parameter ${p}: ${r.text}`);
}

function rowCount(email) {
  return Number(sql("SELECT count(*) FROM loan_applications WHERE email = :'p1'", email)[0][0]);
}

const todayUtc = () => new Date().toISOString().slice(0, 10).replace(/-/g, '');

// ---- setup ---------------------------------------------------------------------------------

let sanctionsVersion = null;

before(async () => {
  admin = await adminToken();
  officer = await newUser('officer', admin);
  A = await newApplicant('loans-a');
  B = await newApplicant('loans-b');
  clerk = await newUser('officer', admin);
  const v = sql("SELECT version FROM sanctions_lists WHERE name = 'OFAC SDN' AND active");
  sanctionsVersion = v.length ? v[0][0] : null;
});

// ---- POST /loan ----------------------------------------------------------------------------

describe('POST /loan (public eligibility check)', () => {
  test('the seed example is eligible with DTI 0.3333', async () => {
    const r = await api('POST', '/loan', {
      body: { name: 'Jane Smith', email: 'jane@example.com', income: 75000, debt: 25000, credit_score: 720 },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.eligible, true);
    assertNum(r.json.dti_ratio, 0.3333, 'dti_ratio');
    assert.equal(typeof r.json.max_loan_amount, 'number');
    assertNum(r.json.max_loan_amount, 225000, 'max_loan_amount (3 x income)');
    assert.deepEqual(r.json.reasons, []);
  });

  test('max_loan_amount is capped at 1,000,000', async () => {
    const r = await api('POST', '/loan', {
      body: { name: 'Jane Smith', email: 'jane@example.com', income: 500000, debt: 0, credit_score: 800 },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.eligible, true);
    assertNum(r.json.max_loan_amount, 1000000, 'max_loan_amount');
  });

  test('the same rules as submission: each failed rule is a reason', async () => {
    const cases = [
      [{ income: 100000, debt: 40000, credit_score: 720 }, [/dti|debt/i]],
      [{ income: 100000, debt: 39990, credit_score: 720 }, []],
      [{ income: 75000, debt: 0, credit_score: 649 }, [/credit/i]],
      [{ income: 75000, debt: 0, credit_score: 650 }, []],
      [{ income: 29999.99, debt: 0, credit_score: 720 }, [/income/i]],
      [{ income: 30000, debt: 0, credit_score: 720 }, []],
      [{ income: 100000, debt: 0, credit_score: 720, loan_amount: 300000 }, []],
      [{ income: 100000, debt: 0, credit_score: 720, loan_amount: 300000.01 }, [/loan|amount/i]],
      [{ income: 400000, debt: 0, credit_score: 720, loan_amount: 1000000 }, []],
      [{ income: 400000, debt: 0, credit_score: 720, loan_amount: 1000000.01 }, [/loan|amount|1,?000,?000|max/i]],
      [{ income: 100000, debt: 50000, credit_score: 600 }, [/dti|debt/i, /credit/i]],
    ];
    for (const [fields, reasons] of cases) {
      const r = await api('POST', '/loan', { body: { name: 'Jane Smith', email: 'jane@example.com', ...fields } });
      assert.equal(r.status, 200, `${JSON.stringify(fields)}: ${r.text}`);
      assert.equal(r.json.eligible, reasons.length === 0, `${JSON.stringify(fields)}: ${r.text}`);
      assert.ok(Array.isArray(r.json.reasons), r.text);
      assert.ok(r.json.reasons.every((s) => typeof s === 'string' && s.length > 0), r.text);
      if (reasons.length === 0) assert.deepEqual(r.json.reasons, [], r.text);
      else assert.ok(r.json.reasons.length >= reasons.length, `${JSON.stringify(fields)}: ${r.text}`);
      for (const re of reasons) {
        assert.ok(r.json.reasons.some((s) => re.test(s)), `${JSON.stringify(fields)}: a reason should match ${re}: ${r.text}`);
      }
      assertNum(r.json.dti_ratio, Math.round((fields.debt / fields.income) * 1e4) / 1e4, 'dti_ratio');
      assert.equal(typeof r.json.max_loan_amount, 'number');
    }
  });

  test('an invalid body is a 400 naming every bad field', async () => {
    const r = await api('POST', '/loan', { body: { name: 5, income: 'lots', debt: -1, credit_score: 1000 } });
    assertFields(r, ['name', 'email', 'income', 'debt', 'credit_score']);
    const r2 = await api('POST', '/loan', { body: { name: 'Jane Smith', email: 'jane@example.com', income: 75000, debt: 25000, credit_score: 720, loan_amount: 'x' } });
    const f2 = assertFields(r2, ['loan_amount']);
    assert.deepEqual(Object.keys(f2), ['loan_amount'], 'only the bad field is named');
    assertError(await api('POST', '/loan', { body: [] }), 400);
  });

  test('stores nothing', async () => {
    const email = uniqueEmail('precheck');
    const r = await api('POST', '/loan', { body: { name: 'Jane Smith', email, income: 75000, debt: 25000, credit_score: 720 } });
    assert.equal(r.status, 200, r.text);
    assert.equal(rowCount(email), 0);
  });
});

// ---- submission: the seed example, shape, storage --------------------------------------------

describe('POST /loan-application/submit: the seed example', () => {
  let app;
  let b;
  let dayBefore;

  before(async () => {
    dayBefore = todayUtc();
    b = body();
    app = await submitOk(b);
  });

  test('201 with every field of the application object', () => {
    for (const k of APPLICATION_KEYS) assert.ok(k in app, `application.${k} missing: ${JSON.stringify(app)}`);
  });

  test('application_id is LOAN-<today UTC>-<8 of A-Z0-9>', () => {
    const m = app.application_id.match(/^LOAN-(\d{8})-[A-Z0-9]{8}$/);
    assert.ok(m, app.application_id);
    assert.ok([dayBefore, todayUtc()].includes(m[1]), `date part ${m[1]} is not today (UTC)`);
  });

  test('all four stages APPROVED, dti 0.2941, nothing to review', () => {
    assertStatuses(app, { kyc: 'APPROVED', compliance: 'APPROVED', eligibility: 'APPROVED', final: 'APPROVED' });
    assertNum(app.dti_ratio, 0.2941, 'dti_ratio');
    assert.deepEqual(app.review_flags, []);
    assertNoSanctionsHit(app, 'John Doe');
    for (const k of ['kyc_verified_at', 'compliance_verified_at', 'eligibility_verified_at', 'final_decision_at', 'created_at', 'updated_at']) {
      assert.equal(typeof app[k], 'string', `${k} should be set`);
      assert.ok(!Number.isNaN(Date.parse(app[k])), `${k} is not a timestamp: ${app[k]}`);
    }
    assert.equal(app.reviewed_by, null);
    assert.equal(app.reviewed_at, null);
    assert.equal(app.review_reason, null);
  });

  test('fields echo the submission, typed', () => {
    assert.equal(app.name, 'John Doe');
    assert.equal(app.email, b.email);
    assert.equal(app.phone, '+1234567890');
    assert.equal(app.city, null);
    assert.equal(app.region, 'AMERICAS');
    assert.equal(app.country, 'United States');
    assert.equal(app.country_code, 'US');
    assertNum(app.income, 85000, 'income');
    assertNum(app.debt, 25000, 'debt');
    assertNum(app.loan_amount, 250000, 'loan_amount');
    assert.equal(app.credit_score, 720);
    assert.equal(app.loan_purpose, 'Home Purchase');
    assert.equal(app.documents_uploaded, true);
    assert.deepEqual(app.documents, ['ID_Proof', 'Income_Statement', 'Address_Proof']);
    assert.equal(app.political_connection, false);
    assert.equal(app.senior_relative, false);
    assert.equal(typeof app.alert_sent, 'boolean');
    assert.equal(typeof app.email_sent, 'boolean');
  });

  test('stored: one row, NUMERIC amounts, a submit log, an email and no alert', () => {
    assert.equal(rowCount(b.email), 1);
    const types = sql("SELECT pg_typeof(income), pg_typeof(debt), pg_typeof(loan_amount) FROM loan_applications WHERE application_id = :'p1'", app.application_id);
    assert.deepEqual(types, [['numeric', 'numeric', 'numeric']]);
    const stored = sql("SELECT income, debt, loan_amount, final_status FROM loan_applications WHERE application_id = :'p1'", app.application_id);
    assert.deepEqual(stored[0].slice(0, 3).map(Number), [85000, 25000, 250000]);
    assert.equal(stored[0][3], 'APPROVED');
    const logs = sql("SELECT action, status_after FROM approval_logs WHERE application_id = :'p1'", app.application_id);
    assert.deepEqual(logs, [['submit', 'APPROVED']]);
    const emails = sql("SELECT recipient FROM notifications WHERE application_id = :'p1' AND kind = 'email'", app.application_id);
    assert.deepEqual(emails, [[b.email]], 'one email to the applicant');
    const alerts = sql("SELECT count(*) FROM notifications WHERE application_id = :'p1' AND kind = 'alert'", app.application_id);
    assert.equal(alerts[0][0], '0', 'no alert for a clean approval');
  });
});

describe('submission: access', () => {
  test('without a token: 401', async () => {
    assertError(await api('POST', '/loan-application/submit', { body: body() }), 401);
  });

  test('an officer may submit too', async () => {
    const r = await api('POST', '/loan-application/submit', { token: officer.token, body: body() });
    assert.equal(r.status, 201, r.text);
  });
});

// ---- validation ----------------------------------------------------------------------------

describe('submission: validation (400 validation_failed, every bad field at once)', () => {
  const REQUIRED = ['name', 'email', 'phone', 'region', 'country', 'income', 'debt', 'credit_score', 'loan_amount'];

  test('an empty object names every required field', async () => {
    assertFields(await submit({}), REQUIRED, '{}');
  });

  test('each missing required field is named, and only it', async () => {
    for (const k of REQUIRED) {
      const b = body({ [k]: undefined });
      const f = assertFields(await submit(b), [k], `without ${k}`);
      assert.deepEqual(Object.keys(f), [k], `without ${k}: only ${k} is named`);
      assert.equal(rowCount(b.email ?? ''), 0, 'nothing stored');
    }
  });

  test('wrong types', async () => {
    const bad = {
      name: 123, email: 5, phone: 1234567890, region: 7, country: true, income: '85000',
      debt: 'x', credit_score: '720', loan_amount: [], documents_uploaded: 'yes',
      documents: 'ID_Proof', political_connection: 'no', senior_relative: 1, city: 5,
      loan_purpose: 7,
    };
    assertFields(await submit(bad), Object.keys(bad), 'wrong types');
    const f = assertFields(await submit(body({ income: '85000', name: 5 })), ['income', 'name']);
    assert.deepEqual(Object.keys(f).sort(), ['income', 'name'], 'valid fields are not named');
    assertFields(await submit(body({ documents: ['ID_Proof', 7] })), ['documents'], 'documents of non-strings');
    assertFields(await submit(body({ documents_uploaded: 1 })), ['documents_uploaded'], 'documents_uploaded 1');
    assertFields(await submit(body({ income: null })), ['income'], 'income null');
  });

  test('negative numbers', async () => {
    assertFields(await submit(body({ income: -1, debt: -0.01, loan_amount: -5 })), ['income', 'debt', 'loan_amount']);
  });

  test('more than two decimals', async () => {
    const f = assertFields(await submit(body({ income: 85000.123, debt: 0.001, loan_amount: 1000.005 })),
      ['income', 'debt', 'loan_amount']);
    assert.ok(!('credit_score' in f));
  });

  test('credit_score outside 300-900 or not an integer; 300 and 900 are accepted', async () => {
    for (const v of [299, 901, 720.5, -720, 0]) {
      assertFields(await submit(body({ credit_score: v })), ['credit_score'], `credit_score ${v}`);
    }
    for (const v of [300, 900]) {
      const app = await submitOk(body({ credit_score: v }));
      assert.equal(app.credit_score, v);
    }
  });

  test('unknown region and unknown country', async () => {
    assertFields(await submit(body({ region: 'MARS', country: 'Atlantis' })), ['region', 'country']);
    assertFields(await submit(body({ region: '' })), ['region'], 'empty region');
    assertFields(await submit(body({ country: 'XX' })), ['country'], 'unassigned alpha-2');
    assertFields(await submit(body({ country: 'ZZZ' })), ['country'], 'unassigned alpha-3');
  });

  test('strings over their length limits', async () => {
    const f = assertFields(await submit(body({
      name: 'N'.repeat(201),
      email: `${'e'.repeat(245)}@example.com`, // 257 characters
      loan_purpose: 'p'.repeat(501),
    })), ['name', 'email', 'loan_purpose']);
    assert.ok(!('phone' in f));
    assertFields(await submit(body({ phone: '1'.repeat(1000) })), ['phone'], 'phone of 1000 characters');
    assertFields(await submit(body({ city: 'c'.repeat(1000) })), ['city'], 'city of 1000 characters');
  });

  test('amounts at the largest accepted value are stored or refused with a 400, never a 500', async () => {
    // The amount columns are NUMERIC(14,2): at most 999,999,999,999.99.
    for (const field of ['income', 'debt', 'loan_amount']) {
      // (a large debt goes with a large income: extreme ratios have a test of their own)
      const okApp = await submitOk(body({ income: 999999999999.99, [field]: 999999999999.99 }));
      assertNum(okApp[field], 999999999999.99, field);
      const r = await submit(body({ income: 999999999999.99, [field]: 1000000000000 }));
      assert.ok(r.status === 201 || r.status === 400,
        `${field} 1,000,000,000,000: expected 201 or a 400 naming ${field}, got ${r.status}: ${r.text}`);
      if (r.status === 400) assertFields(r, [field], `${field} 1e12`);
      assertFields(await submit(body({ [field]: 1e15 })), [field], `${field} 1e15`);
    }
  });

  test('two decimals that are not exact binary fractions are accepted and kept exactly', async () => {
    const app = await submitOk(body({ income: 85000.29, debt: 25000.57, loan_amount: 1234.56 }));
    assertNum(app.income, 85000.29, 'income');
    assertNum(app.debt, 25000.57, 'debt');
    assertNum(app.loan_amount, 1234.56, 'loan_amount');
    const stored = sql("SELECT income::text, debt::text, loan_amount::text FROM loan_applications WHERE application_id = :'p1'", app.application_id);
    assert.deepEqual(stored, [['85000.29', '25000.57', '1234.56']]);
  });

  test('an email of exactly 254 characters is accepted, 255 is not', async () => {
    const local = `u${Date.now()}${crypto.randomBytes(4).toString('hex')}`.padEnd(64, 'a');
    const email254 = `${local}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(57)}.com`;
    assert.equal(email254.length, 254);
    const app = await submitOk(body({ email: email254 }));
    assert.equal(app.email, email254);
    assertStatuses(app, { kyc: 'APPROVED' }, 'email of 254 characters');
    assertFields(await submit(body({ email: `${local}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(58)}.com` })), ['email']);
  });

  test('a body that is not an object', async () => {
    for (const raw of ['[]', '"text"', '42', 'null', '[{"name":"John Doe"}]']) {
      const r = await submit(raw, { headers: { 'Content-Type': 'application/json' } });
      assertError(r, 400, 'validation_failed');
    }
  });

  test('nothing is stored for a rejected body', async () => {
    const b = body({ income: 'lots' });
    assertFields(await submit(b), ['income']);
    assert.equal(rowCount(b.email), 0);
  });
});

describe('submission: region and country forms', () => {
  test('region in any case is stored upper case', async () => {
    const app = await submitOk(body({ region: 'americas' }));
    assert.equal(app.region, 'AMERICAS');
    const app2 = await submitOk(body({ region: 'Emea', country: 'Germany' }));
    assert.equal(app2.region, 'EMEA');
  });

  test('ISO name, alpha-2, alpha-3 and common aliases, any case', async () => {
    const cases = [
      ['United States', 'US'], ['united states', 'US'], ['US', 'US'], ['us', 'US'], ['USA', 'US'],
      ['usa', 'US'], ['UK', 'GB'], ['United Kingdom', 'GB'], ['gbr', 'GB'], ['South Korea', 'KR'],
      ['KOR', 'KR'], ['Germany', 'DE'], ['deu', 'DE'],
    ];
    const apps = await Promise.all(cases.map(([country]) => submitOk(body({ country, region: 'EU' }))));
    apps.forEach((app, i) => {
      assert.equal(app.country_code, cases[i][1], `country ${cases[i][0]}`);
      assert.equal(typeof app.country, 'string');
    });
    assert.equal(apps[0].country, 'United States');
    assert.equal(apps[4].country, 'United States', 'the display name, not what was typed');
    assert.equal(apps[6].country, 'United Kingdom');
    assert.equal(apps[11].country, 'Germany');
  });
});

// ---- KYC -----------------------------------------------------------------------------------

describe('KYC', () => {
  test('an invalid email format: kyc REJECTED saying why, final REJECTED', async () => {
    const app = await submitOk(body({ email: uniqueEmail('kyc').replace('@', '#') }));
    assertStatuses(app, { kyc: 'REJECTED', final: 'REJECTED' });
    assert.match(app.kyc_remarks, /e-?mail/i);
  });

  test('a phone with fewer than 10 digits: kyc REJECTED', async () => {
    const app = await submitOk(body({ phone: '+1 234-5678' }));
    assertStatuses(app, { kyc: 'REJECTED', final: 'REJECTED' });
    assert.match(app.kyc_remarks, /phone/i);
    const ok = await submitOk(body({ phone: '+1 (234) 567-890' }));
    assertStatuses(ok, { kyc: 'APPROVED' }, '10 digits');
  });

  test('a name shorter than 3 characters: kyc REJECTED; "Zoë" (3 characters, 4 bytes) passes', async () => {
    const app = await submitOk(body({ name: 'Al' }));
    assertStatuses(app, { kyc: 'REJECTED', final: 'REJECTED' });
    assert.match(app.kyc_remarks, /name/i);
    const zoe = await submitOk(body({ name: 'Zoë' }));
    assertStatuses(zoe, { kyc: 'APPROVED', final: 'APPROVED' }, 'Zoë');
    assert.equal(zoe.name, 'Zoë');
  });

  test('documents not uploaded: kyc PENDING (not rejected), final PENDING, documents_outstanding', async () => {
    const app = await submitOk(body({ documents_uploaded: false }));
    assertStatuses(app, { kyc: 'PENDING', final: 'PENDING', eligibility: 'APPROVED' });
    assert.match(app.kyc_remarks, /document/i);
    assertFlag(app, 'documents_outstanding');
  });

  test('a required document missing: kyc PENDING with documents outstanding', async () => {
    for (const missing of ['ID_Proof', 'Income_Statement', 'Address_Proof']) {
      const docs = SEED.documents.filter((d) => d !== missing);
      const app = await submitOk(body({ documents: [...docs, 'Bank_Statement'] }));
      assertStatuses(app, { kyc: 'PENDING', final: 'PENDING' }, `without ${missing}`);
      assert.match(app.kyc_remarks, /document/i);
      assertFlag(app, 'documents_outstanding');
    }
  });

  test('documents_uploaded and documents are optional (default: not uploaded)', async () => {
    const app = await submitOk(body({ documents_uploaded: undefined, documents: undefined }));
    assert.equal(app.documents_uploaded, false);
    assert.deepEqual(app.documents, []);
    assertStatuses(app, { kyc: 'PENDING', final: 'PENDING' });
    assertFlag(app, 'documents_outstanding');
  });
});

// ---- eligibility ---------------------------------------------------------------------------

describe('eligibility boundaries', () => {
  const CASES = [
    ['DTI 0.3999', { income: 100000, debt: 39990, loan_amount: 100000 }, 'APPROVED'],
    ['DTI 0.4000', { income: 100000, debt: 40000, loan_amount: 100000 }, 'REJECTED', [/dti|debt/i]],
    ['credit score 650', { credit_score: 650 }, 'APPROVED'],
    ['credit score 649', { credit_score: 649 }, 'REJECTED', [/credit/i]],
    ['income 30000', { income: 30000, debt: 0, loan_amount: 50000 }, 'APPROVED'],
    ['income 29999.99', { income: 29999.99, debt: 0, loan_amount: 50000 }, 'REJECTED', [/income/i]],
    ['loan 3 x income', { income: 100000, debt: 0, loan_amount: 300000 }, 'APPROVED'],
    ['loan 3 x income + 0.01', { income: 100000, debt: 0, loan_amount: 300000.01 }, 'REJECTED', [/loan|amount/i]],
    // The rule compares the exact ratio; dti_ratio shows it rounded (0.39999999 -> 0.4).
    ['DTI 0.39999999 (shown as 0.4)', { income: 100000, debt: 39999.99, loan_amount: 100000 }, 'APPROVED'],
    ['loan exactly 3 x income in cents', { income: 33333.33, debt: 0, loan_amount: 99999.99 }, 'APPROVED'],
    ['loan one cent over 3 x income', { income: 33333.33, debt: 0, loan_amount: 100000 }, 'REJECTED', [/loan|amount/i]],
    ['DTI and credit score', { income: 100000, debt: 50000, credit_score: 600, loan_amount: 100000 }, 'REJECTED', [/dti|debt/i, /credit/i]],
  ];
  for (const [what, fields, expected, remarks = []] of CASES) {
    test(`${what}: eligibility ${expected}`, async () => {
      const app = await submitOk(body(fields));
      assertStatuses(app, { kyc: 'APPROVED', compliance: 'APPROVED', eligibility: expected, final: expected }, what);
      for (const re of remarks) assert.match(app.eligibility_remarks, re, `${what}: eligibility_remarks`);
      assertNum(app.dti_ratio, Math.round(((fields.debt ?? SEED.debt) / (fields.income ?? SEED.income)) * 1e4) / 1e4, 'dti_ratio');
    });
  }

  test('loan 1,000,000 (income 400000, debt 0): eligibility APPROVED (high value waits)', async () => {
    const app = await submitOk(body({ income: 400000, debt: 0, loan_amount: 1000000 }));
    assertStatuses(app, { eligibility: 'APPROVED', compliance: 'PENDING', final: 'PENDING' });
    assertFlag(app, 'high_value');
  });

  test('loan 1,000,000.01 (income 400000, debt 0): eligibility REJECTED, final REJECTED', async () => {
    const app = await submitOk(body({ income: 400000, debt: 0, loan_amount: 1000000.01 }));
    assertStatuses(app, { eligibility: 'REJECTED', final: 'REJECTED' });
    assert.match(app.eligibility_remarks, /loan|amount|1,?000,?000|max/i);
    assertNum(app.loan_amount, 1000000.01, 'loan_amount');
  });

  test('an extreme debt-to-income ratio is stored and rejected, not a 500', async () => {
    for (const [income, debt, ratio] of [[1, 999999.99, 999999.99], [1, 1000000, 1000000], [0.01, 999999999999.99, 99999999999999]]) {
      const app = await submitOk(body({ income, debt, loan_amount: 1000 }));
      assertStatuses(app, { eligibility: 'REJECTED', final: 'REJECTED' }, `income ${income}, debt ${debt}`);
      assert.match(app.eligibility_remarks, /dti|debt/i);
      assert.equal(typeof app.dti_ratio, 'number');
      assert.ok(Math.abs(app.dti_ratio - ratio) <= ratio * 1e-12, `dti_ratio ${app.dti_ratio}, expected ${ratio}`);
    }
  });

  test('income 0: dti_ratio null, eligibility REJECTED', async () => {
    const app = await submitOk(body({ income: 0, debt: 0, loan_amount: 1000 }));
    assert.equal(app.dti_ratio, null);
    assertStatuses(app, { eligibility: 'REJECTED', final: 'REJECTED' });
    assert.match(app.eligibility_remarks, /income/i);
  });

  test('an eligibility rejection sends the applicant an email and compliance no alert', async () => {
    const b = body({ credit_score: 500 });
    const app = await submitOk(b);
    assertStatuses(app, { final: 'REJECTED' });
    const n = sql("SELECT kind, recipient FROM notifications WHERE application_id = :'p1' ORDER BY kind", app.application_id);
    assert.deepEqual(n, [['email', b.email]]);
  });
});

// ---- compliance ----------------------------------------------------------------------------

describe('compliance', () => {
  test('loan exactly 500,000: no high-value flag', async () => {
    const app = await submitOk(body({ income: 200000, debt: 0, loan_amount: 500000 }));
    assertStatuses(app, { compliance: 'APPROVED', final: 'APPROVED' });
    assertFlag(app, 'high_value', false);
  });

  test('loan 500,000.01: compliance PENDING, high_value, final PENDING, an alert', async () => {
    const b = body({ income: 200000, debt: 0, loan_amount: 500000.01 });
    const app = await submitOk(b);
    assertStatuses(app, { compliance: 'PENDING', eligibility: 'APPROVED', final: 'PENDING' });
    assertFlag(app, 'high_value');
    assert.match(app.compliance_remarks, /high.?value|500,?000/i);
    const n = sql("SELECT kind FROM notifications WHERE application_id = :'p1' ORDER BY kind", app.application_id);
    assert.deepEqual(n, [['alert']], 'an alert to compliance, no email while pending');
  });

  test('declared political connection: PENDING, pep', async () => {
    const app = await submitOk(body({ political_connection: true }));
    assert.equal(app.political_connection, true);
    assertStatuses(app, { compliance: 'PENDING', final: 'PENDING' });
    assertFlag(app, 'pep');
  });

  test('declared senior relative: PENDING, senior_relative', async () => {
    const app = await submitOk(body({ senior_relative: true }));
    assert.equal(app.senior_relative, true);
    assertStatuses(app, { compliance: 'PENDING', final: 'PENDING' });
    assertFlag(app, 'senior_relative');
  });

  test('a name on the PEP list, not declared: PENDING, pep', async () => {
    for (const name of ['Aurelio Vantressa', 'Tobias Renkwell']) {
      const app = await submitOk(body({ name }));
      assertStatuses(app, { compliance: 'PENDING', final: 'PENDING' }, name);
      assertFlag(app, 'pep');
    }
  });

  test('a senior employee surname with the same phone digits or city: senior_relative', async () => {
    const byPhone = await submitOk(body({ name: 'Paul Whitcombe', phone: '+1 (415) 555-0101', city: 'Boston' }));
    assertStatuses(byPhone, { compliance: 'PENDING', final: 'PENDING' }, 'same phone');
    assertFlag(byPhone, 'senior_relative');
    const byCity = await submitOk(body({ name: 'Paul Whitcombe', phone: '+1 617 555 0199', city: 'San Francisco' }));
    assertStatuses(byCity, { compliance: 'PENDING', final: 'PENDING' }, 'same city');
    assertFlag(byCity, 'senior_relative');
    assert.equal(byCity.city, 'San Francisco');
  });

  test('the surname alone (other phone, other city) is not a match', async () => {
    const app = await submitOk(body({ name: 'Paul Whitcombe', phone: '+1 617 555 0199', city: 'Boston' }));
    assertFlag(app, 'senior_relative', false);
    assertStatuses(app, { compliance: 'APPROVED', final: 'APPROVED' });
  });

  test('FATF call for action (IR, KP, MM): compliance REJECTED, final REJECTED, an alert', async () => {
    for (const country of ['Iran', 'KP', 'mmr']) {
      const b = body({ country, region: 'ASIA' });
      const app = await submitOk(b);
      assertStatuses(app, { compliance: 'REJECTED', final: 'REJECTED' }, country);
      const kinds = sql("SELECT kind FROM notifications WHERE application_id = :'p1' ORDER BY kind", app.application_id).map((r) => r[0]);
      assert.deepEqual(kinds, ['alert', 'email'], `${country}: an alert to compliance and the decision email`);
    }
  });

  test('FATF increased monitoring (KE, VN): PENDING, country_monitoring', async () => {
    for (const country of ['Kenya', 'VN']) {
      const app = await submitOk(body({ country, region: 'MEA' }));
      assertStatuses(app, { compliance: 'PENDING', final: 'PENDING' }, country);
      assertFlag(app, 'country_monitoring');
    }
  });

  test('a pending application gets no email and an alert', async () => {
    const app = await submitOk(body({ political_connection: true }));
    const kinds = sql("SELECT kind FROM notifications WHERE application_id = :'p1'", app.application_id).map((r) => r[0]);
    assert.deepEqual(kinds, ['alert']);
  });
});

// ---- sanctions screening (real OFAC SDN list) ------------------------------------------------

describe('sanctions screening against the OFAC SDN list', () => {
  // Real individuals of ofac_sdn_2024-05-03.csv, submitted in other forms.
  const HITS = [
    ['reordered', 'Anatoly Nikolaevich Greshnevikov', 37310, /GRESHNEVIKOV/],
    ['accents', 'José María Sisón', 7235, /SISON/],
    ['lower case', 'svetlana vladimirovna medvedeva', 38643, /MEDVEDEVA/],
    ['one typo', 'Maksim Borisovich Krasovskij', 34848, /KRASOVSKIY/],
    ['one typo', 'Tamara Aleksandrovna Topchy', 35040, /TOPCHI/],
    ['listed as ZHANG, Wei', 'Wei Zhang', 45391, /ZHANG/],
  ];

  test('the OFAC SDN list is loaded and active', () => {
    assert.match(sanctionsVersion ?? '', /^[0-9a-f]{16}$/,
      'load it: ./loanctl sanctions load data/sanctions/ofac_sdn_2024-05-03.csv.gz');
  });

  function assertScreening(app, entryId, matched) {
    const s = app.screening;
    assert.ok(s && typeof s === 'object', `screening evidence expected: ${JSON.stringify(app)}`);
    assert.equal(s.list, 'OFAC SDN');
    assert.match(s.list_version, /^[0-9a-f]{16}$/);
    if (sanctionsVersion) assert.equal(s.list_version, sanctionsVersion);
    assert.equal(Number(s.entry_id), entryId, `entry_id: ${JSON.stringify(s)}`);
    assert.match(s.matched_name, matched);
    assert.equal(typeof s.score, 'number');
  }

  for (const [how, name, entryId, matched] of HITS) {
    test(`${how}: "${name}" is blocked (ent_num ${entryId})`, async () => {
      const app = await submitOk(body({ name }));
      assertScreening(app, entryId, matched);
      assert.ok(app.screening.score >= 0.85, `score ${app.screening.score}`);
      if (app.screening.score >= 0.92) {
        assertStatuses(app, { compliance: 'REJECTED', final: 'REJECTED' }, name);
      } else {
        assertStatuses(app, { compliance: 'PENDING', final: 'PENDING' }, name);
        assertFlag(app, 'sanctions_review');
      }
    });
  }

  test('a strong hit is a REJECTED compliance stage naming the list, with an alert', async () => {
    const app = await submitOk(body({ name: 'Anatoly Nikolaevich Greshnevikov' }));
    assert.ok(app.screening.score >= 0.92, `score ${app.screening.score}`);
    assertStatuses(app, { compliance: 'REJECTED', final: 'REJECTED' });
    assert.match(app.compliance_remarks, /sanction|OFAC|SDN/i);
    const alerts = sql("SELECT count(*) FROM notifications WHERE application_id = :'p1' AND kind = 'alert'", app.application_id);
    assert.equal(alerts[0][0], '1');
    const stored = sql("SELECT screening_list, screening_entry_id, screening_score FROM loan_applications WHERE application_id = :'p1'", app.application_id);
    assert.equal(stored[0][0], 'OFAC SDN');
    assert.equal(stored[0][1], '37310');
  });

  test('a partial match (0.85-0.92): PENDING with sanctions_review', async () => {
    // "Ismael Zambada" against "ZAMBADA GARCIA, Ismael" (ent_num 7226): one listed surname missing.
    const app = await submitOk(body({ name: 'Ismael Zambada' }));
    assertScreening(app, 7226, /ZAMBADA/);
    assert.ok(app.screening.score >= 0.85 && app.screening.score < 0.92, `score ${app.screening.score}`);
    assert.equal(app.screening.level, 'review');
    assert.equal(app.screening.evidence.kind, 'partial');
    assert.deepEqual(app.screening.evidence.missing, ['garcia']);
    assertStatuses(app, { compliance: 'PENDING', final: 'PENDING' });
    assertFlag(app, 'sanctions_review');
  });

  test('very common names inside a longer listed name are not flagged on the name alone (docs/screening.md)', async () => {
    // "Sergio Ferrari" against "FERRARI, Sergio David" (ent_num 26402): a common given name and a
    // common surname; nothing else agrees, so it does not go to the review queue.
    const app = await submitOk(body({ name: 'Sergio Ferrari' }));
    assertFlag(app, 'sanctions_review', false);
    assertStatuses(app, { compliance: 'APPROVED', final: 'APPROVED' });
  });

  test('ordinary names are not flagged', async () => {
    const names = ['John Smith', 'Maria Garcia', 'Priya Sharma', 'James Johnson', 'Emily Chen', 'Liam O\'Brien', 'Chloe Martin'];
    const apps = await Promise.all(names.map((name) => submitOk(body({ name }))));
    apps.forEach((app, i) => {
      assertFlag(app, 'sanctions_review', false);
      assertNoSanctionsHit(app, names[i]);
      assertStatuses(app, { compliance: 'APPROVED', final: 'APPROVED' }, names[i]);
    });
  });
});

// ---- the decision --------------------------------------------------------------------------

describe('decision', () => {
  test('a rejection outweighs pending stages', async () => {
    // documents outstanding (KYC PENDING), PEP (compliance PENDING), credit score (REJECTED)
    const app = await submitOk(body({ documents_uploaded: false, political_connection: true, credit_score: 500 }));
    assertStatuses(app, { kyc: 'PENDING', compliance: 'PENDING', eligibility: 'REJECTED', final: 'REJECTED' });
    assert.equal(typeof app.final_decision_at, 'string');
  });

  test('pending stages without a rejection: PENDING, in the review queue with every flag', async () => {
    const app = await submitOk(body({ documents_uploaded: false, political_connection: true, income: 200000, debt: 0, loan_amount: 600000 }));
    assertStatuses(app, { kyc: 'PENDING', compliance: 'PENDING', eligibility: 'APPROVED', final: 'PENDING' });
    for (const f of ['documents_outstanding', 'pep', 'high_value']) assertFlag(app, f);
    for (const f of app.review_flags) assert.ok(REVIEW_FLAGS.includes(f), `unexpected flag ${f}`);
    assert.equal(app.final_decision_at, null);
  });

  test('statuses are always one of PENDING / APPROVED / REJECTED', async () => {
    const rows = sql('SELECT DISTINCT kyc_status, compliance_status, eligibility_status, final_status FROM loan_applications');
    for (const row of rows) for (const s of row) assert.ok(STATUSES.includes(s), s);
  });
});

// ---- one pending application per email, idempotency ------------------------------------------

describe('duplicates and Idempotency-Key', () => {
  test('the same email with a PENDING application: 409, any case', async () => {
    const b = body({ documents_uploaded: false });
    const first = await submitOk(b);
    assert.equal(first.final_status, 'PENDING');
    assertError(await submit({ ...b }), 409);
    assertError(await submit({ ...b, email: b.email.toUpperCase() }), 409);
    assert.equal(rowCount(b.email), 1);
  });

  test('concurrent submissions with one email: one 201, the rest 409', async () => {
    const b = body({ documents_uploaded: false });
    const rs = await Promise.all(Array.from({ length: 10 }, () => submit({ ...b })));
    const codes = rs.map((r) => r.status);
    assert.equal(codes.filter((c) => c === 201).length, 1, codes.join(' '));
    assert.equal(codes.filter((c) => c === 409).length, 9, codes.join(' '));
    assert.equal(rowCount(b.email), 1);
  });

  test('the same email after a final decision may apply again', async () => {
    const b = body();
    const first = await submitOk(b);
    assert.equal(first.final_status, 'APPROVED');
    const second = await submitOk({ ...b });
    assert.notEqual(second.application_id, first.application_id);
  });

  test('same key and same body: the same 201, one row', async () => {
    const key = crypto.randomUUID();
    const b = body();
    const r1 = await submit(b, { headers: { 'Idempotency-Key': key } });
    assert.equal(r1.status, 201, r1.text);
    const r2 = await submit(b, { headers: { 'Idempotency-Key': key } });
    assert.equal(r2.status, 201, r2.text);
    assert.equal(r2.json.application.application_id, r1.json.application.application_id);
    assert.deepEqual(r2.json, r1.json);
    assert.equal(rowCount(b.email), 1);
  });

  test('same key and same body on a PENDING application: replayed, not a 409', async () => {
    const key = crypto.randomUUID();
    const b = body({ documents_uploaded: false });
    const r1 = await submit(b, { headers: { 'Idempotency-Key': key } });
    assert.equal(r1.status, 201, r1.text);
    const r2 = await submit(b, { headers: { 'Idempotency-Key': key } });
    assert.equal(r2.status, 201, r2.text);
    assert.equal(r2.json.application.application_id, r1.json.application.application_id);
    assert.equal(rowCount(b.email), 1);
  });

  test('same key, different body: 409', async () => {
    const key = crypto.randomUUID();
    const b = body();
    assert.equal((await submit(b, { headers: { 'Idempotency-Key': key } })).status, 201);
    assertError(await submit({ ...b, loan_amount: 200000 }, { headers: { 'Idempotency-Key': key } }), 409);
    assertError(await submit(body(), { headers: { 'Idempotency-Key': key } }), 409);
    assert.equal(rowCount(b.email), 1);
  });

  test('concurrent submissions with one key: one row, one application_id', async () => {
    const key = crypto.randomUUID();
    const b = body();
    const rs = await Promise.all(Array.from({ length: 8 }, () => submit(b, { headers: { 'Idempotency-Key': key } })));
    const ok = rs.filter((r) => r.status === 201);
    assert.ok(ok.length >= 1, rs.map((r) => `${r.status} ${r.text}`).join('\n'));
    for (const r of rs) assert.ok([201, 409].includes(r.status), `${r.status}: ${r.text}`);
    assert.equal(new Set(ok.map((r) => r.json.application.application_id)).size, 1);
    assert.equal(rowCount(b.email), 1);
  });

  test('keys are per caller: another applicant with the same key gets a new application', async () => {
    const key = crypto.randomUUID();
    const r1 = await submit(body(), { headers: { 'Idempotency-Key': key } });
    assert.equal(r1.status, 201, r1.text);
    const b2 = body({ email: B.email });
    const r2 = await submit(b2, { token: B.token, headers: { 'Idempotency-Key': key } });
    assert.equal(r2.status, 201, r2.text);
    assert.notEqual(r2.json.application.application_id, r1.json.application.application_id);
  });
});

// ---- GET status, /me/applications ------------------------------------------------------------

describe('GET /loan-application/status/{id}', () => {
  let app;
  before(async () => { app = await submitOk(body({ email: A.email }), { token: A.token }); });

  test('the owner sees it', async () => {
    const r = await api('GET', `/loan-application/status/${app.application_id}`, { token: A.token });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.application.application_id, app.application_id);
    for (const k of APPLICATION_KEYS) assert.ok(k in r.json.application, `application.${k} missing`);
    assert.equal(r.json.application.final_status, app.final_status);
    assertNum(r.json.application.income, 85000, 'income');
  });

  test('another applicant: 404', async () => {
    assertError(await api('GET', `/loan-application/status/${app.application_id}`, { token: B.token }), 404);
  });

  test('officers and admins see any application', async () => {
    for (const token of [officer.token, admin]) {
      const r = await api('GET', `/loan-application/status/${app.application_id}`, { token });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.application.application_id, app.application_id);
    }
  });

  test('unknown or malformed id: 404', async () => {
    for (const id of ['LOAN-20200101-ZZZZZZZZ', 'nope', app.application_id.toLowerCase()]) {
      assertError(await api('GET', `/loan-application/status/${encodeURIComponent(id)}`, { token: officer.token }), 404);
    }
  });

  test('without a token: 401', async () => {
    assertError(await api('GET', `/loan-application/status/${app.application_id}`), 401);
  });
});

describe('GET /me/applications', () => {
  test("only the caller's own, newest first", async () => {
    const c = await newApplicant('loans-me');
    const mine = [];
    for (let i = 0; i < 3; i++) {
      mine.push(await submitOk(body({ loan_amount: 100000 + i, email: c.email }), { token: c.token }));
    }
    const r = await api('GET', '/me/applications', { token: c.token });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.count, 3);
    assert.deepEqual(r.json.applications.map((a) => a.application_id), mine.map((a) => a.application_id).reverse());
    for (const a of r.json.applications) for (const k of APPLICATION_KEYS) assert.ok(k in a, `${k} missing`);

    const other = await api('GET', '/me/applications', { token: B.token });
    assert.equal(other.status, 200, other.text);
    const ids = new Set(other.json.applications.map((a) => a.application_id));
    for (const a of mine) assert.ok(!ids.has(a.application_id), 'another applicant never sees them');
    assert.equal(other.json.count, other.json.applications.length);
  });

  test('a new applicant has none; without a token 401', async () => {
    const d = await newApplicant('loans-empty');
    const r = await api('GET', '/me/applications', { token: d.token });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { applications: [], count: 0 });
    assertError(await api('GET', '/me/applications'), 401);
  });
});

// ---- GET list, pending -----------------------------------------------------------------------

describe('GET /loan-application/list', () => {
  let made;
  before(async () => {
    // Something of every status in two regions and three countries.
    made = {
      approved: await submitOk(body({ region: 'NA' })),
      rejected: await submitOk(body({ credit_score: 400, region: 'SA', country: 'Brazil' })),
      pending: await submitOk(body({ documents_uploaded: false, region: 'ASIA', country: 'Japan' })),
    };
  });

  const list = (q = '', token = officer.token) => api('GET', `/loan-application/list${q}`, { token });

  test('default: newest first, limit 100, offset 0', async () => {
    const r = await list();
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.limit, 100);
    assert.equal(r.json.offset, 0);
    assert.ok(Array.isArray(r.json.applications));
    assert.equal(r.json.count, r.json.applications.length);
    assert.ok(r.json.applications.length <= 100);
    const times = r.json.applications.map((a) => Date.parse(a.created_at));
    for (let i = 1; i < times.length; i++) assert.ok(times[i - 1] >= times[i], 'newest first');
    assert.equal(r.json.applications[0].application_id, made.pending.application_id, 'the newest one first');
  });

  test('the seed example: ?status=REJECTED&limit=10', async () => {
    const r = await list('?status=REJECTED&limit=10');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.limit, 10);
    assert.ok(r.json.applications.length >= 1 && r.json.applications.length <= 10);
    for (const a of r.json.applications) assert.equal(a.final_status, 'REJECTED');
    assert.equal(r.json.applications[0].application_id, made.rejected.application_id);
  });

  test('status, region and country filters', async () => {
    for (const [q, check] of [
      ['?status=PENDING', (a) => a.final_status === 'PENDING'],
      ['?status=pending', (a) => a.final_status === 'PENDING'],
      ['?status=APPROVED', (a) => a.final_status === 'APPROVED'],
      ['?region=SA', (a) => a.region === 'SA'],
      ['?region=asia', (a) => a.region === 'ASIA'],
      ['?country=BR', (a) => a.country_code === 'BR'],
      ['?country=Japan', (a) => a.country_code === 'JP'],
      ['?country=jpn', (a) => a.country_code === 'JP'],
      ['?country=United%20States', (a) => a.country_code === 'US'],
      ['?country=usa', (a) => a.country_code === 'US'],
      ['?status=REJECTED&country=Brazil&region=SA', (a) => a.final_status === 'REJECTED' && a.country_code === 'BR'],
    ]) {
      const r = await list(q);
      assert.equal(r.status, 200, `${q}: ${r.text}`);
      assert.ok(r.json.applications.length >= 1, `${q}: something matches`);
      for (const a of r.json.applications) assert.ok(check(a), `${q}: ${a.application_id} ${a.final_status} ${a.region} ${a.country_code}`);
    }
    const br = await list('?country=Brazil');
    assert.ok(br.json.applications.some((a) => a.application_id === made.rejected.application_id));
    const jp = await list('?country=JP&status=PENDING');
    assert.ok(jp.json.applications.some((a) => a.application_id === made.pending.application_id));
  });

  test('limit and offset page through the same order', async () => {
    const all = await list('?limit=5');
    assert.equal(all.status, 200, all.text);
    const ids = all.json.applications.map((a) => a.application_id);
    assert.equal(ids.length, 5);
    const page = await list('?limit=2&offset=2');
    assert.equal(page.status, 200, page.text);
    assert.equal(page.json.offset, 2);
    assert.equal(page.json.limit, 2);
    assert.deepEqual(page.json.applications.map((a) => a.application_id), ids.slice(2, 4));
    const max = await list('?limit=1000');
    assert.equal(max.status, 200, max.text);
    assert.equal(max.json.limit, 1000);
    const far = await list('?offset=100000000');
    assert.equal(far.status, 200, far.text);
    assert.deepEqual(far.json.applications, []);
    assert.equal(far.json.count, 0);
  });

  test('invalid parameters: 400 naming the parameter', async () => {
    for (const [q, p] of [
      ['?status=MAYBE', 'status'], ['?region=MARS', 'region'], ['?country=Atlantis', 'country'],
      ['?limit=0', 'limit'], ['?limit=-1', 'limit'], ['?limit=1001', 'limit'], ['?limit=abc', 'limit'],
      ['?limit=10abc', 'limit'], ['?offset=-1', 'offset'], ['?offset=x', 'offset'],
    ]) {
      assertParamError(await list(q), p);
    }
  });

  test('officer only: an applicant gets 403, nobody 401; admin ok', async () => {
    assertError(await list('', A.token), 403);
    assertError(await api('GET', '/loan-application/list'), 401);
    assert.equal((await list('', admin)).status, 200);
  });
});

describe('GET /loan-application/pending', () => {
  test('every PENDING application and nothing else', async () => {
    const p = await submitOk(body({ political_connection: true }));
    const decided = await submitOk(body());
    const r = await api('GET', '/loan-application/pending', { token: officer.token });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.count, r.json.applications.length);
    for (const a of r.json.applications) assert.equal(a.final_status, 'PENDING');
    const ids = r.json.applications.map((a) => a.application_id);
    assert.ok(ids.includes(p.application_id));
    assert.ok(!ids.includes(decided.application_id));
    const inDb = Number(sql("SELECT count(*) FROM loan_applications WHERE final_status = 'PENDING'")[0][0]);
    assert.equal(r.json.count, inDb, 'every pending application');
  });

  test('officer only', async () => {
    assertError(await api('GET', '/loan-application/pending', { token: A.token }), 403);
    assertError(await api('GET', '/loan-application/pending'), 401);
  });
});
