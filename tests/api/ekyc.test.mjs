// Indian eKYC, the credit bureau, the risk grade and the price (docs/ekyc.md), through nginx:
// every sandbox identity of the docs' table goes through the whole pipeline with its documented
// outcome; the identity fields are validated with 400s naming the field; the same PAN or
// Aadhaar cannot be on two open applications; approvals cannot clear an unavailable provider;
// only masked numbers leave the service or reach a column; `loanctl pii rotate-key` re-seals
// every row while the service takes submissions.
//
// Applications that stay PENDING are rejected by an officer when their test is done, so the
// same sandbox identity can be submitted again (by a later test, or by a second run of this file
// on the same stack). Timeouts are asserted by their answer, not by their duration, so the file
// passes with any PROVIDER_TIMEOUT_MS (the default 3000 makes each sandbox timeout cost 3 s);
// when PROVIDER_TIMEOUT_MS is exported to the tests too, the eKYC timeout must take at least
// that long.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { randomBytes, randomInt } from 'node:crypto';
import {
  api, assertError, sql, newApplicant, newUser, adminToken, uniqueEmail, sleep, ROOT,
  verhoeffValid, verhoeffDigit,
} from './lib.mjs';

// ---- Verhoeff, and identities of nobody (the sandbox does not know them) --------------------

function randomAadhaar() {
  let s = String(2 + randomInt(8));
  for (let i = 0; i < 10; i++) s += String(randomInt(10));
  return s + verhoeffDigit(s);
}

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const letter = () => LETTERS[randomInt(26)];
function randomPan(surname) {
  return `${letter()}${letter()}${letter()}P${surname[0].toUpperCase()}${String(randomInt(10000)).padStart(4, '0')}${letter()}`;
}

// A person the sandbox does not know: eKYC answers "not found", so KYC rejects and the
// application never stays open (it can be submitted in loops).
const SURNAMES = ['Bhatt', 'Desai', 'Pillai', 'Reddy', 'Menon', 'Chawla', 'Banerjee'];
const GENERATED = []; // every clear number this file made up, for the leak checks
function nobody(surname = SURNAMES[randomInt(SURNAMES.length)]) {
  const p = { name: `Asha ${surname}`, aadhaar: randomAadhaar(), pan: randomPan(surname), dob: '1990-01-01' };
  GENERATED.push(p.aadhaar, p.pan);
  return p;
}

// ---- the sandbox identities of docs/ekyc.md --------------------------------------------------

const P = {
  priya: { name: 'Priya Sharma', aadhaar: '234567890124', pan: 'ABCPS1234K', dob: '1990-04-12', bank: { account_number: '50100234567890', ifsc: 'HDFC0001234' } },
  rahul: { name: 'Rahul Verma', aadhaar: '345678901238', pan: 'BCDPV2345L', dob: '1985-09-30', bank: { account_number: '012345678901', ifsc: 'ICIC0000456' } },
  anil: { name: 'Anil Kumar', aadhaar: '456789012341', pan: 'CDEPK3456M', dob: '1979-01-15' },
  meera: { name: 'Meera Nair', aadhaar: '567890123458', pan: 'DEFPN4567N', dob: '2001-06-05' },
  kavita: { name: 'Kavita Joshi', aadhaar: '678901234560', pan: 'EFGPJ5678P', dob: '1992-11-23' },
  vikram: { name: 'Vikram Rathore', aadhaar: '654321098763', pan: 'LMNPR2345W', dob: '1980-10-10' },
  arjun: { name: 'Arjun Mehta', aadhaar: '789012345674', pan: 'GHIPM7890R', dob: '1988-02-29' },
  deepa: { name: 'Deepa Iyer', aadhaar: '890123456784', pan: 'HIJPI8901S', dob: '1995-07-19' },
  sanjay: { name: 'Sanjay Gupta', aadhaar: '987654321096', pan: 'IJKPG9012T', dob: '1983-03-08' },
  neha: { name: 'Neha Kapoor', aadhaar: '876543210988', pan: 'JKLPK0123U', dob: '1991-12-01', bank: { account_number: '11223344556', ifsc: 'UTIB0000789' } },
  farhan: { name: 'Farhan Qureshi', aadhaar: '765432109878', pan: 'KLMPQ1234V', dob: '1987-05-14' },
  rohan: { name: 'Rohan Das', aadhaar: '543210987652', pan: 'MNOPD3456X', dob: '1993-08-21' },
};

const spaced = (a) => `${a.slice(0, 4)} ${a.slice(4, 8)} ${a.slice(8)}`;
const maskAadhaar = (a) => `XXXX XXXX ${a.slice(-4)}`;
const maskPan = (p) => `XXXXXX${p.slice(-4)}`;
const maskAccount = (n) => `${'X'.repeat(n.length - 4)}${n.slice(-4)}`;

// Every clear number a response, a column or a dump must never show.
function clearStrings() {
  const out = new Set();
  for (const p of Object.values(P)) {
    out.add(p.aadhaar); out.add(spaced(p.aadhaar)); out.add(p.pan);
    if (p.bank) out.add(p.bank.account_number);
  }
  for (const g of GENERATED) { out.add(g); if (/^\d{12}$/.test(g)) out.add(spaced(g)); }
  return [...out];
}

// ---- helpers ---------------------------------------------------------------------------------

const HEALTHY = {
  phone: '+919812345678', region: 'APAC', country: 'India', income: 1200000, debt: 100000,
  credit_score: 760, loan_amount: 150000, loan_purpose: 'Car', documents_uploaded: true,
  documents: ['ID_Proof', 'Income_Statement', 'Address_Proof'],
};

// A submission body for person p; overrides replace fields, undefined removes one.
function indianBody(p, overrides = {}) {
  const b = {
    ...HEALTHY, name: p.name, email: uniqueEmail('ekyc'), aadhaar: p.aadhaar, pan: p.pan,
    date_of_birth: p.dob,
  };
  if (p.bank) b.bank_account = { ...p.bank, holder_name: p.name };
  Object.assign(b, overrides);
  for (const k of Object.keys(b)) if (b[k] === undefined) delete b[k];
  return b;
}

let A; // the applicant who submits
let B; // two more applicants, for the duplicate rule
let C;
let officer;
let admin;

// What this file stored: application id -> { owner token, clear numbers }.
const SUBMITTED = new Map();

async function submit(b, token = A.token) {
  const t0 = Date.now();
  const r = await api('POST', '/loan-application/submit', { token, body: b });
  r.ms = Date.now() - t0;
  if (r.status === 201 && r.json?.application) {
    const clears = [b.aadhaar, b.pan, b.bank_account?.account_number].filter((x) => typeof x === 'string');
    SUBMITTED.set(r.json.application.application_id, { token, clears, body: b });
  }
  return r;
}

async function submitOk(b, token = A.token) {
  const r = await submit(b, token);
  assert.equal(r.status, 201, `submit ${b.name}: ${r.status} ${r.text}`);
  return r.json.application;
}

function describeApp(a) {
  return `(kyc ${a.kyc_status} "${a.kyc_remarks}", compliance ${a.compliance_status} ` +
    `"${a.compliance_remarks}", eligibility ${a.eligibility_status} "${a.eligibility_remarks}", ` +
    `final ${a.final_status} "${a.final_remarks}", flags ${JSON.stringify(a.review_flags)})`;
}

const remarksOf = (a) => [a.kyc_remarks, a.compliance_remarks, a.eligibility_remarks, a.final_remarks].join(' | ');

const approve = (id, token = officer.token) => api('POST', `/loan-application/${id}/approve`, { token });
const reject = (id, reason, token = officer.token) => api('POST', `/loan-application/${id}/reject`, { token, body: { reason } });
const reprocess = (id, token = officer.token) => api('POST', `/loan-application/reprocess/${id}`, { token });

async function officerView(id) {
  const r = await api('GET', `/loan-application/status/${id}`, { token: officer.token });
  assert.equal(r.status, 200, r.text);
  return r.json.application;
}

// Rejects an application this file left open, so its identity can be submitted again.
async function closeIfPending(id) {
  const st = sql("SELECT final_status FROM loan_applications WHERE application_id = :'p1'", id);
  if (st.length && st[0][0] === 'PENDING') {
    const r = await reject(id, 'ekyc test: closing the application so the identity can be reused');
    assert.equal(r.status, 200, `closing ${id}: ${r.text}`);
  }
}

function logRows(id, action) {
  return sql("SELECT action, actor_id, status_before, status_after FROM approval_logs WHERE application_id = :'p1' AND action = :'p2' ORDER BY id", id, action);
}

const SPREAD = { A: 2.0, B: 3.5, C: 5.5, D: 8.0 };
const gradeOf = (points) => (points >= 640 ? 'A' : points >= 600 ? 'B' : points >= 560 ? 'C' : points >= 520 ? 'D' : 'E');
const near = (x, y, eps = 0.0051) => typeof x === 'number' && Math.abs(x - y) < eps;

function assertEkyc(check, want, what) {
  if (want === null) {
    assert.ok(check === null || check === undefined, `${what}: not checked, got ${JSON.stringify(check)}`);
    return;
  }
  assert.ok(check && typeof check === 'object', `${what}: ${JSON.stringify(check)}`);
  const [status, name] = want.split(':');
  assert.equal(check.status, status, `${what}.status: ${JSON.stringify(check)}`);
  assert.equal(typeof check.reference, 'string', `${what}.reference`);
  assert.match(check.reference, /^SBX-/, `${what}.reference`);
  if (status !== 'VERIFIED') return;
  assert.equal(typeof check.name_score, 'number', `${what}.name_score: ${JSON.stringify(check)}`);
  if (name === 'match') assert.ok(check.name_score >= 0.9, `${what}.name_score ${check.name_score} >= 0.90`);
  if (name === 'review') assert.ok(check.name_score >= 0.8 && check.name_score < 0.9, `${what}.name_score ${check.name_score} in [0.80, 0.90)`);
  if (name === 'mismatch') assert.ok(check.name_score < 0.8, `${what}.name_score ${check.name_score} < 0.80`);
}

// ---- setup -----------------------------------------------------------------------------------

before(async () => {
  admin = await adminToken();
  officer = await newUser('officer', admin);
  // Officers filing for customers: an applicant files only under the account's email, sees
  // none of the providers' answers, and its Indian submissions wait for an officer after three
  // identity mismatches in a day (security_review.test.mjs); this file looks at the answers.
  A = await newUser('officer', admin);
  B = await newUser('officer', admin);
  C = await newUser('officer', admin);
  // An earlier run of this file on the same stack may have left a sandbox identity open.
  const masks = Object.values(P).map((p) => maskPan(p.pan)).join(',');
  const names = Object.values(P).map((p) => p.name).join(',');
  const open = sql("SELECT application_id FROM loan_applications WHERE final_status = 'PENDING' AND pan_masked = ANY (string_to_array(:'p1', ',')) AND name = ANY (string_to_array(:'p2', ','))", masks, names);
  for (const [id] of open) await closeIfPending(id);
});

// ---- the docs' table itself ------------------------------------------------------------------

describe('the sandbox table of docs/ekyc.md', () => {
  test('every documented identity is valid by the documented formats', () => {
    const bad = [];
    for (const p of Object.values(P)) {
      if (!/^[2-9]\d{11}$/.test(p.aadhaar) || !verhoeffValid(p.aadhaar)) {
        bad.push(`${p.name}: Aadhaar ${p.aadhaar} fails the Verhoeff check (check digit of its first eleven is ${verhoeffDigit(p.aadhaar.slice(0, 11))})`);
      }
      const surname = p.name.split(' ').pop();
      if (!/^[A-Z]{3}P[A-Z]\d{4}[A-Z]$/.test(p.pan) || p.pan[4] !== surname[0]) bad.push(`${p.name}: PAN ${p.pan}`);
      if (p.bank && (!/^\d{9,18}$/.test(p.bank.account_number) || !/^[A-Z]{4}0[A-Z0-9]{6}$/.test(p.bank.ifsc))) bad.push(`${p.name}: bank account`);
    }
    assert.deepEqual(bad, [], 'the sandbox must answer for numbers an applicant can submit');
  });

  test('the docs list the identities this file tests', () => {
    const doc = readFileSync(`${ROOT}/docs/ekyc.md`, 'utf8');
    for (const p of Object.values(P)) {
      assert.ok(doc.includes(p.aadhaar) && doc.includes(p.pan), `${p.name} ${p.aadhaar} ${p.pan} in docs/ekyc.md`);
    }
  });
});

// ---- every sandbox identity through the pipeline ---------------------------------------------

// want: kyc/eligibility/final statuses (with market data loaded), flags (exact, for PENDING),
// ekyc per check ("STATUS[:match|review|mismatch]" or null), bureau, graded (risk present),
// priced (pricing present), grade, reasons, hard (rule code documented for the rejection).
const CASES = [
  {
    title: 'Priya Sharma: all verified, CIBIL 782, tier limit 500,000 → APPROVED', p: P.priya,
    kyc: 'APPROVED', elig: 'APPROVED', final: 'APPROVED', flags: [],
    ekyc: { aadhaar: 'VERIFIED:match', pan: 'VERIFIED:match', bank_account: 'VERIFIED:match' },
    bureau: { bureau: 'CIBIL', status: 'OK', score: 782, active_loans: 1, overdue_accounts: 0, enquiries_6m: 1, tier_limit: 500000 },
    graded: true, priced: true,
  },
  {
    title: 'Rahul Verma, loan 150,000: CRIF 702, limit 200,000 → APPROVED', p: P.rahul,
    kyc: 'APPROVED', elig: 'APPROVED', final: 'APPROVED', flags: [],
    ekyc: { aadhaar: 'VERIFIED:match', pan: 'VERIFIED:match', bank_account: 'VERIFIED:match' },
    bureau: { bureau: 'CRIF', status: 'OK', score: 702, active_loans: 2, overdue_accounts: 0, enquiries_6m: 2, tier_limit: 200000 },
    graded: true, priced: true,
  },
  {
    title: 'Rahul Verma, loan 250,000: above the tier limit → REJECTED (bureau_limit)', p: P.rahul,
    overrides: { loan_amount: 250000 },
    kyc: 'APPROVED', elig: 'REJECTED', final: 'REJECTED',
    ekyc: { aadhaar: 'VERIFIED:match', pan: 'VERIFIED:match', bank_account: 'VERIFIED:match' },
    bureau: { bureau: 'CRIF', status: 'OK', score: 702, tier_limit: 200000 },
    graded: false, priced: false, hard: 'bureau_limit',
  },
  {
    title: 'Rahul Verma, loan 200,000: exactly the tier limit → APPROVED', p: P.rahul,
    overrides: { loan_amount: 200000 },
    kyc: 'APPROVED', elig: 'APPROVED', final: 'APPROVED', flags: [],
    ekyc: { aadhaar: 'VERIFIED:match', pan: 'VERIFIED:match', bank_account: 'VERIFIED:match' },
    bureau: { bureau: 'CRIF', status: 'OK', score: 702, tier_limit: 200000 },
    graded: true, priced: true,
  },
  {
    title: 'Anil Kumar: CIBIL 612 → REJECTED (bureau_tier)', p: P.anil,
    kyc: 'APPROVED', elig: 'REJECTED', final: 'REJECTED',
    ekyc: { aadhaar: 'VERIFIED:match', pan: 'VERIFIED:match', bank_account: null },
    bureau: { bureau: 'CIBIL', status: 'OK', score: 612 },
    graded: false, priced: false, hard: 'bureau_tier',
  },
  {
    title: 'Meera Nair: no credit history → PENDING (no_credit_history)', p: P.meera,
    kyc: 'APPROVED', elig: 'PENDING', final: 'PENDING', flags: ['no_credit_history'],
    ekyc: { aadhaar: 'VERIFIED:match', pan: 'VERIFIED:match', bank_account: null },
    bureau: { bureau: 'CIBIL', status: 'NO_HISTORY', score: null },
    graded: true, priced: true,
  },
  {
    title: 'Meera Nair, loan 250,000: no history caps the loan at the lowest tier → REJECTED (bureau_limit)', p: P.meera,
    overrides: { loan_amount: 250000 },
    kyc: 'APPROVED', elig: 'REJECTED', final: 'REJECTED',
    ekyc: { aadhaar: 'VERIFIED:match', pan: 'VERIFIED:match', bank_account: null },
    bureau: { bureau: 'CIBIL', status: 'NO_HISTORY', score: null },
    graded: false, priced: false, hard: 'bureau_limit',
  },
  {
    title: 'Meera Nair, loan 200,000: exactly the lowest tier\'s limit → PENDING (no_credit_history)', p: P.meera,
    overrides: { loan_amount: 200000 },
    kyc: 'APPROVED', elig: 'PENDING', final: 'PENDING', flags: ['no_credit_history'],
    ekyc: { aadhaar: 'VERIFIED:match', pan: 'VERIFIED:match', bank_account: null },
    bureau: { bureau: 'CIBIL', status: 'NO_HISTORY', score: null },
    graded: true, priced: true,
  },
  {
    title: 'Kavita Joshi: Aadhaar registered to another name → KYC REJECTED (kyc_aadhaar_name)', p: P.kavita,
    kyc: 'REJECTED', final: 'REJECTED',
    ekyc: { aadhaar: 'VERIFIED:mismatch', pan: 'VERIFIED:match', bank_account: null },
    bureau: null, // asked only after the identity checks passed
    hard: 'kyc_aadhaar_name', hidden: ['Sunita'],
  },
  {
    title: 'Vikram Rathore: name on record close (0.88) → PENDING (ekyc_review)', p: P.vikram,
    kyc: 'PENDING', elig: 'APPROVED', final: 'PENDING', flags: ['ekyc_review'],
    ekyc: { aadhaar: 'VERIFIED:review', pan: 'VERIFIED:review', bank_account: null },
    bureau: { bureau: 'CIBIL', status: 'OK', score: 790, tier_limit: 500000 },
    graded: true, priced: true, hidden: ['Singh'],
  },
  {
    title: 'Arjun Mehta: Aadhaar not found → KYC REJECTED', p: P.arjun,
    kyc: 'REJECTED', final: 'REJECTED',
    ekyc: { aadhaar: 'NOT_FOUND', pan: 'VERIFIED:match', bank_account: null },
    bureau: null, // asked only after the identity checks passed
    hard: 'kyc_aadhaar_not_found',
  },
  {
    title: 'Deepa Iyer: eKYC times out → PENDING (ekyc_unavailable)', p: P.deepa,
    kyc: 'PENDING', elig: 'APPROVED', final: 'PENDING', flags: ['ekyc_unavailable'],
    ekyc: { aadhaar: 'TIMEOUT', pan: 'VERIFIED:match', bank_account: null },
    bureau: null, // asked only after the identity checks passed (a reprocess asks again)
    graded: true, priced: true, timeout: true,
  },
  {
    title: 'Sanjay Gupta: bureau times out → PENDING (bureau_unavailable)', p: P.sanjay,
    kyc: 'APPROVED', elig: 'PENDING', final: 'PENDING', flags: ['bureau_unavailable'],
    ekyc: { aadhaar: 'VERIFIED:match', pan: 'VERIFIED:match', bank_account: null },
    bureau: { status: 'TIMEOUT', score: null },
    graded: false, // no grade or price on a score the bureau has not confirmed
  },
  {
    title: 'Rohan Das: eKYC fails → PENDING (ekyc_unavailable); the bureau is not asked before the identity checks pass', p: P.rohan,
    kyc: 'PENDING', elig: 'APPROVED', final: 'PENDING', flags: ['ekyc_unavailable'],
    ekyc: { aadhaar: 'ERROR', pan: 'VERIFIED:match', bank_account: null },
    bureau: null, // a failed provider is never a pass: a reprocess asks both again
  },
  {
    title: 'Neha Kapoor: bank account of someone else → KYC REJECTED (kyc_bank_account_name)', p: P.neha,
    kyc: 'REJECTED', final: 'REJECTED',
    ekyc: { aadhaar: 'VERIFIED:match', pan: 'VERIFIED:match', bank_account: 'VERIFIED:mismatch' },
    bureau: { bureau: 'CRIF', status: 'OK', score: 768, tier_limit: 500000 },
    hard: 'kyc_bank_account_name', hidden: ['Rohit', 'Malhotra'],
  },
  {
    title: 'Farhan Qureshi, income 80,000 / debt 10,000 / loan 100,000: 3 overdue, 6 enquiries → grade E, REJECTED (risk_grade)', p: P.farhan,
    overrides: { income: 80000, debt: 10000, loan_amount: 100000 },
    kyc: 'APPROVED', elig: 'REJECTED', final: 'REJECTED',
    ekyc: { aadhaar: 'VERIFIED:match', pan: 'VERIFIED:match', bank_account: null },
    bureau: { bureau: 'CIBIL', status: 'OK', score: 760, active_loans: 4, overdue_accounts: 3, enquiries_6m: 6, tier_limit: 500000 },
    graded: true, priced: false, grade: 'E', reasons: ['R05'], hard: 'risk_grade',
  },
];

for (const c of CASES) {
  describe(c.title, () => {
    let r;
    let b;
    before(async () => {
      b = indianBody(c.p, c.overrides);
      r = await submit(b);
    });
    after(async () => {
      if (r?.status === 201) await closeIfPending(r.json.application.application_id);
    });
    const app = () => {
      assert.equal(r.status, 201, `submit ${c.p.name}: ${r.status} ${r.text}`);
      return r.json.application;
    };

    test('identity: masked numbers only, eKYC answers', () => {
      const a = app();
      assert.equal(a.date_of_birth, c.p.dob);
      assert.ok(a.identity && typeof a.identity === 'object', `identity: ${JSON.stringify(a.identity)}`);
      assert.equal(a.identity.aadhaar, maskAadhaar(c.p.aadhaar));
      assert.equal(a.identity.pan, maskPan(c.p.pan));
      if (c.p.bank) {
        assert.deepEqual(a.identity.bank_account, {
          account_number: maskAccount(c.p.bank.account_number), ifsc: c.p.bank.ifsc, holder_name: c.p.name,
        });
      } else {
        assert.equal(a.identity.bank_account ?? null, null);
      }
      const e = a.identity.ekyc;
      assert.ok(e && typeof e === 'object', `identity.ekyc: ${JSON.stringify(e)}`);
      assert.equal(e.provider, 'sandbox');
      for (const k of ['aadhaar', 'pan', 'bank_account']) assertEkyc(e[k], c.ekyc[k], `identity.ekyc.${k}`);
      if (c.ekyc.aadhaar.startsWith('VERIFIED')) assert.equal(e.aadhaar.dob_match, true, 'aadhaar dob_match');
      if (c.ekyc.pan.startsWith('VERIFIED')) assert.equal(e.pan.dob_match, true, 'pan dob_match');
      for (const clear of clearStrings()) assert.ok(!r.text.includes(clear), `the response carries the clear number ${clear}`);
      for (const h of c.hidden || []) assert.ok(!r.text.includes(h), `the response quotes the name on record ("${h}")`);
      if (c.timeout && process.env.PROVIDER_TIMEOUT_MS) {
        const ms = Number(process.env.PROVIDER_TIMEOUT_MS);
        assert.ok(r.ms >= ms * 0.9, `a timeout is waited out: ${r.ms} ms < PROVIDER_TIMEOUT_MS ${ms}`);
        assert.ok(r.ms < ms * 3 + 5000, `a timeout bounds the call: ${r.ms} ms`);
      }
    });

    test('credit bureau: the report and the tier applied', () => {
      const a = app();
      const cb = a.credit_bureau;
      if (c.bureau === null) {
        assert.equal(cb, null, `the bureau is asked only after the identity checks passed: ${JSON.stringify(cb)}`);
        return;
      }
      assert.ok(cb && typeof cb === 'object', `credit_bureau: ${JSON.stringify(cb)}`);
      for (const [k, v] of Object.entries(c.bureau)) {
        if (k === 'tier_limit') continue;
        assert.equal(cb[k], v, `credit_bureau.${k}: ${JSON.stringify(cb)}`);
      }
      assert.equal(typeof cb.reference, 'string');
      assert.match(cb.reference, /^SBX-BUREAU-/);
      assert.equal(a.credit_score, (c.overrides?.credit_score) ?? 760, 'the declared score stays recorded');
      if (c.bureau.status === 'OK') {
        assert.equal(cb.tier_version, 1, `credit_bureau.tier_version: ${JSON.stringify(cb)}`);
        if (c.bureau.tier_limit !== undefined) assert.equal(cb.tier_limit, c.bureau.tier_limit, `credit_bureau.tier_limit: ${JSON.stringify(cb)}`);
      }
    });

    test('risk grade', () => {
      const a = app();
      if (c.graded === false) {
        assert.equal(a.risk, null, `failed a rule before grading: risk ${JSON.stringify(a.risk)}`);
        assert.equal(a.pricing, null, `failed a rule before grading: pricing ${JSON.stringify(a.pricing)}`);
        return;
      }
      if (c.graded === undefined) return; // the docs leave it open
      const k = a.risk;
      assert.ok(k && typeof k === 'object', `risk: ${JSON.stringify(k)}`);
      assert.equal(k.model_version, 1);
      assert.ok(typeof k.probability_of_default === 'number' && k.probability_of_default > 0 && k.probability_of_default < 1, JSON.stringify(k));
      assert.ok(Number.isInteger(k.points), JSON.stringify(k));
      assert.equal(k.grade, gradeOf(k.points), `grade of ${k.points} points`);
      assert.ok(Array.isArray(k.reasons) && k.reasons.length <= 3, JSON.stringify(k));
      for (const x of k.reasons) assert.match(x.code, /^R0[1-6]$/);
      if (c.grade) assert.equal(k.grade, c.grade, JSON.stringify(k));
      else assert.notEqual(k.grade, 'E', JSON.stringify(k));
      for (const code of c.reasons || []) {
        assert.ok(k.reasons.some((x) => x.code === code), `risk.reasons should include ${code}: ${JSON.stringify(k.reasons)}`);
        assert.ok(a.eligibility_remarks.includes(code), `eligibility_remarks should name ${code}: ${a.eligibility_remarks}`);
      }
    });

    test('decision: stage statuses and review flags', () => {
      const a = app();
      assert.equal(a.kyc_status, c.kyc, `kyc ${describeApp(a)}`);
      if (c.elig) assert.equal(a.eligibility_status, c.elig, `eligibility ${describeApp(a)}`);
      assert.equal(a.compliance_status, 'APPROVED', `compliance ${describeApp(a)}`);
      assert.equal(a.final_status, c.final, `final ${describeApp(a)}`);
      if (c.flags) assert.deepEqual([...a.review_flags].sort(), [...c.flags].sort(), `review_flags ${describeApp(a)}`);
    });

    if (c.priced) {
      test('pricing: RBI_REPO base rate + the grade\'s spread', () => {
        const a = app();
        const pr = a.pricing;
        assert.ok(pr && typeof pr === 'object', `pricing: ${JSON.stringify(pr)} ${describeApp(a)}`);
        assert.equal(pr.base_rate_symbol, 'RBI_REPO');
        assert.ok(typeof pr.base_rate === 'number' && pr.base_rate > 0, JSON.stringify(pr));
        assert.match(String(pr.base_rate_as_of), /^\d{4}-\d{2}-\d{2}$/);
        assert.ok(near(pr.spread, SPREAD[a.risk.grade]), `spread of grade ${a.risk.grade}: ${JSON.stringify(pr)}`);
        assert.ok(near(pr.annual_rate, pr.base_rate + pr.spread), `annual_rate = base_rate + spread: ${JSON.stringify(pr)}`);
        assert.ok(!a.review_flags.includes('pricing_unavailable'), JSON.stringify(a.review_flags));
      });
    }

    if (c.hard) {
      test(`the hard rule ${c.hard} is named in the remarks`, () => {
        const a = app();
        assert.ok(a.failed_rules.includes(c.hard), `failed_rules should name ${c.hard}: ${JSON.stringify(a.failed_rules)} (${remarksOf(a)})`);
        // A rule failed before grading: no grade and no price is offered.
        if (c.hard !== 'risk_grade') {
          assert.equal(a.risk, null, `no grade for an application rejected by ${c.hard}`);
          assert.equal(a.pricing, null, `no price for an application rejected by ${c.hard}`);
        }
      });
    }
  });
}

describe('the bank account must be the applicant\'s own', () => {
  test('Priya Sharma\'s account typed with another holder name → KYC REJECTED (kyc_bank_account_name)', async () => {
    const r = await submit(indianBody(P.priya, { bank_account: { ...P.priya.bank, holder_name: 'Rohan Malhotra' } }));
    assert.equal(r.status, 201, r.text);
    const a = r.json.application;
    try {
      assert.equal(a.kyc_status, 'REJECTED', describeApp(a));
      assert.equal(a.final_status, 'REJECTED', describeApp(a));
      assert.equal(a.identity.ekyc.bank_account.status, 'VERIFIED');
      assert.ok(a.identity.ekyc.bank_account.name_score < 0.8, JSON.stringify(a.identity.ekyc.bank_account));
      assert.equal(a.identity.ekyc.aadhaar.status, 'VERIFIED');
      assert.ok(a.failed_rules.includes('kyc_bank_account_name'), `failed_rules should name kyc_bank_account_name: ${JSON.stringify(a.failed_rules)} (${remarksOf(a)})`);
    } finally {
      await closeIfPending(a.application_id);
    }
  });
});

// ---- validation ------------------------------------------------------------------------------

describe('validation of the identity fields', () => {
  // A 400 validation_failed naming field, and nothing stored.
  async function refused(b, field, what) {
    const r = await submit(b);
    const err = assertError(r, 400, 'validation_failed');
    assert.ok(err.fields && field in err.fields, `${what}: error.fields should name ${field}: ${r.text}`);
    assert.equal(typeof err.fields[field], 'string');
    const sent = [b.aadhaar, b.pan, b.bank_account?.account_number].filter((x) => typeof x === 'string' && x.length >= 9);
    for (const clear of sent) assert.ok(!r.text.includes(clear), `${what}: the 400 echoes the submitted ${clear}`);
    const n = sql("SELECT count(*) FROM loan_applications WHERE email = :'p1'", b.email)[0][0];
    assert.equal(n, '0', `${what}: nothing stored`);
    return err;
  }

  test('aadhaar: a wrong check digit, a first digit 0 or 1, wrong lengths and separators', async () => {
    const p = nobody();
    const wrong = p.aadhaar.slice(0, 11) + String((Number(p.aadhaar[11]) + 1) % 10);
    await refused(indianBody(p, { aadhaar: wrong }), 'aadhaar', 'check digit');
    const one = `1${p.aadhaar.slice(1, 11)}`;
    await refused(indianBody(p, { aadhaar: one + verhoeffDigit(one) }), 'aadhaar', 'first digit 1');
    await refused(indianBody(p, { aadhaar: p.aadhaar.slice(0, 11) }), 'aadhaar', '11 digits');
    await refused(indianBody(p, { aadhaar: `${p.aadhaar}0` }), 'aadhaar', '13 digits');
    await refused(indianBody(p, { aadhaar: `${p.aadhaar.slice(0, 4)}-${p.aadhaar.slice(4, 8)}-${p.aadhaar.slice(8)}` }), 'aadhaar', 'dashes');
    await refused(indianBody(p, { aadhaar: `${p.aadhaar.slice(0, 4)}  ${p.aadhaar.slice(4, 8)} ${p.aadhaar.slice(8)}` }), 'aadhaar', 'double space');
    await refused(indianBody(p, { aadhaar: Number(p.aadhaar) }), 'aadhaar', 'a JSON number');
  });

  test('aadhaar 4-4-4 with single spaces is accepted and masked', async () => {
    const p = nobody();
    const a = await submitOk(indianBody(p, { aadhaar: spaced(p.aadhaar) }));
    assert.equal(a.identity.aadhaar, maskAadhaar(p.aadhaar));
  });

  test('pan: wrong format', async () => {
    const p = nobody('Bhatt');
    for (const bad of ['ABCPB12345', 'ABCPB123K', 'ABCPB1234KK', 'ABC PB1234K', '1BCPB1234K', 'ABCPB12E4K']) {
      await refused(indianBody(p, { pan: bad }), 'pan', `pan ${bad}`);
    }
  });

  test('pan: 4th letter other than P (not a person)', async () => {
    const p = nobody('Bhatt');
    for (const kind of ['C', 'F', 'H', 'T']) {
      await refused(indianBody(p, { pan: `ABC${kind}B1234K` }), 'pan', `4th letter ${kind}`);
    }
  });

  test('pan: 5th letter not the initial of the surname', async () => {
    const p = nobody('Bhatt');
    await refused(indianBody(p, { pan: 'ABCPX1234K' }), 'pan', 'initial X for Bhatt');
    await refused(indianBody(P.priya, { pan: 'ABCPV1234K' }), 'pan', 'initial V for Sharma');
  });

  test('pan: the initial of any word of the name (surname first or last); other scripts unchecked', async () => {
    const first = nobody('Bhatt');
    first.name = 'Bhatt Asha';
    const a1 = await submitOk(indianBody(first));
    assert.equal(a1.identity.pan, maskPan(first.pan));
    const initialled = nobody('Ramesh');
    initialled.name = 'K. Ramesh';
    const a2 = await submitOk(indianBody(initialled));
    assert.equal(a2.identity.pan, maskPan(initialled.pan));
    const k = nobody('Kumar');
    GENERATED.push(`${k.pan.slice(0, 4)}K${k.pan.slice(5)}`);
    const a3 = await submitOk(indianBody({ ...k, name: 'K. Ramesh', pan: `${k.pan.slice(0, 4)}K${k.pan.slice(5)}` }));
    assert.equal(a3.kyc_status, 'REJECTED', 'not found by eKYC');
    const other = nobody('Bhatt');
    GENERATED.push(`${other.pan.slice(0, 4)}X${other.pan.slice(5)}`);
    const a4 = await submitOk(indianBody({ ...other, name: 'Asha भट्ट', pan: `${other.pan.slice(0, 4)}X${other.pan.slice(5)}` }));
    assert.equal(a4.identity.pan.length, 10);
  });

  test('pan typed in lower case is accepted and upper-cased', async () => {
    const p = nobody('Bhatt');
    const a = await submitOk(indianBody(p, { pan: p.pan.toLowerCase() }));
    assert.equal(a.identity.pan, maskPan(p.pan));
  });

  test('bank_account.ifsc', async () => {
    const p = nobody();
    for (const ifsc of ['HDFC1001234', 'HDF00001234', 'HDFC000123', 'HDFC00012345', 'HDFC0-01234']) {
      await refused(indianBody(p, { bank_account: { account_number: '123456789012', ifsc, holder_name: p.name } }), 'bank_account.ifsc', `ifsc ${ifsc}`);
    }
  });

  test('bank_account.account_number', async () => {
    const p = nobody();
    for (const n of ['12345678', '1234567890123456789', '12345678AB', '1234 5678 9012', '']) {
      await refused(indianBody(p, { bank_account: { account_number: n, ifsc: 'HDFC0001234', holder_name: p.name } }), 'bank_account.account_number', `account ${JSON.stringify(n)}`);
    }
    await refused(indianBody(p, { bank_account: { ifsc: 'HDFC0001234', holder_name: p.name } }), 'bank_account.account_number', 'account missing');
  });

  test('bank_account.holder_name', async () => {
    const p = nobody();
    await refused(indianBody(p, { bank_account: { account_number: '123456789012', ifsc: 'HDFC0001234', holder_name: 'AB' } }), 'bank_account.holder_name', 'holder name of 2');
  });

  test('ifsc typed in lower case is accepted and upper-cased', async () => {
    const p = nobody();
    GENERATED.push('987650001234');
    const a = await submitOk(indianBody(p, { bank_account: { account_number: '987650001234', ifsc: 'hdfc0001234', holder_name: p.name } }));
    assert.equal(a.identity.bank_account.ifsc, 'HDFC0001234');
    assert.equal(a.identity.bank_account.account_number, 'XXXXXXXX1234');
  });

  test('date_of_birth: in the future, not a calendar date, before 1900, wrong format', async () => {
    const p = nobody();
    const tomorrow = new Date(Date.now() + 36 * 3600 * 1000).toISOString().slice(0, 10);
    for (const dob of [tomorrow, '2999-01-01', '1990-02-30', '1991-02-29', '1990-13-01', '1899-12-31', '1990-4-12', '12/04/1990', '1990-04-12T00:00:00Z', '']) {
      await refused(indianBody(p, { date_of_birth: dob }), 'date_of_birth', `date_of_birth ${dob}`);
    }
  });

  test('every bad identity field is named at once', async () => {
    const p = nobody('Bhatt');
    const err = await refused(indianBody(p, {
      aadhaar: '123412341234', pan: 'ABCCX1234K', date_of_birth: '1990-02-30',
      bank_account: { account_number: '12', ifsc: 'bad', holder_name: p.name },
    }), 'aadhaar', 'all bad');
    for (const f of ['pan', 'date_of_birth', 'bank_account.account_number', 'bank_account.ifsc']) {
      assert.ok(f in err.fields, `fields should name ${f}: ${JSON.stringify(err.fields)}`);
    }
  });

  test('India without PAN and Aadhaar: 201, KYC REJECTED (kyc_identity), identity and credit_bureau null', async () => {
    const p = nobody();
    const a = await submitOk(indianBody(p, { aadhaar: undefined, pan: undefined, date_of_birth: undefined }));
    assert.equal(a.kyc_status, 'REJECTED', describeApp(a));
    assert.equal(a.final_status, 'REJECTED', describeApp(a));
    assert.equal(a.identity, null);
    assert.equal(a.credit_bureau, null);
    assert.ok(a.failed_rules.includes('kyc_identity'), `failed_rules should name kyc_identity: ${JSON.stringify(a.failed_rules)} (${remarksOf(a)})`);
  });

  test('India without a date of birth: 201, KYC REJECTED, the remark names it', async () => {
    const p = nobody();
    const a = await submitOk(indianBody(p, { date_of_birth: undefined }));
    assert.equal(a.kyc_status, 'REJECTED', describeApp(a));
    assert.match(a.kyc_remarks, /date of birth/i);
    assert.ok(a.failed_rules.includes('kyc_identity'), `failed_rules should name kyc_identity: ${JSON.stringify(a.failed_rules)} (${remarksOf(a)})`);
  });

  test('India with Aadhaar only, or PAN only: 201, KYC REJECTED', async () => {
    const p = nobody();
    const onlyA = await submitOk(indianBody(p, { pan: undefined }));
    assert.equal(onlyA.kyc_status, 'REJECTED', describeApp(onlyA));
    assert.match(onlyA.kyc_remarks, /PAN/);
    assert.equal(onlyA.identity.aadhaar, maskAadhaar(p.aadhaar));
    assert.equal(onlyA.credit_bureau, null, 'no PAN, no bureau');
    const q = nobody();
    const onlyP = await submitOk(indianBody(q, { aadhaar: undefined }));
    assert.equal(onlyP.kyc_status, 'REJECTED', describeApp(onlyP));
    assert.match(onlyP.kyc_remarks, /Aadhaar/);
  });

  test('under 18: 201, KYC REJECTED (kyc_age)', async () => {
    const p = nobody();
    const d = new Date();
    const dob = `${d.getUTCFullYear() - 17}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-01`;
    const a = await submitOk(indianBody(p, { date_of_birth: dob }));
    assert.equal(a.kyc_status, 'REJECTED', describeApp(a));
    assert.match(a.kyc_remarks, /age|18/i);
    assert.ok(a.failed_rules.includes('kyc_age'), `failed_rules should name kyc_age: ${JSON.stringify(a.failed_rules)} (${remarksOf(a)})`);
  });

  test('outside India without identity fields: identity and credit_bureau null', async () => {
    const a = await submitOk({
      ...HEALTHY, name: 'John Doe', email: uniqueEmail('ekyc-us'), phone: '+12025550143', region: 'AMERICAS',
      country: 'United States', income: 85000, debt: 25000, credit_score: 720, loan_amount: 150000,
    });
    assert.equal(a.identity, null);
    assert.equal(a.credit_bureau, null);
  });
});

// ---- duplicates ------------------------------------------------------------------------------

describe('the same PAN or Aadhaar on two open applications', () => {
  let first; // Deepa Iyer, waiting on eKYC (open)
  const later = [];
  before(async () => {
    first = await submitOk(indianBody(P.deepa), B.token);
  });
  after(async () => {
    for (const id of [first?.application_id, ...later]) if (id) await closeIfPending(id);
  });

  test('Deepa Iyer again under another email: 409 naming pan or aadhaar, nothing stored', async () => {
    assert.equal(first.final_status, 'PENDING', describeApp(first));
    const again = indianBody(P.deepa);
    const r = await submit(again, C.token);
    if (r.status === 201) later.push(r.json.application.application_id);
    const err = assertError(r, 409, 'conflict');
    assert.ok(err.fields && ('pan' in err.fields || 'aadhaar' in err.fields), `error.fields: ${r.text}`);
    for (const clear of clearStrings()) assert.ok(!r.text.includes(clear), `the 409 echoes ${clear}`);
    assert.equal(sql("SELECT count(*) FROM loan_applications WHERE email = :'p1'", again.email)[0][0], '0');
  });

  test('only the PAN is the same: 409 naming pan', async () => {
    const other = nobody('Iyer');
    const b = indianBody(P.deepa, { aadhaar: other.aadhaar });
    const r = await submit(b, C.token);
    if (r.status === 201) later.push(r.json.application.application_id);
    const err = assertError(r, 409, 'conflict');
    assert.ok(err.fields && 'pan' in err.fields, `error.fields should name pan: ${r.text}`);
    assert.equal(sql("SELECT count(*) FROM loan_applications WHERE email = :'p1'", b.email)[0][0], '0');
  });

  test('only the Aadhaar is the same: 409 naming aadhaar', async () => {
    const other = nobody('Iyer');
    const b = indianBody(P.deepa, { pan: other.pan });
    const r = await submit(b, C.token);
    if (r.status === 201) later.push(r.json.application.application_id);
    const err = assertError(r, 409, 'conflict');
    assert.ok(err.fields && 'aadhaar' in err.fields, `error.fields should name aadhaar: ${r.text}`);
  });

  test('the Aadhaar typed 4-4-4 is the same Aadhaar', async () => {
    const r = await submit(indianBody(P.deepa, { aadhaar: spaced(P.deepa.aadhaar) }), C.token);
    if (r.status === 201) later.push(r.json.application.application_id);
    assertError(r, 409, 'conflict');
  });

  test('after an officer rejects the first, the same identity may apply again (201)', async () => {
    const rej = await reject(first.application_id, 'Duplicate test');
    assert.equal(rej.status, 200, rej.text);
    const third = await submitOk(indianBody(P.deepa), C.token);
    later.push(third.application_id);
    assert.equal(third.final_status, 'PENDING', describeApp(third));
    assert.ok(third.review_flags.includes('ekyc_unavailable'), describeApp(third));
  });
});

// ---- review actions --------------------------------------------------------------------------

describe('review of applications waiting on a provider or on eKYC', () => {
  test('ekyc_unavailable: approval is 409 verification_incomplete; reprocess asks again and keeps it PENDING', async () => {
    const app = await submitOk(indianBody(P.deepa));
    try {
      assert.ok(app.review_flags.includes('ekyc_unavailable'), describeApp(app));
      const r = await approve(app.application_id);
      const err = assertError(r, 409, 'verification_incomplete');
      assert.ok(err.fields && 'ekyc_unavailable' in err.fields, `fields should name ekyc_unavailable: ${r.text}`);
      assert.deepEqual(logRows(app.application_id, 'approve'), []);
      assert.equal((await officerView(app.application_id)).final_status, 'PENDING');

      const re = await reprocess(app.application_id);
      assert.equal(re.status, 200, re.text);
      const a = re.json.application;
      assert.equal(a.final_status, 'PENDING', describeApp(a));
      assert.equal(a.kyc_status, 'PENDING', describeApp(a));
      assert.ok(a.review_flags.includes('ekyc_unavailable'), describeApp(a));
      assert.equal(a.identity.ekyc.aadhaar.status, 'TIMEOUT');
      assert.notEqual(a.identity.ekyc.aadhaar.reference, app.identity.ekyc.aadhaar.reference, 'the provider was asked again');
      assert.equal(a.identity.aadhaar, maskAadhaar(P.deepa.aadhaar));
      const logs = logRows(app.application_id, 'reprocess');
      assert.equal(logs.length, 1);
      assert.deepEqual([logs[0][2], logs[0][3]], ['PENDING', 'PENDING']);
    } finally {
      await closeIfPending(app.application_id);
    }
  });

  test('bureau_unavailable: approval is 409 verification_incomplete', async () => {
    const app = await submitOk(indianBody(P.sanjay));
    try {
      const err = assertError(await approve(app.application_id), 409, 'verification_incomplete');
      assert.ok(err.fields && 'bureau_unavailable' in err.fields, JSON.stringify(err));
    } finally {
      await closeIfPending(app.application_id);
    }
  });

  test('ekyc_review only (Vikram Rathore): an officer approves → APPROVED, logged', async () => {
    const r = await submit(indianBody(P.vikram));
    assert.equal(r.status, 201, `submit Vikram Rathore: ${r.text}`);
    const app = r.json.application;
    try {
      assert.ok(app.review_flags.includes('ekyc_review'), describeApp(app));
      assert.equal(app.kyc_status, 'PENDING', describeApp(app));
      const ok = await approve(app.application_id);
      assert.equal(ok.status, 200, ok.text);
      const a = ok.json.application;
      assert.equal(a.final_status, 'APPROVED', describeApp(a));
      assert.notEqual(a.kyc_status, 'REJECTED', describeApp(a));
      assert.deepEqual(a.review_flags, []);
      assert.equal(Number(a.reviewed_by), officer.id);
      assert.ok(a.pricing && a.pricing.base_rate_symbol === 'RBI_REPO', `priced: ${JSON.stringify(a.pricing)}`);
      const logs = logRows(app.application_id, 'approve');
      assert.deepEqual(logs, [['approve', String(officer.id), 'PENDING', 'APPROVED']]);
      const view = await officerView(app.application_id);
      assert.equal(view.identity.aadhaar, maskAadhaar(P.vikram.aadhaar));
    } finally {
      await closeIfPending(app.application_id);
    }
  });

  test('no_credit_history (Meera Nair): an officer approves → APPROVED', async () => {
    const app = await submitOk(indianBody(P.meera));
    try {
      assert.ok(app.review_flags.includes('no_credit_history'), describeApp(app));
      const ok = await approve(app.application_id);
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.json.application.final_status, 'APPROVED', describeApp(ok.json.application));
    } finally {
      await closeIfPending(app.application_id);
    }
  });
});

// ---- what leaves the service -----------------------------------------------------------------

describe('responses carry masked numbers only', () => {
  function noClear(text, what) {
    for (const clear of clearStrings()) assert.ok(!text.includes(clear), `${what} contains the clear number ${clear}`);
  }

  test('status, /me/applications, list, pending, approval logs', async () => {
    assert.ok(SUBMITTED.size >= 10, `applications submitted by this file: ${SUBMITTED.size}`);
    for (const [id, { token }] of SUBMITTED) {
      const own = await api('GET', `/loan-application/status/${id}`, { token });
      assert.equal(own.status, 200, own.text);
      noClear(own.text, `status of ${id} (owner)`);
      const off = await api('GET', `/loan-application/status/${id}`, { token: officer.token });
      assert.equal(off.status, 200, off.text);
      noClear(off.text, `status of ${id} (officer)`);
    }
    for (const who of [A, B, C]) {
      const r = await api('GET', '/me/applications?limit=1000', { token: who.token });
      assert.equal(r.status, 200, r.text);
      noClear(r.text, '/me/applications');
    }
    const mine = await api('GET', '/me/applications?limit=1000', { token: A.token });
    assert.ok(mine.text.includes(maskAadhaar(P.priya.aadhaar)) && mine.text.includes(maskPan(P.priya.pan)), 'masked forms are shown');
    for (const q of ['?limit=1000', '?country=IN&limit=1000', '?status=REJECTED&limit=1000']) {
      const r = await api('GET', `/loan-application/list${q}`, { token: officer.token });
      assert.equal(r.status, 200, r.text);
      noClear(r.text, `/loan-application/list${q}`);
    }
    const pend = await api('GET', '/loan-application/pending', { token: officer.token });
    assert.equal(pend.status, 200, pend.text);
    noClear(pend.text, '/loan-application/pending');
    const logs = await api('GET', '/approval-logs?limit=1000', { token: officer.token });
    assert.equal(logs.status, 200, logs.text);
    noClear(logs.text, '/approval-logs');
  });

  test('officer pages: application pages, review queue, dashboard', async () => {
    for (const id of [...SUBMITTED.keys()].slice(0, 20)) {
      const r = await api('GET', `/applications/${id}`, { token: officer.token });
      assert.equal(r.status, 200, `/applications/${id}: ${r.status}`);
      noClear(r.text, `/applications/${id}`);
    }
    for (const path of ['/reviews', '/dashboard']) {
      const r = await api('GET', path, { token: officer.token });
      assert.equal(r.status, 200, `${path}: ${r.status}`);
      noClear(r.text, path);
    }
  });
});

// ---- what reaches the database ---------------------------------------------------------------

describe('protected identity columns', () => {
  test('sealed, indexed and keyed: no clear number in any column of the rows', () => {
    let checked = 0;
    for (const [id, { clears, body }] of SUBMITTED) {
      if (!clears.length) continue;
      const [row] = sql(`SELECT coalesce(octet_length(aadhaar_enc), -1), coalesce(octet_length(pan_enc), -1),
          coalesce(octet_length(bank_account_enc), -1), coalesce(octet_length(aadhaar_bidx), -1),
          coalesce(octet_length(pan_bidx), -1), coalesce(pii_key_id, ''),
          coalesce(pg_typeof(aadhaar_enc)::text, ''), coalesce(aadhaar_masked, ''), coalesce(pan_masked, '')
        FROM loan_applications WHERE application_id = :'p1'`, id);
      const [aLen, pLen, bLen, aIdx, pIdx, keyId, type, aMask, pMask] = row;
      assert.equal(type, 'bytea');
      assert.match(keyId, /^[0-9a-f]{16}$/, `${id}: pii_key_id`);
      if (body.aadhaar) {
        assert.equal(Number(aLen), 24 + 12 + 16, `${id}: aadhaar_enc is nonce || ciphertext || tag`);
        assert.equal(Number(aIdx), 32, `${id}: aadhaar_bidx is 32 bytes`);
        assert.equal(aMask, maskAadhaar(body.aadhaar.replace(/ /g, '')));
      }
      if (body.pan) {
        assert.equal(Number(pLen), 24 + 10 + 16, `${id}: pan_enc`);
        assert.equal(Number(pIdx), 32, `${id}: pan_bidx is 32 bytes`);
        assert.equal(pMask, maskPan(body.pan.toUpperCase()));
      }
      if (body.bank_account) assert.equal(Number(bLen), 24 + body.bank_account.account_number.length + 16, `${id}: bank_account_enc`);
      const forms = [];
      for (const c of clears) { forms.push(c, c.toUpperCase()); if (/^\d{12}$/.test(c)) forms.push(spaced(c)); if (/^\d{4} \d{4} \d{4}$/.test(c)) forms.push(c.replace(/ /g, '')); }
      const leaks = sql(`SELECT x.col, n.v FROM loan_applications t,
          LATERAL (VALUES ('aadhaar_enc', t.aadhaar_enc), ('pan_enc', t.pan_enc),
                          ('bank_account_enc', t.bank_account_enc), ('aadhaar_bidx', t.aadhaar_bidx),
                          ('pan_bidx', t.pan_bidx)) AS x(col, b),
          unnest(string_to_array(:'p2', ',')) AS n(v)
        WHERE t.application_id = :'p1' AND x.b IS NOT NULL
          AND (strpos(encode(x.b, 'hex'), encode(convert_to(n.v, 'UTF8'), 'hex')) > 0
               OR strpos(encode(x.b, 'escape'), n.v) > 0)
        UNION ALL
        SELECT 'row text', n.v FROM loan_applications t, unnest(string_to_array(:'p2', ',')) AS n(v)
        WHERE t.application_id = :'p1'
          AND (strpos(t::text, n.v) > 0 OR strpos(t::text, encode(convert_to(n.v, 'UTF8'), 'hex')) > 0)`,
      id, forms.join(','));
      assert.deepEqual(leaks, [], `${id}: clear numbers found`);
      checked++;
    }
    assert.ok(checked >= 10, `rows checked: ${checked}`);
  });

  test('the bureau tier version and the risk model version are recorded', () => {
    let graded = 0;
    for (const [id, { body }] of SUBMITTED) {
      const [[status, tier, model, grade]] = sql("SELECT coalesce(bureau_status, ''), coalesce(bureau_tier_version::text, ''), coalesce(risk_model_version::text, ''), coalesce(risk_grade, '') FROM loan_applications WHERE application_id = :'p1'", id);
      if (status === 'OK') assert.equal(tier, '1', `${id} (${body.name}): bureau_tier_version`);
      if (grade) { assert.equal(model, '1', `${id}: risk_model_version`); graded++; }
    }
    assert.ok(graded >= 3, `graded rows: ${graded}`);
  });

  test('the sandbox tables hold no clear number', () => {
    const forms = clearStrings();
    for (const table of ['ekyc_sandbox_identities', 'bureau_sandbox_reports']) {
      const found = sql(`SELECT n.v FROM unnest(string_to_array(:'p1', ',')) AS n(v)
        WHERE EXISTS (SELECT 1 FROM ${table} t WHERE strpos(t::text, n.v) > 0
                      OR strpos(t::text, encode(convert_to(n.v, 'UTF8'), 'hex')) > 0)`, forms.join(','));
      assert.deepEqual(found, [], `${table} holds clear numbers`);
      assert.ok(Number(sql(`SELECT count(*) FROM ${table}`)[0][0]) >= 10, `${table} has the fixtures`);
    }
  });

  test('no table of the database holds a clear number (pg_dump --data-only)', () => {
    const pgBin = `${process.env.PG_BIN || '/usr/lib/postgresql/15/bin'}/pg_dump`;
    const dump = execFileSync(existsSync(pgBin) ? pgBin : 'pg_dump', ['--data-only', '--no-owner', '-d', process.env.DATABASE_URL], { encoding: 'utf8', maxBuffer: 1 << 30 });
    assert.ok(dump.includes('loan_applications'), 'the dump has the applications');
    const found = [];
    for (const c of clearStrings()) {
      if (dump.includes(c)) found.push(c);
      if (dump.includes(Buffer.from(c).toString('hex'))) found.push(`hex of ${c}`);
    }
    assert.deepEqual(found, [], 'clear numbers in the database');
  });
});

// ---- key rotation ----------------------------------------------------------------------------

// The key the stack's workers use: PII_KEY of the tests' environment or of the stack.env, else
// the development default of app/runtime/config.h.
function stackPiiKey() {
  if (process.env.PII_KEY) return process.env.PII_KEY;
  const envFile = `${process.env.STACK_DIR || `${ROOT}/var`}/stack.env`;
  if (existsSync(envFile)) {
    const m = readFileSync(envFile, 'utf8').match(/^PII_KEY='?([0-9a-fA-F]{64})'?$/m);
    if (m) return m[1];
  }
  const m = readFileSync(`${ROOT}/app/runtime/config.h`, 'utf8').match(/CONFIG_DEV_PII_KEY\s+"([0-9a-fA-F]{64})"/);
  assert.ok(m, 'CONFIG_DEV_PII_KEY in app/runtime/config.h');
  return m[1];
}

function runLoanctl(args, env) {
  return new Promise((resolve) => {
    // This stack's env file, never the one of a development stack under var/.
    const stackEnv = process.env.STACK_DIR ? { LOANFLOW_STACK_ENV: `${process.env.STACK_DIR}/stack.env` } : {};
    const child = spawn(`${ROOT}/loanctl`, args, { env: { ...process.env, ...stackEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.on('error', (e) => resolve({ code: -1, stdout, stderr: String(e) }));
  });
}

function snapshot() {
  const rows = sql(`SELECT application_id, pii_key_id, coalesce(encode(aadhaar_enc, 'hex'), ''),
      coalesce(encode(pan_enc, 'hex'), ''), coalesce(encode(bank_account_enc, 'hex'), ''),
      coalesce(encode(aadhaar_bidx, 'hex'), ''), coalesce(encode(pan_bidx, 'hex'), ''),
      coalesce(aadhaar_masked, ''), coalesce(pan_masked, ''), coalesce(bank_account_masked, '')
    FROM loan_applications WHERE pii_key_id IS NOT NULL ORDER BY id`);
  return new Map(rows.map(([id, key, ae, pe, be, ai, pi, am, pm, bm]) => [id, { key, ae, pe, be, ai, pi, am, pm, bm }]));
}

describe('loanctl pii rotate-key', () => {
  const oldKey = stackPiiKey();
  const newKey = randomBytes(32).toString('hex');
  let before0; // rows before the rotation
  let oldId;
  let newId;
  let priya; // an application that existed before, reprocessed at the end
  let vikram; // pending on ekyc_review, approved while its row is under a key the workers lack

  test('re-seals and re-indexes every row under the new key while submissions go on', async () => {
    priya = await submitOk(indianBody(P.priya));
    vikram = await submitOk(indianBody(P.vikram));
    assert.equal(vikram.final_status, 'PENDING', describeApp(vikram));
    before0 = snapshot();
    assert.ok(before0.size >= 10, `rows with identity data: ${before0.size}`);
    const ids = new Set([...before0.values()].map((r) => r.key));
    assert.equal(ids.size, 1, `every row under the stack's key: ${[...ids]}`);
    [oldId] = ids;

    // Submissions while the rotation runs: people the sandbox does not know, documented
    // identities that are always rejected, and applicants outside India.
    let running = true;
    const results = [];
    const loop = (async () => {
      await sleep(0);
      const rotating = [P.kavita, P.arjun, P.neha];
      for (let i = 0; running || i < 12; i++) {
        let b;
        if (i % 3 === 0) b = indianBody(nobody());
        else if (i % 3 === 1) b = indianBody(rotating[i % rotating.length]);
        else b = { ...HEALTHY, name: 'John Doe', email: uniqueEmail('rot'), phone: '+12025550143', region: 'AMERICAS', country: 'US', income: 85000, debt: 20000, credit_score: 720, loan_amount: 100000 };
        const r = await submit(b);
        results.push(`${r.status} ${r.status === 201 ? '' : r.text}`);
      }
    })();
    while (results.length < 2) await sleep(20); // the service is taking submissions
    const out = await runLoanctl(['pii', 'rotate-key', '--batch', '2'], { PII_KEY: newKey, PII_KEY_PREVIOUS: oldKey });
    running = false;
    await loop;
    assert.equal(out.code, 0, `loanctl pii rotate-key exited ${out.code}\n${out.stdout}\n${out.stderr}`);
    const failed = results.filter((s) => Number(s.slice(0, 3)) >= 500);
    assert.deepEqual(failed, [], 'no submission failed during the rotation');
    assert.ok(results.every((s) => s.startsWith('201')), `submissions during the rotation: ${results.join('; ')}`);

    const now = snapshot();
    const problems = [];
    for (const [id, was] of before0) {
      const is = now.get(id);
      if (!is) { problems.push(`${id}: gone`); continue; }
      if (is.key === was.key) problems.push(`${id}: still under ${was.key}`);
      for (const k of ['ae', 'pe', 'be', 'ai', 'pi']) if (was[k] && is[k] === was[k]) problems.push(`${id}: ${k} unchanged`);
      for (const k of ['am', 'pm', 'bm']) if (is[k] !== was[k]) problems.push(`${id}: ${k} ${was[k]} -> ${is[k]}`);
    }
    assert.deepEqual(problems, [], `rows left behind; loanctl said: ${out.stdout}`);
    const newIds = new Set([...before0.keys()].map((id) => now.get(id).key));
    assert.equal(newIds.size, 1, `one new key id: ${[...newIds]}`);
    [newId] = newIds;
    assert.match(newId, /^[0-9a-f]{16}$/);
    assert.notEqual(newId, oldId);
    assert.ok(!out.stdout.includes(newKey) && !out.stderr.includes(newKey) && !out.stdout.includes(oldKey), 'the keys are not printed');

    const st = await runLoanctl(['pii', 'status'], { PII_KEY: newKey, PII_KEY_PREVIOUS: oldKey });
    assert.equal(st.code, 0, `loanctl pii status: ${st.stdout}${st.stderr}`);
    assert.ok(st.stdout.includes(newId), `pii status names the new key ${newId}: ${st.stdout}`);

    // The workers still run with the old key only: an officer's approval judges the stored
    // answers and needs no number opened, so it goes through.
    const ok = await approve(vikram.application_id);
    assert.equal(ok.status, 200, `approve with the row under a key the workers lack: ${ok.text}`);
    assert.equal(ok.json.application.final_status, 'APPROVED', describeApp(ok.json.application));
  });

  test('rotating back restores the stack\'s key; a worker then reprocesses an Indian application', async () => {
    const back = await runLoanctl(['pii', 'rotate-key'], { PII_KEY: oldKey, PII_KEY_PREVIOUS: newKey });
    assert.equal(back.code, 0, `rotate back exited ${back.code}\n${back.stdout}\n${back.stderr}`);
    const now = snapshot();
    const keys = new Set([...now.values()].map((r) => r.key));
    assert.deepEqual([...keys], [oldId ?? [...keys][0]], 'every row under the stack\'s key again');
    if (before0) {
      for (const [id, was] of before0) {
        const is = now.get(id);
        assert.equal(is.ai, was.ai, `${id}: the blind index under the same key is the same`);
        assert.equal(is.pi, was.pi, `${id}: pan_bidx`);
        assert.equal(is.am, was.am);
      }
    }
    const st = await runLoanctl(['pii', 'status'], {});
    assert.equal(st.code, 0, `loanctl pii status: ${st.stdout}${st.stderr}`);
    if (newId) assert.ok(!st.stdout.includes(newId), `no row under ${newId} any more: ${st.stdout}`);

    assert.ok(priya, 'the application of the first step');
    const r = await reprocess(priya.application_id);
    assert.equal(r.status, 200, `reprocess after rotating back: ${r.text}`);
    const a = r.json.application;
    assert.equal(a.identity.ekyc.aadhaar.status, 'VERIFIED');
    assert.notEqual(a.identity.ekyc.aadhaar.reference, priya.identity.ekyc.aadhaar.reference, 'eKYC was asked again');
    assert.notEqual(a.identity.ekyc.pan.reference, priya.identity.ekyc.pan.reference);
    assert.equal(a.kyc_status, 'APPROVED', describeApp(a));
    assert.equal(a.identity.aadhaar, maskAadhaar(P.priya.aadhaar));
    await closeIfPending(priya.application_id);
  });

  test('a row locked during a pass is rotated by a later pass', async () => {
    const was = snapshot();
    const [[lockedId]] = sql('SELECT id FROM loan_applications WHERE pii_key_id IS NOT NULL ORDER BY id LIMIT 1');
    // An officer's review (or the notifier marking a batch sent) holds the row for a moment.
    const holder = spawn('psql', ['-X', '-qAt', '-v', 'ON_ERROR_STOP=1', process.env.DATABASE_URL], { stdio: ['pipe', 'ignore', 'pipe'] });
    holder.stdin.end(`BEGIN; SELECT id FROM loan_applications WHERE id = ${Number(lockedId)} FOR UPDATE; SELECT pg_sleep(1); COMMIT;\n`);
    const held = new Promise((resolve) => holder.on('close', resolve));
    await sleep(300);
    let out;
    try {
      out = await runLoanctl(['pii', 'rotate-key', '--batch', '5'], { PII_KEY: newKey, PII_KEY_PREVIOUS: oldKey });
      await held;
      const now = snapshot();
      const left = [...was.keys()].filter((id) => now.get(id).key === was.get(id).key);
      if (out.code === 0) {
        assert.deepEqual(left, [], `exit 0, but rows are still under the previous key; loanctl said: ${out.stdout}`);
      } else {
        assert.match(out.stdout + out.stderr, /lock|skip|left|remain/i, `a non-zero exit must say rows were left: ${out.stdout}${out.stderr}`);
      }
    } finally {
      await held;
      const back = await runLoanctl(['pii', 'rotate-key'], { PII_KEY: oldKey, PII_KEY_PREVIOUS: newKey });
      assert.equal(back.code, 0, `rotating back: ${back.stdout}${back.stderr}`);
      const keys = new Set([...snapshot().values()].map((r) => r.key));
      assert.equal(keys.size, 1, `every row under the stack's key again: ${[...keys]}`);
    }
  });

  test('a row under neither key: exit 1, nothing changed', async () => {
    const was = snapshot();
    const out = await runLoanctl(['pii', 'rotate-key'], { PII_KEY: randomBytes(32).toString('hex'), PII_KEY_PREVIOUS: randomBytes(32).toString('hex') });
    assert.equal(out.code, 1, `exit ${out.code}: ${out.stdout}${out.stderr}`);
    const now = snapshot();
    for (const [id, r] of was) assert.deepEqual(now.get(id), r, `${id} changed`);
  });
});

after(async () => {
  // Nothing of this file stays open (an assertion may have stopped a test before its cleanup).
  for (const id of SUBMITTED.keys()) {
    try { await closeIfPending(id); } catch { /* the stack may be gone */ }
  }
  await sleep(0);
});
