// The officer dashboard's JSON endpoints: access policy, the shape and types of every response,
// that the numbers add up and agree with the database, that a new submission or decision is
// visible at once despite the Redis cache, that the numbers stay the same with Redis stopped,
// ETag / If-None-Match, and the validation of the timeline's `days`. Other test files run before
// this one and leave applications behind, so every check compares relative numbers or compares
// the endpoints with each other and with the database, never with absolute counts.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  api, assertError, sql, stack, sleep, newApplicant, newUser, adminToken, uniqueEmail,
} from './lib.mjs';

const SEED = {
  name: 'John Doe',
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

const ENDPOINTS = [
  '/dashboard/overview',
  '/dashboard/by-region',
  '/dashboard/by-country',
  '/dashboard/verification-stats',
  '/dashboard/financial-metrics',
  '/dashboard/timeline',
];

let A; // applicant
let officer;
let clerk;

const get = (path, opts = {}) => api('GET', path, { token: officer.token, ...opts });

async function getOk(path) {
  const r = await get(path);
  assert.equal(r.status, 200, `${path}: ${r.status} ${r.text}`);
  assert.match(r.headers.get('content-type') || '', /^application\/json/, path);
  return r.json;
}

// An APPROVED application (all documents, good numbers), unless overrides say otherwise.
async function submit(overrides = {}) {
  const b = { ...SEED, email: uniqueEmail('dash'), ...overrides };
  for (const k of Object.keys(b)) if (b[k] === undefined) delete b[k];
  const r = await api('POST', '/loan-application/submit', { token: clerk.token, body: b });
  assert.equal(r.status, 201, r.text);
  return r.json.application;
}
const submitApproved = async () => {
  const app = await submit();
  assert.equal(app.final_status, 'APPROVED', JSON.stringify(app));
  return app;
};
const submitPending = async () => {
  const app = await submit({ documents_uploaded: undefined, documents: undefined });
  assert.equal(app.final_status, 'PENDING', JSON.stringify(app));
  return app;
};

const isCount = (v) => Number.isInteger(v) && v >= 0;
function assertCount(obj, key, where) {
  assert.ok(isCount(obj[key]), `${where}.${key} must be a whole number >= 0, got ${JSON.stringify(obj[key])}`);
}
function assertNumber(obj, key, where) {
  assert.equal(typeof obj[key], 'number', `${where}.${key} must be a number, got ${JSON.stringify(obj[key])}`);
  assert.ok(Number.isFinite(obj[key]), `${where}.${key} finite`);
}
function assertRate(obj, key, where) {
  assertNumber(obj, key, where);
  assert.ok(obj[key] >= 0 && obj[key] <= 100, `${where}.${key} is a percentage: ${obj[key]}`);
}
// A percentage rounded to 2 decimals of num/den*100 (0 when den is 0).
function assertRounded(rate, num, den, what) {
  const exact = den === 0 ? 0 : (num / den) * 100;
  assert.ok(Math.abs(rate - exact) <= 0.005 + 1e-9, `${what}: ${rate} is not ${num}/${den}*100 = ${exact}`);
  assert.ok(Math.abs(rate * 100 - Math.round(rate * 100)) < 1e-6, `${what}: ${rate} has at most 2 decimals`);
}

const todayUTC = () => new Date().toISOString().slice(0, 10);
function addDays(ymd, n) {
  const d = new Date(`${ymd}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

// Counts straight from the database (strings → numbers).
function dbCounts() {
  const [row] = sql(`SELECT count(*),
      count(*) FILTER (WHERE final_status = 'APPROVED'),
      count(*) FILTER (WHERE final_status = 'REJECTED'),
      count(*) FILTER (WHERE final_status = 'PENDING')
    FROM loan_applications`);
  const [total, approved, rejected, pending] = row.map(Number);
  return { total, approved, rejected, pending };
}

describe('dashboard JSON endpoints', () => {
  before(async () => {
    A = await newApplicant('dash-applicant');
    officer = await newUser('officer', await adminToken());
    // Files the applications for customers (an applicant files only under the account's email,
    // one pending at a time); the officer decides them (maker-checker).
    clerk = await newUser('officer', await adminToken());
    // At least one approved, one pending application, and every cache entry invalidated by it.
    await submitApproved();
    await submitPending();
  });

  test('without a token 401 (WWW-Authenticate: Bearer), as an applicant 403, as officer and admin 200', async () => {
    const admin = await adminToken();
    for (const path of [...ENDPOINTS, '/dashboard/timeline?days=7']) {
      const none = await api('GET', path);
      assertError(none, 401);
      assert.match(none.headers.get('www-authenticate') || '', /^Bearer/i, `${path} WWW-Authenticate`);
      assertError(await api('GET', path, { token: A.token }), 403);
      assert.equal((await api('GET', path, { token: officer.token })).status, 200, path);
      assert.equal((await api('GET', path, { token: admin })).status, 200, path);
    }
  });

  test('overview: shape and types, the statuses add up to the total, approval_rate rounded to 2 decimals', async () => {
    const o = await getOk('/dashboard/overview');
    assert.deepEqual(Object.keys(o).sort(),
      ['approval_rate', 'approved', 'pending', 'rejected', 'total_applications']);
    for (const k of ['total_applications', 'approved', 'rejected', 'pending']) assertCount(o, k, 'overview');
    assertRate(o, 'approval_rate', 'overview');
    assert.ok(o.total_applications >= 2, 'our own two applications are counted');
    assert.equal(o.approved + o.rejected + o.pending, o.total_applications, JSON.stringify(o));
    assertRounded(o.approval_rate, o.approved, o.total_applications, 'approval_rate');
  });

  test('overview agrees with the database', async () => {
    await submitApproved(); // invalidates whatever an earlier file left cached
    const o = await getOk('/dashboard/overview');
    const db = dbCounts();
    assert.deepEqual(
      { total: o.total_applications, approved: o.approved, rejected: o.rejected, pending: o.pending }, db);
  });

  test('by-region: shape and types, each region adds up, regions sum to the overview', async () => {
    const o = await getOk('/dashboard/overview');
    const r = await getOk('/dashboard/by-region');
    assert.deepEqual(Object.keys(r), ['regions']);
    assert.ok(Array.isArray(r.regions) && r.regions.length >= 1, JSON.stringify(r));
    const seen = new Set();
    const sum = { total: 0, approved: 0, rejected: 0, pending: 0 };
    for (const g of r.regions) {
      assert.deepEqual(Object.keys(g).sort(), ['approved', 'pending', 'region', 'rejected', 'total'], JSON.stringify(g));
      assert.equal(typeof g.region, 'string');
      assert.ok(g.region.length > 0);
      assert.ok(!seen.has(g.region), `region ${g.region} listed once`);
      seen.add(g.region);
      for (const k of ['total', 'approved', 'rejected', 'pending']) {
        assertCount(g, k, `region ${g.region}`);
        sum[k] += g[k];
      }
      assert.equal(g.approved + g.rejected + g.pending, g.total, JSON.stringify(g));
    }
    assert.ok(seen.has('AMERICAS'), 'our applications are in AMERICAS');
    assert.equal(sum.total, o.total_applications, 'region totals sum to the overview total');
    assert.deepEqual(sum, { total: o.total_applications, approved: o.approved, rejected: o.rejected, pending: o.pending });
  });

  test('by-country: shape and types, display names with their region, totals sum to the overview', async () => {
    const o = await getOk('/dashboard/overview');
    const c = await getOk('/dashboard/by-country');
    assert.deepEqual(Object.keys(c), ['countries']);
    assert.ok(Array.isArray(c.countries) && c.countries.length >= 1, JSON.stringify(c));
    let total = 0;
    let approved = 0;
    let rejected = 0;
    for (const e of c.countries) {
      // The seed's keys; the implementation adds `pending`, which must then add up.
      for (const k of ['approved', 'country', 'region', 'rejected', 'total']) assert.ok(k in e, `${k} in ${JSON.stringify(e)}`);
      assert.deepEqual(Object.keys(e).filter((k) => !['approved', 'country', 'region', 'rejected', 'total', 'pending'].includes(k)), []);
      if ('pending' in e) {
        assertCount(e, 'pending', `country ${e.country}`);
        assert.equal(e.approved + e.rejected + e.pending, e.total, JSON.stringify(e));
      }
      assert.equal(typeof e.country, 'string');
      assert.equal(typeof e.region, 'string');
      for (const k of ['total', 'approved', 'rejected']) assertCount(e, k, `country ${e.country}`);
      assert.ok(e.approved + e.rejected <= e.total, JSON.stringify(e));
      total += e.total;
      approved += e.approved;
      rejected += e.rejected;
    }
    const us = c.countries.find((e) => e.country === 'United States');
    assert.ok(us, `"United States" (the display name, not "US") is listed: ${JSON.stringify(c.countries)}`);
    assert.equal(us.region, 'AMERICAS');
    assert.ok(us.total >= 3 && us.approved >= 2, JSON.stringify(us));
    assert.equal(total, o.total_applications, 'country totals sum to the overview total');
    assert.equal(approved, o.approved);
    assert.equal(rejected, o.rejected);
  });

  test('verification-stats: shape and types, counts agree with the database', async () => {
    await submitApproved();
    const v = await getOk('/dashboard/verification-stats');
    assert.deepEqual(Object.keys(v).sort(), ['compliance', 'eligibility', 'kyc']);
    assert.deepEqual(Object.keys(v.kyc).sort(), ['approved', 'pass_rate', 'rejected']);
    assert.deepEqual(Object.keys(v.eligibility).sort(), ['approved', 'pass_rate', 'rejected']);
    assert.deepEqual(Object.keys(v.compliance).sort(),
      ['approved', 'pass_rate', 'political_connections', 'rejected', 'senior_relatives']);
    for (const stage of ['kyc', 'compliance', 'eligibility']) {
      assertCount(v[stage], 'approved', stage);
      assertCount(v[stage], 'rejected', stage);
      assertRate(v[stage], 'pass_rate', stage);
      const [row] = sql(`SELECT count(*) FILTER (WHERE ${stage}_status = 'APPROVED'),
          count(*) FILTER (WHERE ${stage}_status = 'REJECTED'), count(*) FROM loan_applications`);
      const [dbApproved, dbRejected, dbTotal] = row.map(Number);
      assert.equal(v[stage].approved, dbApproved, `${stage}.approved`);
      assert.equal(v[stage].rejected, dbRejected, `${stage}.rejected`);
      // The spec leaves the base of pass_rate open: decided applications of the stage or all.
      const decided = dbApproved + dbRejected;
      const r = v[stage].pass_rate;
      const ok = [decided, dbTotal].some((den) => {
        const exact = den === 0 ? 0 : (dbApproved / den) * 100;
        return Math.abs(r - exact) <= 0.005 + 1e-9;
      });
      assert.ok(ok, `${stage}.pass_rate ${r} is neither ${dbApproved}/${decided} nor ${dbApproved}/${dbTotal} (x100, 2 decimals)`);
    }
    assertCount(v.compliance, 'political_connections', 'compliance');
    assertCount(v.compliance, 'senior_relatives', 'compliance');
    const [[pep, rel]] = sql(`SELECT count(*) FILTER (WHERE political_connection),
        count(*) FILTER (WHERE senior_relative) FROM loan_applications`);
    assert.equal(v.compliance.political_connections, Number(pep));
    assert.equal(v.compliance.senior_relatives, Number(rel));
  });

  test('verification-stats: a declared PEP application is counted in political_connections at once', async () => {
    const before = await getOk('/dashboard/verification-stats');
    const app = await submit({ political_connection: true });
    assert.equal(app.political_connection, true, JSON.stringify(app));
    const after = await getOk('/dashboard/verification-stats');
    assert.equal(after.compliance.political_connections, before.compliance.political_connections + 1);
  });

  test('financial-metrics: shape and types, averages over the APPROVED applications agree with the database', async () => {
    await submitApproved();
    const f = await getOk('/dashboard/financial-metrics');
    assert.deepEqual(Object.keys(f).sort(), ['average_credit_score', 'average_dti_ratio', 'average_income',
      'average_loan_amount', 'total_loan_amount']);
    for (const k of Object.keys(f)) {
      assertNumber(f, k, 'financial-metrics');
      assert.ok(f[k] >= 0, `${k} >= 0`);
    }
    const [row] = sql(`SELECT avg(credit_score), avg(dti_ratio), avg(loan_amount), sum(loan_amount), avg(income)
      FROM loan_applications WHERE final_status = 'APPROVED'`);
    const [cs, dti, avgLoan, sumLoan, income] = row.map(Number);
    assert.ok(Math.abs(f.average_credit_score - cs) <= 0.01, `average_credit_score ${f.average_credit_score} vs ${cs}`);
    assert.ok(Math.abs(f.average_dti_ratio - dti) <= 0.01, `average_dti_ratio ${f.average_dti_ratio} vs ${dti}`);
    assert.ok(Math.abs(f.average_loan_amount - avgLoan) <= 0.01, `average_loan_amount ${f.average_loan_amount} vs ${avgLoan}`);
    assert.ok(Math.abs(f.total_loan_amount - sumLoan) <= 0.005, `total_loan_amount ${f.total_loan_amount} vs ${sumLoan}`);
    assert.ok(Math.abs(f.average_income - income) <= 0.01, `average_income ${f.average_income} vs ${income}`);
  });

  test('timeline: default 30 days, exactly N consecutive days ending today (UTC), zero-filled', async () => {
    for (const [query, n] of [['', 30], ['?days=1', 1], ['?days=7', 7], ['?days=90', 90], ['?days=365', 365]]) {
      const t0 = todayUTC();
      const t = await getOk(`/dashboard/timeline${query}`);
      const t1 = todayUTC();
      assert.deepEqual(Object.keys(t), ['timeline']);
      assert.ok(Array.isArray(t.timeline), JSON.stringify(t));
      assert.equal(t.timeline.length, n, `timeline${query} has ${n} entries`);
      const last = t.timeline[n - 1].date;
      assert.ok(last === t0 || last === t1, `the last entry is today (UTC) ${t1}, got ${last}`);
      t.timeline.forEach((e, i) => {
        assert.deepEqual(Object.keys(e).sort(), ['approved', 'date', 'rejected', 'total'], JSON.stringify(e));
        assert.match(e.date, /^\d{4}-\d{2}-\d{2}$/);
        for (const k of ['total', 'approved', 'rejected']) assertCount(e, k, `timeline[${i}]`);
        assert.ok(e.approved + e.rejected <= e.total, JSON.stringify(e));
        if (i > 0) assert.equal(e.date, addDays(t.timeline[i - 1].date, 1), `consecutive days at ${i}`);
      });
    }
  });

  test('timeline agrees with the database for the last 7 days (UTC)', async () => {
    await submitApproved();
    const t = await getOk('/dashboard/timeline?days=7');
    const rows = sql(`SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), count(*),
        count(*) FILTER (WHERE final_status = 'APPROVED'), count(*) FILTER (WHERE final_status = 'REJECTED')
      FROM loan_applications GROUP BY 1`);
    const byDay = new Map(rows.map(([d, ...n]) => [d, n.map(Number)]));
    for (const e of t.timeline) {
      const [total, approved, rejected] = byDay.get(e.date) || [0, 0, 0];
      assert.deepEqual([e.total, e.approved, e.rejected], [total, approved, rejected], `day ${e.date}`);
    }
  });

  test('timeline: days outside 1..365 or not a whole number → 400 naming days', async () => {
    for (const bad of ['0', '366', '-1', 'abc', '7.5', '', '1e2', '007x', '99999999999999999999']) {
      const r = await get(`/dashboard/timeline?days=${encodeURIComponent(bad)}`);
      const err = assertError(r, 400);
      assert.ok(err.fields && typeof err.fields.days === 'string', `days=${bad}: fields.days expected: ${r.text}`);
    }
  });

  test('a submission is visible at once in every endpoint (APPROVED, then PENDING)', async () => {
    // Warm every cache entry first, so a stale cache would show.
    const o1 = await getOk('/dashboard/overview');
    const r1 = await getOk('/dashboard/by-region');
    const c1 = await getOk('/dashboard/by-country');
    const t1 = await getOk('/dashboard/timeline?days=7');
    await getOk('/dashboard/overview');

    await submitApproved();
    const o2 = await getOk('/dashboard/overview');
    assert.equal(o2.total_applications, o1.total_applications + 1, 'total +1 right after the 201');
    assert.equal(o2.approved, o1.approved + 1);
    assert.equal(o2.pending, o1.pending);
    const am = (r) => r.regions.find((g) => g.region === 'AMERICAS');
    assert.equal(am(await getOk('/dashboard/by-region')).total, am(r1).total + 1);
    const us = (c) => c.countries.find((e) => e.country === 'United States');
    const c2 = us(await getOk('/dashboard/by-country'));
    assert.equal(c2.total, us(c1).total + 1);
    assert.equal(c2.approved, us(c1).approved + 1);
    const t2 = await getOk('/dashboard/timeline?days=7');
    const today = todayUTC();
    const day = (t) => t.timeline.find((e) => e.date === today) || { total: 0, approved: 0 };
    assert.equal(day(t2).total, day(t1).total + 1);
    assert.equal(day(t2).approved, day(t1).approved + 1);

    await submitPending();
    const o3 = await getOk('/dashboard/overview');
    assert.equal(o3.total_applications, o2.total_applications + 1);
    assert.equal(o3.pending, o2.pending + 1);
    assert.equal(o3.approved, o2.approved);
  });

  test("an officer's approval and rejection are visible at once", async () => {
    const p1 = await submitPending();
    const p2 = await submitPending();
    const o1 = await getOk('/dashboard/overview');
    const f1 = await getOk('/dashboard/financial-metrics');
    const ap = await api('POST', `/loan-application/${p1.application_id}/approve`, { token: officer.token });
    assert.equal(ap.status, 200, ap.text);
    const o2 = await getOk('/dashboard/overview');
    assert.equal(o2.total_applications, o1.total_applications);
    assert.equal(o2.pending, o1.pending - 1);
    assert.equal(o2.approved, o1.approved + 1);
    const f2 = await getOk('/dashboard/financial-metrics');
    assert.ok(Math.abs(f2.total_loan_amount - (f1.total_loan_amount + SEED.loan_amount)) <= 0.005,
      `total_loan_amount ${f1.total_loan_amount} + ${SEED.loan_amount} = ${f2.total_loan_amount}`);
    const rj = await api('POST', `/loan-application/${p2.application_id}/reject`, { token: officer.token, body: { reason: 'dashboard test' } });
    assert.equal(rj.status, 200, rj.text);
    const o3 = await getOk('/dashboard/overview');
    assert.equal(o3.pending, o2.pending - 1);
    assert.equal(o3.rejected, o2.rejected + 1);
  });

  test('ETag on every endpoint; If-None-Match → 304 without a body; a new submission changes it', async () => {
    const paths = [...ENDPOINTS, '/dashboard/timeline?days=7'];
    const tags = {};
    for (const path of paths) {
      const r = await get(path);
      assert.equal(r.status, 200, r.text);
      const etag = r.headers.get('etag');
      assert.ok(etag && /^(W\/)?"[^"]+"$/.test(etag), `${path}: a quoted ETag expected, got ${etag}`);
      tags[path] = etag;
      const again = await get(path, { headers: { 'If-None-Match': etag } });
      assert.equal(again.status, 304, `${path} with If-None-Match: ${again.status} ${again.text}`);
      assert.equal(again.text, '', `${path}: a 304 has no body`);
      // nginx's gzip weakens the 200's tag (W/"x") while the bodiless 304 keeps "x": the same
      // tag under the weak comparison If-None-Match uses, so compare the opaque part only.
      const opaque = (t) => (t || '').replace(/^W\//, '');
      assert.equal(opaque(again.headers.get('etag')), opaque(etag), `${path}: the 304 repeats the ETag`);
      // Several tags and the wildcard, as clients send them.
      const list = await get(path, { headers: { 'If-None-Match': `"nope", ${etag}` } });
      assert.equal(list.status, 304, `${path} with a list of tags`);
      const other = await get(path, { headers: { 'If-None-Match': '"certainly-not-the-tag"' } });
      assert.equal(other.status, 200, `${path} with another tag`);
      assert.ok(other.json, `${path}: full body`);
    }
    await submitApproved();
    for (const path of paths) {
      const r = await get(path, { headers: { 'If-None-Match': tags[path] } });
      assert.equal(r.status, 200, `${path}: after a submission the old ETag no longer matches (${r.status})`);
      assert.ok(r.json, path);
      assert.notEqual(r.headers.get('etag').replace(/^W\//, ''), tags[path].replace(/^W\//, ''), `${path}: the ETag changed`);
    }
    // The 304 is not a way around authentication.
    const noAuth = await api('GET', '/dashboard/overview', { headers: { 'If-None-Match': tags['/dashboard/overview'] } });
    assert.equal(noAuth.status, 401);
  });

  test('Redis stopped: every endpoint answers 200 with the same numbers, a submission is still visible at once, and ETags stay honest', async () => {
    await submitApproved();
    const paths = [...ENDPOINTS, '/dashboard/timeline?days=7'];
    const withRedis = {};
    const etags = {};
    for (const p of paths) {
      const r = await get(p);
      assert.equal(r.status, 200, r.text);
      withRedis[p] = r.json;
      etags[p] = r.headers.get('etag');
    }
    stack('redis-stop');
    try {
      await sleep(300);
      for (const p of paths) {
        const r = await get(p);
        assert.equal(r.status, 200, `${p} with Redis stopped: ${r.status} ${r.text}`);
        assert.deepEqual(r.json, withRedis[p], `${p}: same numbers with Redis stopped`);
        assert.ok(r.headers.get('etag'), `${p}: ETag with Redis stopped`);
      }
      const o1 = (await get('/dashboard/overview')).json;
      await submitApproved();
      const r2 = await get('/dashboard/overview', { headers: { 'If-None-Match': etags['/dashboard/overview'] } });
      assert.equal(r2.status, 200, `with Redis stopped, the ETag from before a submission no longer matches: ${r2.status}`);
      assert.equal(r2.json.total_applications, o1.total_applications + 1, 'a submission is visible with Redis stopped');
    } finally {
      stack('redis-start');
    }
    // Back with Redis (empty after its restart): the data changed meanwhile, so the old tags do
    // not match and the numbers include the submission made while it was down.
    const end = Date.now() + 10000;
    while ((await api('GET', '/')).json?.cache !== 'ok') {
      assert.ok(Date.now() < end, 'the cache came back');
      await sleep(200);
    }
    const db = dbCounts();
    for (const p of paths) {
      const r = await get(p, { headers: { 'If-None-Match': etags[p] } });
      assert.equal(r.status, 200, `${p}: the ETag from before the outage must not match: ${r.status}`);
    }
    const o = await getOk('/dashboard/overview');
    assert.equal(o.total_applications, db.total);
    assert.equal(o.approved, db.approved);
    // And the cache works again: a submit is still visible at once.
    await submitApproved();
    assert.equal((await getOk('/dashboard/overview')).total_applications, db.total + 1);
  });

  test('a wrong method → 405 with Allow', async () => {
    const r = await api('POST', '/dashboard/overview', { token: officer.token, body: {} });
    assertError(r, 405);
    assert.match(r.headers.get('allow') || '', /GET/);
  });
});
