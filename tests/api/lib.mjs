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
