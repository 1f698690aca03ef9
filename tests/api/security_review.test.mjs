// Issue 11, what an adversarial review found in the application's life, each item through nginx
// as a user meets it: maker-checker (no officer decides what they filed; sanctions review, PEP
// and high-value applications take two officers), a stranger's PAN (the bureau is asked only
// after the identity checks passed, an applicant never sees a bureau report, a name score or a
// birth-date match, and repeated mismatches hold an account's submissions), tipping-off (an
// applicant sees only a neutral state, officers the evidence, and neither view is served from
// the other's cache), and the application's email (an applicant's is the account's). Every
// application uses its own identities and accounts, so the file runs on any stack.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import {
  api, assertError, sql, newApplicant, newUser, adminToken, uniqueEmail, sleep, verhoeffDigit,
} from './lib.mjs';

const SEED = {
  name: 'John Doe', phone: '+1234567890', region: 'AMERICAS', country: 'United States',
  income: 85000, debt: 25000, credit_score: 720, loan_amount: 250000, loan_purpose: 'Home Purchase',
  documents_uploaded: true, documents: ['ID_Proof', 'Income_Statement', 'Address_Proof'],
};
const body = (overrides = {}) => ({ ...SEED, email: uniqueEmail('secrev'), ...overrides });

let admin;
let clerk; // files applications for customers
let officer;
let officer2;

before(async () => {
  admin = await adminToken();
  clerk = await newUser('officer', admin);
  officer = await newUser('officer', admin);
  officer2 = await newUser('officer', admin);
});

async function submitAs(token, b) {
  const r = await api('POST', '/loan-application/submit', { token, body: b });
  assert.equal(r.status, 201, r.text);
  return r.json.application;
}
const approve = (id, token) => api('POST', `/loan-application/${id}/approve`, { token });
const reject = (id, token) => api('POST', `/loan-application/${id}/reject`, { token, body: { reason: 'no' } });
const reprocess = (id, token) => api('POST', `/loan-application/reprocess/${id}`, { token });
async function view(id, token) {
  const r = await api('GET', `/loan-application/status/${id}`, { token });
  assert.equal(r.status, 200, r.text);
  return r.json.application;
}
const logActions = (id) => sql("SELECT action, actor_id, status_before, status_after FROM approval_logs WHERE application_id = :'p1' ORDER BY id", id);
const finalStatus = (id) => sql("SELECT final_status FROM loan_applications WHERE application_id = :'p1'", id)[0][0];

// ---- the review forms in the browser ----------------------------------------------------------

// The /reviews page of a user, the CSRF token of its forms, and a form post's redirect target.
async function reviewsPage(user, query = '') {
  const r = await api('GET', `/reviews${query}`, { headers: { Cookie: `lf_session=${user.token}` } });
  assert.equal(r.status, 200, r.text.slice(0, 300));
  return r.text;
}
async function formPost(user, id, action) {
  const page = await reviewsPage(user);
  const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1];
  assert.ok(csrf, 'a csrf token on the review page');
  const r = await api('POST', `/reviews/${id}/${action}`, {
    headers: { Cookie: `lf_session=${user.token}`, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: `csrf=${encodeURIComponent(csrf)}`,
  });
  assert.equal(r.status, 303, `${action} form: ${r.status} ${r.text.slice(0, 300)}`);
  return r.headers.get('location');
}

// ---- 2. maker-checker ------------------------------------------------------------------------

describe('2. maker-checker', () => {
  test('maker-checker: the officer who submitted an application cannot approve, reject or reprocess it (403 segregation_of_duties)', async () => {
    const app = await submitAs(clerk.token, body({ documents_uploaded: false }));
    assert.equal(app.final_status, 'PENDING');
    for (const [what, call] of [['approve', approve], ['reject', reject], ['reprocess', reprocess]]) {
      const e = assertError(await call(app.application_id, clerk.token), 403, 'segregation_of_duties');
      assert.match(e.message, /another officer/i, what);
    }
    assert.equal(finalStatus(app.application_id), 'PENDING');
    assert.deepEqual(logActions(app.application_id).map((l) => l[0]), ['submit'], 'nothing but the submission logged');
    // The admin who files for a customer is bound the same way; another officer decides.
    const mine = await submitAs(admin, body({ documents_uploaded: false }));
    assertError(await approve(mine.application_id, admin), 403, 'segregation_of_duties');
    const ok = await approve(app.application_id, officer.token);
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.application.final_status, 'APPROVED');
    assert.equal((await approve(mine.application_id, officer.token)).status, 200);
  });

  for (const [what, overrides, flag] of [
    ['a loan above FOUR_EYES_AMOUNT (500,000)', { income: 300000, debt: 0, loan_amount: 500000.01 }, 'high_value'],
    ['a politically exposed person', { name: 'Tobias Renkwell' }, 'pep'],
    ['a possible sanctions match', { name: 'Ismael Zambada' }, 'sanctions_review'],
  ]) {
    test(`maker-checker: ${what} needs a second, different officer's approval (first_approval, then the decision; the same officer twice 403)`, async () => {
      const app = await submitAs(clerk.token, body(overrides));
      assert.equal(app.final_status, 'PENDING', JSON.stringify(app.review_flags));
      assert.ok(app.review_flags.includes(flag), JSON.stringify(app.review_flags));
      const first = await approve(app.application_id, officer.token);
      assert.equal(first.status, 202, first.text);
      assert.match(first.json.message, /second officer/i);
      assert.equal(first.json.application.final_status, 'PENDING');
      assert.equal(first.json.application.first_approval.by, officer.id);
      assert.equal(first.json.application.first_approval.email, officer.email);
      assert.equal(finalStatus(app.application_id), 'PENDING', 'one approval decides nothing');
      const again = assertError(await approve(app.application_id, officer.token), 403, 'segregation_of_duties');
      assert.match(again.message, /second, different officer/);
      assertError(await approve(app.application_id, clerk.token), 403, 'segregation_of_duties');
      const second = await approve(app.application_id, officer2.token);
      assert.equal(second.status, 200, second.text);
      assert.equal(second.json.application.final_status, 'APPROVED');
      assert.equal(Number(second.json.application.reviewed_by), officer2.id);
      assert.deepEqual(logActions(app.application_id), [
        ['submit', String(clerk.id), '', 'PENDING'],
        ['first_approval', String(officer.id), 'PENDING', 'PENDING'],
        ['approve', String(officer2.id), 'PENDING', 'APPROVED'],
      ]);
      const logs = await api('GET', `/approval-logs?application_id=${app.application_id}`, { token: officer.token });
      assert.deepEqual(logs.json.logs.map((l) => l.action), ['approve', 'first_approval', 'submit']);
    });
  }

  test('maker-checker: a loan of exactly FOUR_EYES_AMOUNT and a senior relative need one approval', async () => {
    for (const overrides of [{ income: 300000, debt: 0, loan_amount: 500000 }, { senior_relative: true }]) {
      const app = await submitAs(clerk.token, body({ ...overrides, documents_uploaded: false }));
      const r = await approve(app.application_id, officer.token);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.application.final_status, 'APPROVED');
    }
  });

  test('maker-checker: the review forms show a notice for the submitter, the same officer twice and a first approval', async () => {
    const own = await submitAs(clerk.token, body({ documents_uploaded: false }));
    const to = await formPost(clerk, own.application_id, 'approve');
    assert.equal(to, '/reviews?error=segregation_of_duties');
    assert.match(await reviewsPage(clerk, '?error=segregation_of_duties'), /role="alert">You submitted that application: another officer must decide it\./);
    assert.equal(await formPost(clerk, own.application_id, 'reject'), '/reviews?error=segregation_of_duties');

    const big = await submitAs(clerk.token, body({ income: 300000, debt: 0, loan_amount: 750000 }));
    assert.equal(await formPost(officer, big.application_id, 'approve'), '/reviews?done=first_approval');
    assert.match(await reviewsPage(officer, '?done=first_approval'), /role="status">First approval recorded; a second officer must approve the application\./);
    assert.equal(await formPost(officer, big.application_id, 'approve'), '/reviews?error=second_officer');
    assert.match(await reviewsPage(officer, '?error=second_officer'), /role="alert">You gave that application its first approval: a second, different officer must approve it\./);
    assert.equal(finalStatus(big.application_id), 'PENDING');
    assert.equal(await formPost(officer2, big.application_id, 'approve'), '/reviews?done=approved');
    assert.equal(finalStatus(big.application_id), 'APPROVED');
    assert.deepEqual(logActions(big.application_id).map((l) => l[0]), ['submit', 'first_approval', 'approve']);
  });

  test('maker-checker: a reprocess starts the two approvals again', async () => {
    const app = await submitAs(clerk.token, body({ name: 'Tobias Renkwell' }));
    assert.equal((await approve(app.application_id, officer.token)).status, 202);
    const r = await reprocess(app.application_id, officer2.token);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.application.first_approval, null);
    assert.equal((await approve(app.application_id, officer2.token)).status, 202, 'a first approval again');
    assert.equal((await approve(app.application_id, officer.token)).status, 200);
  });
});

// ---- 3. a stranger's PAN ---------------------------------------------------------------------

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const letter = () => LETTERS[randomInt(26)];
function person(name, dob = '1986-03-14') {
  let s = String(2 + randomInt(8));
  for (let i = 0; i < 10; i++) s += String(randomInt(10));
  const surname = name.split(' ').pop();
  const pan = `${letter()}${letter()}${letter()}P${surname[0].toUpperCase()}${String(randomInt(10000)).padStart(4, '0')}${letter()}`;
  return { name, dob, aadhaar: s + verhoeffDigit(s), pan };
}
// Registers a person with the sandbox eKYC and bureau (workers reload within a second).
async function register(p, score = 780) {
  sql(`INSERT INTO ekyc_sandbox_identities (kind, number_sha256, name, date_of_birth, outcome, note)
       VALUES ('aadhaar', sandbox_key(:'p1'), :'p3', :'p4'::date, 'verified', 'security review'),
              ('pan', sandbox_key(:'p2'), :'p3', :'p4'::date, 'verified', 'security review');
       INSERT INTO bureau_sandbox_reports (pan_sha256, bureau, score, active_loans, overdue_accounts, enquiries_6m, note)
       VALUES (sandbox_key(:'p2'), 'CIBIL', :'p5'::int, 1, 0, 0, 'security review');`, p.aadhaar, p.pan, p.name, p.dob, score);
  await sleep(1100);
}
const INDIA = {
  phone: '+919812345678', region: 'APAC', country: 'India', income: 1200000, debt: 100000,
  credit_score: 760, loan_amount: 150000, loan_purpose: 'Car', documents_uploaded: true,
  documents: ['ID_Proof', 'Income_Statement', 'Address_Proof'],
};
const indian = (name, p, email) => ({ ...INDIA, name, email, aadhaar: p.aadhaar, pan: p.pan, date_of_birth: p.dob });

// Nothing of the bureau's report, no name score, no birth-date match anywhere in a document.
function assertNoProviderAnswers(app, what) {
  assert.equal(app.credit_bureau, null, `${what}: credit_bureau`);
  for (const [k, c] of Object.entries(app.identity?.ekyc || {})) {
    if (c && typeof c === 'object') {
      assert.equal(c.name_score, null, `${what}: ekyc.${k}.name_score`);
      assert.equal(c.dob_match, null, `${what}: ekyc.${k}.dob_match`);
    }
  }
  const text = JSON.stringify(app);
  assert.doesNotMatch(text, /name score|CIBIL|CRIF|active loans|enquiries|date of birth differs/i, `${what}: ${text}`);
}

describe("3. a stranger's PAN", () => {
  let victim;
  before(async () => {
    victim = person('Gayatri Subramaniam');
    await register(victim, 812);
  });

  test("a stranger's PAN: the bureau is not asked before the PAN's eKYC name check passes, and the applicant sees no report", async () => {
    const attacker = await newApplicant('secrev-stranger');
    const r = await api('POST', '/loan-application/submit', { token: attacker.token, body: indian('Rakesh Sinha', victim, attacker.email) });
    assert.equal(r.status, 201, r.text);
    const mineSeen = r.json.application;
    assert.equal(mineSeen.final_status, 'REJECTED');
    assertNoProviderAnswers(mineSeen, 'the submit reply');
    assertNoProviderAnswers(await view(mineSeen.application_id, attacker.token), 'status');
    const mine = await api('GET', '/me/applications', { token: attacker.token });
    assertNoProviderAnswers(mine.json.applications[0], '/me/applications');
    // The officer sees the mismatch and that no credit report was fetched for it.
    const seen = await view(mineSeen.application_id, officer.token);
    assert.equal(seen.kyc_status, 'REJECTED');
    assert.ok(seen.failed_rules.includes('kyc_pan_name'), JSON.stringify(seen.failed_rules));
    assert.equal(typeof seen.identity.ekyc.pan.name_score, 'number');
    assert.equal(seen.credit_bureau, null, 'the bureau was never asked about a stranger\'s PAN');
  });

  test("a stranger's PAN: the applicant's own verified PAN is scored by the bureau, shown to officers only", async () => {
    const me = person('Lalitha Ramaswamy');
    await register(me, 790);
    const a = await newApplicant('secrev-own');
    const r = await api('POST', '/loan-application/submit', { token: a.token, body: indian(me.name, me, a.email) });
    assert.equal(r.status, 201, r.text);
    assert.notEqual(r.json.application.final_status, 'REJECTED', JSON.stringify(r.json.application));
    assertNoProviderAnswers(r.json.application, 'the submit reply');
    assertNoProviderAnswers(await view(r.json.application.application_id, a.token), 'status');
    const seen = await view(r.json.application.application_id, officer.token);
    assert.equal(seen.credit_bureau.score, 790);
    assert.equal(seen.identity.ekyc.pan.dob_match, true);
    assert.ok(seen.identity.ekyc.pan.name_score >= 0.9);
    const page = await api('GET', `/applications/${seen.application_id}`, { headers: { Cookie: `lf_session=${officer.token}` } });
    assert.match(page.text, /id="bureau"[\s\S]*790/, 'the application page shows the report');
  });

  test("a stranger's PAN: after 3 identity mismatches in a day, the account's next Indian submission waits for an officer", async () => {
    const attacker = await newApplicant('secrev-probe');
    for (let i = 0; i < 3; i++) {
      const stranger = person(`Victim Number${'abc'[i]} Kannan`);
      await register(stranger);
      const app = await submitAs(attacker.token, indian('Rakesh Kohli', stranger, attacker.email));
      assert.equal(app.final_status, 'REJECTED', `mismatch ${i + 1}`);
    }
    const next = person('Victim Fourth Kannan');
    await register(next);
    const held = await submitAs(attacker.token, indian('Rakesh Kohli', next, attacker.email));
    assert.equal(held.final_status, 'PENDING', 'the fourth waits for an officer');
    assert.equal(held.kyc_status, 'PENDING', 'the applicant is not told which check failed');
    assert.equal(held.final_remarks, 'Under review');
    assertNoProviderAnswers(held, 'the held reply');
    const seen = await view(held.application_id, officer.token);
    assert.ok(seen.review_flags.includes('identity_attempts'), JSON.stringify(seen.review_flags));
    assert.equal(seen.kyc_status, 'REJECTED', 'the officer sees the mismatch');
    assert.equal(seen.credit_bureau, null);
    // An officer cannot approve what fails a hard rule; a rejection closes it.
    assertError(await approve(held.application_id, officer.token), 409, 'hard_rules_failed');
    assert.equal((await reject(held.application_id, officer.token)).status, 200);
    // Other countries' submissions of the account are not held.
    const us = await submitAs(attacker.token, body({ email: attacker.email }));
    assert.equal(us.final_status, 'APPROVED');
  });
});

// ---- 6. tipping-off --------------------------------------------------------------------------

const NEUTRAL = new Set(['Under review', 'We cannot offer a loan', 'Verified', 'Your loan application is approved']);

function assertNeutral(app, what) {
  assert.ok(NEUTRAL.has(app.compliance_remarks), `${what}: compliance_remarks "${app.compliance_remarks}"`);
  assert.ok(NEUTRAL.has(app.final_remarks), `${what}: final_remarks "${app.final_remarks}"`);
  assert.equal(app.screening, null, `${what}: screening`);
  assert.equal(app.review_reason, null, `${what}: review_reason`);
  assert.equal(app.alert_sent, false, `${what}: alert_sent`);
  assert.equal(app.political_connection, false, `${what}: political_connection (as declared)`);
  assert.equal(app.senior_relative, false, `${what}: senior_relative (as declared)`);
  assert.ok(app.review_flags.every((f) => f === 'documents_outstanding'), `${what}: ${app.review_flags}`);
  assert.ok(!app.failed_rules.includes('sanctions'), `${what}: failed_rules`);
  const text = JSON.stringify(app);
  // (the applicant's own name may be the listed one; what must not show is the evidence)
  assert.doesNotMatch(text, /SDN|OFAC|sanction|Eleanor|senior employee|politically|PEP list|entry \d|score 0\.\d/i, `${what}: ${text}`);
}

describe('6. tipping-off', () => {
  test('tipping-off: an applicant with a listed name sees "we cannot offer a loan"; officers see the SDN evidence', async () => {
    const a = await newApplicant('secrev-listed');
    const r = await api('POST', '/loan-application/submit', { token: a.token, body: body({ name: 'Nicolas Maduro Moros', email: a.email }) });
    assert.equal(r.status, 201, r.text);
    const app = r.json.application;
    assert.equal(app.final_status, 'REJECTED');
    assert.equal(app.compliance_status, 'REJECTED');
    assert.equal(app.final_remarks, 'We cannot offer a loan');
    assertNeutral(app, 'the submit reply');
    // The applicant first, then an officer: the applicant's read must not fill the officers' cache
    // with the neutral view, nor the other way round.
    assertNeutral(await view(app.application_id, a.token), 'status');
    const seen = await view(app.application_id, officer.token);
    assert.equal(Number(seen.screening.entry_id), 22790);
    assert.match(seen.compliance_remarks, /Sanctions match/);
    assertNeutral(await view(app.application_id, a.token), 'status after the officer\'s read');
    const mine = await api('GET', '/me/applications', { token: a.token });
    assertNeutral(mine.json.applications.find((x) => x.application_id === app.application_id), '/me/applications');
    const listed = await api('GET', '/loan-application/list?status=REJECTED&limit=1000', { token: officer.token });
    assert.match(listed.json.applications.find((x) => x.application_id === app.application_id).compliance_remarks, /Sanctions match/);
    // The decision email says the decision only.
    // (one line per row: the bodies' line breaks are folded)
    const [[subject, mail]] = sql("SELECT subject, translate(body, E'\\n', ' ') FROM notifications WHERE application_id = :'p1' AND kind = 'email'", app.application_id);
    assert.match(mail, /We cannot offer a loan/);
    assert.doesNotMatch(subject + mail, /SDN|OFAC|sanction|entry|score|compliance/i, mail);
    const [[alert]] = sql("SELECT translate(body, E'\\n', ' ') FROM notifications WHERE application_id = :'p1' AND kind = 'alert'", app.application_id);
    assert.match(alert, /Sanctions match/, 'compliance still gets the evidence');
  });

  test("tipping-off: a relative of a senior employee sees \"under review\", never the employee's name", async () => {
    const a = await newApplicant('secrev-relative');
    const app = await submitAs(a.token, body({ name: 'Paul Whitcombe', city: 'San Francisco', email: a.email }));
    assert.equal(app.final_status, 'PENDING');
    assert.equal(app.compliance_status, 'PENDING');
    assert.equal(app.compliance_remarks, 'Under review');
    assertNeutral(app, 'the submit reply');
    assertNeutral(await view(app.application_id, a.token), 'status');
    const seen = await view(app.application_id, officer.token);
    assert.match(seen.compliance_remarks, /Eleanor Whitcombe/);
    assert.equal(seen.senior_relative, true);
    assertNeutral(await view(app.application_id, a.token), 'status after the officer\'s read');
    // Decided by an officer: still neutral to the applicant, remarks and all.
    assert.equal((await approve(app.application_id, officer.token)).status, 200);
    const after = await view(app.application_id, a.token);
    assert.equal(after.final_status, 'APPROVED');
    assertNeutral(after, 'status after the approval');
    const [[mail]] = sql("SELECT translate(body, E'\\n', ' ') FROM notifications WHERE application_id = :'p1' AND kind = 'email'", app.application_id);
    assert.match(mail, /approved/);
    assert.doesNotMatch(mail, /Eleanor|senior employee|review/i, mail);
  });

  test('tipping-off: a PEP on the list sees "under review"; the document keeps every field of the seed', async () => {
    const a = await newApplicant('secrev-exposed');
    const app = await submitAs(a.token, body({ name: 'Tobias Renkwell', email: a.email }));
    assert.equal(app.final_status, 'PENDING');
    assertNeutral(app, 'the submit reply');
    const officerDoc = await view(app.application_id, officer.token);
    assert.equal(officerDoc.political_connection, true);
    for (const k of Object.keys(officerDoc)) {
      if (k === 'submitted_by' || k === 'first_approval' || k === 'screening_alerts') continue; // officer-only additions
      assert.ok(k in app, `the applicant's document has ${k}`);
    }
    assert.ok(!('submitted_by' in app) && !('first_approval' in app));
  });
});

// ---- 10. the application's email -------------------------------------------------------------

describe("10. the application's email", () => {
  test("the application's email: an applicant cannot file under another address (400 naming email), nor block the victim", async () => {
    const victim = await newApplicant('secrev-victim');
    const attacker = await newApplicant('secrev-attacker');
    const r = await api('POST', '/loan-application/submit', { token: attacker.token, body: body({ email: victim.email, documents_uploaded: false, name: 'Dear Victim Click Here' }) });
    const e = assertError(r, 400, 'validation_failed');
    assert.ok(e.fields.email, JSON.stringify(e.fields));
    assert.equal(sql("SELECT count(*) FROM loan_applications WHERE lower(email) = lower(:'p1')", victim.email)[0][0], '0');
    assert.equal(sql("SELECT count(*) FROM notifications WHERE lower(recipient) = lower(:'p1')", victim.email)[0][0], '0');
    // The victim's own submission goes through.
    const own = await submitAs(victim.token, body({ email: victim.email, documents_uploaded: false }));
    assert.equal(own.email, victim.email);
    assert.equal(own.final_status, 'PENDING');
  });

  test("the application's email: an applicant's application carries the account's email (the body may leave it out)", async () => {
    const a = await newApplicant('secrev-noemail');
    const b = body();
    delete b.email;
    const app = await submitAs(a.token, b);
    assert.equal(app.email, a.email);
    const upper = await newApplicant('secrev-case');
    const app2 = await submitAs(upper.token, body({ email: upper.email.toUpperCase() }));
    assert.equal(app2.email, upper.email, 'the account\'s address, as registered');
  });

  test("the application's email: an officer files for a customer; the customer's email and the submitting officer are both visible to officers", async () => {
    const customer = uniqueEmail('secrev-customer');
    const app = await submitAs(clerk.token, body({ email: customer }));
    assert.equal(app.email, customer);
    assert.deepEqual(app.submitted_by, { user_id: clerk.id, email: clerk.email });
    const seen = await view(app.application_id, officer.token);
    assert.deepEqual(seen.submitted_by, { user_id: clerk.id, email: clerk.email });
    const logs = await api('GET', `/approval-logs?application_id=${app.application_id}`, { token: officer.token });
    assert.equal(logs.json.logs[0].action, 'submit');
    assert.equal(logs.json.logs[0].actor_email, clerk.email);
    const page = await api('GET', `/applications/${app.application_id}`, { headers: { Cookie: `lf_session=${officer.token}` } });
    assert.equal(page.status, 200);
    assert.ok(page.text.includes(customer), 'the customer\'s email on the page');
    assert.match(page.text, new RegExp(`id="submitted-by">${clerk.email.replace(/\./g, '\\.')}`));
  });
});
