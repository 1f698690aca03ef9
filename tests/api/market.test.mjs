// Market reference data: GET /data (public) and `loanctl market load`. The shape and order of
// the document, that its numbers are the database's exact decimals, the category filter and its
// 400, ETag / If-None-Match, that a load replaces the table and is visible at once (and reaches
// the base rate pricing uses), that a bad file names FILE:LINE: field and changes nothing, the
// empty table, and a 503 when PostgreSQL is down with nothing cached. The file the stack loaded
// (the sample, or MARKET_FILE) is loaded again at the end, so later files see it.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { api, assertError, sql, stack, sleep, ROOT } from './lib.mjs';

const SAMPLE = process.env.MARKET_FILE || `${ROOT}/data/market/sample.csv`;
const CATEGORIES = ['commodity', 'fx', 'index', 'rate'];
const DIR = mkdtempSync(join(tmpdir(), 'market-'));
let fileNo = 0;

function writeCsv(text) {
  fileNo += 1;
  const file = join(DIR, `market-${fileNo}.csv`);
  writeFileSync(file, text);
  return file;
}

// Runs `loanctl market …` with the stack's environment: { status, stdout, stderr }.
function loanctl(args) {
  try {
    const stdout = execFileSync(`${ROOT}/loanctl`, ['market', ...args],
      { encoding: 'utf8', env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    return { status: 0, stdout, stderr: '' };
  } catch (e) {
    return { status: e.status, stdout: e.stdout || '', stderr: e.stderr || '' };
  }
}

function load(file, ...extra) {
  const r = loanctl(['load', file, ...extra]);
  assert.equal(r.status, 0, `loanctl market load ${file}: ${r.stderr}`);
  return r.stdout;
}

// "6.500000" -> "6.5", "4.000000" -> "4": the text GET /data emits for a NUMERIC.
function trim(t) {
  if (t === '' || t === null) return 'null';
  let s = t.includes('.') ? t.replace(/0+$/, '').replace(/\.$/, '') : t;
  if (s === '-0') s = '0';
  return s;
}

const ROWS_SQL = `SELECT symbol, name, category, value::text, change::text,
    coalesce(round(change * 100 / nullif(value - change, 0), 2)::text, ''), as_of::text, source
  FROM market_data ORDER BY category, symbol COLLATE "C"`;
const BASE_SQL = `SELECT b.country_code, b.symbol, coalesce(m.value::text, ''), coalesce(m.as_of::text, '')
  FROM base_rate_symbols b LEFT JOIN market_data m ON m.symbol = b.symbol ORDER BY b.country_code COLLATE "C"`;
const snapshot = () => JSON.stringify([sql(ROWS_SQL), sql('SELECT count(*) FROM market_loads')]);

async function getData(query = '') {
  const r = await api('GET', `/data${query}`);
  assert.equal(r.status, 200, `/data${query}: ${r.status} ${r.text}`);
  assert.match(r.headers.get('content-type') || '', /^application\/json/);
  return r;
}

// What market_base_rate() answers in the workers. It re-reads at most once a second, so poll
// until every worker we reach agrees with want (or time runs out).
async function baseRate(country, want) {
  const end = Date.now() + 4000;
  let last;
  for (;;) {
    const r = await api('GET', `/__test/base-rate?country=${country}`);
    assert.equal(r.status, 200, r.text);
    last = r.json;
    let agree = true;
    for (const [k, v] of Object.entries(want)) if (last[k] !== v) agree = false;
    if (agree) {
      // A few more requests, likely reaching other workers, must agree too.
      let all = true;
      for (let i = 0; i < 8 && all; i++) {
        const again = (await api('GET', `/__test/base-rate?country=${country}`)).json;
        for (const [k, v] of Object.entries(want)) if (again[k] !== v) all = false;
      }
      if (all) return last;
    }
    if (Date.now() > end) assert.fail(`base rate for ${country}: ${JSON.stringify(last)}, want ${JSON.stringify(want)}`);
    await sleep(150);
  }
}

async function waitHealthy(ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    const r = await api('GET', '/').catch(() => ({ status: 0 }));
    if (r.status === 200 && r.json?.database === 'ok') return;
    if (Date.now() > end) assert.fail(`not healthy: ${r.status} ${r.text}`);
    await sleep(100);
  }
}

const sampleText = readFileSync(SAMPLE, 'utf8');

describe('GET /data and loanctl market load', () => {
  after(() => {
    // Later test files (and the route walk) see what the stack loaded.
    load(SAMPLE);
  });

  test('public: shape, types and order (category, then symbol); count and as_of agree', async () => {
    load(SAMPLE);
    const r = await getData();
    const d = r.json;
    assert.deepEqual(Object.keys(d), ['data', 'count', 'as_of', 'base_rates']);
    assert.ok(Array.isArray(d.data) && d.data.length >= 10, `sample rows: ${d.data.length}`);
    assert.equal(d.count, d.data.length);
    for (const e of d.data) {
      assert.deepEqual(Object.keys(e),
        ['symbol', 'name', 'category', 'value', 'change', 'change_percent', 'as_of', 'source'], JSON.stringify(e));
      assert.match(e.symbol, /^[A-Z0-9_.^-]{1,24}$/);
      assert.ok(CATEGORIES.includes(e.category), e.category);
      assert.equal(typeof e.name, 'string');
      assert.equal(typeof e.source, 'string');
      assert.equal(typeof e.value, 'number');
      assert.equal(typeof e.change, 'number');
      assert.ok(e.change_percent === null || typeof e.change_percent === 'number', JSON.stringify(e));
      assert.match(e.as_of, /^\d{4}-\d{2}-\d{2}$/);
    }
    for (let i = 1; i < d.data.length; i++) {
      const a = d.data[i - 1];
      const b = d.data[i];
      assert.ok(a.category < b.category || (a.category === b.category && a.symbol < b.symbol),
        `order: ${a.category}/${a.symbol} before ${b.category}/${b.symbol}`);
    }
    assert.equal(d.as_of, d.data.map((e) => e.as_of).sort().at(-1));
    assert.ok(d.data.some((e) => e.symbol === 'RBI_REPO' && e.category === 'rate'));
    assert.ok(Array.isArray(d.base_rates) && d.base_rates.length >= 3);
    for (const b of d.base_rates) assert.deepEqual(Object.keys(b), ['country_code', 'symbol', 'value', 'as_of']);
    assert.deepEqual(d.base_rates.map((b) => [b.country_code, b.symbol]).filter(([c]) => ['*', 'GB', 'IN'].includes(c)),
      [['*', 'SOFR'], ['GB', 'BOE_BANK_RATE'], ['IN', 'RBI_REPO']]);
    assert.match(r.headers.get('cache-control') || '', /no-cache/);
    // A token changes nothing.
    const admin = await api('POST', '/login', { body: { email: process.env.ADMIN_EMAIL || 'admin@example.com', password: process.env.ADMIN_PASSWORD || 'admin12345' } });
    const withToken = await api('GET', '/data', { token: admin.json.token });
    assert.equal(withToken.status, 200);
    assert.deepEqual(withToken.json, d);
  });

  test('the numbers are the database rows, with their exact decimal text', async () => {
    const r = await getData();
    const rows = sql(ROWS_SQL);
    assert.deepEqual(r.json.data.map((e) => e.symbol), rows.map((x) => x[0]), 'same rows, same order');
    rows.forEach(([symbol, name, category, value, change, pct, asOf, source], i) => {
      const e = r.json.data[i];
      assert.deepEqual([e.symbol, e.name, e.category, e.as_of, e.source], [symbol, name, category, asOf, source]);
      assert.equal(e.value, Number(value), `${symbol} value`);
      assert.equal(e.change, Number(change), `${symbol} change`);
      assert.equal(e.change_percent, pct === '' ? null : Number(pct), `${symbol} change_percent`);
      // The JSON text is the decimal itself, not a double printed back.
      const raw = `"value":${trim(value)},"change":${trim(change)},"change_percent":${trim(pct)},`;
      assert.ok(r.text.includes(raw), `${symbol}: ${raw} in the body`);
    });
    // change_percent is change / (value - change) * 100, to 2 places, from the same row.
    for (const e of r.json.data) {
      if (e.change_percent === null) continue;
      const exact = (e.change / (e.value - e.change)) * 100;
      assert.ok(Math.abs(e.change_percent - exact) <= 0.005 + 1e-9, `${e.symbol}: ${e.change_percent} vs ${exact}`);
    }
    const base = sql(BASE_SQL);
    assert.deepEqual(r.json.base_rates.map((b) => [b.country_code, b.symbol, b.value === null ? '' : b.value, b.as_of ?? '']),
      base.map(([c, s, v, a]) => [c, s, v === '' ? '' : Number(v), a]));
    // A base rate is the rate row of the same symbol.
    for (const b of r.json.base_rates) {
      const row = r.json.data.find((e) => e.symbol === b.symbol);
      if (row) assert.deepEqual([b.value, b.as_of], [row.value, row.as_of], b.symbol);
    }
  });

  test('?category= filters; anything but index, rate, fx, commodity is a 400 naming category', async () => {
    const all = (await getData()).json;
    for (const c of CATEGORIES) {
      const r = (await getData(`?category=${c}`)).json;
      const want = all.data.filter((e) => e.category === c);
      assert.ok(want.length >= 1, `the sample has ${c} rows`);
      assert.deepEqual(r.data, want, c);
      assert.equal(r.count, want.length);
      assert.equal(r.as_of, want.map((e) => e.as_of).sort().at(-1));
      assert.deepEqual(r.base_rates, all.base_rates);
    }
    for (const bad of ['bogus', '', 'RATE', 'rates', 'rate,fx', ' rate', 'index%00']) {
      const r = await api('GET', `/data?category=${encodeURIComponent(bad)}`);
      const err = assertError(r, 400, 'validation_failed');
      assert.equal(typeof err.fields?.category, 'string', `category=${bad}: ${r.text}`);
    }
    assertError(await api('GET', '/data?category=%zz'), 400, 'validation_failed');
    // Unknown parameters are ignored.
    assert.deepEqual((await getData('?x=1')).json, all);
  });

  test('ETag; If-None-Match → 304 without a body; HEAD; a wrong method → 405', async () => {
    for (const path of ['/data', '/data?category=rate']) {
      const r = await getData(path.slice(5));
      const etag = r.headers.get('etag');
      assert.ok(etag && /^(W\/)?"[^"]+"$/.test(etag), `${path}: ETag ${etag}`);
      const again = await api('GET', path, { headers: { 'If-None-Match': etag } });
      assert.equal(again.status, 304, `${path}: ${again.status}`);
      assert.equal(again.text, '');
      const opaque = (t) => (t || '').replace(/^W\//, '');
      assert.equal(opaque(again.headers.get('etag')), opaque(etag));
      assert.equal((await api('GET', path, { headers: { 'If-None-Match': `"nope", ${etag}` } })).status, 304);
      assert.equal((await api('GET', path, { headers: { 'If-None-Match': '"other"' } })).status, 200);
    }
    const head = await api('HEAD', '/data');
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
    const post = await api('POST', '/data', { body: {} });
    assertError(post, 405);
    assert.match(post.headers.get('allow') || '', /GET/);
  });

  test('a load replaces the table and GET /data shows it at once; pricing follows from the same rows', async () => {
    // Warm every cache first, so a stale copy would show.
    const before = await getData();
    await getData('?category=rate');
    await getData();
    await baseRate('IN', { available: true, symbol: 'RBI_REPO' });
    const etag = before.headers.get('etag');

    // RBI_REPO cut by 25 bps, SPX and BOE_BANK_RATE gone, a new symbol with a quoted name.
    const lines = sampleText.trimEnd().split(/\r?\n/);
    const header = lines[0];
    const body = lines.slice(1).filter((l) => !/^(SPX|BOE_BANK_RATE|RBI_REPO),/.test(l));
    const csv = [header, ...body,
      'RBI_REPO,RBI policy repo rate,rate,5.25,-0.25,2026-11-21,Reserve Bank of India',
      'TEST_IDX,"Test index, ""quoted""",index,1234.567891,-0.000009,2026-11-21,test'].join('\r\n') + '\r\n';
    const file = writeCsv(csv);
    const loadsBefore = Number(sql('SELECT count(*) FROM market_loads')[0][0]);
    const out = load(file);
    const n = body.length + 2;
    assert.match(out, new RegExp(`market data load \\d+: ${n} rows from ${file}`), out);
    assert.match(out, /2 symbol\(s\) removed/, out);

    // The history row: file, rows, the file's SHA-256, who.
    const sha = createHash('sha256').update(csv).digest('hex');
    const [hist] = sql('SELECT file_name, rows, sha256, loaded_by FROM market_loads ORDER BY id DESC LIMIT 1');
    assert.deepEqual(hist.slice(0, 3), [file, String(n), sha]);
    assert.ok(hist[3].length > 0);
    assert.equal(Number(sql('SELECT count(*) FROM market_loads')[0][0]), loadsBefore + 1);

    const r = await getData();
    assert.notEqual(r.headers.get('etag').replace(/^W\//, ''), etag.replace(/^W\//, ''), 'the ETag changed');
    assert.equal((await api('GET', '/data', { headers: { 'If-None-Match': etag } })).status, 200);
    const d = r.json;
    assert.equal(d.count, n);
    assert.equal(d.as_of, '2026-11-21');
    assert.ok(!d.data.some((e) => e.symbol === 'SPX' || e.symbol === 'BOE_BANK_RATE'), 'removed rows are gone');
    const repo = d.data.find((e) => e.symbol === 'RBI_REPO');
    assert.deepEqual([repo.value, repo.change, repo.change_percent, repo.as_of], [5.25, -0.25, -4.55, '2026-11-21']);
    const t = d.data.find((e) => e.symbol === 'TEST_IDX');
    assert.equal(t.name, 'Test index, "quoted"');
    assert.ok(r.text.includes('"value":1234.567891,"change":-0.000009,"change_percent":-0,') ||
              r.text.includes('"value":1234.567891,"change":-0.000009,"change_percent":0,'), r.text);
    const rate = (await getData('?category=rate')).json;
    assert.equal(rate.data.find((e) => e.symbol === 'RBI_REPO').value, 5.25, 'the filtered copy is fresh too');
    assert.ok(!rate.data.some((e) => e.symbol === 'BOE_BANK_RATE'));
    const bIN = d.base_rates.find((b) => b.country_code === 'IN');
    const bGB = d.base_rates.find((b) => b.country_code === 'GB');
    assert.deepEqual([bIN.value, bIN.as_of], [5.25, '2026-11-21']);
    assert.deepEqual([bGB.symbol, bGB.value, bGB.as_of], ['BOE_BANK_RATE', null, null], 'GB has no base rate now');
    // base_rate_symbols is configuration: the load left it alone.
    assert.deepEqual(sql("SELECT country_code, symbol FROM base_rate_symbols WHERE country_code IN ('*', 'GB', 'IN') ORDER BY country_code COLLATE \"C\""),
      [['*', 'SOFR'], ['GB', 'BOE_BANK_RATE'], ['IN', 'RBI_REPO']]);

    // Pricing: the rate shown is the rate used (bps = value × 100), within a second.
    const p = await baseRate('IN', { available: true, bps: 525 });
    assert.deepEqual([p.symbol, p.as_of], ['RBI_REPO', '2026-11-21']);
    assert.equal(p.bps, Math.round(bIN.value * 100));
    await baseRate('in', { available: true, bps: 525 });
    // GB's own symbol is missing: unavailable, not silently the default.
    await baseRate('GB', { available: false });
    const sofr = d.base_rates.find((b) => b.country_code === '*');
    const us = await baseRate('US', { available: true, symbol: 'SOFR' });
    assert.equal(us.bps, Math.round(sofr.value * 100));
    assert.equal(us.as_of, sofr.as_of);

    // Back to the sample: everything as it was.
    load(SAMPLE);
    const back = await getData();
    assert.deepEqual(back.json, before.json);
    await baseRate('GB', { available: true, symbol: 'BOE_BANK_RATE' });
  });

  test('a bad file exits 1 naming FILE:LINE: field, loads nothing, leaves GET /data as it was', async () => {
    load(SAMPLE);
    const before = snapshot();
    const page = await getData();
    const header = 'symbol,name,category,value,change,as_of,source';
    const good = 'SOFR,Secured Overnight Financing Rate,rate,3.87,-0.02,2026-11-20,NY Fed';
    const cases = [
      { row: 'RBI_REPO,Repo,rate,6.5.0,0,2026-11-20,RBI', line: 3, field: 'value' },
      { row: 'RBI_REPO,Repo,rate,1e5,0,2026-11-20,RBI', line: 3, field: 'value' },
      { row: 'RBI_REPO,Repo,rate,"6,50",0,2026-11-20,RBI', line: 3, field: 'value' },
      { row: 'RBI_REPO,Repo,rate,6.5000001,0,2026-11-20,RBI', line: 3, field: 'value' },
      { row: 'RBI_REPO,Repo,rate,6.5,+0.25,2026-11-20,RBI', line: 3, field: 'change' },
      { row: 'RBI_REPO,Repo,rate,6.5,0,2026-02-30,RBI', line: 3, field: 'as_of' },
      { row: 'RBI_REPO,Repo,rate,6.5,0,20/11/2026,RBI', line: 3, field: 'as_of' },
      { row: 'RBI_REPO,Repo,stock,6.5,0,2026-11-20,RBI', line: 3, field: 'category' },
      { row: 'rbi repo,Repo,rate,6.5,0,2026-11-20,RBI', line: 3, field: 'symbol' },
      { row: 'SOFR,Again,rate,3.9,0,2026-11-20,x', line: 3, field: 'symbol' }, // duplicate
      { row: 'RBI_REPO,Repo,rate,6.5,0,2026-11-20', line: 3, field: 'row' },
      { row: 'RBI_REPO,"Repo,rate,6.5,0,2026-11-20,RBI', line: 3, field: 'row' },
    ];
    for (const c of cases) {
      const file = writeCsv(`${header}\r\n${good}\r\n${c.row}\r\n${good.replace('SOFR', 'SOFR2')}\r\n`);
      const r = loanctl(['load', file]);
      assert.equal(r.status, 1, `${c.row}: exit ${r.status} ${r.stdout}`);
      assert.ok(r.stderr.includes(`${file}:${c.line}: ${c.field}: `), `${c.row}: ${r.stderr}`);
      assert.equal(r.stdout, '', 'no summary line');
      assert.equal(snapshot(), before, `${c.row}: the table is unchanged`);
    }
    // Every problem of a file is reported, each with its line.
    const many = writeCsv([header, 'A,Alpha,index,1e5,0,2026-11-20,x', 'B,Beta,bond,1,0,2026-11-20,x',
      good, 'C,Gamma,fx,1,0,2026-13-01,x'].join('\n') + '\n');
    const r = loanctl(['load', many]);
    assert.equal(r.status, 1);
    for (const want of [`${many}:2: value: `, `${many}:3: category: `, `${many}:5: as_of: `]) {
      assert.ok(r.stderr.includes(want), `${want} in ${r.stderr}`);
    }
    // The header is required and checked.
    for (const [text, field] of [['', 'header'], [`${good}\n`, 'header'], ['symbol,name,category,value,as_of,colour\n', 'header']]) {
      const f = writeCsv(text);
      const x = loanctl(['load', f]);
      assert.equal(x.status, 1);
      assert.ok(x.stderr.includes(`${f}:1: ${field}: `), x.stderr);
    }
    // A header without rows would empty the table: refused unless asked for.
    const empty = writeCsv(`${header}\n`);
    const e = loanctl(['load', empty]);
    assert.equal(e.status, 1);
    assert.match(e.stderr, /--allow-empty/);
    const missing = loanctl(['load', join(DIR, 'no-such-file.csv')]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /cannot read/);
    assert.equal(snapshot(), before);
    const after = await getData();
    assert.deepEqual(after.json, page.json);
    assert.equal(after.headers.get('etag'), page.headers.get('etag'));
  });

  test('loanctl market list shows the rows and the last load', () => {
    const r = loanctl(['list']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^symbol\s+category\s+value/m);
    assert.match(r.stdout, /^RBI_REPO\s+rate\s+\S+/m);
    assert.match(r.stdout, /last load \d+: .*sample\.csv|last load \d+: /);
  });

  test('an empty table: 200 with data [], count 0, as_of null; pricing reports no base rate', async () => {
    const file = writeCsv('symbol,name,category,value,as_of\n');
    load(file, '--allow-empty');
    const d = (await getData()).json;
    assert.deepEqual(d.data, []);
    assert.equal(d.count, 0);
    assert.equal(d.as_of, null);
    for (const b of d.base_rates) {
      assert.equal(b.value, null, b.country_code);
      assert.equal(b.as_of, null, b.country_code);
    }
    const rate = (await getData('?category=rate')).json;
    assert.deepEqual([rate.data, rate.count, rate.as_of], [[], 0, null]);
    await baseRate('IN', { available: false });
    await baseRate('US', { available: false });
    load(SAMPLE);
    assert.ok((await getData()).json.count >= 10);
    await baseRate('IN', { available: true, symbol: 'RBI_REPO' });
  });

  test('PostgreSQL down: a cached document is still served; a cache miss is a 503 in the error shape', async () => {
    const warm = await getData();
    stack('pg-stop');
    try {
      const cached = await api('GET', '/data');
      assert.equal(cached.status, 200, `served from the cache: ${cached.text}`);
      assert.deepEqual(cached.json, warm.json);
      // Invalidate every copy: the Redis version moves, and worker memory lasts a second at most.
      const sock = (process.env.REDIS_URL || '').replace(/^unix:/, '');
      execFileSync('redis-cli', ['-s', sock, 'INCR', 'market:version'], { encoding: 'utf8' });
      await sleep(1100);
      const r = await api('GET', '/data');
      assertError(r, 503, 'database_unavailable');
      assert.equal((await api('GET', '/__test/base-rate?country=IN')).status, 503);
    } finally {
      stack('pg-start');
    }
    await waitHealthy();
    // Workers this test never reached still hold connections to the stopped server; a write
    // that starts with BEGIN would fail once on them. Replace every worker (SIGHUP, one by one)
    // so later test files start from fresh connections.
    const workers = () => stack('workers').split(/\s+/).filter(Boolean).map(Number);
    const before = workers();
    stack('reload');
    const until = Date.now() + 30000;
    for (;;) {
      await sleep(200);
      const now = workers();
      if (now.length === before.length && now.every((p) => !before.includes(p))) break;
      assert.ok(Date.now() < until, `workers not all replaced: before ${before}, now ${now}`);
    }
    await waitHealthy();
    const end = Date.now() + 10000;
    let r;
    do {
      r = await api('GET', '/data');
      if (r.status === 200) break;
      await sleep(200);
    } while (Date.now() < end);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, warm.json);
  });
});
