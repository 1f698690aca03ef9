// Issue 11 ("Security: close what an adversarial review found"), the deployment items: each
// describe block is named after its item. Through nginx where the item is a response; through
// the stack's own PostgreSQL and Redis where it is a privilege; by rendering the nginx template
// and parsing docker-compose.yml where it is configuration (there is no Docker engine here, so
// the compose file is checked by reading it, not by running it).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api } from './lib.mjs';

describe('issue 11 item 5: header injection through the redirect to /login', () => {
  test('GET /applications/x%0d%0aSet-Cookie:%20evil=1 answers a 303 without Set-Cookie: evil=1', async () => {
    const r = await api('GET', '/applications/x%0d%0aSet-Cookie:%20evil=1');
    assert.equal(r.status, 303, r.text);
    assert.equal(r.headers.get('set-cookie'), null, 'no cookie is set by a path');
    const loc = r.headers.get('location');
    assert.doesNotMatch(loc, /[\r\n]/);
    assert.equal(loc, '/login?next=/applications/x%0D%0ASet-Cookie%3A%20evil%3D1');
  });

  test('other control bytes and query characters in the path are percent-encoded in next', async () => {
    const r = await api('GET', '/applications/a%09b%3Fc%26d%0a');
    assert.equal(r.status, 303, r.text);
    assert.equal(r.headers.get('location'), '/login?next=/applications/a%09b%3Fc%26d%0A');
  });

  test('the login page reads next back and refuses the control bytes (falls back to /dashboard)', async () => {
    const r = await api('GET', '/login?next=/applications/x%0D%0ASet-Cookie%3A%20evil%3D1');
    assert.equal(r.status, 200);
    assert.doesNotMatch(r.headers.get('set-cookie') || '', /evil/);
    assert.match(r.text, /name="next" value="\/dashboard"/);
  });

  test('an ordinary page still redirects to /login with its path in next', async () => {
    const r = await api('GET', '/dashboard');
    assert.equal(r.status, 303);
    assert.equal(r.headers.get('location'), '/login?next=/dashboard');
  });
});
