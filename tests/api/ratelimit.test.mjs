// nginx's per-address rate limits on writes: /login, /register and /session at 5 r/s (burst 10),
// every other write at 20 r/s (burst 40); reads are not limited. Over the limit the answer is the
// API's error shape with code rate_limited and a Retry-After header. The file ends with a pause so
// that the next file starts with full buckets.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { api, assertError, sleep } from './lib.mjs';

function assertRateLimited(res) {
  const err = assertError(res, 429, 'rate_limited');
  assert.deepEqual(Object.keys(res.json), ['error']);
  assert.equal(typeof err.request_id, 'string');
  assert.ok(err.request_id.length > 0);
  assert.match(res.headers.get('content-type') || '', /^application\/json/);
  const ra = res.headers.get('retry-after');
  assert.match(ra ?? '', /^\d+$/, `Retry-After: ${ra}`);
  assert.ok(Number(ra) > 0, `Retry-After: ${ra}`);
}

async function burst(n, method, path, opts) {
  return Promise.all(Array.from({ length: n }, () => api(method, path, { ...opts, noRetry: true })));
}

// Ordinary use: one request every 300 ms; none may be rate-limited.
async function steady(method, path, opts, count = 8) {
  const statuses = [];
  for (let i = 0; i < count; i++) {
    const r = await api(method, path, { ...opts, noRetry: true });
    statuses.push(r.status);
    assert.notEqual(r.status, 429, `request ${i + 1} of a steady ${method} ${path}: ${r.text}`);
    await sleep(300);
  }
  return statuses;
}

function tally(results) {
  const t = {};
  for (const r of results) t[r.status] = (t[r.status] || 0) + 1;
  return t;
}

describe('rate limits', () => {
  after(async () => {
    await sleep(3000); // full buckets for whatever runs next
  });

  test('POST /login: a burst of 30 is cut off with 429 rate_limited; steady use afterwards is not', async () => {
    await sleep(3000); // start from a full bucket whatever ran before
    const results = await burst(30, 'POST', '/login', { body: {} });
    const limited = results.filter((r) => r.status === 429);
    assert.ok(limited.length >= 1, `no 429 in a burst of 30: ${JSON.stringify(tally(results))}`);
    for (const r of limited) assertRateLimited(r);
    // The bucket lets at least the burst through, and what passes reaches the service.
    const passed = results.filter((r) => r.status !== 429);
    assert.ok(passed.length >= 10, `only ${passed.length} passed: ${JSON.stringify(tally(results))}`);
    assert.ok(passed.length <= 20, `${passed.length} of 30 passed a 5 r/s burst 10 limit`);
    for (const r of passed) assertError(r, 400, 'validation_failed');

    // Another zone: ordinary writes are still possible right after the sign-in burst.
    const echo = await api('POST', '/__test/echo', { body: { ping: 1 }, noRetry: true });
    assert.notEqual(echo.status, 429, echo.text);

    await sleep(3000);
    await steady('POST', '/login', { body: {} });
  });

  test('POST /register and POST /session share the sign-in limit', async () => {
    await sleep(3000);
    const results = await burst(30, 'POST', '/register', { body: {} });
    const limited = results.filter((r) => r.status === 429);
    assert.ok(limited.length >= 1, `no 429 in a burst of 30: ${JSON.stringify(tally(results))}`);
    for (const r of limited) assertRateLimited(r);
    // The same bucket: /session is limited right after /register's burst.
    const s = await api('POST', '/session', { body: 'csrf=x', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, noRetry: true });
    assertRateLimited(s);
    await sleep(3000);
  });

  test('other writes: a burst of 80 to POST /__test/echo is cut off; steady use afterwards is not', async () => {
    const results = await burst(80, 'POST', '/__test/echo', { body: { hello: 'world' } });
    const limited = results.filter((r) => r.status === 429);
    assert.ok(limited.length >= 1, `no 429 in a burst of 80: ${JSON.stringify(tally(results))}`);
    for (const r of limited) assertRateLimited(r);
    const passed = results.filter((r) => r.status !== 429);
    assert.ok(passed.length >= 40, `only ${passed.length} of 80 passed a 20 r/s burst 40 limit: ${JSON.stringify(tally(results))}`);
    for (const r of passed) {
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, { received: { hello: 'world' } });
    }
    await sleep(3000);
    await steady('POST', '/__test/echo', { body: { hello: 'again' } });
  });

  test('reads are not limited: 80 concurrent GETs all succeed', async () => {
    const results = await burst(80, 'GET', '/');
    assert.deepEqual(tally(results), { 200: 80 });
    const pages = await burst(40, 'GET', '/login');
    assert.deepEqual(tally(pages), { 200: 40 });
  });
});
