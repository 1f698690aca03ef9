// Issue 11 ("Security: close what an adversarial review found"), the deployment items: each
// describe block is named after its item. Through nginx where the item is a response; through
// the stack's own PostgreSQL and Redis where it is a privilege; by rendering the nginx template
// and parsing docker-compose.yml where it is configuration (there is no Docker engine here, so
// the compose file is checked by reading it, not by running it).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, ROOT, sql, sqlServing } from './lib.mjs';

// The psql error output of a statement that must fail, run as the serving role.
function servingError(query) {
  try {
    sqlServing(query);
  } catch (e) {
    return String(e.stderr);
  }
  assert.fail(`as the serving role, this succeeded: ${query}`);
}

const dbUrl = new URL(process.env.DATABASE_URL);
const servingRole = dbUrl.searchParams.get('user') || decodeURIComponent(dbUrl.username);

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

describe('issue 11 item 4: docker-compose defaults (no default secret, production, loopback)', () => {
  const compose = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
  const lines = compose.split('\n').filter((l) => !/^\s*#/.test(l));
  const text = lines.join('\n');
  const secrets = ['JWT_SECRET', 'PII_KEY', 'ADMIN_PASSWORD', 'DB_PASSWORD', 'DB_OWNER_PASSWORD', 'DB_SUPERUSER_PASSWORD',
    'SIGNING_KEY', 'GATEWAY_KEY_SECRET', 'GATEWAY_WEBHOOK_SECRET'];

  test('every secret is required (${VAR:?message naming it}) and has no default anywhere', () => {
    for (const name of secrets) {
      const uses = [...text.matchAll(new RegExp(`\\$\\{${name}(?![A-Z0-9_])(:?[-?+=])?([^}]*)\\}`, 'g'))];
      assert.ok(uses.length > 0, `${name} is used`);
      for (const [all, op, msg] of uses) {
        assert.equal(op, ':?', `${all}: ${name} must be required, not defaulted`);
        assert.match(msg, new RegExp(`^${name} must be set`), `${all}: the message names ${name}`);
      }
    }
    // No literal secret: any key named like a secret takes its value from a required variable.
    for (const l of lines) {
      const m = l.match(/^\s*([A-Z_]*(SECRET|PASSWORD|PII_KEY)[A-Z_]*):\s*(.*)$/);
      if (!m || m[1] === 'PII_KEY_PREVIOUS') continue;
      assert.match(m[3], /^\$\{[A-Z_]+:\?[^}]+\}$/, `${m[1]} has a value of its own: ${l.trim()}`);
    }
    assert.doesNotMatch(text, /dev-only|change-me|admin12345/);
    // The database URLs carry only the required passwords.
    for (const m of text.matchAll(/postgresql:\/\/[^:]+:([^@]+)@/g))
      assert.match(m[1], /^\$\{DB_(OWNER_)?PASSWORD:\?[^}]+\}$/, m[0]);
  });

  test('APP_ENV defaults to production; COOKIE_SECURE is not forced to 0', () => {
    assert.match(text, /^\s*APP_ENV: \$\{APP_ENV:-production\}\s*$/m);
    const cookie = text.match(/^\s*COOKIE_SECURE:(.*)$/m);
    if (cookie) assert.match(cookie[1].trim(), /^(\$\{COOKIE_SECURE(:-)?\}|)$/, 'COOKIE_SECURE is passed only when set');
    // Production refuses the sandbox providers: the defaults must let production start.
    assert.doesNotMatch(text, /PROVIDER:\s*\$\{[A-Z_]+:-sandbox\}/);
  });

  test('port 5003 is published on the loopback interface only', () => {
    const ports = [...text.matchAll(/^\s*-\s*"?([0-9.:${}A-Z_-]+)"?\s*$/gm)].map((m) => m[1]).filter((p) => /\d+:\d+$/.test(p));
    assert.ok(ports.length >= 1, 'a published port');
    for (const p of ports) assert.match(p, /^127\.0\.0\.1:/, `published on loopback: ${p}`);
  });

  test('the application connects as a non-superuser serving role; migrations as the owner', () => {
    assert.match(text, /^\s*POSTGRES_USER: postgres\s*$/m);
    assert.match(text, /^\s*DATABASE_URL: postgresql:\/\/loanflow:/m);
    assert.match(text, /^\s*MIGRATE_DATABASE_URL: postgresql:\/\/loanflow_owner:/m);
    assert.match(text, /scripts\/db-init\.sh:\/docker-entrypoint-initdb\.d\//);
    const init = readFileSync(join(ROOT, 'scripts/db-init.sh'), 'utf8');
    assert.match(init, /CREATE ROLE loanflow LOGIN NOSUPERUSER/);
    assert.match(init, /CREATE ROLE loanflow_owner LOGIN NOSUPERUSER/);
  });

  test('Redis in compose persists nothing', () => {
    const cmd = text.match(/^\s*command: \[("redis-server".*)\]\s*$/m);
    assert.ok(cmd, 'redis command');
    assert.match(cmd[1], /"--save", ""/);
    assert.match(cmd[1], /"--appendonly", "no"/);
    assert.doesNotMatch(text, /redisdata/);
  });
});

describe('issue 11 (low): the serving role cannot tamper with the append-only tables', () => {
  test('the serving role is not a superuser and owns nothing', () => {
    assert.deepEqual(sqlServing("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user"), [[servingRole, 'f']]);
    assert.notEqual(servingRole, 'loanflow_owner');
    assert.deepEqual(sqlServing(`SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)`), [['0']]);
    assert.deepEqual(sqlServing("SELECT d.datdba = r.oid FROM pg_database d, pg_roles r WHERE d.datname = current_database() AND r.rolname = current_user"), [['f']]);
  });

  test('UPDATE audit_events, DELETE FROM approval_logs, ALTER TABLE … DISABLE TRIGGER ALL fail as the serving role', () => {
    const [[id]] = sql('SELECT max(id) FROM audit_events');
    assert.match(servingError(`UPDATE audit_events SET action = 'tampered' WHERE id = ${Number(id)}`), /permission denied for table audit_events/);
    assert.match(servingError('DELETE FROM approval_logs'), /permission denied for table approval_logs/);
    assert.match(servingError('ALTER TABLE audit_events DISABLE TRIGGER ALL'), /must be owner of table audit_events/);
    assert.match(servingError('ALTER TABLE approval_logs DISABLE TRIGGER ALL'), /must be owner of table approval_logs/);
    assert.match(servingError('TRUNCATE audit_events'), /permission denied for table audit_events/);
    assert.match(servingError('DELETE FROM audit_events'), /permission denied for table audit_events/);
    assert.match(servingError("UPDATE approval_logs SET reason = 'changed'"), /permission denied for table approval_logs/);
    assert.match(servingError('DROP TABLE audit_events'), /must be owner of table audit_events/);
    assert.match(servingError('CREATE TABLE x_probe (x int)'), /permission denied for schema public/);
    assert.match(servingError("DELETE FROM schema_migrations WHERE version = '011_roles.sql'"), /permission denied for table schema_migrations/);
    assert.notEqual(sql('SELECT action FROM audit_events WHERE id = :\'p1\'', id)[0][0], 'tampered');
  });

  test('the serving role reads and appends the audit tables, and writes the ordinary ones', () => {
    const priv = (t, p) => sqlServing(`SELECT has_table_privilege(current_user, '${t}', '${p}')`)[0][0];
    for (const t of ['audit_events', 'approval_logs']) {
      assert.equal(priv(t, 'SELECT'), 't', `${t} SELECT`);
      assert.equal(priv(t, 'INSERT'), 't', `${t} INSERT`);
      for (const p of ['UPDATE', 'DELETE', 'TRUNCATE']) assert.equal(priv(t, p), 'f', `${t} ${p}`);
    }
    // Every other refuse_change()-guarded table is append-only for it too; risk_models keeps the
    // UPDATE its activation needs.
    for (const t of ['risk_grades', 'risk_model_features', 'bureau_tiers'])
      for (const p of ['UPDATE', 'DELETE']) assert.equal(priv(t, p), 'f', `${t} ${p}`);
    assert.equal(priv('risk_models', 'UPDATE'), 't');
    for (const t of ['users', 'loan_applications', 'notifications', 'sanctions_lists', 'market_data'])
      for (const p of ['SELECT', 'INSERT', 'UPDATE', 'DELETE']) assert.equal(priv(t, p), 't', `${t} ${p}`);
  });

  test('a table a later migration adds (as the owner) is usable by the serving role by default', () => {
    const rows = sql(`BEGIN;
      CREATE TABLE zz_default_privileges_probe (id bigserial PRIMARY KEY, x int);
      SELECT has_table_privilege(:'p1', 'zz_default_privileges_probe', 'INSERT'),
             has_table_privilege(:'p1', 'zz_default_privileges_probe', 'UPDATE'),
             has_table_privilege(:'p1', 'zz_default_privileges_probe', 'DELETE'),
             has_table_privilege(:'p1', 'zz_default_privileges_probe', 'TRUNCATE'),
             has_sequence_privilege(:'p1', 'zz_default_privileges_probe_id_seq', 'USAGE');
      ROLLBACK;`, servingRole);
    assert.deepEqual(rows, [['t', 't', 't', 'f', 't']]);
  });
});

describe('issue 11 (low): the development PostgreSQL uses scram or peer over a private socket folder', () => {
  const host = dbUrl.searchParams.get('host');
  const noPassword = () => {
    const u = new URL(process.env.DATABASE_URL);
    u.searchParams.delete('password');
    return u.toString();
  };

  test('the socket folder is reachable by its owner only', () => {
    assert.ok(host && host.startsWith('/'), `a socket folder: ${host}`);
    assert.equal(statSync(host).mode & 0o077, 0, `mode ${(statSync(host).mode & 0o777).toString(8)}`);
  });

  test('the serving role without its password is refused (no trust)', () => {
    let err = '';
    try {
      execFileSync('psql', ['-X', '-qAt', '-w', '-c', 'SELECT 1', noPassword()], { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PGPASSWORD: '', PGPASSFILE: '/dev/null' } });
    } catch (e) {
      err = String(e.stderr);
    }
    assert.match(err, /password/i);
  });

  // Peer authentication: root (which runs the tests here) is not the cluster's OS user.
  test('the superuser is refused to anyone but the cluster\'s OS user (peer)', { skip: process.getuid() !== 0 }, () => {
    let err = '';
    try {
      execFileSync('psql', ['-X', '-qAt', '-w', '-h', host, '-U', 'postgres', '-d', 'postgres', '-c', 'SELECT 1'], { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PGPASSWORD: '', PGPASSFILE: '/dev/null' } });
    } catch (e) {
      err = String(e.stderr);
    }
    assert.match(err, /authentication failed|no pg_hba.conf entry/);
  });
});

describe('issue 11 (low): Redis persists no application document', () => {
  test('the stack starts Redis without RDB snapshots or AOF in every APP_ENV', () => {
    for (const APP_ENV of ['development', 'production', 'test']) {
      const args = execFileSync('bash', [join(ROOT, 'scripts/stack.sh'), 'redis-args'], { encoding: 'utf8', env: { ...process.env, APP_ENV } }).split('\n');
      const at = (flag) => args[args.indexOf(flag) + 1];
      assert.ok(args.includes('--save'), APP_ENV);
      assert.equal(at('--save'), '', `${APP_ENV}: --save ""`);
      assert.equal(at('--appendonly'), 'no', APP_ENV);
      assert.equal(args.filter((a) => a === '--save').length, 1, APP_ENV);
    }
  });

  test('the stack\'s Redis has RDB snapshots and the append-only file off', () => {
    const sock = process.env.REDIS_URL.replace(/^unix:/, '');
    const get = (k) => execFileSync('redis-cli', ['-s', sock, 'CONFIG', 'GET', k], { encoding: 'utf8' }).split('\n');
    assert.equal(get('save')[1], '');
    assert.equal(get('appendonly')[1], 'no');
  });
});

// Renders nginx/*.conf.in the way scripts/stack.sh and the container do, for one environment.
function render(env) {
  const dir = mkdtempSync(join(tmpdir(), 'lf-nginx-'));
  mkdirSync(join(dir, 'tmp'));
  mkdirSync(join(dir, 'run'));
  try {
    execFileSync(join(ROOT, 'scripts/nginx-render.sh'), [join(ROOT, 'nginx'), dir], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH, USER_DIRECTIVE: '', NGINX_WORKERS: '1', RUN: join(dir, 'run'), LOG: dir,
        NGINX_DIR: dir, ROOT, PORT: '15003', BENCH_PORT: '16003', LISTEN: '127.0.0.1', MAX_BODY: '65536',
        KEEPALIVE: '1', ...env,
      },
    });
    // The directives only: comments may name what they are about.
    const read = (f) => readFileSync(join(dir, f), 'utf8').split('\n').filter((l) => !/^\s*#/.test(l)).join('\n');
    let valid = null;
    try {
      execFileSync('nginx', ['-t', '-q', '-e', join(dir, 'error.log'), '-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['pipe', 'pipe', 'pipe'] });
      valid = true;
    } catch (e) {
      valid = String(e.stderr);
    }
    const bench = existsSync(join(dir, 'bench.conf')) ? read('bench.conf') : '';
    return { nginx: read('nginx.conf'), security: read('security.conf'), bench, valid };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('issue 11 (low): Strict-Transport-Security when COOKIE_SECURE or production', () => {
  const HSTS = /add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;/;
  test('present with COOKIE_SECURE=1, and in production unless COOKIE_SECURE=0', () => {
    for (const env of [{ APP_ENV: 'development', COOKIE_SECURE: '1' }, { APP_ENV: 'production' },
      { APP_ENV: 'production', COOKIE_SECURE: '' }, { APP_ENV: 'test', COOKIE_SECURE: 'true' }]) {
      const r = render(env);
      assert.match(r.security, HSTS, JSON.stringify(env));
      assert.equal(r.valid, true, `${JSON.stringify(env)}: ${r.valid}`);
    }
  });

  test('absent otherwise', () => {
    for (const env of [{ APP_ENV: 'development' }, { APP_ENV: 'test', COOKIE_SECURE: '0' },
      { APP_ENV: 'production', COOKIE_SECURE: '0' }]) {
      const r = render(env);
      assert.doesNotMatch(r.security, /Strict-Transport-Security/, JSON.stringify(env));
      assert.doesNotMatch(r.security, /@HSTS@/);
    }
  });

  test('through nginx: the test stack (COOKIE_SECURE unset, not production) sends none', async () => {
    const r = await api('GET', '/');
    assert.equal(r.headers.get('strict-transport-security'), null);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  });
});

describe('issue 11 (low): the unthrottled benchmark server only outside production', () => {
  test('production renders no BENCH_PORT server, and the configuration is valid without it', () => {
    const r = render({ APP_ENV: 'production' });
    assert.doesNotMatch(r.nginx, /bench\.conf|16003|@BENCH_SERVER@/);
    assert.equal(r.valid, true, r.valid);
  });

  test('development and test render it on loopback', () => {
    for (const APP_ENV of ['development', 'test']) {
      const r = render({ APP_ENV });
      assert.match(r.nginx, /include .*\/bench\.conf;/, APP_ENV);
      assert.match(r.bench, /listen 127\.0\.0\.1:16003;/);
      assert.equal(r.valid, true, r.valid);
    }
  });
});
