// Sanctions lists: `loanctl sanctions load` records a version (SHA-256, load time) and running
// workers screen against it without a restart; every decision names the list version it used.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { api, newApplicant, loanctl, sql, sleep, uniqueEmail } from './lib.mjs';

const body = (name) => ({
  name, email: uniqueEmail('sanctions'), phone: '+1234567890', region: 'EU', country: 'Germany',
  income: 85000, debt: 25000, credit_score: 720, loan_amount: 250000, loan_purpose: 'Car',
  documents_uploaded: true, documents: ['ID_Proof', 'Income_Statement', 'Address_Proof'],
});

test('a list loaded while the service runs is used by the next decision, with its version', async () => {
  const applicant = await newApplicant('sanctions');
  const name = 'Quintilian Zorbakowitz';
  const before = await api('POST', '/loan-application/submit', { token: applicant.token, body: body(name) });
  assert.equal(before.status, 201, before.text);
  assert.equal(before.json.application.compliance_status, 'APPROVED', 'not listed yet');

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
  const r = await api('POST', '/loan-application/submit', { token: applicant.token, body: body('quintilian zorbakowitz') });
  assert.equal(r.status, 201, r.text);
  const app = r.json.application;
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
