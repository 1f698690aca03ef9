// Faults: a worker killed, PostgreSQL and Redis stopped and started, SIGHUP and SIGTERM while
// requests run. The stack is left running and healthy at the end of every test.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { api, assertError, stack, sleep, ADMIN, newApplicant, uniqueEmail } from './lib.mjs';

async function waitHealthy(ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const r = await api('GET', '/').catch(() => ({ status: 0 }));
    if (r.status === 200 && r.json?.database === 'ok') return r;
    if (Date.now() > end) assert.fail(`not healthy: ${r.status} ${r.text}`);
    await sleep(100);
  }
}

const workers = () => stack('workers').split(/\s+/).filter(Boolean).map(Number);

describe('faults', () => {
  after(async () => { await waitHealthy(); });

  test('kill -9 of a worker: the pool replaces it and later requests succeed', async () => {
    const before = workers();
    assert.ok(before.length >= 2, `workers: ${before}`);
    const victim = before[0];
    let killed = false;
    const statuses = [];
    for (let i = 0; i < 300; i++) {
      if (i === 50) { execFileSync('kill', ['-9', String(victim)]); killed = true; }
      statuses.push((await api('GET', '/')).status);
    }
    assert.ok(killed);
    await sleep(1200);
    const now = workers();
    assert.ok(!now.includes(victim), 'the killed worker is gone');
    assert.equal(now.length, before.length, 'the pool is back to full size');
    // Everything after the kill settles is served.
    for (let i = 0; i < 100; i++) assert.equal((await api('GET', '/')).status, 200);
    const failures = statuses.filter((s) => s !== 200).length;
    assert.ok(failures <= 1, `at most the request in the killed worker may fail, got ${failures}`);
  });

  test('PostgreSQL down: health 503 degraded, database routes 503, then back without a restart', async () => {
    stack('pg-stop');
    try {
      await sleep(1100); // health is re-checked at most once a second
      let r;
      for (let i = 0; i < 20; i++) {
        r = await api('GET', '/');
        if (r.status === 503) break;
        await sleep(200);
      }
      assert.equal(r.status, 503, r.text);
      assert.equal(r.json.status, 'degraded');
      assert.equal(r.json.database, 'down');
      const d = await api('GET', '/__test/db');
      assertError(d, 503, 'database_unavailable');
      const login = await api('POST', '/login', { body: { email: 'nobody@example.com', password: 'whatever1' } });
      assert.equal(login.status, 503, login.text);
      assert.equal(login.json.error.status, 503);
    } finally {
      stack('pg-start');
    }
    await waitHealthy();
    // The first transaction of every worker after the restart succeeds: a BEGIN on the
    // connection the server dropped is retried on a fresh one, not answered with a 503.
    // Concurrent requests, so that nginx spreads them over every worker.
    const n = workers().length;
    const tx = [];
    for (let round = 0; round < 3; round++) {
      const batch = await Promise.all(Array.from({ length: 2 * n }, () => api('GET', '/__test/tx')));
      tx.push(...batch.map((r) => r.status));
    }
    assert.deepEqual(tx.filter((s) => s !== 200), [], `statuses: ${tx}`);
    // Every worker reconnects on its next request.
    for (let i = 0; i < 20; i++) assert.equal((await api('GET', '/__test/db')).status, 200);
  });

  test('Redis down: health stays 200 and reports the cache down', async () => {
    const token = (await api('POST', '/login', { body: { email: ADMIN.email, password: ADMIN.password } })).json.token;
    stack('redis-stop');
    try {
      await sleep(1100);
      let r;
      for (let i = 0; i < 20; i++) {
        r = await api('GET', '/');
        if (r.json?.cache === 'down') break;
        await sleep(200);
      }
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.cache, 'down');
      assert.equal(r.json.database, 'ok');
      // Tokens are checked against PostgreSQL, which also records a logout: Redis is not needed.
      const list = await api('GET', '/admin/users?limit=1', { token });
      assert.equal(list.status, 200, list.text);
      assert.equal((await api('POST', '/logout', { token })).status, 200, 'a logout without Redis');
      assertError(await api('GET', '/admin/users?limit=1', { token }), 401);
    } finally {
      stack('redis-start');
    }
    const end = Date.now() + 10000;
    for (;;) {
      const r = await api('GET', '/');
      if (r.json?.cache === 'ok') break;
      assert.ok(Date.now() < end, 'cache came back');
      await sleep(200);
    }
  });

  test('SIGHUP replaces every worker without a failed request', async () => {
    const before = workers();
    let stop = false;
    const statuses = [];
    const loop = (async () => {
      while (!stop) statuses.push((await api('GET', '/')).status);
    })();
    await sleep(200);
    stack('reload');
    const end = Date.now() + 20000;
    for (;;) {
      await sleep(200);
      const now = workers();
      if (now.length === before.length && now.every((p) => !before.includes(p))) break;
      assert.ok(Date.now() < end, `workers not all replaced: before ${before}, now ${now}`);
    }
    await sleep(300);
    stop = true;
    await loop;
    assert.ok(statuses.length > 50, `requests made during the reload: ${statuses.length}`);
    assert.deepEqual(statuses.filter((s) => s !== 200), [], 'no request failed');
  });

  test('REVIEW_MODE=manual: every submission waits for an officer, whose approval runs the checks', async () => {
    stack('app-term');
    stack('app-wait');
    process.env.REVIEW_MODE = 'manual';
    try {
      stack('app-start');
    } finally {
      delete process.env.REVIEW_MODE;
    }
    try {
      await waitHealthy();
      const applicant = await newApplicant('manual');
      const body = {
        name: 'John Doe', email: applicant.email, phone: '+1234567890', region: 'AMERICAS',
        country: 'United States', income: 85000, debt: 25000, credit_score: 720, loan_amount: 250000,
        documents_uploaded: true, documents: ['ID_Proof', 'Income_Statement', 'Address_Proof'],
      };
      const r = await api('POST', '/loan-application/submit', { token: applicant.token, body });
      assert.equal(r.status, 201, r.text);
      const officer = (await api('POST', '/login', { body: { email: ADMIN.email, password: ADMIN.password } })).json.token;
      assert.equal(r.json.application.final_status, 'PENDING', 'the applicant sees it wait');
      // Why it waits is for officers (the applicant's document shows no such flag).
      const app = (await api('GET', `/loan-application/status/${r.json.application.application_id}`, { token: officer })).json.application;
      assert.equal(app.final_status, 'PENDING', 'waits although every stage passed');
      assert.equal(app.eligibility_status, 'APPROVED');
      assert.ok(app.review_flags.includes('manual_review'), JSON.stringify(app.review_flags));
      const ok = await api('POST', `/loan-application/${app.application_id}/approve`, { token: officer });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.json.application.final_status, 'APPROVED');
      // A submission that fails a hard rule also waits, and its approval is refused.
      const bad = await api('POST', '/loan-application/submit', { token: applicant.token, body: { ...body, credit_score: 600 } });
      assert.equal(bad.json.application.final_status, 'PENDING');
      const refused = await api('POST', `/loan-application/${bad.json.application.application_id}/approve`, { token: officer });
      assertError(refused, 409, 'hard_rules_failed');
    } finally {
      stack('app-term');
      stack('app-wait');
      stack('app-start');
      await waitHealthy();
    }
  });

  test('SIGTERM during a slow request: that request completes, then the master stops', async () => {
    const slow = api('GET', '/__test/sleep?ms=1500');
    await sleep(300);
    stack('app-term');
    const r = await slow;
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.slept_ms, 1500);
    stack('app-wait');
    stack('app-start');
    await waitHealthy();
  });
});
