// No clear identity number in any log of the stack (docs/ekyc.md: "the clear numbers are in no
// response, log line or column"). Named zz_ so that it runs after every other API test file and
// reads the logs they produced: every file under the stack's log folder (loanflow.log, nginx's
// access and error logs, notifications.jsonl, PostgreSQL's log, migrate.log, …) must be free of
// every Aadhaar, PAN and account number of the sandbox table in docs/ekyc.md; and loanflow.log
// must hold nothing shaped like an Aadhaar (12 digits, first 2-9, Verhoeff-valid) or a PAN.
// Before reading, the file drives the paths most likely to log a request's content itself
// (validation failures, malformed JSON, duplicates, idempotent retries), so it means something
// when it runs alone too.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync, mkdtempSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  api, newApplicant, newUser, adminToken, uniqueEmail, sleep, ROOT, verhoeffValid,
} from './lib.mjs';

const LOG_DIR = `${process.env.STACK_DIR || `${ROOT}/var`}/log`;

// ---- what must not appear --------------------------------------------------------------------

// The sandbox table's numbers, as the docs list them; the table is parsed so that a new row is
// covered without editing this file, and the rows known today are listed too in case the table's
// layout changes.
const KNOWN = {
  aadhaar: ['234567890124', '345678901238', '456789012341', '567890123458', '678901234560',
    '654321098763', '789012345674', '890123456784', '987654321096', '876543210988', '765432109878'],
  pan: ['ABCPS1234K', 'BCDPV2345L', 'CDEPK3456M', 'DEFPN4567N', 'EFGPJ5678P', 'LMNPR2345W',
    'GHIPM7890R', 'HIJPI8901S', 'IJKPG9012T', 'JKLPK0123U', 'KLMPQ1234V'],
  account: ['50100234567890', '012345678901', '11223344556'],
};

function documentedNumbers() {
  const doc = readFileSync(`${ROOT}/docs/ekyc.md`, 'utf8');
  const section = doc.slice(doc.indexOf('## Sandbox test identities'));
  const aadhaar = new Set(KNOWN.aadhaar);
  const pan = new Set(KNOWN.pan);
  const account = new Set(KNOWN.account);
  let rows = 0;
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((s) => s.trim());
    if (cells.length < 7 || !/^\d{12}$/.test(cells[2])) continue;
    rows++;
    aadhaar.add(cells[2]);
    pan.add(cells[3]);
    const m = cells[5].match(/^(\d{9,18})\s*@/);
    if (m) account.add(m[1]);
  }
  return { rows, aadhaar: [...aadhaar], pan: [...pan], account: [...account] };
}

function forbiddenStrings() {
  const d = documentedNumbers();
  const out = [];
  for (const a of d.aadhaar) out.push(a, `${a.slice(0, 4)} ${a.slice(4, 8)} ${a.slice(8)}`);
  for (const p of d.pan) out.push(p, p.toLowerCase());
  out.push(...d.account);
  return out;
}

// ---- the scanners ----------------------------------------------------------------------------

function filesUnder(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...filesUnder(p));
    else if (st.isFile()) out.push(p);
  }
  return out;
}

// Every (file, string, line) where one of the strings occurs in a file under dir.
function scanForStrings(dir, strings) {
  const hits = [];
  for (const f of filesUnder(dir)) {
    const text = readFileSync(f).toString('latin1');
    for (const s of strings) {
      const i = text.indexOf(s);
      if (i >= 0) {
        const line = text.slice(text.lastIndexOf('\n', i) + 1, text.indexOf('\n', i) === -1 ? undefined : text.indexOf('\n', i));
        hits.push(`${f}: ${s} in ${line.slice(0, 300)}`);
      }
    }
  }
  return hits;
}

// Tokens shaped like an Aadhaar (12 digits or 4-4-4, first digit 2-9, valid Verhoeff check
// digit) or a PAN (5 letters, 4 digits, a letter), standing alone: not inside a longer run of
// letters and digits (hex request ids), not the decimals of a number, not an E.164 phone (+…).
const AADHAAR_RE = /(?<![0-9A-Za-z+]|[0-9]\.)([2-9]\d{3} ?\d{4} ?\d{4})(?![0-9A-Za-z]|\.[0-9])/g;
const PAN_RE = /(?<![0-9A-Za-z])([A-Za-z]{5}[0-9]{4}[A-Za-z])(?![0-9A-Za-z])/g;

function scanForShapes(text) {
  const hits = [];
  for (const m of text.matchAll(AADHAAR_RE)) {
    const s = m[1];
    if (/ /.test(s) && !/^\d{4} \d{4} \d{4}$/.test(s)) continue; // one space only: not a form
    if (verhoeffValid(s.replace(/ /g, ''))) hits.push(`Aadhaar-shaped ${s}`);
  }
  for (const m of text.matchAll(PAN_RE)) hits.push(`PAN-shaped ${m[1]}`);
  return hits;
}

// ---- exercising the paths that could log a number --------------------------------------------

const HEALTHY = {
  phone: '+919812345678', region: 'APAC', country: 'India', income: 1200000, debt: 100000,
  credit_score: 760, loan_amount: 150000, loan_purpose: 'Car', documents_uploaded: true,
  documents: ['ID_Proof', 'Income_Statement', 'Address_Proof'],
};

before(async () => {
  if (!existsSync(LOG_DIR)) return;
  const applicant = await newApplicant('pii-logs');
  const admin = await adminToken();
  const officer = await newUser('officer', admin);
  // Filed by another officer for the customers (an applicant files only under the account's
  // email, and repeated identity mismatches would hold its submissions; the filer never decides).
  const clerk = await newUser('officer', admin);
  const submit = (b, headers) => api('POST', '/loan-application/submit', { token: clerk.token, body: b, headers });
  const body = (name, aadhaar, pan, dob, extra = {}) => ({ ...HEALTHY, name, email: uniqueEmail('pii-logs'), aadhaar, pan, date_of_birth: dob, ...extra });

  // Validation failures that carry valid documented numbers beside the bad field.
  await submit(body('Priya Sharma', '234567890124', 'ABCCS1234K', '1990-04-12'));
  await submit(body('Priya Sharma', '2345 6789 0124', 'ABCPS1234K', '1990-02-30'));
  await submit(body('Neha Kapoor', '876543210988', 'JKLPK0123U', '1991-12-01', { bank_account: { account_number: '11223344556', ifsc: 'UTIB1000789', holder_name: 'Neha Kapoor' } }));
  // Malformed JSON and a wrong type holding the numbers.
  await api('POST', '/loan-application/submit', { token: applicant.token, headers: { 'Content-Type': 'application/json' }, body: '{"aadhaar":"234567890124","pan":"ABCPS1234K",' });
  await submit({ ...body('Priya Sharma', ['234567890124'], { pan: 'ABCPS1234K' }, '1990-04-12') });
  // Applications the pipeline rejects, one with an idempotency key retried.
  await submit(body('Kavita Joshi', '678901234560', 'EFGPJ5678P', '1992-11-23'));
  const arjun = body('Arjun Mehta', '789012345674', 'GHIPM7890R', '1988-02-29');
  await submit(arjun, { 'Idempotency-Key': `pii-logs-${Date.now()}` });
  await submit(body('Neha Kapoor', '876543210988', 'jklpk0123u', '1991-12-01', { bank_account: { account_number: '11223344556', ifsc: 'UTIB0000789', holder_name: 'Neha Kapoor' } }));
  // An open application, a duplicate of it, a reprocess and a rejection.
  const first = await submit(body('Sanjay Gupta', '987654321096', 'IJKPG9012T', '1983-03-08'));
  await submit(body('Sanjay Gupta', '987654321096', 'IJKPG9012T', '1983-03-08'));
  if (first.status === 201) {
    const id = first.json.application.application_id;
    await api('POST', `/loan-application/reprocess/${id}`, { token: officer.token });
    await api('POST', `/loan-application/${id}/reject`, { token: officer.token, body: { reason: 'pii log test' } });
  }
  // The public pre-check with identity fields it does not use.
  await api('POST', '/loan', { body: { name: 'Priya Sharma', email: 'p@example.com', income: 100000, debt: 0, credit_score: 700, aadhaar: '234567890124', pan: 'ABCPS1234K' } });
  await sleep(2500); // nginx flushes its access log every second; the notifier runs every second or two
});

// ---- the tests -------------------------------------------------------------------------------

test('the scanners find what they look for (self-check)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pii-scan-'));
  try {
    writeFileSync(join(dir, 'clean.log'), '{"msg":"application LOAN-20261121-ABCD1234 submitted","request_id":"2bbf2a088d0c46422b311090ef774962","phone":"+919876543216","t":1795268911503,"x":0.551234567895}\n');
    assert.deepEqual(scanForStrings(dir, forbiddenStrings()), []);
    assert.deepEqual(scanForShapes(readFileSync(join(dir, 'clean.log'), 'utf8')), []);
    writeFileSync(join(dir, 'leak.log'), 'ok\n{"msg":"aadhaar 2345 6789 0124"}\n');
    writeFileSync(join(dir, 'leak2.log'), '{"body":{"pan":"ABCPS1234K","account":"50100234567890"}}\n');
    const hits = scanForStrings(dir, forbiddenStrings());
    assert.ok(hits.some((h) => h.includes('2345 6789 0124')), hits.join('\n'));
    assert.ok(hits.some((h) => h.includes('ABCPS1234K')), hits.join('\n'));
    assert.ok(hits.some((h) => h.includes('50100234567890')), hits.join('\n'));
    const shapes = scanForShapes('{"a":"551234567895","b":"5512 3456 7895","c":"zxcpq9876y","d":"551234567894"}');
    // 551234567895 is Verhoeff-valid, …94 is not.
    assert.deepEqual(shapes, ['Aadhaar-shaped 551234567895', 'Aadhaar-shaped 5512 3456 7895', 'PAN-shaped zxcpq9876y']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the docs table lists the sandbox numbers', () => {
  const d = documentedNumbers();
  assert.ok(d.rows >= 11, `sandbox rows parsed from docs/ekyc.md: ${d.rows}`);
  assert.ok(d.aadhaar.length >= 11 && d.pan.length >= 11 && d.account.length >= 3, JSON.stringify(d));
});

test('no log file of the stack contains a documented Aadhaar, PAN or account number', () => {
  assert.ok(existsSync(LOG_DIR), `the stack's log folder ${LOG_DIR}`);
  const files = filesUnder(LOG_DIR);
  for (const f of ['loanflow.log', 'nginx-access.log', 'postgres.log']) {
    assert.ok(files.some((p) => p.endsWith(`/${f}`)), `${f} in ${LOG_DIR}: ${files.join(', ')}`);
  }
  const hits = scanForStrings(LOG_DIR, forbiddenStrings());
  assert.deepEqual(hits, [], 'clear identity numbers in the logs');
});

test('loanflow.log holds nothing shaped like an Aadhaar or a PAN', () => {
  const f = join(LOG_DIR, 'loanflow.log');
  assert.ok(existsSync(f), f);
  const text = readFileSync(f, 'utf8');
  assert.ok(text.length > 0, 'loanflow.log is not empty');
  const hits = [...new Set(scanForShapes(text))];
  assert.deepEqual(hits, [], 'identity-shaped tokens in loanflow.log');
});
