// Shared helpers of the API tests. Everything goes through nginx at BASE_URL, the way a client
// sees the service; database assertions read the real PostgreSQL through psql.
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';

export const BASE = process.env.BASE_URL || 'http://127.0.0.1:5003';
export const ROOT = process.env.ROOT || process.cwd();
export const ADMIN = {
  email: process.env.ADMIN_EMAIL || 'admin@example.com',
  password: process.env.ADMIN_PASSWORD || 'admin12345',
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export { sleep };

// One HTTP request. body: an object (sent as JSON) or a string (sent as is).
// Returns { status, headers, text, json }. Retries only on nginx's own rate-limit 429, as a
// well-behaved client would, unless opts.noRetry is set (the rate-limit tests want to see it).
export async function api(method, path, opts = {}) {
  const headers = { ...(opts.headers || {}) };
  let body = opts.body;
  if (body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array)) {
    body = JSON.stringify(body);
    if (!headers['Content-Type']) headers['Content-Type'] = 'application/json';
  }
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(BASE + path, { method, headers, body, redirect: 'manual' });
    const text = await res.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    if (res.status === 429 && !opts.noRetry && json?.error?.code === 'rate_limited' && attempt < 20) {
      await sleep(1000);
      continue;
    }
    return { status: res.status, headers: res.headers, text, json };
  }
}

// Asserts the one error shape of the API and returns the error object.
export function assertError(res, status, code) {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  assert.ok(res.json && res.json.error, `error body expected: ${res.text}`);
  assert.equal(res.json.error.status, status);
  if (code) assert.equal(res.json.error.code, code);
  assert.equal(typeof res.json.error.message, 'string');
  return res.json.error;
}

function psql(url, query, params) {
  const args = ['-X', '-qAt', '-F', '\t', '-v', 'ON_ERROR_STOP=1', url];
  params.forEach((p, i) => args.push('-v', `p${i + 1}=${p}`));
  const out = execFileSync('psql', args, { input: query, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  return out.split('\n').filter((l) => l.length).map((l) => l.split('\t'));
}

// Runs SQL against the stack's database as the schema's owner (TEST_OWNER_DATABASE_URL, set by
// scripts/test.sh; the tests set rows up with it); returns rows as arrays of strings.
export function sql(query, ...params) {
  return psql(process.env.TEST_OWNER_DATABASE_URL || process.env.DATABASE_URL, query, params);
}

// The same as the serving role (DATABASE_URL): what the workers and loanctl may do.
export function sqlServing(query, ...params) {
  return psql(process.env.DATABASE_URL, query, params);
}

// Controls the stack for fault tests: pg-stop, pg-start, redis-stop, redis-start, reload, workers.
export function stack(cmd) {
  return execFileSync('bash', [`${ROOT}/scripts/stack.sh`, cmd], { encoding: 'utf8', env: process.env }).trim();
}

export function loanctl(args, input) {
  return execFileSync(`${ROOT}/loanctl`, args, { input: input ?? '', encoding: 'utf8', env: process.env });
}

let seq = 0;
export function uniqueEmail(tag = 'user') {
  seq += 1;
  return `${tag}.${process.pid}.${Date.now()}.${seq}@example.com`;
}

export async function login(email, password) {
  const r = await api('POST', '/login', { body: { email, password } });
  assert.equal(r.status, 200, `login of ${email} failed: ${r.text}`);
  return r.json.token;
}

// Registers an applicant and returns { email, password, token, user }.
export async function newApplicant(tag = 'applicant') {
  const email = uniqueEmail(tag);
  const password = 'correct horse 42';
  const reg = await api('POST', '/register', { body: { name: 'Test Applicant', email, password } });
  assert.equal(reg.status, 201, reg.text);
  const token = await login(email, password);
  return { email, password, token, user: reg.json.user };
}

// Creates a user of the given role through the admin API and returns { email, password, token }.
export async function newUser(role, adminToken) {
  const email = uniqueEmail(role);
  const password = 'officer pass 42';
  const r = await api('POST', '/admin/users', { token: adminToken, body: { name: `Test ${role}`, email, password, role } });
  assert.equal(r.status, 201, r.text);
  const token = await login(email, password);
  return { email, password, token, id: r.json.user.id };
}

export async function adminToken() {
  return login(ADMIN.email, ADMIN.password);
}

// Verhoeff's check digits (Aadhaar): the dihedral group D5's multiplication table, the
// position permutations and the inverses.
const VD = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
  [3, 4, 0, 1, 2, 8, 9, 5, 6, 7], [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
  [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3], [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
  [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]];
const VP = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4], [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
  [8, 9, 1, 6, 0, 4, 3, 5, 2, 7], [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
  [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8]];
const VINV = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9];

// True when a digit string ends in its correct Verhoeff check digit.
export function verhoeffValid(digits) {
  let c = 0;
  [...digits].reverse().forEach((ch, i) => { c = VD[c][VP[i % 8][Number(ch)]]; });
  return c === 0;
}

// The check digit to append to a payload.
export function verhoeffDigit(payload) {
  let c = 0;
  [...payload].reverse().forEach((ch, i) => { c = VD[c][VP[(i + 1) % 8][Number(ch)]]; });
  return VINV[c];
}

// ---- lending (issue 13): the sandbox gateway, its webhooks, one-time codes, approved loans ----

import { createHmac, randomInt as cryptoRandomInt } from 'node:crypto';

// The sandbox gateway (`loanctl gateway-sandbox`, RazorpayX-shaped) the stack started.
export const GATEWAY_URL = process.env.GATEWAY_URL || `http://127.0.0.1:${process.env.GATEWAY_PORT || 7003}`;
// The sandbox's behaviour in the test stack when nobody changed it.
export const SANDBOX_DEFAULTS = { delay_ms: 100, duplicate_rate: 0, shuffle: false };

// One request to the sandbox gateway, with the API key as HTTP basic auth. Returns
// { status, text, json }.
export async function gateway(method, path, body) {
  const user = process.env.GATEWAY_KEY_ID || 'rzp_test_loanflow';
  const headers = { Authorization: `Basic ${Buffer.from(`${user}:${process.env.GATEWAY_KEY_SECRET || ''}`).toString('base64')}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(GATEWAY_URL + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, text, json };
}

// Sets the sandbox's delivery behaviour ({delay_ms, duplicate_rate, shuffle}).
export async function sandboxConfig(cfg) {
  const r = await gateway('POST', '/sandbox/config', cfg);
  assert.ok(r.status >= 200 && r.status < 300, `POST /sandbox/config ${JSON.stringify(cfg)}: ${r.status} ${r.text}`);
  return r;
}

// The hex HMAC-SHA256 of the raw body (a string or bytes) under the webhook secret.
export function signWebhook(body, secret = process.env.GATEWAY_WEBHOOK_SECRET) {
  assert.ok(secret, 'GATEWAY_WEBHOOK_SECRET is exported to the tests');
  return createHmac('sha256', secret).update(body).digest('hex');
}

// A payout webhook body in the gateway's shape (SERVICING.md §4), as the exact string sent.
export function webhookBody({ event, payoutId, amount, status, reference, reason, createdAt }) {
  const entity = { id: payoutId, amount, status: status ?? event.replace(/^payout\./, ''), reference_id: reference };
  if (reason) {
    entity.failure_reason = reason;
    entity.status_details = { description: reason };
  }
  return JSON.stringify({
    entity: 'event', event, payload: { payout: { entity } },
    created_at: createdAt ?? Math.floor(Date.now() / 1000),
  });
}

// Delivers a webhook to the service as the gateway would: raw body, its signature, its event id.
// opts.signature overrides the signature (null: no signature header); opts.eventId: null = none.
export async function deliverWebhook(body, opts = {}) {
  const headers = { 'Content-Type': 'application/json' };
  const sig = opts.signature === undefined ? signWebhook(body) : opts.signature;
  if (sig !== null) headers['X-Razorpay-Signature'] = sig;
  if (opts.eventId !== null && opts.eventId !== undefined) headers['X-Razorpay-Event-Id'] = opts.eventId;
  return api('POST', '/webhooks/gateway', { body, headers });
}

export function newEventId() {
  return `evt_lt${Date.now().toString(36)}${cryptoRandomInt(1e9).toString(36)}`;
}

// Polls fn until it returns something truthy; fails with what after ms.
export async function pollUntil(what, fn, ms = 10000, every = 100) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > end) assert.fail(`${what}: not within ${ms} ms`);
    await sleep(every);
  }
}

// loanctl against this stack's env file (STACK_DIR), never a development stack's var/stack.env.
export function loanctlStack(args, input) {
  const env = process.env.STACK_DIR ? { ...process.env, LOANFLOW_STACK_ENV: `${process.env.STACK_DIR}/stack.env` } : process.env;
  return execFileSync(`${ROOT}/loanctl`, args, { input: input ?? '', encoding: 'utf8', env, stdio: ['pipe', 'pipe', 'pipe'] });
}

// The last one-time code sent to phone (`loanctl otp last`), waiting for it to arrive; with
// opts.not, waits for a code other than that one (a new code after accepting again).
export async function otpFor(phone, opts = {}) {
  const ms = opts.timeoutMs ?? 10000;
  const end = Date.now() + ms;
  let seen = '';
  for (;;) {
    let out = '';
    try {
      out = loanctlStack(['otp', 'last', '--phone', phone]).trim();
    } catch (e) {
      seen = `exit ${e.status}: ${String(e.stdout || '')}${String(e.stderr || e.message)}`.trim();
    }
    if (out) seen = out;
    if (/^\d{6}$/.test(out) && out !== opts.not) return out;
    if (Date.now() > end) assert.fail(`no ${opts.not ? 'new ' : ''}one-time code for ${phone} within ${ms} ms (loanctl otp last: ${JSON.stringify(seen)})`);
    await sleep(150);
  }
}

// Priya Sharma of the eKYC sandbox (docs/ekyc.md): every check verified, CIBIL 782 (limit
// 500,000), her own bank account. Only a PENDING application blocks her PAN, so an approved Priya
// can apply again.
export const PRIYA = {
  name: 'Priya Sharma', aadhaar: '234567890124', pan: 'ABCPS1234K', date_of_birth: '1990-04-12',
  bank_account: { account_number: '50100234567890', ifsc: 'HDFC0001234', holder_name: 'Priya Sharma' },
};

// A phone number nobody else in the run has, so its one-time codes are its own.
export function uniqueIndianPhone() {
  return `+9198${String(cryptoRandomInt(1e8)).padStart(8, '0')}`;
}

// Priya's submission under the applicant's own email; overrides replace fields, undefined removes.
export function priyaBody(email, overrides = {}) {
  const b = {
    ...PRIYA, bank_account: { ...PRIYA.bank_account }, email, phone: uniqueIndianPhone(),
    region: 'APAC', country: 'India', income: 1200000, debt: 100000, credit_score: 760,
    loan_amount: 150000, loan_purpose: 'Car', documents_uploaded: true,
    documents: ['ID_Proof', 'Income_Statement', 'Address_Proof'], ...overrides,
  };
  for (const k of Object.keys(b)) if (b[k] === undefined) delete b[k];
  return b;
}

// A new applicant who submits Priya's application themselves; returns { applicant, body, app }
// whatever the decision.
export async function lendingApplication(overrides = {}, tag = 'lending') {
  const applicant = await newApplicant(tag);
  const body = priyaBody(applicant.email, overrides);
  const r = await api('POST', '/loan-application/submit', { token: applicant.token, body });
  assert.equal(r.status, 201, `submit: ${r.status} ${r.text}`);
  return { applicant, body, phone: body.phone, app: r.json.application };
}

// The same, asserting the application was APPROVED at submission.
export async function approvedApplication(overrides = {}, tag = 'lending') {
  const x = await lendingApplication(overrides, tag);
  assert.equal(x.app.final_status, 'APPROVED', `expected an APPROVED application: ${JSON.stringify(x.app)}`);
  return x;
}

// Accepts the offer of an application and signs the agreement with the code sent to the phone;
// returns { accept, sign, code } (the two answers' bodies).
export async function acceptAndSign(applicant, applicationId, phone) {
  const acc = await api('POST', `/loan-application/${applicationId}/offer/accept`, { token: applicant.token, body: {} });
  assert.equal(acc.status, 201, `accept: ${acc.status} ${acc.text}`);
  const code = await otpFor(phone);
  const sig = await api('POST', `/agreements/${acc.json.agreement_id}/sign`, { token: applicant.token, body: { otp: code } });
  assert.equal(sig.status, 201, `sign: ${sig.status} ${sig.text}`);
  return { accept: acc.json, sign: sig.json, code };
}

// An approved application of Priya's, accepted and signed: a loan AWAITING_DISBURSAL.
// Returns { applicant, body, phone, app, accept, sign, loanId }.
export async function signedLoan(overrides = {}, tag = 'lending') {
  const x = await approvedApplication(overrides, tag);
  const s = await acceptAndSign(x.applicant, x.app.application_id, x.phone);
  return { ...x, ...s, loanId: s.sign.loan_id };
}

// The loan as token sees it (asserting 200).
export async function getLoan(loanId, token) {
  const r = await api('GET', `/loans/${loanId}`, { token });
  assert.equal(r.status, 200, `GET /loans/${loanId}: ${r.status} ${r.text}`);
  return r.json.loan;
}

// Integer minor units of a decimal amount in the JSON.
export const paise = (x) => Math.round(Number(x) * 100);

// ---- servicing (issue 14): active loans on SERVICING's terms, the day-end, business dates ----

// SERVICING.md's loan A: 100,000.00 at 12 % for 12 months, no fee (paise, basis points).
export const LOAN_A = { principal: 10000000, rateBps: 1200, tenure: 12, emi: 888488 };

// num/den rounded half-even (BigInt, den > 0).
function divHalfEvenBig(num, den) {
  const neg = num < 0n;
  const n = neg ? -num : num;
  const q = n / den;
  const twice = 2n * (n % den);
  const v = twice > den || (twice === den && q % 2n === 1n) ? q + 1n : q;
  return neg ? -v : v;
}

// The EMI in paise of principal (paise) at bps for n months (SERVICING.md §2), exact.
export function emiPaise(principal, bps, n) {
  const P = BigInt(principal);
  if (bps === 0) return Number(divHalfEvenBig(P, BigInt(n)));
  const d = 120000n;
  const an = (d + BigInt(bps)) ** BigInt(n);
  const dn = d ** BigInt(n);
  return Number(divHalfEvenBig(P * BigInt(bps) * an, d * (an - dn)));
}

// An amount in paise as the JSON number the API takes (788488 → 7884.88).
export const rupees = (p) => p / 100;

// A calendar date (YYYY-MM-DD) plus n days.
export function addDays(date, n) {
  return new Date(Date.parse(`${date}T00:00:00Z`) + n * 86400000).toISOString().slice(0, 10);
}

// The stack's business date (business_date() in SQL: India's date or the day after the last
// day-end, whichever is later).
export function businessDate() {
  return sql('SELECT business_date()::text')[0][0];
}

// Runs `loanctl cob ARGS…` against the test stack; returns { out, json } (json: the printed JSON,
// one object, or an array of the objects of a line each; null when nothing parses). Throws an
// assertion with the output when it exits non-zero.
export function cob(args) {
  let out;
  try {
    out = loanctlStack(['cob', ...args]);
  } catch (e) {
    assert.fail(`loanctl cob ${args.join(' ')}: exit ${e.status}: ${String(e.stdout || '')}${String(e.stderr || e.message)}`);
  }
  let json = null;
  try {
    json = JSON.parse(out);
  } catch {
    try { json = out.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l)); } catch { json = null; }
  }
  return { out, json };
}

// A loan ACTIVE on given terms: an approved application of Priya's (a new applicant's, or
// opts.applicant's own: a second loan of the same borrower), accepted and signed; its terms set as
// the schema owner BEFORE the disbursal (so the schedule fixed at activation is built from them);
// disbursed by opts.officers[0] (and officers[1] when the loan needs four eyes); ACTIVE once the
// sandbox's payout.processed arrived. Amounts in paise. Returns
// { applicant, body, phone, app, accept, sign, loanId, loan, schedule }.
export async function activeLoan(opts = {}) {
  const {
    officers, principal = LOAN_A.principal, rateBps = LOAN_A.rateBps, tenure = LOAN_A.tenure,
    fee = 0, feeTax = 0, aprBps = rateBps, applicant, overrides = {}, tag = 'servicing',
  } = opts;
  assert.ok(Array.isArray(officers) && officers.length >= 1, 'activeLoan: officers [{token}, …]');
  let x;
  if (applicant) {
    const body = priyaBody(applicant.email, { loan_amount: principal / 100, ...overrides });
    const r = await api('POST', '/loan-application/submit', { token: applicant.token, body });
    assert.equal(r.status, 201, `submit (a further loan of the same applicant): ${r.status} ${r.text}`);
    assert.equal(r.json.application.final_status, 'APPROVED', `a further application of the same applicant APPROVED: ${r.text}`);
    const s = await acceptAndSign(applicant, r.json.application.application_id, body.phone);
    x = { applicant, body, phone: body.phone, app: r.json.application, ...s, loanId: s.sign.loan_id };
  } else {
    x = await signedLoan({ loan_amount: principal / 100, ...overrides }, tag);
  }
  const emi = emiPaise(principal, rateBps, tenure);
  const set = sql(`UPDATE loans SET principal = :'p2', rate_bps = :'p3', tenure_months = :'p4', emi = :'p5',
                     fee = :'p6', fee_tax = :'p7', net_disbursed = :'p8', apr_bps = :'p9',
                     outstanding_principal = :'p2'
                   WHERE loan_id = :'p1' AND state = 'AWAITING_DISBURSAL' RETURNING loan_id`,
  x.loanId, principal, rateBps, tenure, emi, fee, feeTax, principal - fee - feeTax, aprBps);
  assert.equal(set.length, 1, `the terms of ${x.loanId} set before its disbursal`);
  const d1 = await api('POST', `/loans/${x.loanId}/disburse`, { token: officers[0].token, body: {} });
  assert.equal(d1.status, 202, `disburse: ${d1.status} ${d1.text}`);
  if (d1.json?.loan?.state === 'AWAITING_DISBURSAL' && d1.json?.disbursal?.required === 2) {
    assert.ok(officers[1], 'a second officer for a four-eyes disbursal');
    const d2 = await api('POST', `/loans/${x.loanId}/disburse`, { token: officers[1].token, body: {} });
    assert.equal(d2.status, 202, `disburse (second officer): ${d2.status} ${d2.text}`);
  }
  let seen;
  const loan = await pollUntil(`loan ${x.loanId} ACTIVE`, async () => {
    seen = await getLoan(x.loanId, officers[0].token);
    return seen.state === 'ACTIVE' ? seen : null;
  }, 30000).catch((e) => { e.message += ` (last seen: ${JSON.stringify(seen)})`; throw e; });
  const s = await api('GET', `/loans/${x.loanId}/schedule`, { token: officers[0].token });
  assert.equal(s.status, 200, `GET schedule: ${s.status} ${s.text}`);
  return { ...x, loan, schedule: s.json.schedule };
}
