// Servicing (issue 14, docs/servicing.md), through nginx as the lender's officers, a borrower and
// the gateway meet it, on SERVICING.md's vectors: loan A (100,000.00 at 12 % for 12 months, no
// fee, EMI 8,884.88) is repaid by an officer's entry and by a payment link paid in the sandbox
// gateway, split the rbi_india way, reversed (by an officer, by a refund) with everything after it
// re-applied, walked through SMA-0 → SMA-1 → SMA-2 → NPA by simulated day-ends (`loanctl cob
// --date`) and back to STANDARD after payment, replayed after a backdated payment (`cob --from`),
// foreclosed, prepaid (reduce_emi, reduce_tenure) and exited within its cooling-off days.
//
// One timeline. A day-end moves the whole stack's business date forward and processes every
// active loan, so this file makes all its loans on the first day (all disbursed that day, all with
// the same due dates F1, F2, …) and then moves time forward once, in order: day 2 (cooling-off),
// the first due date F1, its day-end, F1 + 29 / + 30 / + 59 / + 60, the third due date, F1 + 89 /
// + 90, F1 + 91. Each test names the date it needs; the tests of a stage run in the order written
// (node:test runs a file's tests one after another). An on-time payment always carries its due
// date as value date, so where the clock is already past it (month lengths vary) it is a backdated
// payment, which the replay makes exactly equivalent. after() removes the day-ends this file ran
// (cob_runs), so the files after it see today again; other files' loans are in the database and
// go through the day-ends too, so nothing here counts on being alone.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  api, assertError, sql, newApplicant, newUser, adminToken, login, gateway, sandboxConfig,
  SANDBOX_DEFAULTS, deliverWebhook, pollUntil, signedLoan, getLoan, paise,
  LOAN_A, rupees, addDays, businessDate, cob, activeLoan,
} from './lib.mjs';

let admin;
let officer;
let officer2;
let stranger; // an applicant with no loan here: must see none of it
let cobBefore = []; // the day-ends the stack had run before this file (kept by after())
let D0; // the disbursal date of every loan of this file
let DUE = []; // the due dates of loan A disbursed on D0: DUE[1] = F1, …
const F = (k) => DUE[k];
const L = {}; // the loans of this file by role
let pairSkip = null; // why the two loans of one borrower could not be made, if they could not
let notesAtSetup = 0; // notifications of W's application when the loans were made

before(async () => {
  admin = await adminToken();
  officer = await newUser('officer', admin);
  officer2 = await newUser('officer', admin);
  stranger = await newApplicant('svc-stranger');
  cobBefore = sql('SELECT business_date::text FROM cob_runs ORDER BY 1').map((r) => r[0]);
  await sandboxConfig(SANDBOX_DEFAULTS);
});

after(async () => {
  // The business date back to today for the files after this one.
  sql("DELETE FROM cob_runs WHERE NOT (business_date = ANY (:'p1'::date[]))", `{${cobBefore.join(',')}}`);
  await sandboxConfig(SANDBOX_DEFAULTS).catch(() => {});
});

// ---- helpers ---------------------------------------------------------------------------------

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const OFFICERS = () => [officer, officer2];

// Paise of an amount the API answered, which must be a JSON number of at most two decimals.
function P(x, what) {
  assert.equal(typeof x, 'number', `${what} is a JSON number: ${JSON.stringify(x)}`);
  assert.ok(Math.abs(x * 100 - Math.round(x * 100)) < 1e-6, `${what} ${x} has at most two decimals`);
  return paise(x);
}

// 788488 → "7,884.88" for messages.
const fmt = (p) => `${(p / 100).toLocaleString('en-IN', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

let refSeq = 0;
const ref = (tag = 'pay') => `svc-${tag}-${process.pid}-${Date.now().toString(36)}-${++refSeq}`;

// The 400 of a bad field: names it in error.field (or error.fields, or the message).
function assertField(r, field) {
  const e = assertError(r, 400);
  const named = e.field === field || (e.fields && typeof e.fields === 'object' && field in e.fields) || String(e.message).includes(field);
  assert.ok(named, `the 400 names ${field}: ${r.text}`);
  return e;
}

async function scheduleOf(loanId, token = officer.token) {
  const r = await api('GET', `/loans/${loanId}/schedule`, { token });
  assert.equal(r.status, 200, `GET /loans/${loanId}/schedule: ${r.status} ${r.text}`);
  assert.ok(Array.isArray(r.json?.schedule), r.text);
  return r.json.schedule;
}

async function itemOf(loanId, number) {
  const it = (await scheduleOf(loanId)).find((i) => i.number === number);
  assert.ok(it, `installment ${number} of ${loanId}`);
  return it;
}

async function repaymentsOf(loanId, token = officer.token) {
  const r = await api('GET', `/loans/${loanId}/repayments`, { token });
  assert.equal(r.status, 200, `GET /loans/${loanId}/repayments: ${r.status} ${r.text}`);
  assert.equal(r.json.loan_id, loanId);
  assert.ok(Array.isArray(r.json.repayments), r.text);
  return r.json.repayments;
}

const repay = (loanId, body, token = officer.token) => api('POST', `/loans/${loanId}/repayments`, { token, body });

async function repayOk(loanId, body, what = 'repayment') {
  const r = await repay(loanId, body);
  assert.equal(r.status, 201, `${what} on ${loanId} ${JSON.stringify(body)}: ${r.status} ${r.text}`);
  assert.ok(r.json?.repayment && r.json?.loan, `201 {repayment, loan}: ${r.text}`);
  return r.json;
}

const reverse = (loanId, rid, body, token = officer.token) => api('POST', `/loans/${loanId}/repayments/${rid}/reverse`, { token, body });
const quote = (loanId, date, token = officer.token) => api('GET', `/loans/${loanId}/foreclosure-quote${date === undefined ? '' : `?date=${encodeURIComponent(date)}`}`, { token });
const prepay = (loanId, body, token = officer.token) => api('POST', `/loans/${loanId}/prepayments`, { token, body });

// The split of a repayment in paise.
function splitOf(rep, what) {
  const s = rep?.split;
  assert.ok(s && typeof s === 'object', `${what}: split ${JSON.stringify(rep)}`);
  const o = {};
  for (const k of ['penal', 'fee', 'interest', 'principal', 'credit']) o[k] = P(s[k], `${what}: split.${k}`);
  return o;
}

// What is still owed on an installment (interest and principal; penal apart), in paise.
const owedOn = (it) => P(it.installment, 'installment') - P(it.paid.interest, 'paid.interest') - P(it.paid.principal, 'paid.principal');

// Pays, as an on-time borrower would, every installment of loan due on or before `date` and not
// settled, each with its due date as value date (a backdated payment where the clock is past it).
async function payUpTo(loanId, date) {
  for (const it of await scheduleOf(loanId)) {
    if (it.due_date > date || it.settled_on) continue;
    const owed = owedOn(it);
    if (owed > 0) await repayOk(loanId, { amount: rupees(owed), value_date: it.due_date, reference: ref('ontime') }, `installment ${it.number} on its due date`);
  }
}

// The day-end of `date` (and of every day before it not yet run): must not have run yet (the
// steps of this file go forward in time). Asserts the business date is the day after. Returns
// loanctl's JSON.
function dayEnd(date) {
  const bd = businessDate();
  assert.ok(date >= bd, `the day-end of ${date} has not run yet (the business date is ${bd}): this file's steps go forward in time`);
  const { out, json } = cob(['--date', date]);
  assert.ok(json !== null, `loanctl cob prints JSON: ${out}`);
  assert.equal(sql("SELECT count(*) FROM cob_runs WHERE business_date = :'p1'", date)[0][0], '1', `cob_runs has the day-end of ${date}`);
  assert.equal(businessDate(), addDays(date, 1), `after the day-end of ${date} the business date is the next day`);
  return json;
}

// Makes the business date at least `date` (the day-ends up to the day before it).
function reach(date) {
  if (businessDate() < date) dayEnd(addDays(date, -1));
  assert.ok(businessDate() >= date, `the business date ${businessDate()} has reached ${date}`);
}

const lastDayEnd = () => sql('SELECT max(business_date)::text FROM cob_runs')[0][0];

// The loan's classification as of the last day-end.
async function expectClass(loanId, dpd, classification, what, classifiedOn) {
  const l = await getLoan(loanId, officer.token);
  assert.equal(l.days_past_due, dpd, `${what}: days_past_due (${JSON.stringify({ days_past_due: l.days_past_due, classification: l.classification, classified_on: l.classified_on })})`);
  assert.equal(l.classification, classification, `${what}: classification`);
  if (classifiedOn) assert.equal(l.classified_on, classifiedOn, `${what}: classified_on is the day-end's date`);
  return l;
}

const history = (loanId) => sql("SELECT as_of::text, days_past_due::text, classification FROM loan_dpd_history WHERE loan_id = :'p1' ORDER BY as_of", loanId);

const notesOf = (applicationId) => Number(sql("SELECT count(*) FROM notifications WHERE application_id = :'p1'", applicationId)[0][0]);

// The walking loan's installments: a penal charge of 500.00 on every installment whose due date's
// day-end has run (once, however many day-ends since), none on the others; the interest and
// principal of each exactly the base schedule's (a penal charge is never added to the rate, never
// capitalised); penal_due their sum.
async function checkPenals(loanId, base, what) {
  const last = lastDayEnd();
  const sch = await scheduleOf(loanId);
  let due = 0;
  sch.forEach((it, k) => {
    const want = it.due_date <= last ? 50000 : 0;
    assert.equal(P(it.penal, `${what}: installment ${it.number}.penal`), want, `${what}: installment ${it.number} (due ${it.due_date}, last day-end ${last}) penal ${fmt(want)}`);
    assert.equal(P(it.interest, 'interest'), P(base[k].interest, 'base interest'), `${what}: installment ${it.number}'s interest is the base schedule's (${base[k].interest}), penal never in it`);
    assert.equal(P(it.principal, 'principal'), P(base[k].principal, 'base principal'), `${what}: installment ${it.number}'s principal unchanged`);
    due += want;
  });
  const l = await getLoan(loanId, officer.token);
  assert.equal(P(l.penal_due, 'penal_due'), due, `${what}: penal_due is the penal charges levied`);
  return sch;
}

// Every string in a JSON value that starts with prefix (the ids the sandbox answers).
function idsIn(v, prefix, out = []) {
  if (typeof v === 'string' && v.startsWith(prefix)) out.push(v);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) idsIn(x, prefix, out);
  return out;
}

// ---- 0. the disbursal date -----------------------------------------------------------------------

describe('on the disbursal date', () => {
  test('the loans of this file are ACTIVE with SERVICING\'s loan A as their schedule: 12 × 8,884.88 (the first 1,000.00 interest + 7,884.88 principal, the last 8,884.85)', async () => {
    const roles = ['W', 'V', 'R', 'R2', 'CO', 'FC', 'BK', 'AL', 'Q', 'PE', 'PT', 'PL', 'PL2', 'N1'];
    for (const role of roles) L[role] = await activeLoan({ officers: OFFICERS(), tag: `svc-${role.toLowerCase()}` });
    try {
      L.N2 = await activeLoan({ officers: OFFICERS(), applicant: L.N1.applicant });
    } catch (e) {
      pairSkip = `a second loan for the same applicant could not be made through the API: ${e.message.split('\n')[0]}`;
    }
    const all = Object.entries(L);
    D0 = L.W.loan.disbursal_date;
    assert.match(String(D0), DATE, `disbursal_date ${D0}`);
    for (const [role, x] of all) {
      const l = x.loan;
      assert.equal(l.disbursal_date, D0, `loan ${role}: every loan of this file disbursed on the same day`);
      assert.equal(P(l.principal, 'principal'), LOAN_A.principal, `loan ${role}: principal 100,000.00`);
      assert.equal(P(l.emi, 'emi'), LOAN_A.emi, `loan ${role}: EMI 8,884.88`);
      assert.equal(P(l.outstanding_principal, 'outstanding_principal'), LOAN_A.principal, `loan ${role}: nothing repaid yet`);
      assert.equal(P(l.credit_balance, 'credit_balance'), 0, `loan ${role}: credit_balance`);
      assert.equal(l.days_past_due, 0, `loan ${role}: days_past_due`);
      assert.equal(l.classification, 'STANDARD', `loan ${role}: classification`);
      assert.equal(P(l.penal_due, 'penal_due'), 0, `loan ${role}: penal_due`);
      assert.equal(l.closed_on ?? null, null, `loan ${role}: closed_on`);
      assert.equal(l.close_reason ?? null, null, `loan ${role}: close_reason`);
      const sch = x.schedule;
      assert.equal(sch.length, 12, `loan ${role}: 12 installments`);
      assert.deepEqual(sch.map((it) => P(it.installment, 'installment')), [...Array(11).fill(888488), 888485], `loan ${role}: 11 × 8,884.88 and a last 8,884.85`);
      assert.equal(P(sch[0].interest, 'interest'), 100000, `loan ${role}: first interest 1,000.00`);
      assert.equal(P(sch[0].principal, 'principal'), 788488, `loan ${role}: first principal 7,884.88`);
      assert.equal(P(sch[1].interest, 'interest'), 92115, `loan ${role}: second interest 921.15`);
      assert.equal(sch.reduce((s, it) => s + P(it.interest, 'interest'), 0), 661853, `loan ${role}: total interest 6,618.53`);
      for (const it of sch) {
        assert.equal(P(it.penal, 'penal'), 0, `loan ${role}: installment ${it.number} has no penal charge`);
        for (const k of ['penal', 'interest', 'principal', 'total']) assert.ok(it.paid && k in it.paid, `loan ${role}: installment ${it.number}.paid.${k}: ${JSON.stringify(it)}`);
        assert.equal(P(it.paid.total, 'paid.total'), 0, `loan ${role}: installment ${it.number} unpaid`);
        assert.equal(it.settled_on ?? null, null, `loan ${role}: installment ${it.number} not settled`);
        // The next installment may be shown as the one 'due'; the others are 'upcoming'.
        if (it.number === 1) assert.ok(['due', 'upcoming'].includes(it.status), `loan ${role}: installment 1 status ${it.status}`);
        else assert.equal(it.status, 'upcoming', `loan ${role}: installment ${it.number} upcoming`);
      }
      if (role === 'W') DUE = [null, ...sch.map((it) => it.due_date)];
      else assert.deepEqual(sch.map((it) => it.due_date), DUE.slice(1), `loan ${role}: the same due dates as the others`);
    }
    assert.ok(F(1) > D0, `the first due date ${F(1)} after the disbursal ${D0}`);
    assert.ok(businessDate() <= addDays(D0, 1), `no day-end has moved the business date on yet (${businessDate()}, disbursed ${D0})`);
    notesAtSetup = notesOf(L.W.app.application_id);
  });

  test('an officer\'s payment with a bad amount, value date or reference is a 400 naming the field, and records nothing', async () => {
    const id = L.V.loanId;
    const bd = businessDate();
    const ok = { amount: 100.00, value_date: bd, reference: ref('bad') };
    const cases = [
      [{ value_date: bd, reference: ref('bad') }, 'amount', 'amount missing'],
      [{ ...ok, amount: -100 }, 'amount', 'amount negative'],
      [{ ...ok, amount: 0 }, 'amount', 'amount zero'],
      [{ ...ok, amount: 'abc' }, 'amount', 'amount not a number'],
      [{ ...ok, amount: 100.001 }, 'amount', 'amount with three decimals'],
      [{ ...ok, amount: null }, 'amount', 'amount null'],
      [{ ...ok, value_date: '2025/01/15' }, 'value_date', 'value_date malformed'],
      [{ ...ok, value_date: 'yesterday' }, 'value_date', 'value_date not a date'],
      [{ ...ok, value_date: '2025-02-30' }, 'value_date', 'value_date no such day'],
      [{ ...ok, value_date: addDays(bd, 1) }, 'value_date', 'value_date after the business date'],
      [{ ...ok, value_date: addDays(D0, -1) }, 'value_date', 'value_date before the disbursal date'],
      [{ amount: 100, value_date: bd }, 'reference', 'reference missing'],
      [{ ...ok, reference: '' }, 'reference', 'reference empty'],
      [{ ...ok, reference: 'r'.repeat(65) }, 'reference', 'reference of 65 characters'],
    ];
    for (const [body, field, what] of cases) {
      const r = await repay(id, body);
      assert.equal(r.status, 400, `${what}: ${r.status} ${r.text}`);
      const e = assertField(r, field);
      assert.equal(e.code, 'validation_failed', `${what}: ${r.text}`);
    }
    const nj = await api('POST', `/loans/${id}/repayments`, { token: officer.token, body: '{"amount":', headers: { 'Content-Type': 'application/json' } });
    assertError(nj, 400);
    assert.equal(sql("SELECT count(*) FROM loan_repayments WHERE loan_id = :'p1'", id)[0][0], '0', 'nothing recorded');
    assert.equal(P((await getLoan(id, officer.token)).outstanding_principal, 'outstanding_principal'), LOAN_A.principal, 'nothing changed');
    // The boundary: a reference of exactly 64 characters is a payment; no value_date is the business date.
    const r64 = await repayOk(id, { amount: 1.00, reference: `${ref('r64')}-`.padEnd(64, 'x') }, 'a 64-character reference');
    assert.equal(r64.repayment.value_date, bd, 'value_date defaults to the business date');
    assert.equal(r64.repayment.channel, 'officer');
    assert.equal(P(r64.repayment.amount, 'amount'), 100);
  });

  test('only officers record, reverse and prepay: the borrower and another applicant 403, no token 401, an unknown loan 404', async () => {
    const id = L.V.loanId;
    const body = { amount: 100, value_date: businessDate(), reference: ref('who') };
    for (const [who, token] of [['the borrower', L.V.applicant.token], ['another applicant', stranger.token]]) {
      assertError(await repay(id, body, token), 403);
      assertError(await prepay(id, { ...body, mode: 'reduce_emi' }, token), 403);
      assertError(await reverse(id, 'RPY-NOPE', { reason: 'test' }, token), 403);
      assert.equal((await api('GET', '/portfolio/overview', { token })).status, 403, `${who}: GET /portfolio/overview 403`);
    }
    assertError(await api('POST', `/loans/${id}/repayments`, { body }), 401);
    assertError(await repay('LOAN-20200101-ZZZZZZZZ', body), 404, 'not_found');
    assertError(await api('GET', '/loans/LOAN-20200101-ZZZZZZZZ/repayments', { token: officer.token }), 404);
    // Another applicant reads nothing of it.
    assertError(await api('GET', `/loans/${id}/repayments`, { token: stranger.token }), 404);
    assertError(await quote(id, undefined, stranger.token), 404);
    assertError(await api('POST', `/loans/${id}/payment-link`, { token: stranger.token, body: {} }), 404);
    assert.equal(sql("SELECT count(*) FROM loan_repayments WHERE reference = :'p1'", body.reference)[0][0], '0', 'nothing recorded');
    // The borrower reads their own repayments.
    assert.ok(Array.isArray(await repaymentsOf(id, L.V.applicant.token)));
  });

  test('an officer cannot record money on a loan they applied for themselves (403 own_loan)', async () => {
    const x = L.V;
    const up = await api('PATCH', `/admin/users/${x.applicant.user.id}`, { token: admin, body: { role: 'officer' } });
    assert.equal(up.status, 200, up.text);
    try {
      const asOfficer = await login(x.applicant.email, x.applicant.password);
      const reference = ref('own');
      assertError(await repay(x.loanId, { amount: 100, reference }, asOfficer), 403, 'own_loan');
      assert.equal(sql("SELECT count(*) FROM loan_repayments WHERE reference = :'p1'", reference)[0][0], '0', 'nothing recorded');
    } finally {
      const down = await api('PATCH', `/admin/users/${x.applicant.user.id}`, { token: admin, body: { role: 'applicant' } });
      assert.equal(down.status, 200, down.text);
    }
  });

  test('a loan not yet disbursed takes no payment: 409 loan_not_active naming its state', async () => {
    const x = await signedLoan({ loan_amount: 100000 }, 'svc-undisbursed');
    const r = await repay(x.loanId, { amount: 100, reference: ref('undisbursed') });
    assertError(r, 409, 'loan_not_active');
    assert.match(r.text, /AWAITING_DISBURSAL/, `the 409 says the state: ${r.text}`);
    assert.equal(sql("SELECT count(*) FROM loan_repayments WHERE loan_id = :'p1'", x.loanId)[0][0], '0');
  });

  test('a reference is one payment: the same reference again, on this loan or another, is 409 duplicate_reference and records nothing', async () => {
    const reference = ref('dup');
    await repayOk(L.V.loanId, { amount: 2.00, reference });
    assertError(await repay(L.V.loanId, { amount: 2.00, reference }), 409, 'duplicate_reference');
    assertError(await repay(L.V.loanId, { amount: 3.00, reference }), 409, 'duplicate_reference');
    assertError(await repay(L.R.loanId, { amount: 2.00, reference }), 409, 'duplicate_reference');
    assert.deepEqual(sql("SELECT loan_id, amount::text FROM loan_repayments WHERE reference = :'p1'", reference), [[L.V.loanId, '200']], 'one row');
    assert.equal(sql("SELECT count(*) FROM loan_repayments WHERE loan_id = :'p1'", L.R.loanId)[0][0], '0', 'nothing on the other loan');
  });
});

// ---- 1. day 2: the cooling-off exit ----------------------------------------------------------------

describe('two days after the disbursal: the cooling-off exit', () => {
  test('loanctl cob --date runs the day-ends up to that date, prints JSON, and the business date is the day after', () => {
    const target = addDays(D0, 1);
    dayEnd(target);
    const runs = sql("SELECT business_date::text FROM cob_runs WHERE business_date BETWEEN :'p1' AND :'p2' ORDER BY 1", D0, target).map((r) => r[0]);
    assert.ok(runs.includes(target), `cob_runs: ${runs}`);
    assert.equal(businessDate(), addDays(D0, 2));
  });

  test('the borrower asks to exit on day 2: principal + 2 days\' interest at the APR (Actual/365), 100,065.75, and a payment link for it; the loan stays ACTIVE', async () => {
    const x = L.CO;
    const r = await api('POST', `/loans/${x.loanId}/cooling-off-exit`, { token: x.applicant.token, body: {} });
    assert.equal(r.status, 201, `${r.status} ${r.text}`);
    const e = r.json.exit;
    assert.equal(P(e.principal, 'exit.principal'), 10000000, 'exit.principal 100,000.00');
    assert.equal(P(e.interest, 'exit.interest'), 6575, 'exit.interest 65.75 (100,000 × 12 % × 2 / 365)');
    assert.equal(e.days_held, 2, 'exit.days_held');
    assert.equal(P(e.total, 'exit.total'), 10006575, 'exit.total 100,065.75');
    const pl = r.json.payment_link;
    assert.ok(pl && typeof pl.link_id === 'string' && typeof pl.short_url === 'string', `a payment link: ${r.text}`);
    assert.equal(P(pl.amount, 'payment_link.amount'), 10006575, 'the link is for the exit amount');
    assert.equal(pl.currency, 'INR');
    assert.deepEqual(sql("SELECT purpose, amount::text FROM loan_payment_links WHERE link_id = :'p1'", pl.link_id), [['cooling_off_exit', '10006575']]);
    assert.equal((await getLoan(x.loanId, officer.token)).state, 'ACTIVE', 'asking is not paying');
  });

  test('an officer records the exit on day 2: 100,065.75, the loan CLOSED (cooling_off_exit) on that date; then a payment is 409 loan_not_active', async () => {
    const x = L.CO;
    const vd = addDays(D0, 2);
    const body = { reference: ref('exit'), value_date: vd };
    const r = await api('POST', `/loans/${x.loanId}/cooling-off-exit`, { token: officer.token, body });
    assert.equal(r.status, 201, `${r.status} ${r.text}`);
    assert.equal(P(r.json.exit.total, 'exit.total'), 10006575, 'exit.total 100,065.75');
    assert.equal(P(r.json.exit.interest, 'exit.interest'), 6575);
    assert.equal(r.json.exit.days_held, 2);
    assert.equal(r.json.repayment.kind, 'cooling_off_exit');
    assert.equal(P(r.json.repayment.amount, 'repayment.amount'), 10006575);
    assert.equal(r.json.repayment.value_date, vd);
    assert.equal(r.json.repayment.reference, body.reference);
    const l = await getLoan(x.loanId, x.applicant.token);
    assert.equal(l.state, 'CLOSED');
    assert.equal(l.close_reason, 'cooling_off_exit');
    assert.equal(l.closed_on, vd);
    assert.equal(P(l.outstanding_principal, 'outstanding_principal'), 0);
    assert.deepEqual(sql("SELECT state, close_reason, closed_on::text FROM loans WHERE loan_id = :'p1'", x.loanId), [['CLOSED', 'cooling_off_exit', vd]]);
    assert.deepEqual(sql("SELECT kind, channel, amount::text, value_date::text FROM loan_repayments WHERE reference = :'p1'", body.reference), [['cooling_off_exit', 'officer', '10006575', vd]]);
    const again = await repay(x.loanId, { amount: 100, reference: ref('after-exit') });
    assertError(again, 409, 'loan_not_active');
    assert.match(again.text, /CLOSED/, `the 409 says the state: ${again.text}`);
    assertError(await api('POST', `/loans/${x.loanId}/cooling-off-exit`, { token: officer.token, body: { reference: ref('exit2') } }), 409, 'loan_not_active');
  });
});

// ---- 2. the first due date F1 (before its day-end) ---------------------------------------------------

describe('on the first due date', () => {
  test('the day-ends up to the day before F1 run; the business date is F1; a reminder was queued before the due date', async () => {
    reach(F(1));
    assert.equal(businessDate(), F(1));
    await expectClass(L.W.loanId, 0, 'STANDARD', 'nothing is past due before its due date\'s day-end');
    assert.ok(notesOf(L.W.app.application_id) > notesAtSetup, `a reminder for installment 1 (due ${F(1)}, reminder_days 3) in the outbox of W's application`);
    const it = await itemOf(L.W.loanId, 1);
    assert.equal(P(it.penal, 'penal'), 0, 'no penal charge before the due date\'s day-end');
  });

  test('the cooling-off days are over: 409 cooling_off_over', async () => {
    assertError(await api('POST', `/loans/${L.V.loanId}/cooling-off-exit`, { token: officer.token, body: { reference: ref('late-exit') } }), 409, 'cooling_off_over');
    const owner = await login(L.V.applicant.email, L.V.applicant.password); // a new session after the role changes of day 0
    assertError(await api('POST', `/loans/${L.V.loanId}/cooling-off-exit`, { token: owner, body: {} }), 409, 'cooling_off_over');
    assert.equal((await getLoan(L.V.loanId, officer.token)).state, 'ACTIVE');
  });

  test('an officer records the first EMI on F1: 201 with the split 1,000.00 interest + 7,884.88 principal; installment 1 paid, settled on F1; the row in loan_repayments; outstanding 92,115.12', async () => {
    const x = L.R;
    const reference = ref('emi1');
    const out = await repayOk(x.loanId, { amount: 8884.88, value_date: F(1), reference });
    const rp = out.repayment;
    assert.equal(typeof rp.repayment_id, 'string');
    assert.equal(rp.kind, 'repayment');
    assert.equal(rp.channel, 'officer');
    assert.equal(P(rp.amount, 'amount'), 888488);
    assert.equal(rp.currency, 'INR');
    assert.equal(rp.value_date, F(1));
    assert.equal(rp.reference, reference);
    assert.equal(rp.reversed, false);
    assert.deepEqual(splitOf(rp, 'repayment'), { penal: 0, fee: 0, interest: 100000, principal: 788488, credit: 0 });
    assert.equal(P(out.loan.outstanding_principal, 'loan.outstanding_principal'), 9211512, 'outstanding 92,115.12 in the answer');
    const l = await getLoan(x.loanId, x.applicant.token);
    assert.equal(P(l.outstanding_principal, 'outstanding_principal'), 9211512, 'outstanding principal 100,000.00 − 7,884.88');
    assert.equal(P(l.credit_balance, 'credit_balance'), 0);
    const it = await itemOf(x.loanId, 1);
    assert.equal(it.settled_on, F(1));
    assert.equal(it.status, 'paid');
    assert.deepEqual({ interest: P(it.paid.interest, 'paid.interest'), principal: P(it.paid.principal, 'paid.principal'), penal: P(it.paid.penal, 'paid.penal'), total: P(it.paid.total, 'paid.total') },
      { interest: 100000, principal: 788488, penal: 0, total: 888488 });
    const it2 = await itemOf(x.loanId, 2);
    assert.equal(P(it2.paid.total, 'paid.total'), 0, 'installment 2 untouched');
    assert.deepEqual(sql("SELECT kind, channel, amount::text, value_date::text, to_penal::text, to_fee::text, to_interest::text, to_principal::text, to_credit::text, reversed_at IS NULL FROM loan_repayments WHERE reference = :'p1'", reference),
      [['repayment', 'officer', '888488', F(1), '0', '0', '100000', '788488', '0', 't']]);
    assert.deepEqual(sql("SELECT outstanding_principal::text, credit_balance::text FROM loans WHERE loan_id = :'p1'", x.loanId), [['9211512', '0']]);
    assert.deepEqual(sql("SELECT paid_interest::text, paid_principal::text, settled_on::text FROM loan_installments WHERE loan_id = :'p1' AND number = 1", x.loanId), [['100000', '788488', F(1)]]);
    const list = await repaymentsOf(x.loanId, x.applicant.token);
    assert.equal(list.length, 1);
    assert.equal(list[0].repayment_id, rp.repayment_id);
    assert.deepEqual(splitOf(list[0], 'listed'), { penal: 0, fee: 0, interest: 100000, principal: 788488, credit: 0 });
    assertError(await repay(x.loanId, { amount: 8884.88, value_date: F(1), reference }), 409, 'duplicate_reference');
    assert.equal(sql("SELECT count(*) FROM loan_repayments WHERE loan_id = :'p1'", x.loanId)[0][0], '1', 'still one row');
  });

  test('the on-time borrowers pay their first EMI on F1', async () => {
    for (const role of ['Q', 'PE', 'PT', 'FC', 'R2', 'N2']) {
      if (!L[role]) continue;
      await payUpTo(L[role].loanId, F(1));
      const it = await itemOf(L[role].loanId, 1);
      assert.equal(it.settled_on, F(1), `loan ${role}: installment 1 settled on F1`);
    }
  });

  test('foreclosure on F1 after the first EMI: the quote is the outstanding principal, 92,115.12; a prepayment of it closes the loan (CLOSED, foreclosed); then a payment is 409 loan_not_active', async () => {
    const x = L.FC;
    const q = await quote(x.loanId, F(1), x.applicant.token);
    assert.equal(q.status, 200, q.text);
    assert.equal(q.json.loan_id, x.loanId);
    assert.equal(q.json.date, F(1));
    assert.equal(q.json.currency, 'INR');
    const b = q.json.breakdown;
    const bd = {};
    for (const k of ['principal', 'interest', 'dues', 'penal', 'charge', 'credit']) bd[k] = P(b?.[k], `breakdown.${k}`);
    assert.deepEqual(bd, { principal: 9211512, interest: 0, dues: 0, penal: 0, charge: 0, credit: 0 }, 'nothing accrued on the due date itself, nothing due, no charge on this product');
    assert.equal(P(q.json.payoff, 'payoff'), 9211512, 'payoff = principal + interest + dues + penal + charge − credit');
    const reference = ref('foreclose');
    const r = await prepay(x.loanId, { amount: rupees(9211512), value_date: F(1), reference });
    assert.equal(r.status, 201, `${r.status} ${r.text}`);
    assert.equal(r.json.loan.state, 'CLOSED');
    assert.equal(r.json.loan.close_reason, 'foreclosed');
    const l = await getLoan(x.loanId, x.applicant.token);
    assert.equal(l.state, 'CLOSED');
    assert.equal(l.close_reason, 'foreclosed');
    assert.equal(l.closed_on, F(1));
    assert.equal(P(l.outstanding_principal, 'outstanding_principal'), 0);
    assert.equal(P(l.credit_balance, 'credit_balance'), 0);
    assert.deepEqual(sql("SELECT state, close_reason, closed_on::text, outstanding_principal::text FROM loans WHERE loan_id = :'p1'", x.loanId), [['CLOSED', 'foreclosed', F(1), '0']]);
    assert.deepEqual(sql("SELECT kind, amount::text FROM loan_repayments WHERE reference = :'p1'", reference), [['foreclosure', '9211512']], 'a prepayment that covered the payoff is a foreclosure');
    assert.equal(r.json.repayment.kind, 'foreclosure');
    const again = await repay(x.loanId, { amount: 100, reference: ref('after-close') });
    assertError(again, 409, 'loan_not_active');
    assert.match(again.text, /CLOSED/, `the 409 says the state: ${again.text}`);
    assertError(await prepay(x.loanId, { amount: 100, reference: ref('after-close2') }), 409, 'loan_not_active');
  });

  test('a foreclosure quote with a malformed date, or one before the business date, is a 400 naming date; no date is the business date', async () => {
    const id = L.Q.loanId;
    for (const d of ['2025/01/01', 'soon', '2025-02-30', addDays(businessDate(), -1)]) assertField(await quote(id, d), 'date');
    const q = await quote(id);
    assert.equal(q.status, 200, q.text);
    assert.equal(q.json.date, businessDate());
    assertError(await quote('LOAN-20200101-ZZZZZZZZ'), 404);
  });

  test('pay by link: the borrower asks for a link (201, for what is due: 8,884.88); paying it in the sandbox records a gateway repayment (reference = the payment id) and pays installment 1', async () => {
    const x = L.PL;
    const r = await api('POST', `/loans/${x.loanId}/payment-link`, { token: x.applicant.token, body: {} });
    assert.equal(r.status, 201, `${r.status} ${r.text}`);
    const pl = r.json.payment_link;
    assert.match(String(pl?.link_id), /^plink_/, r.text);
    assert.equal(typeof pl.short_url, 'string');
    assert.ok(pl.short_url.length > 0);
    assert.equal(P(pl.amount, 'amount'), 888488, 'the amount due now: installment 1');
    assert.equal(pl.currency, 'INR');
    assert.equal(typeof pl.status, 'string');
    assert.deepEqual(sql("SELECT loan_id, purpose, amount::text FROM loan_payment_links WHERE link_id = :'p1'", pl.link_id), [[x.loanId, 'repayment', '888488']]);
    const pay = await gateway('POST', `/sandbox/payment_links/${pl.link_id}/pay`, {});
    assert.ok(pay.status >= 200 && pay.status < 300, `sandbox pay: ${pay.status} ${pay.text}`);
    const payId = idsIn(pay.json, 'pay_')[0];
    const rep = await pollUntil('the gateway repayment', async () => (await repaymentsOf(x.loanId)).find((p) => p.channel === 'gateway'), 15000);
    if (payId) assert.equal(rep.reference, payId, 'the reference is the gateway\'s payment id');
    assert.match(String(rep.reference), /^pay_/);
    assert.equal(P(rep.amount, 'amount'), 888488);
    assert.equal(rep.value_date, F(1));
    assert.deepEqual(splitOf(rep, 'gateway repayment'), { penal: 0, fee: 0, interest: 100000, principal: 788488, credit: 0 });
    const it = await itemOf(x.loanId, 1);
    assert.equal(it.settled_on, F(1));
    assert.equal(it.status, 'paid');
    assert.deepEqual(sql("SELECT channel, amount::text, payment_link_id FROM loan_repayments WHERE reference = :'p1'", rep.reference), [['gateway', '888488', pl.link_id]]);
    L.PL.payId = rep.reference;
    // An officer may ask for a link too, for an amount of their choosing.
    const o = await api('POST', `/loans/${x.loanId}/payment-link`, { token: officer.token, body: { amount: 100.50 } });
    assert.equal(o.status, 201, o.text);
    assert.equal(P(o.json.payment_link.amount, 'amount'), 10050);
    assertField(await api('POST', `/loans/${x.loanId}/payment-link`, { token: x.applicant.token, body: { amount: -5 } }), 'amount');
  });

  test('a refund in the sandbox (refund.processed) reverses the gateway repayment: installment 1 unpaid again, the principal back', async () => {
    const x = L.PL;
    assert.ok(x.payId, 'the payment of the previous test');
    const rf = await gateway('POST', `/sandbox/payments/${x.payId}/refund`, {});
    assert.ok(rf.status >= 200 && rf.status < 300, `sandbox refund: ${rf.status} ${rf.text}`);
    const rep = await pollUntil('the repayment reversed', async () => (await repaymentsOf(x.loanId)).find((p) => p.reference === x.payId && p.reversed), 15000);
    assert.ok(rep.reversed_at, 'reversed_at');
    assert.equal(typeof rep.reversal_reason, 'string');
    assert.ok(rep.reversal_reason.length > 0);
    const it = await itemOf(x.loanId, 1);
    assert.equal(it.settled_on ?? null, null);
    assert.equal(P(it.paid.total, 'paid.total'), 0);
    assert.equal(P((await getLoan(x.loanId, officer.token)).outstanding_principal, 'outstanding_principal'), LOAN_A.principal);
    assert.equal(sql("SELECT count(*) FROM loan_repayments WHERE reference = :'p1' AND reversed_at IS NOT NULL", x.payId)[0][0], '1', 'the row kept, marked reversed');
  });

  test('a payment webhook delivered twice with the same event id: applied once, the second answer {"status":"duplicate"}, one repayment row', async () => {
    const x = L.PL2;
    const cfg = await gateway('GET', '/sandbox/config');
    assert.equal(cfg.status, 200, cfg.text);
    const hook = cfg.json.webhook_url;
    assert.ok(hook, cfg.text);
    // The sandbox's deliveries go nowhere for now: this test delivers the event itself.
    await sandboxConfig({ webhook_url: 'http://127.0.0.1:9/nowhere' });
    try {
      const r = await api('POST', `/loans/${x.loanId}/payment-link`, { token: x.applicant.token, body: {} });
      assert.equal(r.status, 201, r.text);
      const linkId = r.json.payment_link.link_id;
      const pay = await gateway('POST', `/sandbox/payment_links/${linkId}/pay`, {});
      assert.ok(pay.status >= 200 && pay.status < 300, `sandbox pay: ${pay.status} ${pay.text}`);
      const ev = await pollUntil('the sandbox\'s payment.captured event', async () => {
        const e = await gateway('GET', '/sandbox/events');
        return (e.json?.items ?? []).find((i) => i.event === 'payment.captured' && String(i.body).includes(linkId))
          ?? (e.json?.items ?? []).find((i) => i.event === 'payment.captured' && idsIn(pay.json, 'pay_').some((p) => String(i.body).includes(p)));
      }, 10000);
      const payId = JSON.parse(ev.body).payload.payment.entity.id;
      const first = await deliverWebhook(ev.body, { eventId: ev.id });
      assert.equal(first.status, 200, first.text);
      assert.equal(first.json?.status, 'applied', first.text);
      const second = await deliverWebhook(ev.body, { eventId: ev.id });
      assert.equal(second.status, 200, second.text);
      assert.deepEqual(second.json, { status: 'duplicate' });
      assert.deepEqual(sql("SELECT loan_id, channel, amount::text FROM loan_repayments WHERE reference = :'p1'", payId), [[x.loanId, 'gateway', '888488']], 'one repayment');
      assert.equal((await repaymentsOf(x.loanId)).length, 1);
      assert.equal((await itemOf(x.loanId, 1)).settled_on, F(1));
    } finally {
      await sandboxConfig({ webhook_url: hook });
    }
  });
});

// ---- 3. the day-end of F1 ------------------------------------------------------------------------

describe('the day-end of the first due date', () => {
  test('the unpaid loan is 1 day past due (SMA-0) with a penal charge of 500.00 on installment 1 in its own bucket (its interest 1,000.00 and installment 2\'s 921.15 unchanged) and a notice; the loan paid on time STANDARD', async () => {
    const notes = notesOf(L.W.app.application_id);
    dayEnd(F(1));
    const l = await expectClass(L.W.loanId, 1, 'SMA-0', 'the day-end of the due date is day 1', F(1));
    assert.equal(P(l.overdue_amount, 'overdue_amount'), 888488, 'overdue_amount: installment 1 (the penal charge apart)');
    assert.equal(P(l.penal_due, 'penal_due'), 50000, 'penal_due 500.00');
    const sch = await checkPenals(L.W.loanId, L.W.schedule, 'after F1');
    assert.equal(P(sch[0].interest, 'interest'), 100000, 'installment 1 interest 1,000.00');
    assert.equal(P(sch[1].interest, 'interest'), 92115, 'installment 2 interest 921.15, not 926.15');
    assert.equal(sch[0].status, 'overdue');
    assert.deepEqual(sql("SELECT penal::text, days_past_due::text, classification, (SELECT max(business_date)::text FROM cob_runs) FROM loan_installments i JOIN loans l USING (loan_id) WHERE loan_id = :'p1' AND number = 1", L.W.loanId), [['50000', '1', 'SMA-0', F(1)]]);
    assert.deepEqual(history(L.W.loanId), [[F(1), '1', 'SMA-0']], 'a history row for the change');
    assert.ok(notesOf(L.W.app.application_id) > notes, 'a notice that the loan fell overdue, in the outbox');
    await expectClass(L.R.loanId, 0, 'STANDARD', 'paid on its due date');
    assert.equal(P((await itemOf(L.R.loanId, 1)).penal, 'penal'), 0, 'no penal charge on an installment paid on its due date');
    assert.deepEqual(history(L.R.loanId), [], 'no change, no history row');
  });

  test('running the day-end of F1 again changes nothing: no second penal charge, the same rows', async () => {
    const snap = () => ({
      run: sql("SELECT t::text FROM cob_runs t WHERE business_date = :'p1'", F(1)),
      loan: sql("SELECT days_past_due, classification, own_classification, credit_balance, outstanding_principal FROM loans WHERE loan_id = :'p1'", L.W.loanId),
      inst: sql("SELECT number, penal, paid_penal, paid_interest, paid_principal, settled_on::text FROM loan_installments WHERE loan_id = :'p1' ORDER BY number", L.W.loanId),
      penals: sql('SELECT coalesce(sum(penal), 0)::text, count(*) FILTER (WHERE penal > 0) FROM loan_installments'),
      history: sql('SELECT count(*) FROM loan_dpd_history'),
      notes: notesOf(L.W.app.application_id),
      runs: sql('SELECT count(*) FROM cob_runs'),
    });
    const before = snap();
    try { cob(['--date', F(1)]); } catch { /* refusing a date already run is fine too: it must change nothing */ }
    assert.deepEqual(snap(), before);
    assert.equal(businessDate(), addDays(F(1), 1));
  });

  test('a backdated payment (value date F1) removes the penal charge, and cob --from F1 replays the history: STANDARD, no SMA row left', async () => {
    const x = L.BK;
    await expectClass(x.loanId, 1, 'SMA-0', 'unpaid at the day-end of F1', F(1));
    assert.equal(P((await itemOf(x.loanId, 1)).penal, 'penal'), 50000, 'penal charge levied');
    const out = await repayOk(x.loanId, { amount: 8884.88, value_date: F(1), reference: ref('backdated') }, 'a backdated repayment');
    assert.deepEqual(splitOf(out.repayment, 'backdated'), { penal: 0, fee: 0, interest: 100000, principal: 788488, credit: 0 }, 'paid on its due date: no penal charge to pay');
    const it = await itemOf(x.loanId, 1);
    assert.equal(P(it.penal, 'penal'), 0, 'the penal charge is gone: the installment was paid at its due date\'s day-end');
    assert.equal(it.settled_on, F(1));
    assert.equal(P((await getLoan(x.loanId, officer.token)).penal_due, 'penal_due'), 0);
    const { out: text, json } = cob(['--from', F(1)]);
    assert.ok(json !== null, `loanctl cob --from prints JSON: ${text}`);
    await expectClass(x.loanId, 0, 'STANDARD', 'after the replay');
    assert.deepEqual(history(x.loanId).filter((h) => h[2] !== 'STANDARD'), [], 'loan_dpd_history has no SMA row for it after the replay');
    assert.equal(businessDate(), addDays(F(1), 1), 'a replay does not move the business date');
    // The others as they were.
    await expectClass(L.W.loanId, 1, 'SMA-0', 'the unpaid loan after the replay', F(1));
    await checkPenals(L.W.loanId, L.W.schedule, 'after the replay');
    assert.deepEqual(history(L.W.loanId), [[F(1), '1', 'SMA-0']]);
  });

  test('an officer reverses a payment (200): installment 1 unpaid again, the outstanding principal restored; again 409 already_reversed; no reason 400 naming reason; an unknown repayment 404', async () => {
    const x = L.R;
    const [rp] = await repaymentsOf(x.loanId);
    assert.ok(rp, 'the payment of F1');
    assertField(await reverse(x.loanId, rp.repayment_id, {}), 'reason');
    assertField(await reverse(x.loanId, rp.repayment_id, { reason: '' }), 'reason');
    assertError(await reverse(x.loanId, 'RPY-20200101-ZZZZZZZZ', { reason: 'typo' }), 404);
    assertError(await reverse(L.V.loanId, rp.repayment_id, { reason: 'wrong loan' }), 404);
    assertError(await reverse(x.loanId, rp.repayment_id, { reason: 'borrower' }, x.applicant.token), 403);
    const reason = 'cheque bounced';
    const r = await reverse(x.loanId, rp.repayment_id, { reason });
    assert.equal(r.status, 200, `${r.status} ${r.text}`);
    assert.equal(r.json.repayment.repayment_id, rp.repayment_id);
    assert.equal(r.json.repayment.reversed, true);
    assert.equal(r.json.repayment.reversal_reason, reason);
    assert.ok(r.json.repayment.reversed_at);
    assert.equal(P(r.json.loan.outstanding_principal, 'loan.outstanding_principal'), LOAN_A.principal);
    const l = await getLoan(x.loanId, officer.token);
    assert.equal(P(l.outstanding_principal, 'outstanding_principal'), LOAN_A.principal, 'outstanding principal 100,000.00 again');
    assert.equal(l.state, 'ACTIVE');
    const it = await itemOf(x.loanId, 1);
    assert.equal(it.settled_on ?? null, null, 'installment 1 not settled');
    assert.equal(P(it.paid.interest, 'paid.interest'), 0);
    assert.equal(P(it.paid.principal, 'paid.principal'), 0);
    assert.equal(it.status, 'overdue');
    assert.deepEqual(sql("SELECT amount::text, reversal_reason, reversed_at IS NOT NULL FROM loan_repayments WHERE repayment_id = :'p1'", rp.repayment_id), [['888488', reason, 't']], 'the row kept, marked');
    assert.deepEqual(sql("SELECT paid_interest::text, paid_principal::text, settled_on FROM loan_installments WHERE loan_id = :'p1' AND number = 1", x.loanId), [['0', '0', '']]);
    assertError(await reverse(x.loanId, rp.repayment_id, { reason }), 409, 'already_reversed');
    const listed = await repaymentsOf(x.loanId);
    assert.equal(listed.length, 1);
    assert.equal(listed[0].reversed, true);
    assert.equal(listed[0].reversal_reason, reason);
  });

  test('reversing an earlier payment re-applies a later one: of two EMIs paid on F1 and F1 + 1, reversing the first makes the second pay installment 1', async () => {
    const x = L.R2;
    const [a] = await repaymentsOf(x.loanId);
    assert.ok(a && a.value_date === F(1), `the EMI paid on F1: ${JSON.stringify(a)}`);
    const d2 = businessDate();
    assert.equal(d2, addDays(F(1), 1));
    const b = (await repayOk(x.loanId, { amount: 8884.88, value_date: d2, reference: ref('second') })).repayment;
    assert.equal((await itemOf(x.loanId, 1)).settled_on, F(1), 'installment 1 paid by the first');
    const r = await reverse(x.loanId, a.repayment_id, { reason: 'entered twice' });
    assert.equal(r.status, 200, r.text);
    const list = await repaymentsOf(x.loanId);
    assert.deepEqual(list.map((p) => [p.repayment_id, p.value_date, p.reversed]), [[a.repayment_id, F(1), true], [b.repayment_id, d2, false]], 'oldest value date first');
    assert.deepEqual(splitOf(list[1], 'the second payment'), { penal: 0, fee: 0, interest: 100000, principal: 788488, credit: 0 },
      'the second now pays installment 1\'s interest and principal (rbi_india: its penal charge last)');
    const it1 = await itemOf(x.loanId, 1);
    assert.equal(it1.settled_on, d2, 'installment 1 settled by the second payment, on its value date');
    assert.equal(P(it1.penal, 'penal'), 50000, 'unpaid at its due date\'s day-end after all: the penal charge is levied');
    assert.equal(P(it1.paid.penal, 'paid.penal'), 0);
    const it2 = await itemOf(x.loanId, 2);
    assert.equal(P(it2.paid.total, 'paid.total'), 0, 'installment 2 no longer paid in advance');
    assert.equal(P((await getLoan(x.loanId, officer.token)).outstanding_principal, 'outstanding_principal'), 9211512);
    assert.deepEqual(sql("SELECT to_interest::text, to_principal::text, to_penal::text FROM loan_repayments WHERE repayment_id = :'p1'", b.repayment_id), [['100000', '788488', '0']], 'the stored split is the replay\'s');
  });
});

// ---- 4. a month past due --------------------------------------------------------------------------

describe('a month past due', () => {
  test('the day-end of F1 + 29: day 30, still SMA-0', async () => {
    dayEnd(addDays(F(1), 29));
    await expectClass(L.W.loanId, 30, 'SMA-0', 'day 30');
    assert.deepEqual(history(L.W.loanId), [[F(1), '1', 'SMA-0']], 'no change, no new history row');
  });

  test('the day-end of F1 + 30: day 31, SMA-1; the penal charge of installment 1 still 500.00 once', async () => {
    const d = addDays(F(1), 30);
    dayEnd(d);
    await expectClass(L.W.loanId, 31, 'SMA-1', 'day 31', d);
    await checkPenals(L.W.loanId, L.W.schedule, 'after F1 + 30');
    assert.deepEqual(history(L.W.loanId), [[F(1), '1', 'SMA-0'], [d, '31', 'SMA-1']]);
  });

  test('the officers\' portfolio: GET /portfolio/overview has the documented keys and the five buckets; GET /portfolio/delinquency?bucket=SMA-1 lists the SMA-1 loan; a bogus bucket is a 400 naming bucket', async () => {
    const r = await api('GET', '/portfolio/overview', { token: officer.token });
    assert.equal(r.status, 200, r.text);
    const o = r.json;
    assert.match(String(o.as_of), DATE, `as_of ${o.as_of}`);
    assert.ok(o.loans_by_state && typeof o.loans_by_state === 'object' && !Array.isArray(o.loans_by_state), `loans_by_state: ${r.text}`);
    for (const [k, v] of Object.entries(o.loans_by_state)) assert.ok(Number.isInteger(v) && v >= 0, `loans_by_state.${k} ${v}`);
    assert.ok(Array.isArray(o.by_currency), `by_currency: ${r.text}`);
    const inr = o.by_currency.find((c) => c.currency === 'INR');
    assert.ok(inr, 'an INR row');
    P(inr.outstanding_principal, 'by_currency.outstanding_principal');
    P(inr.collected_this_month, 'by_currency.collected_this_month');
    assert.ok(Array.isArray(o.delinquency), `delinquency: ${r.text}`);
    assert.deepEqual(o.delinquency.map((b) => b.bucket).sort(), ['NPA', 'SMA-0', 'SMA-1', 'SMA-2', 'current'].sort());
    for (const b of o.delinquency) {
      assert.ok(Number.isInteger(b.count) && b.count >= 0, `${b.bucket}.count ${b.count}`);
      P(b.outstanding_principal, `${b.bucket}.outstanding_principal`);
    }
    assertError(await api('GET', '/portfolio/overview', { token: L.W.applicant.token }), 403);
    assertError(await api('GET', '/portfolio/overview'), 401);

    let found = null;
    let total = null;
    for (let offset = 0; !found && (total === null || offset < total) && offset < 5000; offset += 50) {
      const p = await api('GET', `/portfolio/delinquency?bucket=SMA-1&limit=50&offset=${offset}`, { token: officer.token });
      assert.equal(p.status, 200, p.text);
      assert.equal(p.json.bucket, 'SMA-1');
      assert.equal(p.json.limit, 50);
      assert.equal(p.json.offset, offset);
      assert.ok(Number.isInteger(p.json.total), `total ${p.json.total}`);
      total = p.json.total;
      for (const it of p.json.loans) {
        assert.equal(it.classification, 'SMA-1', `a loan of the SMA-1 bucket: ${JSON.stringify(it)}`);
        assert.ok(it.days_past_due >= 31 && it.days_past_due <= 60, `SMA-1 is 31–60 days: ${JSON.stringify(it)}`);
      }
      found = p.json.loans.find((it) => it.loan_id === L.W.loanId);
      if (p.json.loans.length === 0) break;
    }
    assert.ok(found, `the SMA-1 loan ${L.W.loanId} is listed (total ${total})`);
    assert.equal(found.application_id, L.W.app.application_id);
    assert.equal(found.days_past_due, 31);
    assert.equal(found.currency, 'INR');
    assert.equal(P(found.outstanding_principal, 'outstanding_principal'), LOAN_A.principal);
    P(found.overdue_amount, 'overdue_amount');
    assertField(await api('GET', '/portfolio/delinquency?bucket=bogus', { token: officer.token }), 'bucket');
    assertError(await api('GET', '/portfolio/delinquency?bucket=SMA-1', { token: L.W.applicant.token }), 403);
  });

  test('the on-time borrowers pay their second EMI on F2', async () => {
    reach(F(2));
    for (const role of ['Q', 'PE', 'PT', 'N2']) {
      if (!L[role]) continue;
      await payUpTo(L[role].loanId, F(2));
      assert.equal((await itemOf(L[role].loanId, 2)).settled_on, F(2), `loan ${role}: installment 2 settled on F2`);
      assert.equal(P((await itemOf(L[role].loanId, 2)).penal, 'penal'), 0, `loan ${role}: paid on its due date, no penal charge`);
    }
  });

  test('allocation rbi_india: with two installments due, 2,021.15 pays both interests (1,000.00 + 921.15) before 100.00 of principal, and the penal charge last', async () => {
    const x = L.AL;
    const bd = businessDate();
    const sch = await scheduleOf(x.loanId);
    assert.ok(sch[0].due_date <= bd && sch[1].due_date <= bd, `two installments due by ${bd}: ${sch[0].due_date}, ${sch[1].due_date}`);
    assert.equal(P(sch[0].penal, 'penal'), 50000, 'installment 1 carries its penal charge');
    const out = await repayOk(x.loanId, { amount: 2021.15, value_date: bd, reference: ref('alloc') });
    assert.deepEqual(splitOf(out.repayment, 'allocation'), { penal: 0, fee: 0, interest: 192115, principal: 10000, credit: 0 });
    const [i1, i2] = await scheduleOf(x.loanId);
    assert.deepEqual([P(i1.paid.interest, 'i1'), P(i1.paid.principal, 'i1'), P(i1.paid.penal, 'i1')], [100000, 10000, 0], 'installment 1: its interest, then 100.00 of principal, no penal');
    assert.deepEqual([P(i2.paid.interest, 'i2'), P(i2.paid.principal, 'i2')], [92115, 0], 'installment 2: its interest');
    assert.equal(i1.settled_on ?? null, null);
    assert.equal(P((await getLoan(x.loanId, officer.token)).outstanding_principal, 'outstanding_principal'), LOAN_A.principal - 10000);
  });
});

// ---- 5. two months past due -----------------------------------------------------------------------

describe('two months past due', () => {
  test('the day-end of F1 + 59: day 60, still SMA-1', async () => {
    dayEnd(addDays(F(1), 59));
    await expectClass(L.W.loanId, 60, 'SMA-1', 'day 60');
  });

  test('the day-end of F1 + 60: day 61, SMA-2; a penal charge once on each installment past its due date, none in the interest', async () => {
    const d = addDays(F(1), 60);
    dayEnd(d);
    await expectClass(L.W.loanId, 61, 'SMA-2', 'day 61', d);
    const sch = await checkPenals(L.W.loanId, L.W.schedule, 'after F1 + 60');
    assert.equal(P(sch[1].penal, 'penal'), 50000, 'installment 2 (due F2) has its own 500.00');
    assert.deepEqual(history(L.W.loanId).map((h) => h[2]), ['SMA-0', 'SMA-1', 'SMA-2']);
  });
});

// ---- 6. the third due date: foreclosure quote and prepayments -----------------------------------------

describe('on the third due date', () => {
  test('the on-time borrowers pay their third EMI on F3', async () => {
    reach(F(3));
    for (const role of ['Q', 'PE', 'PT', 'N2']) {
      if (!L[role]) continue;
      await payUpTo(L[role].loanId, F(3));
      assert.equal((await itemOf(L[role].loanId, 3)).settled_on, F(3), `loan ${role}: installment 3 settled on F3`);
    }
    assert.equal(P((await getLoan(L.Q.loanId, officer.token)).outstanding_principal, 'outstanding_principal'), 7610802, 'after 3 EMIs: 76,108.02');
  });

  test('the foreclosure quote of loan A 15 days after its 3rd EMI: payoff 76,483.35 = principal 76,108.02 + interest 375.33 (Actual/365)', async () => {
    const x = L.Q;
    const date = addDays(F(3), 15);
    assert.ok(date >= businessDate());
    const q = await quote(x.loanId, date, x.applicant.token);
    assert.equal(q.status, 200, q.text);
    assert.equal(q.json.loan_id, x.loanId);
    assert.equal(q.json.date, date);
    assert.equal(q.json.currency, 'INR');
    const b = {};
    for (const k of ['principal', 'interest', 'dues', 'penal', 'charge', 'credit']) b[k] = P(q.json.breakdown?.[k], `breakdown.${k}`);
    assert.deepEqual(b, { principal: 7610802, interest: 37533, dues: 0, penal: 0, charge: 0, credit: 0 });
    assert.equal(P(q.json.payoff, 'payoff'), 7648335, 'payoff 76,483.35');
    const qo = await quote(x.loanId, date, officer.token);
    assert.equal(P(qo.json.payoff, 'payoff'), 7648335, 'the officer sees the same');
    assert.equal((await getLoan(x.loanId, officer.token)).state, 'ACTIVE', 'a quote changes nothing');
  });

  test('a prepayment of 20,000.00 on F3 reducing the EMI: the 9 remaining installments 6,550.07 (the first 561.08 interest); a bad mode is a 400 naming mode', async () => {
    const x = L.PE;
    for (const mode of ['reduce', 'REDUCE_EMI', '', 7]) {
      assertField(await prepay(x.loanId, { amount: 20000, mode, value_date: F(3), reference: ref('badmode') }), 'mode');
    }
    assertField(await prepay(x.loanId, { mode: 'reduce_emi', value_date: F(3), reference: ref('noamount') }), 'amount');
    assertField(await prepay(x.loanId, { amount: 20000, mode: 'reduce_emi', value_date: F(3) }), 'reference');
    const reference = ref('prepay-emi');
    const r = await prepay(x.loanId, { amount: 20000, mode: 'reduce_emi', value_date: F(3), reference });
    assert.equal(r.status, 201, `${r.status} ${r.text}`);
    assert.equal(r.json.repayment.kind, 'prepayment');
    assert.equal(r.json.repayment.mode, 'reduce_emi');
    assert.equal(P(r.json.repayment.split.principal, 'split.principal'), 2000000, 'all of it to principal');
    assert.equal(r.json.loan.state, 'ACTIVE');
    assert.equal(P((await getLoan(x.loanId, officer.token)).outstanding_principal, 'outstanding_principal'), 5610802, '76,108.02 − 20,000.00');
    const rest = (await scheduleOf(x.loanId)).filter((it) => it.number > 3 && P(it.installment, 'installment') > 0);
    assert.equal(rest.length, 9, `9 installments remain: ${JSON.stringify(rest.map((it) => it.installment))}`);
    assert.deepEqual(rest.slice(0, 8).map((it) => P(it.installment, 'installment')), Array(8).fill(655007), 'EMI 6,550.07');
    assert.equal(P(rest[0].interest, 'interest'), 56108, 'the next period\'s interest on 56,108.02: 561.08');
    assert.equal(rest.reduce((s, it) => s + P(it.principal, 'principal'), 0), 5610802, 'the remaining principal is repaid exactly');
    assert.deepEqual(sql("SELECT kind, mode, amount::text FROM loan_repayments WHERE reference = :'p1'", reference), [['prepayment', 'reduce_emi', '2000000']]);
  });

  test('a prepayment of 20,000.00 on F3 reducing the tenure: 6 more installments of 8,884.88 and a last one of 4,948.87', async () => {
    const x = L.PT;
    const r = await prepay(x.loanId, { amount: 20000, mode: 'reduce_tenure', value_date: F(3), reference: ref('prepay-tenure') });
    assert.equal(r.status, 201, `${r.status} ${r.text}`);
    assert.equal(r.json.repayment.mode, 'reduce_tenure');
    const rest = (await scheduleOf(x.loanId)).filter((it) => it.number > 3 && P(it.installment, 'installment') > 0);
    assert.deepEqual(rest.map((it) => P(it.installment, 'installment')), [...Array(6).fill(888488), 494887], `6 × 8,884.88 then 4,948.87: ${JSON.stringify(rest.map((it) => it.installment))}`);
    assert.equal(P(rest[0].interest, 'interest'), 56108);
    assert.equal(rest.reduce((s, it) => s + P(it.principal, 'principal'), 0), 5610802);
    assert.equal(P((await getLoan(x.loanId, officer.token)).outstanding_principal, 'outstanding_principal'), 5610802);
  });
});

// ---- 7. three months past due: NPA, the borrower's other loans, and back ---------------------------------

describe('three months past due', () => {
  test('the day-end of F1 + 89: day 90, still SMA-2', async () => {
    dayEnd(addDays(F(1), 89));
    await expectClass(L.W.loanId, 90, 'SMA-2', 'day 90');
    await expectClass(L.N1.loanId, 90, 'SMA-2', 'the other unpaid loan, day 90');
  });

  test('the day-end of F1 + 90: day 91, NPA; its history SMA-0 → SMA-1 → SMA-2 → NPA on the days they changed', async () => {
    if (L.N2) await payUpTo(L.N2.loanId, businessDate());
    const d = addDays(F(1), 90);
    dayEnd(d);
    await expectClass(L.W.loanId, 91, 'NPA', 'day 91', d);
    assert.deepEqual(history(L.W.loanId), [
      [F(1), '1', 'SMA-0'], [addDays(F(1), 30), '31', 'SMA-1'], [addDays(F(1), 60), '61', 'SMA-2'], [d, '91', 'NPA'],
    ]);
    await checkPenals(L.W.loanId, L.W.schedule, 'after F1 + 90');
  });

  test('an NPA borrower\'s other loan is NPA too, whatever its own days past due', async (t) => {
    if (!L.N2) { t.skip(pairSkip ?? 'no second loan for the borrower'); return; }
    await expectClass(L.N1.loanId, 91, 'NPA', 'the unpaid loan');
    const l = await getLoan(L.N2.loanId, officer.token);
    assert.ok(l.days_past_due <= 90, `the paid-up loan's own days past due ${l.days_past_due}`);
    assert.equal(l.classification, 'NPA', 'NPA through the borrower\'s other loan');
    const [[own, cls]] = sql("SELECT own_classification, classification FROM loans WHERE loan_id = :'p1'", L.N2.loanId);
    assert.notEqual(own, 'NPA', 'its own classification is not NPA');
    assert.equal(cls, 'NPA');
    assert.equal(L.N2.applicant.user.id, L.N1.applicant.user.id, 'the same borrower');
  });

  test('the officer records everything overdue on the business date; the next day-end classifies the loan STANDARD again', async () => {
    const x = L.W;
    const bd = businessDate();
    assert.equal(bd, addDays(F(1), 91));
    const sch = await scheduleOf(x.loanId);
    let owed = 0;
    for (const it of sch) if (it.due_date <= bd) owed += P(it.installment, 'installment') + P(it.penal, 'penal') - P(it.paid.total, 'paid.total');
    const out = await repayOk(x.loanId, { amount: rupees(owed), value_date: bd, reference: ref('catch-up') }, `everything overdue (${fmt(owed)})`);
    const s = splitOf(out.repayment, 'catch-up');
    assert.equal(s.credit, 0, 'nothing left over');
    assert.equal(s.penal, sch.filter((it) => it.due_date <= bd).reduce((a, it) => a + P(it.penal, 'penal'), 0), 'the penal charges paid too');
    for (const it of await scheduleOf(x.loanId)) {
      if (it.due_date <= bd) assert.equal(it.settled_on, bd, `installment ${it.number} settled on ${bd}`);
    }
    const l = await getLoan(x.loanId, officer.token);
    assert.equal(P(l.overdue_amount, 'overdue_amount'), 0);
    assert.equal(P(l.penal_due, 'penal_due'), 0);
    dayEnd(bd);
    await expectClass(x.loanId, 0, 'STANDARD', 'all paid at the day-end', bd);
    assert.deepEqual(history(x.loanId).at(-1), [bd, '0', 'STANDARD'], 'the change back in the history');
    // The other borrower's unpaid loan is still NPA, and with it their other loan.
    await expectClass(L.N1.loanId, 92, 'NPA', 'the unpaid loan of the other borrower');
    if (L.N2) assert.equal((await getLoan(L.N2.loanId, officer.token)).classification, 'NPA');
  });
});

// ---- the classification history in the API (issue 14 §4) ---------------------------------------

describe('the classification history in GET /loans/{id}/repayments', () => {
  test('"history" is loan_dpd_history oldest first: the walking loan\'s SMA-0 → SMA-1 → SMA-2 → NPA → STANDARD, the same for its borrower; a loan never reclassified has []', async () => {
    const x = L.W;
    const want = history(x.loanId).map(([as_of, dpd, classification]) => ({ as_of, days_past_due: Number(dpd), classification }));
    assert.deepEqual(want.map((h) => h.classification), ['SMA-0', 'SMA-1', 'SMA-2', 'NPA', 'STANDARD']);
    const r = await api('GET', `/loans/${x.loanId}/repayments`, { token: officer.token });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.history, want);
    for (const h of r.json.history) {
      assert.match(h.as_of, DATE);
      assert.equal(typeof h.days_past_due, 'number');
    }
    // The borrower sees their own loan's history; another applicant not even the loan.
    const own = await api('GET', `/loans/${x.loanId}/repayments`, { token: x.applicant.token });
    assert.equal(own.status, 200, own.text);
    assert.deepEqual(own.json.history, want);
    assertError(await api('GET', `/loans/${x.loanId}/repayments`, { token: stranger.token }), 404);
    // Every loan of this file answers its rows, and [] when it has none.
    let empty = 0;
    for (const l of Object.values(L)) {
      const rows = history(l.loanId).map(([as_of, dpd, classification]) => ({ as_of, days_past_due: Number(dpd), classification }));
      const a = await api('GET', `/loans/${l.loanId}/repayments`, { token: officer.token });
      assert.equal(a.status, 200, a.text);
      assert.deepEqual(a.json.history, rows, `the history of ${l.loanId}`);
      if (rows.length === 0) empty++;
    }
    assert.ok(empty > 0, 'some loan of this file (paid on time, or closed early) was never reclassified');
  });
});
