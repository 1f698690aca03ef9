// The route-table walk: every row of routes/routes.c (except ROUTE_TEST rows) is called by every
// kind of caller, and the answer must agree with the row's least role. The table is read from the
// source, so routes added later are covered without editing this file.
//
//   caller below the route's role: 401 without a token (303 to /login for ROUTE_PAGE rows),
//                                  403 forbidden with a token of a lower role;
//   allowed caller:                neither 401 nor 403 and below 500; 2xx for a GET without
//                                  parameters.
//
// Nobody is logged out here: routes that revoke the caller's token (/logout, /session/end) are
// called with a fresh token of their own.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { api, assertError, login, newApplicant, newUser, adminToken, ROOT } from './lib.mjs';

const ROLES = { ROLE_PUBLIC: 0, ROLE_APPLICANT: 1, ROLE_OFFICER: 2, ROLE_ADMIN: 3 };
const CALLERS = [
  { name: 'no token', level: 0 },
  { name: 'applicant', level: 1 },
  { name: 'officer', level: 2 },
  { name: 'admin', level: 3 },
];

function parseRoutes() {
  const src = readFileSync(`${ROOT}/routes/routes.c`, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  const row = /\{\s*"([A-Z]+)"\s*,\s*"([^"]+)"\s*,\s*(\w+)\s*,\s*(ROLE_\w+)\s*,\s*([^}]*?)\s*\}/g;
  const routes = [];
  for (const m of src.matchAll(row)) {
    const flags = m[5].split('|').map((f) => f.trim()).filter((f) => f && f !== '0');
    assert.ok(m[4] in ROLES, `unknown role ${m[4]} in ${m[1]} ${m[2]}`);
    routes.push({ method: m[1], path: m[2], handler: m[3], role: ROLES[m[4]], roleName: m[4], flags });
  }
  return routes;
}

const ALL_ROUTES = parseRoutes();
const ROUTES = ALL_ROUTES.filter((r) => !r.flags.includes('ROUTE_TEST'));

// A plausible value for a path parameter: ids are numbers (one that names no row, so a walk
// never changes real data), anything else a short slug.
function paramValue(name) {
  return /id$/i.test(name) ? '999999999' : 'sample';
}

// GET routes that answer 400 without a query parameter they require (a search needs a name):
// the walk calls them with one, so "2xx for a GET" still holds for everything else.
const REQUIRED_QUERY = { '/screening/search': '?name=John%20Smith' };

function concretePath(pattern) {
  return pattern.replace(/\{([^}]+)\}/g, (_, n) => paramValue(n)) + (REQUIRED_QUERY[pattern] ?? '');
}

const hasParams = (rt) => /\{[^}]+\}/.test(rt.path);
const revokes = (rt) => /logout|session_end/i.test(rt.handler) || /\/(logout|session\/end)$/.test(rt.path);

const users = {};

// Fetches a fresh anonymous CSRF pair from the sign-in page (for public forms).
async function anonCsrf() {
  const res = await api('GET', '/login');
  assert.equal(res.status, 200, res.text);
  const m = res.text.match(/<input[^>]*name="csrf"[^>]*value="([^"]*)"/);
  const c = res.headers.getSetCookie().map((s) => s.match(/^lf_csrf=([^;]*)/)).find(Boolean);
  assert.ok(m && c, 'GET /login sets lf_csrf and embeds it');
  return m[1];
}

async function tokenFor(caller, rt) {
  if (caller.level === 0) return null;
  const u = users[caller.name];
  return revokes(rt) ? login(u.email, u.password) : u.token;
}

async function call(rt, caller) {
  const opts = { headers: {} };
  const token = await tokenFor(caller, rt);
  if (token) opts.token = token;
  if (rt.method !== 'GET' && rt.method !== 'HEAD') {
    if (rt.flags.includes('ROUTE_FORM')) {
      opts.headers['Content-Type'] = 'application/x-www-form-urlencoded';
      if (rt.role === 0) {
        // An anonymous form carries the lf_csrf cookie's value.
        const csrf = await anonCsrf();
        opts.headers.Cookie = `lf_csrf=${csrf}`;
        opts.body = new URLSearchParams({ csrf }).toString();
      } else {
        opts.body = new URLSearchParams({ csrf: 'not-the-session-csrf' }).toString();
      }
    } else if (rt.flags.includes('ROUTE_JSON')) {
      opts.body = {};
    }
  }
  return api(rt.method, concretePath(rt.path), opts);
}

describe('route table', () => {
  before(async () => {
    const admin = await adminToken();
    const a = await newApplicant('walk');
    users.applicant = a;
    users.officer = await newUser('officer', admin);
    users.admin = await newUser('admin', admin);
  });

  test('routes/routes.c parses into rows', () => {
    assert.ok(ALL_ROUTES.length >= 10, `only ${ALL_ROUTES.length} rows parsed`);
    assert.ok(ROUTES.some((r) => r.method === 'GET' && r.path === '/admin/users' && r.role === 3));
    assert.ok(ROUTES.some((r) => r.method === 'POST' && r.path === '/login' && r.role === 0));
    assert.ok(!ROUTES.some((r) => r.path.startsWith('/__test/')));
  });

  for (const rt of ROUTES) {
    for (const caller of CALLERS) {
      const allowed = caller.level >= rt.role;
      const label = `${rt.method} ${rt.path} [${rt.roleName.replace('ROLE_', '').toLowerCase()}] as ${caller.name}: ${
        allowed ? 'allowed' : caller.level === 0 ? (rt.flags.includes('ROUTE_PAGE') ? '303 to /login' : '401') : '403'}`;
      test(label, async () => {
        const res = await call(rt, caller);
        const where = `${rt.method} ${concretePath(rt.path)} as ${caller.name}: ${res.status} ${res.text.slice(0, 300)}`;
        if (!allowed && caller.level === 0) {
          if (rt.flags.includes('ROUTE_PAGE')) {
            assert.equal(res.status, 303, where);
            assert.match(res.headers.get('location') || '', /^\/login(\?|$)/, where);
          } else {
            assertError(res, 401, 'unauthorized');
            assert.match(res.headers.get('www-authenticate') || '', /^Bearer\b/, where);
          }
          return;
        }
        if (!allowed) {
          if (rt.flags.includes('ROUTE_PAGE')) {
            // A page answers a signed-in user of a lower role with an HTML 403, not JSON.
            assert.equal(res.status, 403, where);
            assert.match(res.headers.get('content-type') || '', /^text\/html/, where);
            assert.match(res.text, /Not allowed/, where);
          } else {
            assertError(res, 403, 'forbidden');
          }
          return;
        }
        assert.ok(res.status < 500, where);
        assert.notEqual(res.status, 401, where);
        if (res.status === 403) {
          // A signed-in form needs the session's CSRF token, which only a page can hand out: a
          // csrf_failed 403 comes after the role check passed. Anything else is a refusal.
          assert.ok(rt.flags.includes('ROUTE_FORM') && rt.role > 0 && res.json?.error?.code === 'csrf_failed', where);
        }
        if (rt.method === 'GET' && !hasParams(rt)) {
          assert.ok(res.status >= 200 && res.status < 300, where);
        }
      });
    }
  }

  test('a method the table does not list for a path: 405 with Allow naming the listed ones', async () => {
    const byPath = new Map();
    for (const rt of ROUTES) {
      const p = concretePath(rt.path);
      if (!byPath.has(p)) byPath.set(p, new Set());
      byPath.get(p).add(rt.method);
    }
    for (const [path, methods] of byPath) {
      const other = ['DELETE', 'PUT', 'PATCH', 'POST'].find((m) => !methods.has(m));
      if (!other) continue;
      const res = await api(other, path);
      assertError(res, 405, 'method_not_allowed');
      const allow = (res.headers.get('allow') || '').split(',').map((m) => m.trim());
      for (const m of methods) assert.ok(allow.includes(m), `${other} ${path}: Allow ${allow} lacks ${m}`);
      if (methods.has('GET')) assert.ok(allow.includes('HEAD'), `${other} ${path}: Allow ${allow} lacks HEAD`);
    }
  });

  test('an unknown path: 404 not_found in the error shape, request_id as in X-Request-Id', async () => {
    for (const path of ['/no-such-route', '/admin/users/1/nothing', '/static/no-such-file.css']) {
      const res = await api('GET', path);
      const err = assertError(res, 404, 'not_found');
      assert.equal(err.request_id, res.headers.get('x-request-id'), path);
    }
  });
});
