// The review side of loan applications: an officer approves (clearing review flags, never hard
// rules), rejects with a reason, or re-runs the pipeline; every such action writes one row of the
// append-only approval log; concurrent decisions on one application leave exactly one winner;
// and the notifier delivers the decision email and the compliance alert exactly once. Every
// application uses its own email address, so the file runs on any stack, alone or after others.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import {
  api, assertError, sql, newApplicant, newUser, adminToken, uniqueEmail, sleep,
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

const LOG_KEYS = ['id', 'application_id', 'action', 'actor_id', 'actor_email', 'reason',
  'status_before', 'status_after', 'created_at'];

function body(overrides = {}) {
  const b = { ...SEED, email: uniqueEmail('review'), ...overrides };
  for (const k of Object.keys(b)) if (b[k] === undefined) delete b[k];
  return b;
}

let A; // applicant
let clerk; // the officer who files the applications for their customers (maker-checker: never
// the one who decides them)
let officer; // { email, password, token, id }
let officer2;
let admin;

async function submitOk(overrides = {}) {
  const r = await api('POST', '/loan-application/submit', { token: clerk.token, body: body(overrides) });
  assert.equal(r.status, 201, r.text);
  return r.json.application;
}

// A PENDING application (documents outstanding unless overrides say otherwise).
async function pendingApp(overrides = { documents_uploaded: false }) {
  const app = await submitOk(overrides);
  assert.equal(app.final_status, 'PENDING', `expected a PENDING application: ${JSON.stringify(app)}`);
  return app;
}

const approve = (id, token = officer.token) => api('POST', `/loan-application/${id}/approve`, { token });
const reject = (id, reason, token = officer.token) =>
  api('POST', `/loan-application/${id}/reject`, { token, ...(reason === undefined ? {} : { body: { reason } }) });
const reprocess = (id, token = officer.token) => api('POST', `/loan-application/reprocess/${id}`, { token });

function logRows(id, action) {
  return sql("SELECT action, actor_id, reason, status_before, status_after FROM approval_logs WHERE application_id = :'p1' AND action = :'p2' ORDER BY id", id, action);
}

function status(id) {
  return sql("SELECT final_status FROM loan_applications WHERE application_id = :'p1'", id)[0][0];
}

async function getApp(id) {
  const r = await api('GET', `/loan-application/status/${id}`, { token: officer.token });
  assert.equal(r.status, 200, r.text);
  return r.json.application;
}

// The application as its submitter (the clerk who filed it) polls it.
async function ownerView(id) {
  const r = await api('GET', `/loan-application/status/${id}`, { token: clerk.token });
  assert.equal(r.status, 200, r.text);
  return r.json.application;
}

function describeApp(app) {
  return `(kyc ${app.kyc_status} "${app.kyc_remarks}", compliance ${app.compliance_status} ` +
    `"${app.compliance_remarks}", eligibility ${app.eligibility_status} "${app.eligibility_remarks}", ` +
    `final ${app.final_status} "${app.final_remarks}", flags ${JSON.stringify(app.review_flags)})`;
}

// The delivered notification lines, parsed.
function delivered() {
  const f = `${process.env.STACK_DIR}/log/notifications.jsonl`;
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8').split('\n').filter((l) => l.trim()).map((l) => {
    try { return JSON.parse(l); } catch { return { unparsable: l }; }
  });
}

async function waitFor(what, fn, ms = 5000) {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > ms) assert.fail(`${what}: not within ${ms} ms`);
    await sleep(100);
  }
}

before(async () => {
  admin = await adminToken();
  officer = await newUser('officer', admin);
  officer2 = await newUser('officer', admin);
  clerk = await newUser('officer', admin);
  A = await newApplicant('review-a');
});

// ---- approve ---------------------------------------------------------------------------------

describe('POST /loan-application/{id}/approve', () => {
  test('a pending application becomes APPROVED, reviewed by the officer, logged', async () => {
    const app = await pendingApp();
    assert.equal((await ownerView(app.application_id)).final_status, 'PENDING');
    const r = await approve(app.application_id);
    assert.equal(r.status, 200, r.text);
    assert.equal(typeof r.json.message, 'string');
    const a = r.json.application;
    assert.equal(a.application_id, app.application_id);
    assert.equal(a.final_status, 'APPROVED', describeApp(a));
    assert.equal(Number(a.reviewed_by), officer.id);
    assert.equal(typeof a.reviewed_at, 'string');
    assert.equal(typeof a.final_decision_at, 'string');
    for (const s of ['kyc_status', 'compliance_status', 'eligibility_status']) {
      assert.notEqual(a[s], 'REJECTED', `${s} ${describeApp(a)}`);
    }
    assert.deepEqual(a.review_flags, [], 'the officer cleared the review flags');
    assert.equal(status(app.application_id), 'APPROVED');
    const seen = await ownerView(app.application_id);
    assert.equal(seen.final_status, 'APPROVED', 'the applicant sees the decision at once');
    assert.equal(Number(seen.reviewed_by), officer.id);
    assert.deepEqual(logRows(app.application_id, 'approve'), [['approve', String(officer.id), '', 'PENDING', 'APPROVED']]);
    const emails = sql("SELECT recipient FROM notifications WHERE application_id = :'p1' AND kind = 'email'", app.application_id);
    assert.deepEqual(emails, [[app.email]], 'the decision email to the applicant');
  });

  test('every kind of review flag is cleared by an approval', async () => {
    const cases = [
      ['documents_outstanding', { documents: ['ID_Proof'] }],
      ['pep (declared)', { political_connection: true }, 'four eyes'],
      ['pep (on the PEP list)', { name: 'Tobias Renkwell' }, 'four eyes'],
      ['senior_relative (declared)', { senior_relative: true }],
      ['senior_relative (surname and city)', { name: 'Paul Whitcombe', city: 'San Francisco' }],
      ['high_value', { income: 300000, debt: 0, loan_amount: 750000 }, 'four eyes'],
      ['sanctions_review', { name: 'Ismael Zambada' }, 'four eyes'],
      ['country_monitoring', { country: 'Kenya', region: 'MEA' }],
      ['several at once', { documents_uploaded: false, political_connection: true, country: 'VN', region: 'APAC' }, 'four eyes'],
    ];
    for (const [what, overrides, fourEyes] of cases) {
      const app = await pendingApp(overrides);
      let r = await approve(app.application_id, fourEyes ? officer2.token : officer.token);
      if (fourEyes) {
        // Maker-checker: the first approval is recorded, a second officer's decides.
        assert.equal(r.status, 202, `${what}: the first of two approvals: ${r.text}`);
        assert.equal(r.json.application.final_status, 'PENDING', what);
        r = await approve(app.application_id);
      }
      assert.equal(r.status, 200, `${what}: ${r.text}`);
      assert.equal(r.json.application.final_status, 'APPROVED', `${what}: ${describeApp(r.json.application)}`);
      assert.equal(Number(r.json.application.reviewed_by), officer.id);
    }
  });

  test('an admin may approve', async () => {
    const app = await pendingApp();
    const r = await approve(app.application_id, admin);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.application.final_status, 'APPROVED');
  });

  test('hard rules are never cleared: 409 hard_rules_failed naming them, nothing changes', async () => {
    const cases = [
      ['eligibility (credit score and DTI)', "credit_score = 600, debt = 50000", [/credit/i, /dti|debt/i]],
      ['eligibility (loan over 3 x income)', 'loan_amount = 400000', [/loan|amount/i]],
      ['KYC phone format', "phone = '12345'", [/phone/i]],
      ['KYC email format', "email = 'not-an-email.' || id", [/e-?mail/i]],
      ['sanctions block', "name = 'Anatoly Nikolaevich Greshnevikov'", [/sanction|OFAC|SDN|screening/i]],
      ['FATF call for action', "country_code = 'IR', country = 'Iran, Islamic Republic of'", [/FATF|country|call for action/i]],
    ];
    for (const [what, set, rules] of cases) {
      const app = await pendingApp();
      sql(`UPDATE loan_applications SET ${set} WHERE application_id = :'p1'`, app.application_id);
      const r = await approve(app.application_id);
      const err = assertError(r, 409, 'hard_rules_failed');
      for (const re of rules) assert.match(err.message, re, `${what}: the message names the rule`);
      assert.equal(status(app.application_id), 'PENDING', `${what}: still PENDING`);
      assert.deepEqual(logRows(app.application_id, 'approve'), [], `${what}: no approve log row`);
    }
  });

  test('an application already decided: 409 conflict', async () => {
    const approved = await submitOk();
    assert.equal(approved.final_status, 'APPROVED');
    assertError(await approve(approved.application_id), 409, 'conflict');
    const rejected = await submitOk({ credit_score: 500 });
    assert.equal(rejected.final_status, 'REJECTED');
    assertError(await approve(rejected.application_id), 409, 'conflict');
    assert.deepEqual(logRows(rejected.application_id, 'approve'), []);
    assert.equal(status(rejected.application_id), 'REJECTED');
  });

  test('approving twice: the second is 409 conflict', async () => {
    const app = await pendingApp();
    assert.equal((await approve(app.application_id)).status, 200);
    assertError(await approve(app.application_id), 409, 'conflict');
    assert.equal(logRows(app.application_id, 'approve').length, 1);
  });

  test('unknown application: 404', async () => {
    assertError(await approve('LOAN-20200101-ZZZZZZZZ'), 404);
    assertError(await approve('nope'), 404);
  });

  test('officer only', async () => {
    const app = await pendingApp();
    assertError(await approve(app.application_id, A.token), 403);
    assertError(await api('POST', `/loan-application/${app.application_id}/approve`), 401);
    assert.equal(status(app.application_id), 'PENDING');
  });
});

// ---- reject ----------------------------------------------------------------------------------

describe('POST /loan-application/{id}/reject', () => {
  test('with a reason: REJECTED, reason stored and in final_remarks, logged', async () => {
    const app = await pendingApp();
    assert.equal((await ownerView(app.application_id)).final_status, 'PENDING');
    const reason = 'Income could not be verified with the employer';
    const r = await reject(app.application_id, reason);
    assert.equal(r.status, 200, r.text);
    assert.equal(typeof r.json.message, 'string');
    const a = r.json.application;
    assert.equal(a.final_status, 'REJECTED');
    assert.equal(a.review_reason, reason);
    assert.ok(a.final_remarks.includes(reason), `final_remarks: ${a.final_remarks}`);
    assert.equal(Number(a.reviewed_by), officer.id);
    assert.equal(typeof a.reviewed_at, 'string');
    assert.equal(typeof a.final_decision_at, 'string');
    assert.deepEqual(logRows(app.application_id, 'reject'), [['reject', String(officer.id), reason, 'PENDING', 'REJECTED']]);
    const stored = sql("SELECT final_status, review_reason FROM loan_applications WHERE application_id = :'p1'", app.application_id);
    assert.deepEqual(stored, [['REJECTED', reason]]);
    const seen = await ownerView(app.application_id);
    assert.equal(seen.final_status, 'REJECTED', 'the applicant sees the decision at once');
    assert.equal(seen.review_reason, reason);
    const mine = await api('GET', '/me/applications', { token: clerk.token });
    assert.equal(mine.json.applications.find((x) => x.application_id === app.application_id)?.final_status, 'REJECTED');
    const emails = sql("SELECT recipient FROM notifications WHERE application_id = :'p1' AND kind = 'email'", app.application_id);
    assert.deepEqual(emails, [[app.email]], 'the decision email to the applicant');
  });

  test('without a body, or with an empty object: REJECTED', async () => {
    const app = await pendingApp();
    const r = await reject(app.application_id);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.application.final_status, 'REJECTED');
    const app2 = await pendingApp();
    const r2 = await api('POST', `/loan-application/${app2.application_id}/reject`, { token: officer.token, body: {} });
    assert.equal(r2.status, 200, r2.text);
    assert.equal(r2.json.application.final_status, 'REJECTED');
  });

  test('a reason of 500 characters is accepted, 501 is a 400 naming reason', async () => {
    const app = await pendingApp();
    const long = assertError(await reject(app.application_id, 'r'.repeat(501)), 400, 'validation_failed');
    assert.ok(long.fields && 'reason' in long.fields, JSON.stringify(long));
    assert.equal(status(app.application_id), 'PENDING', 'nothing changed');
    const notString = assertError(await reject(app.application_id, 42), 400, 'validation_failed');
    assert.ok(notString.fields && 'reason' in notString.fields, JSON.stringify(notString));
    assert.deepEqual(logRows(app.application_id, 'reject'), []);
    const ok = await reject(app.application_id, 'é'.repeat(500));
    assert.equal(ok.status, 200, `500 characters (1000 bytes): ${ok.text}`);
    assert.equal(ok.json.application.review_reason, 'é'.repeat(500));
  });

  test('an application already decided: 409 conflict', async () => {
    const approved = await submitOk();
    assertError(await reject(approved.application_id, 'too late'), 409, 'conflict');
    assert.equal(status(approved.application_id), 'APPROVED');
    const app = await pendingApp();
    assert.equal((await reject(app.application_id, 'first')).status, 200);
    assertError(await reject(app.application_id, 'second'), 409, 'conflict');
    assertError(await approve(app.application_id), 409, 'conflict');
    assert.equal(logRows(app.application_id, 'reject').length, 1);
  });

  test('unknown application: 404; officer only', async () => {
    assertError(await reject('LOAN-20200101-ZZZZZZZZ', 'x'), 404);
    const app = await pendingApp();
    assertError(await reject(app.application_id, 'x', A.token), 403);
    assertError(await api('POST', `/loan-application/${app.application_id}/reject`, { body: {} }), 401);
    assert.equal(status(app.application_id), 'PENDING');
  });
});

// ---- reprocess -------------------------------------------------------------------------------

describe('POST /loan-application/reprocess/{id}', () => {
  test('runs the pipeline again on the stored data and logs it', async () => {
    const app = await pendingApp();
    assert.equal((await ownerView(app.application_id)).final_status, 'PENDING');
    // The documents arrive (stored by another channel); the pipeline now approves.
    sql("UPDATE loan_applications SET documents_uploaded = true, documents = '{ID_Proof,Income_Statement,Address_Proof}' WHERE application_id = :'p1'", app.application_id);
    const r = await reprocess(app.application_id);
    assert.equal(r.status, 200, r.text);
    assert.equal(typeof r.json.message, 'string');
    const a = r.json.application;
    assert.equal(a.application_id, app.application_id);
    assert.equal(a.kyc_status, 'APPROVED', describeApp(a));
    assert.equal(a.final_status, 'APPROVED', describeApp(a));
    assert.deepEqual(a.review_flags, []);
    assert.equal((await ownerView(app.application_id)).final_status, 'APPROVED', 'the applicant sees it at once');
    const logs = logRows(app.application_id, 'reprocess');
    assert.equal(logs.length, 1);
    assert.deepEqual([logs[0][1], logs[0][3], logs[0][4]], [String(officer.id), 'PENDING', 'APPROVED']);
  });

  test('unchanged data: still PENDING, still logged', async () => {
    const app = await pendingApp({ political_connection: true });
    const r = await reprocess(app.application_id);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.application.final_status, 'PENDING');
    assert.ok(r.json.application.review_flags.includes('pep'));
    const logs = logRows(app.application_id, 'reprocess');
    assert.equal(logs.length, 1);
    assert.deepEqual([logs[0][3], logs[0][4]], ['PENDING', 'PENDING']);
  });

  test('a hard rule found on reprocess rejects', async () => {
    const app = await pendingApp();
    sql("UPDATE loan_applications SET credit_score = 500 WHERE application_id = :'p1'", app.application_id);
    const r = await reprocess(app.application_id);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.application.eligibility_status, 'REJECTED');
    assert.equal(r.json.application.final_status, 'REJECTED');
    assert.match(r.json.application.eligibility_remarks, /credit/i);
  });

  test('an unchanged automatic decision is not announced twice', async () => {
    const app = await submitOk();
    assert.equal(app.final_status, 'APPROVED');
    const r = await reprocess(app.application_id);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.application.final_status, 'APPROVED');
    const emails = sql("SELECT count(*) FROM notifications WHERE application_id = :'p1' AND kind = 'email'", app.application_id);
    assert.equal(emails[0][0], '1', 'one decision email');
    assert.equal(logRows(app.application_id, 'reprocess').length, 1);
  });

  test("an officer's decision is not reprocessed: 409 conflict", async () => {
    // (the implementation's choice; the spec leaves reprocessing decided applications open)
    const app = await pendingApp();
    sql("UPDATE loan_applications SET documents_uploaded = true, documents = '{ID_Proof,Income_Statement,Address_Proof}' WHERE application_id = :'p1'", app.application_id);
    assert.equal((await reject(app.application_id, 'Officer said no')).status, 200);
    assertError(await reprocess(app.application_id), 409, 'conflict');
    assert.equal(status(app.application_id), 'REJECTED', 'the rejection stands');
    assert.deepEqual(logRows(app.application_id, 'reprocess'), []);
  });

  test('unknown application: 404; officer only', async () => {
    assertError(await reprocess('LOAN-20200101-ZZZZZZZZ'), 404);
    const app = await pendingApp();
    assertError(await reprocess(app.application_id, A.token), 403);
    assertError(await api('POST', `/loan-application/reprocess/${app.application_id}`), 401);
    assert.deepEqual(logRows(app.application_id, 'reprocess'), []);
  });
});

// ---- approval logs ---------------------------------------------------------------------------

describe('GET /approval-logs', () => {
  let app;
  before(async () => {
    app = await pendingApp();
    assert.equal((await reprocess(app.application_id, officer2.token)).status, 200);
    assert.equal((await reject(app.application_id, 'Logged reason', officer.token)).status, 200);
  });

  test('filtered by application: its submit, reprocess and reject, newest first', async () => {
    const r = await api('GET', `/approval-logs?application_id=${app.application_id}`, { token: officer.token });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.count, 3);
    const logs = r.json.logs;
    assert.deepEqual(logs.map((l) => l.action), ['reject', 'reprocess', 'submit']);
    for (const l of logs) {
      assert.deepEqual(Object.keys(l).sort(), [...LOG_KEYS].sort());
      assert.equal(l.application_id, app.application_id);
      assert.ok(!Number.isNaN(Date.parse(l.created_at)));
    }
    const [rej, rep, sub] = logs;
    assert.equal(Number(rej.actor_id), officer.id);
    assert.equal(rej.actor_email, officer.email);
    assert.equal(rej.reason, 'Logged reason');
    assert.equal(rej.status_before, 'PENDING');
    assert.equal(rej.status_after, 'REJECTED');
    assert.equal(Number(rep.actor_id), officer2.id);
    assert.equal(rep.actor_email, officer2.email);
    assert.equal(rep.status_after, 'PENDING');
    assert.equal(sub.status_after, 'PENDING');
    assert.ok(Number(rej.id) > Number(rep.id) && Number(rep.id) > Number(sub.id));
  });

  test('unfiltered: newest first, 50 by default, limit honoured', async () => {
    const r = await api('GET', '/approval-logs', { token: officer.token });
    assert.equal(r.status, 200, r.text);
    const total = Number(sql('SELECT count(*) FROM approval_logs')[0][0]);
    assert.equal(r.json.logs.length, Math.min(50, total));
    assert.equal(r.json.count, r.json.logs.length);
    const ids = r.json.logs.map((l) => Number(l.id));
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1] > ids[i], 'newest first');
    const times = r.json.logs.map((l) => Date.parse(l.created_at));
    for (let i = 1; i < times.length; i++) assert.ok(times[i - 1] >= times[i], 'newest first');
    assert.equal(r.json.logs[0].application_id, app.application_id, 'the reject above is the newest');
    const r3 = await api('GET', '/approval-logs?limit=3', { token: officer.token });
    assert.equal(r3.status, 200, r3.text);
    assert.deepEqual(r3.json.logs.map((l) => l.id), r.json.logs.slice(0, 3).map((l) => l.id));
  });

  test('unknown application: an empty list', async () => {
    const r = await api('GET', '/approval-logs?application_id=LOAN-20200101-ZZZZZZZZ', { token: officer.token });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.logs, []);
    assert.equal(r.json.count, 0);
  });

  test('an invalid limit: 400', async () => {
    for (const q of ['limit=abc', 'limit=-1', 'limit=0']) {
      const r = await api('GET', `/approval-logs?${q}`, { token: officer.token });
      assertError(r, 400);
    }
  });

  test('officer only', async () => {
    assertError(await api('GET', '/approval-logs', { token: A.token }), 403);
    assertError(await api('GET', '/approval-logs'), 401);
    assert.equal((await api('GET', '/approval-logs', { token: admin })).status, 200);
  });

  test('append-only: UPDATE and DELETE fail', () => {
    const id = sql("SELECT id FROM approval_logs WHERE application_id = :'p1' ORDER BY id LIMIT 1", app.application_id)[0][0];
    assert.throws(() => sql("UPDATE approval_logs SET reason = 'changed' WHERE id = :'p1'", id));
    assert.throws(() => sql("DELETE FROM approval_logs WHERE id = :'p1'", id));
    assert.equal(sql("SELECT count(*) FROM approval_logs WHERE application_id = :'p1'", app.application_id)[0][0], '3');
  });
});

// ---- concurrency -----------------------------------------------------------------------------

describe('concurrent decisions', () => {
  test('20 concurrent approvals: exactly one 200, nineteen 409, one log row', async () => {
    const app = await pendingApp();
    const rs = await Promise.all(Array.from({ length: 20 }, () => approve(app.application_id)));
    const codes = rs.map((r) => r.status);
    assert.equal(codes.filter((c) => c === 200).length, 1, `statuses: ${codes.join(' ')}`);
    assert.equal(codes.filter((c) => c === 409).length, 19, `statuses: ${codes.join(' ')}\n${rs.filter((r) => r.status !== 200 && r.status !== 409).map((r) => r.text).join('\n')}`);
    for (const r of rs.filter((x) => x.status === 409)) assert.equal(r.json.error.code, 'conflict');
    assert.equal(logRows(app.application_id, 'approve').length, 1);
    assert.equal(status(app.application_id), 'APPROVED');
    const emails = sql("SELECT count(*) FROM notifications WHERE application_id = :'p1' AND kind = 'email'", app.application_id);
    assert.equal(emails[0][0], '1', 'one decision email');
  });

  test('approvals and rejections racing: exactly one wins', async () => {
    const app = await pendingApp();
    const rs = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? approve(app.application_id, officer2.token) : reject(app.application_id, `race ${i}`))));
    const codes = rs.map((r) => r.status);
    assert.equal(codes.filter((c) => c === 200).length, 1, `statuses: ${codes.join(' ')}`);
    assert.equal(codes.filter((c) => c === 409).length, 9, `statuses: ${codes.join(' ')}`);
    const winner = rs.find((r) => r.status === 200).json.application.final_status;
    assert.equal(status(app.application_id), winner);
    const decisions = sql("SELECT count(*) FROM approval_logs WHERE application_id = :'p1' AND action IN ('approve', 'reject')", app.application_id);
    assert.equal(decisions[0][0], '1');
  });
});

// ---- notifier --------------------------------------------------------------------------------

describe('notifier', () => {
  async function assertDelivered(app, kind, flag) {
    const a = await waitFor(`${app.application_id}: ${flag} true`, async () => {
      const x = await getApp(app.application_id);
      return x[flag] === true ? x : null;
    });
    assert.equal(a[flag], true);
    const rows = sql("SELECT id, sent_at IS NOT NULL FROM notifications WHERE application_id = :'p1' AND kind = :'p2'", app.application_id, kind);
    assert.equal(rows.length, 1, `one ${kind} notification`);
    const [id, sent] = rows[0];
    assert.equal(sent, 't', 'sent_at is set');
    await sleep(300); // a second delivery, if any, would have happened by now
    const lines = delivered().filter((m) => String(m.id) === id);
    assert.equal(lines.length, 1, `notification ${id} delivered exactly once (${lines.length} lines)`);
  }

  test('the decision email of an automatic approval is delivered once within 5 s', async () => {
    const app = await submitOk();
    assert.equal(app.final_status, 'APPROVED');
    await assertDelivered(app, 'email', 'email_sent');
  });

  test('the compliance alert of a flagged application is delivered once within 5 s', async () => {
    const app = await pendingApp({ political_connection: true });
    await assertDelivered(app, 'alert', 'alert_sent');
    const a = await getApp(app.application_id);
    assert.equal(a.email_sent, false, 'no email while pending');
  });

  test("an officer's decision email is delivered once within 5 s", async () => {
    const app = await pendingApp();
    const r = await reject(app.application_id, 'Notifier test');
    assert.equal(r.status, 200, r.text);
    await assertDelivered(app, 'email', 'email_sent');
  });

  test('nothing is ever delivered twice', () => {
    const seen = new Map();
    for (const m of delivered()) {
      if (m.id === undefined) continue;
      seen.set(String(m.id), (seen.get(String(m.id)) || 0) + 1);
    }
    const dups = [...seen].filter(([, n]) => n > 1);
    assert.deepEqual(dups, [], 'notification ids delivered more than once');
    const sentRows = Number(sql('SELECT count(*) FROM notifications WHERE sent_at IS NOT NULL')[0][0]);
    assert.ok(seen.size >= sentRows, `${sentRows} marked sent, ${seen.size} delivered`);
  });
});
