// The service foundation through nginx: health, the error shapes of the shared checks, security
// headers and the request id.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, assertError, BASE } from './lib.mjs';

describe('health', () => {
  test('GET / answers 200 with the documented shape', async () => {
    const r = await api('GET', '/');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('content-type'), 'application/json');
    assert.deepEqual(Object.keys(r.json).sort(), ['cache', 'database', 'sanctions', 'service', 'status', 'version']);
    assert.equal(r.json.status, 'ok');
    assert.equal(r.json.service, 'loanflow');
    assert.match(r.json.version, /^\d+\.\d+\.\d+/);
    assert.equal(r.json.database, 'ok');
    assert.equal(r.json.cache, 'ok');
    // The active sanctions list (the stack loads the shipped OFAC SDN list).
    assert.deepEqual(Object.keys(r.json.sanctions).sort(), ['active_lists', 'entries', 'list', 'version']);
    assert.equal(r.json.sanctions.list, 'OFAC SDN');
    assert.match(r.json.sanctions.version, /^[0-9a-f]{16}$/);
    assert.ok(r.json.sanctions.entries > 10000);
  });

  test('HEAD / answers without a body', async () => {
    const res = await fetch(BASE + '/', { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '');
  });

  test('security headers and a request id on every response', async () => {
    for (const path of ['/', '/no-such-thing', '/static/css/app.css']) {
      const r = await api('GET', path);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff', path);
      assert.equal(r.headers.get('x-frame-options'), 'DENY', path);
      assert.ok(r.headers.get('referrer-policy'), path);
      const csp = r.headers.get('content-security-policy');
      assert.match(csp, /script-src 'self'/, path);
      assert.match(csp, /style-src 'self'/, path);
      assert.match(r.headers.get('x-request-id') || '', /^[0-9a-f]{32}$/, path);
    }
  });

  test('the request id in an error body is the one in the header', async () => {
    const r = await api('GET', '/nope');
    assert.equal(r.json.error.request_id, r.headers.get('x-request-id'));
  });
});

describe('shared checks', () => {
  test('unknown path: 404 in the JSON error shape', async () => {
    assertError(await api('GET', '/definitely/not/here'), 404, 'not_found');
  });

  test('known path, wrong method: 405 with Allow', async () => {
    const r = await api('DELETE', '/');
    assertError(r, 405, 'method_not_allowed');
    assert.equal(r.headers.get('allow'), 'GET, HEAD');
    const r2 = await api('GET', '/register');
    assertError(r2, 405, 'method_not_allowed');
    assert.equal(r2.headers.get('allow'), 'POST');
  });

  test('a body that is not JSON on a JSON endpoint: 415', async () => {
    const r = await api('POST', '/__test/echo', { body: 'a=1', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    assertError(r, 415, 'unsupported_media_type');
  });

  test('malformed JSON: 400 invalid_json', async () => {
    for (const body of ['{"a":', '{"a": 1} trailing', "{'a': 1}", '[1,]', 'nul']) {
      const r = await api('POST', '/__test/echo', { body, headers: { 'Content-Type': 'application/json' } });
      assertError(r, 400, 'invalid_json');
    }
  });

  test('invalid UTF-8 in JSON: 400', async () => {
    const body = Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    const r = await api('POST', '/__test/echo', { body: new Uint8Array(body), headers: { 'Content-Type': 'application/json' } });
    const e = assertError(r, 400, 'invalid_json');
    assert.match(e.message, /UTF-8/);
  });

  test('valid JSON reaches the handler, with charset parameter allowed', async () => {
    const r = await api('POST', '/__test/echo', { body: '{"a":[1,"é"]}', headers: { 'Content-Type': 'application/json; charset=utf-8' } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.received, { a: [1, 'é'] });
  });

  test('a body over 64 KiB: 413 in the JSON shape', async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(70 * 1024) });
    const r = await api('POST', '/__test/echo', { body: big, headers: { 'Content-Type': 'application/json' } });
    assertError(r, 413, 'payload_too_large');
  });

  test('a body just under the limit is accepted', async () => {
    const body = JSON.stringify({ pad: 'x'.repeat(60 * 1024) });
    const r = await api('POST', '/__test/echo', { body, headers: { 'Content-Type': 'application/json' } });
    assert.equal(r.status, 200);
  });

  test('malformed query string escapes are refused, not guessed', async () => {
    const r = await api('GET', '/__test/sleep?ms=%zz');
    assert.ok(r.status === 400 || r.status === 200, r.text);
  });

  test('static files are served by nginx with cache headers', async () => {
    const r = await api('GET', '/static/css/app.css');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /text\/css/);
    assert.match(r.headers.get('cache-control') || '', /max-age=\d+/);
    const js = await api('GET', '/static/vendor/chart.umd.min.js');
    assert.equal(js.status, 200, 'Chart.js is copied into static/ at build time');
    assertError(await api('GET', '/static/nope.css'), 404, 'not_found');
  });

  test('gzip for text responses', async () => {
    const res = await fetch(BASE + '/static/css/app.css', { headers: { 'Accept-Encoding': 'gzip' } });
    assert.equal(res.headers.get('content-encoding'), 'gzip');
  });
});
