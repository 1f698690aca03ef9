// Sanctions lists: `loanctl sanctions load` records a version (SHA-256, load time) and running
// workers screen against it without a restart; every decision names the list version it used.
// The stack screens against the real OFAC SDN list shipped in data/sanctions/ by default, GET /
// names the active list, and a start (`loanctl sanctions ensure` with the default) never
// replaces a list an operator loaded. The file leaves the shipped OFAC list active, as the stack
// started it, for the files after it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { api, newApplicant, newUser, adminToken, loanctl, sql, sleep, uniqueEmail, ROOT } from './lib.mjs';

const DEFAULT_LIST = `${ROOT}/data/sanctions/ofac_sdn_2024-05-03.csv.gz`;
const SAMPLE_LIST = `${ROOT}/data/sanctions/sample_sdn.csv`;
const OFAC_VERSION = '210ca6b4a8187a34'; // SHA-256 of the decompressed shipped file
const activeOfac = () => sql("SELECT version, entries FROM sanctions_lists WHERE name = 'OFAC SDN' AND active");

// GET / re-reads the active lists at most once a second per worker: poll until it shows want.
async function healthSanctions(want) {
  const end = Date.now() + 5000;
  for (;;) {
    const r = await api('GET', '/');
    assert.equal(r.status, 200, r.text);
    if (r.json.sanctions?.version === want || Date.now() > end) return r.json.sanctions;
    await sleep(200);
  }
}

// The screening evidence is for officers only: an applicant's reply is neutral
// (security_review.test.mjs), so the evidence is read as an officer sees it.
async function officerView(id) {
  const r = await api('GET', `/loan-application/status/${id}`, { token: (await newOfficer()).token });
  assert.equal(r.status, 200, r.text);
  return r.json.application;
}
let officerUser;
async function newOfficer() {
  officerUser ??= await newUser('officer', await adminToken());
  return officerUser;
}

// An applicant files under the account's email.
const body = (name, email = uniqueEmail('sanctions')) => ({
  name, email, phone: '+1234567890', region: 'EU', country: 'Germany',
  income: 85000, debt: 25000, credit_score: 720, loan_amount: 250000, loan_purpose: 'Car',
  documents_uploaded: true, documents: ['ID_Proof', 'Income_Statement', 'Address_Proof'],
});

test('the stack screens against the shipped OFAC SDN list, and GET / names it', async () => {
  const [[version, entries]] = activeOfac();
  assert.equal(version, OFAC_VERSION, 'the stack loaded data/sanctions/ofac_sdn_2024-05-03.csv.gz');
  const published = sql("SELECT published::text FROM sanctions_lists WHERE name = 'OFAC SDN' AND active")[0][0];
  assert.equal(published, '2024-05-03', 'the date comes from the file name');
  const s = await healthSanctions(OFAC_VERSION);
  assert.deepEqual({ list: s.list, version: s.version, entries: s.entries },
    { list: 'OFAC SDN', version: OFAC_VERSION, entries: Number(entries) });
  assert.ok(s.active_lists >= 1);
  // Served from the worker's memory: the answer stays fast and needs no query of its own.
  const t0 = Date.now();
  for (let i = 0; i < 50; i++) assert.equal((await api('GET', '/')).json.sanctions.version, OFAC_VERSION);
  assert.ok(Date.now() - t0 < 5000);
});

test('a listed person (Nicolas Maduro Moros, SDN entry 22790) submitted is not approved', async () => {
  const applicant = await newApplicant('sanctions');
  const r = await api('POST', '/loan-application/submit', { token: applicant.token, body: body('Nicolas Maduro Moros', applicant.email) });
  assert.equal(r.status, 201, r.text);
  const app = await officerView(r.json.application.application_id);
  assert.notEqual(app.final_status, 'APPROVED', JSON.stringify(app));
  assert.notEqual(app.compliance_status, 'APPROVED', app.compliance_remarks);
  assert.equal(app.screening.list, 'OFAC SDN');
  assert.equal(app.screening.list_version, OFAC_VERSION);
  assert.equal(Number(app.screening.entry_id), 22790);
  assert.match(app.screening.matched_name, /MADURO MOROS/);
});

test('a list loaded while the service runs is used by the next decision, with its version', async () => {
  const applicant = await newApplicant('sanctions');
  const name = 'Quintilian Zorbakowitz';
  const before = await api('POST', '/loan-application/submit', { token: applicant.token, body: body(name, applicant.email) });
  assert.equal(before.status, 201, before.text);
  assert.equal((await officerView(before.json.application.application_id)).compliance_status, 'APPROVED', 'not listed yet');

  // An OFAC SDN-format file with the quirks of the real one: CRLF, -0- nulls, ] [ programs,
  // a trailing 0x1A.
  const csv = '90001,"ZORBAKOWITZ, Quintilian",individual,"SDGT] [IRGC",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,"DOB 01 Jan 1970."\r\n' +
              '90002,"ACME TEST SHELL LTD.",-0- ,"SDGT",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n\x1a';
  const dir = mkdtempSync(join(tmpdir(), 'sdn-'));
  const file = join(dir, 'sdn.csv');
  writeFileSync(file, csv, 'latin1');
  const sha = createHash('sha256').update(Buffer.from(csv, 'latin1')).digest('hex');
  const out = loanctl(['sanctions', 'load', file, '--name', 'TEST LIST']);
  assert.match(out, new RegExp(`TEST LIST version ${sha.slice(0, 16)}`));
  const row = sql("SELECT sha256, entries, names, active FROM sanctions_lists WHERE name = 'TEST LIST' AND active");
  assert.deepEqual(row[0].slice(0, 2), [sha, '2']);
  assert.equal(row[0][3], 't');
  assert.match(loanctl(['sanctions', 'list']), /TEST LIST/);
  // Loading the same file again changes nothing.
  assert.match(loanctl(['sanctions', 'load', file, '--name', 'TEST LIST']), /already the active list/);

  await sleep(1100); // workers look for new versions at most once a second
  const r = await api('POST', '/loan-application/submit', { token: applicant.token, body: body('quintilian zorbakowitz', applicant.email) });
  assert.equal(r.status, 201, r.text);
  const app = await officerView(r.json.application.application_id);
  assert.equal(app.compliance_status, 'REJECTED', app.compliance_remarks);
  assert.equal(app.final_status, 'REJECTED');
  assert.equal(app.screening.list, 'TEST LIST');
  assert.equal(app.screening.list_version, sha.slice(0, 16));
  assert.equal(app.screening.entry_id, 90001);
  assert.equal(app.screening.matched_name, 'ZORBAKOWITZ, Quintilian');
  assert.ok(app.screening.score >= 0.92);

  // Reprocessing the first application now finds the listed name too.
  const { token } = await (async () => ({ token: (await api('POST', '/login', { body: { email: process.env.ADMIN_EMAIL || 'admin@example.com', password: process.env.ADMIN_PASSWORD || 'admin12345' } })).json.token }))();
  const re = await api('POST', `/loan-application/reprocess/${before.json.application.application_id}`, { token });
  assert.equal(re.status, 200, re.text);
  assert.equal(re.json.application.compliance_status, 'REJECTED');
  assert.equal(re.json.application.screening.list_version, sha.slice(0, 16));
});

test('a malformed list is refused and changes nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sdn-'));
  const file = join(dir, 'bad.csv');
  writeFileSync(file, '1,"UNTERMINATED,individual\r\n');
  const before = sql('SELECT count(*) FROM sanctions_lists')[0][0];
  assert.throws(() => loanctl(['sanctions', 'load', file, '--name', 'BAD LIST']));
  assert.equal(sql('SELECT count(*) FROM sanctions_lists')[0][0], before);
});

test('a restart does not replace an operator\'s list: sanctions ensure keeps it, loads only a newer one', async () => {
  // The operator loads another list under the same name (here the invented sample).
  const loaded = loanctl(['sanctions', 'load', SAMPLE_LIST]);
  const m = loaded.match(/OFAC SDN version ([0-9a-f]{16})/);
  assert.ok(m, loaded);
  const sample = m[1];
  try {
    assert.deepEqual(activeOfac(), [[sample, '40']]);
    // What every stack start runs with the default list.
    const out = loanctl(['sanctions', 'ensure', DEFAULT_LIST]);
    assert.match(out, new RegExp(`keeping the active OFAC SDN version ${sample} \\(undated\\)`));
    assert.match(out, new RegExp(`^active sanctions list: OFAC SDN version ${sample} \\(undated\\), 40 entries$`, 'm'));
    assert.deepEqual(activeOfac(), [[sample, '40']], 'the operator\'s list is still the active one');
    const s = await healthSanctions(sample);
    assert.deepEqual({ list: s.list, version: s.version, entries: s.entries }, { list: 'OFAC SDN', version: sample, entries: 40 });

    // A dated list older than the default is replaced by it at the next start.
    const dir = mkdtempSync(join(tmpdir(), 'sdn-'));
    const older = join(dir, 'ofac_sdn_2023-01-15.csv');
    writeFileSync(older, '90001,"OLDLIST, Person","individual","SDGT",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n');
    assert.match(loanctl(['sanctions', 'load', older]), /loaded OFAC SDN/);
    assert.equal(sql("SELECT published::text FROM sanctions_lists WHERE name = 'OFAC SDN' AND active")[0][0], '2023-01-15');
    const newer = loanctl(['sanctions', 'ensure', DEFAULT_LIST]);
    assert.match(newer, /is newer than the active OFAC SDN version [0-9a-f]{16} \(published 2023-01-15\); loading it/);
    assert.deepEqual(activeOfac().map((r) => r[0]), [OFAC_VERSION]);
    // And a dated list older than the active one is not loaded by ensure.
    const kept = loanctl(['sanctions', 'ensure', older]);
    assert.match(kept, new RegExp(`keeping the active OFAC SDN version ${OFAC_VERSION} \\(published 2024-05-03\\)`));
    assert.match(loanctl(['sanctions', 'ensure', DEFAULT_LIST]), /is already the active list/);
  } finally {
    // Later files screen against the shipped list, as the stack started them.
    loanctl(['sanctions', 'load', DEFAULT_LIST]);
  }
  assert.deepEqual(activeOfac().map((r) => r[0]), [OFAC_VERSION]);
  assert.equal((await healthSanctions(OFAC_VERSION)).version, OFAC_VERSION);
});

test('a SANCTIONS_FILE of another name joins the active lists only with --beside', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sdn-'));
  const other = join(dir, 'house_list_2024-06-01.csv');
  writeFileSync(other, '95001,"QUILLFEATHER, Ottoline","individual","SDGT",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n');
  try {
    // The default start (no SANCTIONS_FILE) does not add a list of another name.
    const plain = loanctl(['sanctions', 'ensure', other, '--name', 'HOUSE LIST']);
    assert.match(plain, /keeping the active list\(s\); no HOUSE LIST list is active/);
    assert.equal(sql("SELECT count(*) FROM sanctions_lists WHERE name = 'HOUSE LIST' AND active")[0][0], '0');
    // An operator's SANCTIONS_FILE (the stack passes --beside) joins the OFAC list.
    const beside = loanctl(['sanctions', 'ensure', other, '--name', 'HOUSE LIST', '--beside']);
    assert.match(beside, /no HOUSE LIST list is active; loading .* beside the active list\(s\)/);
    assert.equal(sql("SELECT count(*) FROM sanctions_lists WHERE name = 'HOUSE LIST' AND active")[0][0], '1');
    assert.deepEqual(activeOfac().map((r) => r[0]), [OFAC_VERSION], 'the OFAC list stays active');
    // A second start changes nothing.
    assert.match(loanctl(['sanctions', 'ensure', other, '--name', 'HOUSE LIST', '--beside']), /is already the active list/);
  } finally {
    sql("UPDATE sanctions_lists SET active = false WHERE name = 'HOUSE LIST'");
  }
  assert.equal(sql("SELECT count(*) FROM sanctions_lists WHERE name = 'HOUSE LIST' AND active")[0][0], '0');
});

test('loanctl sanctions: help at every level, usage for an unknown command', () => {
  for (const args of [['--help'], ['sanctions', '--help'], ['sanctions', 'ensure', '--help']]) {
    assert.match(loanctl(args), /usage: loanctl/);
  }
  const quiet = (args) => execFileSync(`${ROOT}/loanctl`, args, { encoding: 'utf8', env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  assert.throws(() => quiet(['sanctions', 'frobnicate']), (e) => e.status === 2 && /usage: loanctl sanctions/.test(e.stderr));
  assert.throws(() => quiet(['frobnicate']), (e) => e.status === 2);
});
