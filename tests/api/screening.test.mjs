// Screening II (issue 18, docs/screening.md), through nginx: partial names (a first given name and
// the surname of a listed person, any order, initials; no typo), the secondary evidence of the
// listed dates of birth and nationalities, the officers' evidence and the applicant's neutral
// view, GET /screening/search, and ongoing monitoring (a new list version re-screens the open
// applications and the active borrowers: alerts, back to review, GET /screening/alerts, resolve).
//
// Every list here is invented (no name of the real OFAC list) and loaded beside the active OFAC
// list under a name of its own per run (`SCREENING TEST <ms>`, `MONITOR TEST <ms>`, …), at most
// one of them active at a time (the workers index a handful of active lists); each describe
// deactivates its list when done and the file's after() deactivates them all, so the files after
// this one screen against OFAC as the stack started them.
//
// The partial-name list is padded with FILLER_COUNT invented people: a token carried by at least
// 0.4 % of a list's names counts as a very common name (docs/screening.md, `common`), and on a
// list of a dozen names every token would be. With the padding each test token is carried by at
// most 2 of ~810 names (0.25 %), however the share is counted (this list's names or all active
// lists'). The monitoring tests match whole names (kind `name`), which no share affects.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomInt } from 'node:crypto';
import {
  api, assertError, sql, loanctl, newApplicant, newUser, adminToken, sleep, pollUntil, uniqueEmail,
  activeLoan, signedLoan, getLoan,
} from './lib.mjs';

const STAMP = Date.now();
const LIST = `SCREENING TEST ${STAMP}`;
const MONITOR = `MONITOR TEST ${STAMP}`;
const LOAN_MONITOR = `LOAN MONITOR TEST ${STAMP}`;
const MY_LISTS = [LIST, MONITOR, LOAN_MONITOR];
// Lists an earlier run of this file may have left active (it stopped before its after()).
const STALE_LISTS = "name LIKE 'SCREENING TEST %' OR name LIKE 'MONITOR TEST %' OR name LIKE 'LOAN MONITOR TEST %'";

const LEVELS = ['clear', 'review', 'block'];
const KINDS = ['name', 'partial', 'common'];
const FACTS = ['unknown', 'agrees', 'near', 'disagrees'];
const RANK = { clear: 0, review: 1, block: 2 };

// ---- invented names and list files -----------------------------------------------------------

// A pronounceable invented token, random per call (two of them are never within one typo of each
// other in practice), for names that must be unique to this run.
const CONS = 'bdfgklmnprstvz';
const VOWS = 'aeiou';
function inventedToken(syllables = 4) {
  let s = '';
  for (let i = 0; i < syllables; i++) s += CONS[randomInt(CONS.length)] + VOWS[randomInt(VOWS.length)];
  return s[0].toUpperCase() + s.slice(1) + CONS[randomInt(CONS.length)];
}

// The SDN CSV format of data/sanctions/sample_sdn.csv: 12 columns, the 7 between Programs and
// Remarks null (-0-), CRLF line ends.
const NULLS7 = Array(7).fill('-0- ').join(',');
const quoted = (s) => (s ? `"${s}"` : '-0- ');
const person = (id, name, remarks) => `${id},"${name}","individual","SDGT",${NULLS7},${quoted(remarks)}`;
const company = (id, name, remarks) => `${id},"${name}",-0- ,"SDGT",${NULLS7},${quoted(remarks)}`;

// Writes rows to a new temporary file; returns { file, version } (the first 16 hex digits of the
// SHA-256 of the bytes, as loanctl names the version).
function writeList(rows, tag) {
  const text = `${rows.join('\r\n')}\r\n`;
  const dir = mkdtempSync(join(tmpdir(), `screening-${tag}-`));
  const file = join(dir, `${tag}.csv`);
  writeFileSync(file, text, 'latin1');
  return { file, version: createHash('sha256').update(Buffer.from(text, 'latin1')).digest('hex').slice(0, 16) };
}

// `loanctl sanctions load FILE --name NAME`; asserts it names the version; returns the output.
function loadList(name, { file, version }) {
  let out;
  try {
    out = loanctl(['sanctions', 'load', file, '--name', name]);
  } catch (e) {
    assert.fail(`loanctl sanctions load ${file} --name '${name}': exit ${e.status}: ${e.stdout || ''}${e.stderr || e.message}`);
  }
  assert.match(out, new RegExp(`${name} version ${version}|${version}`), out);
  return out;
}

// "rescreened E changed entries against S subjects: H new matches in T ms" → numbers.
function rescreenFigures(out) {
  const m = out.match(/rescreened (\d+) changed entries against (\d+) subjects: (\d+) new matches in (\d+) ms/);
  assert.ok(m, `loanctl prints what it re-screened: ${out}`);
  return { entries: Number(m[1]), subjects: Number(m[2]), hits: Number(m[3]), ms: Number(m[4]) };
}

// Workers look for new list versions at most once a second and GET / names the most recently
// loaded list: wait a second, then until GET / shows (or, present = false, no longer shows) it.
async function waitForWorkers(version, present = true) {
  await sleep(1100);
  const end = Date.now() + 5000;
  for (;;) {
    const r = await api('GET', '/');
    const v = r.json?.sanctions?.version;
    if ((present ? v === version : v !== version) || Date.now() > end) return;
    await sleep(200);
  }
}

async function deactivate(where, params = []) {
  const gone = sql(`UPDATE sanctions_lists SET active = false WHERE active AND (${where}) RETURNING version`, ...params);
  for (const [version] of gone) await waitForWorkers(version, false);
}

const pgNow = () => sql('SELECT clock_timestamp()::text')[0][0];
const listId = (name) => sql("SELECT id FROM sanctions_lists WHERE name = :'p1' AND active", name)[0]?.[0];

// The invented padding: FILLER_COUNT people of two random-looking tokens each, the same every run
// (a seeded generator), none within two edits of a test token.
const FILLER_COUNT = 800;
function fillerRows(firstId) {
  let seed = 0x5eed18;
  const rnd = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const tok = (n) => {
    let s = '';
    for (let i = 0; i < n; i++) s += 'bcdfghjklmnpqrstvwxz'[Math.floor(rnd() * 20)] + 'aeiouy'[Math.floor(rnd() * 6)];
    return s;
  };
  const rows = [];
  for (let i = 0; i < FILLER_COUNT; i++) {
    const surname = `X${tok(4)}`.toUpperCase();
    const given = `Q${tok(3)}`;
    rows.push(person(firstId + i, `${surname}, ${given}`, i % 3 === 0 ? 'Gender Male.' : null));
  }
  return rows;
}

// ---- the partial-name list -------------------------------------------------------------------

const E = {
  // A first given name + surname of this one is the partial match; DOB a day, nationality DE.
  ludovika: { id: 97001, name: 'VORSTANDIQ, Ludovika Pereth Amsel', dob: ['1962-02-14'], nat: ['DE'],
    remarks: 'DOB 14 Feb 1962; POB Kassel, Germany; nationality Germany; Gender Female.' },
  // A compound surname (for an initial), DOB a year with an alt. year; born elsewhere than the
  // nationality (a place of birth is no nationality).
  perpetua: { id: 97002, name: 'KELMVARRO ISTADUNE, Perpetua Oresta Vianne', dob: ['1975', '1976'], nat: ['PT'],
    remarks: 'DOB 1975; alt. DOB 1976; POB Luanda, Angola; nationality Portugal; Gender Female.' },
  corvin: { id: 97003, name: 'DRUMMELSK, Corvin Athelbert Yarrow', dob: ['1968..1972'], nat: ['BR'],
    remarks: 'DOB circa 1970; POB Recife, Brazil; nationality Brazil; Gender Male.' },
  melisande: { id: 97004, name: 'QUARSTEVIK, Melisande Ophra Tillwyn', dob: ['1960..1963'], nat: ['FR'],
    remarks: 'DOB 1960 to 1963; citizen France; Gender Female.' },
  // No date of birth, a nationality: the nationality rule.
  fenwick: { id: 97005, name: 'OSTRAVELLIN, Fenwick Quarle', dob: [], nat: ['FR'],
    remarks: 'POB Lyon, France; nationality France; Gender Male.' },
  // Made of very common names only (the contract's own example): kind `common`.
  maria: { id: 97006, name: 'GARCIA, Maria Ottilde Benvenuta', dob: ['1971-05-05'], nat: ['PT'],
    remarks: 'DOB 05 May 1971; POB Braga, Portugal; nationality Portugal; Gender Female.' },
  // A month of birth, and an a.k.a. that is a person's name of its own.
  odalric: { id: 97007, name: 'BRISTHAVEN, Odalric Maximin Tews', aka: 'TRENKOVAR, Basilio Ermete Quint', dob: ['1971-03'], nat: ['ES'],
    remarks: "DOB Mar 1971; POB Valencia, Spain; nationality Spain; Gender Male; a.k.a. 'TRENKOVAR, Basilio Ermete Quint'." },
  // Shares Ludovika's surname only: ranks below her for "Ludovika Vorstandiq".
  emeric: { id: 97008, name: 'VORSTANDIQ, Emeric Tobiah Lune', dob: ['1950'], nat: ['AT'],
    remarks: 'DOB 1950; nationality Austria; Gender Male.' },
  idony: { id: 97010, name: 'PELLINGRATH, Idony Marchetta Sable', dob: ['1960-06-15..1962-08-20'], nat: ['NL'],
    remarks: 'DOB 15 Jun 1960 to 20 Aug 1962; nationality Netherlands; Gender Female.' },
};
// A company: never a partial match.
const VELTRASK = { id: 97009, name: 'VELTRASK HOLMGARD ORBIQUE MARITIME TRADING LIMITED' };

function partialListRows() {
  const rows = Object.values(E).map((e) => person(e.id, e.name, e.remarks));
  rows.push(company(VELTRASK.id, VELTRASK.name, 'Registration Number 00000000 (Germany).'));
  return rows.concat(fillerRows(98000));
}

// ---- applicants, views, search ---------------------------------------------------------------

let admin;
let officer;
let officer2;

// A submission in the EU that is APPROVED when the name is nobody's (sanctions.test.mjs's body);
// extra adds date_of_birth, country…
const euBody = (name, email, extra = {}) => ({
  name, email, phone: '+1234567890', region: 'EU', country: 'Germany',
  income: 85000, debt: 25000, credit_score: 720, loan_amount: 250000, loan_purpose: 'Car',
  documents_uploaded: true, documents: ['ID_Proof', 'Income_Statement', 'Address_Proof'], ...extra,
});

// A new applicant submits name; returns { applicant, reply, id }.
async function submit(name, extra = {}) {
  const applicant = await newApplicant('screening');
  const reply = await api('POST', '/loan-application/submit', { token: applicant.token, body: euBody(name, applicant.email, extra) });
  assert.equal(reply.status, 201, `submit ${name}: ${reply.text}`);
  return { applicant, reply, id: reply.json.application.application_id };
}

async function view(id, token) {
  const r = await api('GET', `/loan-application/status/${id}`, { token });
  assert.equal(r.status, 200, `GET /loan-application/status/${id}: ${r.status} ${r.text}`);
  return r;
}
const officerView = async (id) => (await view(id, officer.token)).json.application;

function describeApp(app) {
  return `final ${app.final_status} "${app.final_remarks}", compliance ${app.compliance_status} "${app.compliance_remarks}", ` +
    `flags ${JSON.stringify(app.review_flags)}, failed ${JSON.stringify(app.failed_rules)}, screening ${JSON.stringify(app.screening)}`;
}

// The applicant's own reply (the submit reply or the status) says nothing of the screening:
// no evidence, neutral remarks, no sanctions flag or rule, no list, no listed name.
function assertApplicantSeesNothing(r, what, secrets = []) {
  const app = r.json?.application;
  assert.ok(app, `${what}: ${r.text}`);
  assert.equal(app.screening, null, `${what}: screening`);
  assert.ok(app.screening_alerts === undefined || (Array.isArray(app.screening_alerts) && app.screening_alerts.length === 0),
    `${what}: screening_alerts ${JSON.stringify(app.screening_alerts)}`);
  const neutral = { PENDING: 'Under review', REJECTED: 'We cannot offer a loan', APPROVED: 'Your loan application is approved' };
  assert.equal(app.final_remarks, neutral[app.final_status], `${what}: final_remarks`);
  if (app.final_status === 'PENDING') assert.equal(app.compliance_remarks, 'Under review', `${what}: compliance_remarks`);
  assert.ok(!app.review_flags.includes('sanctions_review'), `${what}: review_flags ${JSON.stringify(app.review_flags)}`);
  assert.ok(!app.failed_rules.includes('sanctions'), `${what}: failed_rules ${JSON.stringify(app.failed_rules)}`);
  assert.doesNotMatch(r.text, /sanction|\bOFAC\b|\bSDN\b|screening test|monitor test/i, `${what}: ${r.text}`);
  for (const s of secrets) assert.ok(!r.text.toLowerCase().includes(s.toLowerCase()), `${what} shows "${s}": ${r.text}`);
}

const sorted = (a) => [...a].sort();

function assertEvidenceShape(ev, what) {
  assert.ok(ev && typeof ev === 'object', `${what}: evidence ${JSON.stringify(ev)}`);
  assert.ok(KINDS.includes(ev.kind), `${what}: evidence.kind ${ev.kind}`);
  for (const k of ['matched', 'missing', 'unmatched']) {
    assert.ok(Array.isArray(ev[k]) && ev[k].every((t) => typeof t === 'string' && t === t.toLowerCase()),
      `${what}: evidence.${k} lower-case tokens: ${JSON.stringify(ev[k])}`);
  }
  for (const k of ['date_of_birth', 'nationality']) {
    assert.ok(ev[k] && Array.isArray(ev[k].listed) && FACTS.includes(ev[k].result), `${what}: evidence.${k} ${JSON.stringify(ev[k])}`);
  }
}

async function search(params, token = officer.token) {
  const qs = new URLSearchParams(params).toString();
  return api('GET', `/screening/search${qs ? `?${qs}` : ''}`, { token });
}

// 200 with the contract's shape, candidates ranked best level first, then score; returns the body.
async function searchOk(params) {
  const r = await search(params);
  assert.equal(r.status, 200, `search ${JSON.stringify(params)}: ${r.status} ${r.text}`);
  const b = r.json;
  const what = `search ${JSON.stringify(params)}`;
  assert.equal(b.query?.name, params.name, `${what}: query.name`);
  assert.equal(b.query.date_of_birth, params.date_of_birth ?? null, `${what}: query.date_of_birth`);
  if (params.country === undefined) assert.equal(b.query.country, null, `${what}: query.country`);
  assert.ok(Array.isArray(b.lists) && b.lists.every((l) => typeof l.name === 'string' && typeof l.version === 'string'), `${what}: lists ${JSON.stringify(b.lists)}`);
  assert.ok(LEVELS.includes(b.level), `${what}: level ${b.level}`);
  assert.ok(Array.isArray(b.candidates), `${what}: candidates`);
  assert.ok(b.candidates.length <= Number(params.limit ?? 10), `${what}: at most limit candidates, got ${b.candidates.length}`);
  assert.equal(b.level, b.candidates[0]?.level ?? 'clear', `${what}: level is the best candidate's`);
  b.candidates.forEach((c, i) => {
    for (const k of ['list', 'entry_id', 'matched_name', 'score', 'kind', 'level', 'evidence']) assert.ok(k in c, `${what}: candidate ${i} lacks ${k}: ${JSON.stringify(c)}`);
    assert.equal(typeof c.entry_id, 'number', `${what}: entry_id`);
    assert.equal(typeof c.score, 'number', `${what}: score`);
    assert.ok(c.score >= 0 && c.score <= 1, `${what}: score ${c.score}`);
    assert.ok(KINDS.includes(c.kind) && LEVELS.includes(c.level), `${what}: ${JSON.stringify(c)}`);
    assertEvidenceShape(c.evidence, `${what} candidate ${i}`);
    assert.equal(c.evidence.kind, c.kind, `${what}: evidence.kind is the candidate's kind`);
    if (i > 0) {
      const p = b.candidates[i - 1];
      assert.ok(RANK[p.level] > RANK[c.level] || (p.level === c.level && p.score >= c.score),
        `${what}: ranked best level first, then score: ${JSON.stringify(b.candidates.map((x) => [x.level, x.score]))}`);
    }
  });
  return b;
}

const candidateOf = (b, entry, list = LIST) => b.candidates.find((c) => c.list === list && c.entry_id === entry.id);

// No candidate of entry counts: absent, or clear and not a partial match.
function assertNotCounted(b, entry, what) {
  const c = candidateOf(b, entry);
  assert.ok(c === undefined || (c.level === 'clear' && c.kind !== 'partial'), `${what}: ${JSON.stringify(c)}`);
}

function assertFieldError(r, field, what) {
  const err = assertError(r, 400, 'validation_failed');
  assert.ok(err.fields && typeof err.fields === 'object' && typeof err.fields[field] === 'string',
    `${what}: error.fields.${field} expected: ${r.text}`);
}

// ---- setup -----------------------------------------------------------------------------------

before(async () => {
  admin = await adminToken();
  officer = await newUser('officer', admin);
  officer2 = await newUser('officer', admin);
  await deactivate(STALE_LISTS);
});

after(async () => {
  await deactivate('name = ANY (:\'p1\'::text[])', [`{${MY_LISTS.map((n) => `"${n}"`).join(',')}}`]);
});

// ---- partial names and the secondary evidence ------------------------------------------------

describe('partial names and secondary evidence (an invented list beside OFAC)', () => {
  let listed;
  let loadOut;

  before(async () => {
    listed = writeList(partialListRows(), 'partial');
    loadOut = loadList(LIST, listed);
    await waitForWorkers(listed.version);
  });

  after(async () => {
    await deactivate("name = :'p1'", [LIST]);
  });

  test('the list loads beside the OFAC list, with the dates of birth and nationalities of its remarks', async () => {
    assert.match(loadOut, new RegExp(`${LIST} version ${listed.version}`), loadOut);
    const [[version, active]] = sql("SELECT version, active FROM sanctions_lists WHERE name = :'p1' ORDER BY id DESC LIMIT 1", LIST);
    assert.deepEqual([version, active], [listed.version, 't']);
    assert.equal(sql("SELECT count(*) FROM sanctions_lists WHERE name = 'OFAC SDN' AND active")[0][0], '1', 'the OFAC list stays active');
    const id = listId(LIST);
    assert.equal(Number(sql("SELECT count(*) FROM sanctions_entries WHERE list_id = :'p1'", id)[0][0]),
      Object.keys(E).length + 1 + FILLER_COUNT, 'one sanctions_entries row per entry');
    for (const e of Object.values(E)) {
      const rows = sql(`SELECT array_to_json(dob), array_to_json(nationalities), content_hash <> ''
                        FROM sanctions_entries WHERE list_id = :'p1' AND entry_id = :'p2'`, id, e.id);
      assert.equal(rows.length, 1, `entry ${e.id}`);
      assert.deepEqual(JSON.parse(rows[0][0]), e.dob, `dob of ${e.name} ("${e.remarks}")`);
      assert.deepEqual(JSON.parse(rows[0][1]), e.nat, `nationalities of ${e.name} ("${e.remarks}")`);
      assert.equal(rows[0][2], 't', 'a content hash');
    }
    const b = await searchOk({ name: 'Ludovika Vorstandiq' });
    assert.ok(b.lists.some((l) => l.name === LIST && l.version === listed.version), `lists names the test list: ${JSON.stringify(b.lists)}`);
    assert.ok(b.lists.some((l) => l.name === 'OFAC SDN'), `lists names the OFAC list: ${JSON.stringify(b.lists)}`);
  });

  test('a first given name and the surname of a listed person: PENDING for review, the partial evidence for officers, nothing for the applicant', async () => {
    const { applicant, reply, id } = await submit('Ludovika Vorstandiq');
    const app = await officerView(id);
    assert.equal(app.final_status, 'PENDING', describeApp(app));
    assert.equal(app.compliance_status, 'PENDING', describeApp(app));
    assert.ok(app.review_flags.includes('sanctions_review'), describeApp(app));
    assert.ok(!app.failed_rules.includes('sanctions'), describeApp(app));
    const s = app.screening;
    assert.equal(s.list, LIST);
    assert.equal(s.list_version, listed.version);
    assert.equal(s.entry_id, E.ludovika.id);
    assert.equal(s.matched_name, E.ludovika.name);
    assert.equal(typeof s.score, 'number');
    assert.ok(s.score > 0 && s.score < 1, `score ${s.score}`);
    assert.equal(s.level, 'review');
    assertEvidenceShape(s.evidence, 'screening');
    assert.equal(s.evidence.kind, 'partial');
    assert.deepEqual(sorted(s.evidence.matched), ['ludovika', 'vorstandiq']);
    assert.deepEqual(sorted(s.evidence.missing), ['amsel', 'pereth']);
    assert.deepEqual(s.evidence.unmatched, []);
    assert.deepEqual(s.evidence.date_of_birth, { listed: ['1962-02-14'], result: 'unknown' }, 'no date of birth typed');
    assert.deepEqual(s.evidence.nationality.listed, ['DE']);
    assert.deepEqual(app.screening_alerts, [], 'no re-screening alert');

    const secrets = ['pereth', 'amsel', E.ludovika.name];
    assertApplicantSeesNothing(reply, 'the submit reply', secrets);
    const own = await view(id, applicant.token);
    assert.equal(own.json.application.final_status, 'PENDING');
    assert.equal(own.json.application.compliance_status, 'PENDING');
    assertApplicantSeesNothing(own, 'the applicant\'s status', secrets);
    // The officer's read did not leave the officers' document in the applicant's cache.
    assertApplicantSeesNothing(await view(id, applicant.token), 'the applicant\'s status after the officer\'s', secrets);
  });

  test('order-free ("Surname Given") and an initial ("P. Surname Other"): partial matches for review', async () => {
    const reversed = await officerView((await submit('Vorstandiq Ludovika')).id);
    assert.ok(reversed.review_flags.includes('sanctions_review'), describeApp(reversed));
    assert.equal(reversed.final_status, 'PENDING');
    assert.equal(reversed.screening.entry_id, E.ludovika.id);
    assert.equal(reversed.screening.level, 'review');
    assert.equal(reversed.screening.evidence.kind, 'partial');
    assert.deepEqual(sorted(reversed.screening.evidence.matched), ['ludovika', 'vorstandiq']);
    assert.deepEqual(sorted(reversed.screening.evidence.missing), ['amsel', 'pereth']);

    const initial = await officerView((await submit('P. Kelmvarro Istadune')).id);
    assert.ok(initial.review_flags.includes('sanctions_review'), describeApp(initial));
    assert.equal(initial.final_status, 'PENDING');
    assert.equal(initial.screening.entry_id, E.perpetua.id);
    assert.equal(initial.screening.matched_name, E.perpetua.name);
    assert.equal(initial.screening.level, 'review');
    const ev = initial.screening.evidence;
    assert.equal(ev.kind, 'partial');
    for (const t of ['kelmvarro', 'istadune']) assert.ok(ev.matched.includes(t) && !ev.missing.includes(t), `${t}: ${JSON.stringify(ev)}`);
    for (const t of ['oresta', 'vianne']) assert.ok(ev.missing.includes(t), `${t} missing: ${JSON.stringify(ev)}`);
  });

  test('partial matches by search: accents, capitals, an a.k.a.; not a typo, the given names alone, or a company\'s words', async () => {
    for (const name of ['Ludóvika Vórstandiq', 'LUDOVIKA VORSTANDIQ']) {
      const b = await searchOk({ name });
      const c = b.candidates[0];
      assert.ok(c, `${name}: a candidate`);
      assert.deepEqual([c.list, c.entry_id, c.kind, c.level], [LIST, E.ludovika.id, 'partial', 'review'], `${name}: ${JSON.stringify(c)}`);
      assert.equal(b.level, 'review');
    }
    // One listed name fewer: a review, as a partial match or on the whole name's score.
    const three = await searchOk({ name: 'Ludovika Amsel Vorstandiq' });
    assert.deepEqual([three.candidates[0]?.entry_id, three.candidates[0]?.level], [E.ludovika.id, 'review'], JSON.stringify(three.candidates[0]));
    const aka = await searchOk({ name: 'Basilio Trenkovar' });
    assert.deepEqual([aka.candidates[0]?.entry_id, aka.candidates[0]?.matched_name, aka.candidates[0]?.kind, aka.candidates[0]?.level],
      [E.odalric.id, E.odalric.aka, 'partial', 'review'], `the a.k.a.: ${JSON.stringify(aka.candidates[0])}`);

    // A typo in a shortened name: the name score decides (0.73 here), no partial match.
    assertNotCounted(await searchOk({ name: 'Ludovika Vorstandik' }), E.ludovika, 'one typo');
    assertNotCounted(await searchOk({ name: 'Ludovica Vorstandik' }), E.ludovika, 'two typos');
    assertNotCounted(await searchOk({ name: 'Ludovika Pereth' }), E.ludovika, 'given names without the surname');
    const firm = await searchOk({ name: 'Veltrask Holmgard' });
    assertNotCounted(firm, VELTRASK, 'two words of a company');
    assert.equal(firm.level, 'clear');
  });

  test('a one-token name equal to a listed surname is not a sanctions match', async () => {
    const app = await officerView((await submit('Vorstandiq')).id);
    assert.ok(!app.review_flags.includes('sanctions_review'), describeApp(app));
    assert.ok(!app.failed_rules.includes('sanctions'), describeApp(app));
    assert.equal(app.compliance_status, 'APPROVED', describeApp(app));
    assert.equal(app.screening.level, 'clear', describeApp(app));
    assert.ok(app.screening.list, 'the list screened against is named');
    const b = await searchOk({ name: 'Vorstandiq' });
    assert.equal(b.level, 'clear', JSON.stringify(b.candidates));
    assert.ok(b.candidates.every((c) => c.kind !== 'partial'), JSON.stringify(b.candidates));
  });

  test('date of birth: agrees → a partial match is REJECTED; another year → the exact listed name is only reviewed (disagrees); the same year → near', async () => {
    // The exact listed name without a date of birth: blocked (the baseline of the next case).
    const exact = await officerView((await submit('Ludovika Pereth Amsel Vorstandiq')).id);
    assert.equal(exact.compliance_status, 'REJECTED', describeApp(exact));
    assert.equal(exact.screening.level, 'block');
    assert.equal(exact.screening.evidence.kind, 'name');

    const agrees = await submit('Ludovika Vorstandiq', { date_of_birth: '1962-02-14' });
    const a = await officerView(agrees.id);
    assert.equal(a.compliance_status, 'REJECTED', describeApp(a));
    assert.equal(a.final_status, 'REJECTED', describeApp(a));
    assert.ok(a.failed_rules.includes('sanctions'), describeApp(a));
    assert.equal(a.screening.entry_id, E.ludovika.id);
    assert.equal(a.screening.level, 'block');
    assert.equal(a.screening.evidence.kind, 'partial');
    assert.deepEqual(a.screening.evidence.date_of_birth, { listed: ['1962-02-14'], result: 'agrees' });
    assertApplicantSeesNothing(await view(agrees.id, agrees.applicant.token), 'a rejected applicant\'s status', ['pereth', 'amsel']);

    const disagrees = await officerView((await submit('Ludovika Pereth Amsel Vorstandiq', { date_of_birth: '1965-02-14' })).id);
    assert.equal(disagrees.final_status, 'PENDING', describeApp(disagrees));
    assert.equal(disagrees.compliance_status, 'PENDING', describeApp(disagrees));
    assert.ok(disagrees.review_flags.includes('sanctions_review'), describeApp(disagrees));
    assert.ok(!disagrees.failed_rules.includes('sanctions'), describeApp(disagrees));
    assert.equal(disagrees.screening.entry_id, E.ludovika.id);
    assert.equal(disagrees.screening.level, 'review');
    assert.equal(disagrees.screening.score, 1);
    assert.equal(disagrees.screening.evidence.kind, 'name');
    assert.deepEqual(disagrees.screening.evidence.date_of_birth, { listed: ['1962-02-14'], result: 'disagrees' });

    const near = await officerView((await submit('Ludovika Vorstandiq', { date_of_birth: '1962-09-30' })).id);
    assert.equal(near.final_status, 'PENDING', describeApp(near));
    assert.ok(near.review_flags.includes('sanctions_review'), describeApp(near));
    assert.equal(near.screening.level, 'review', 'near decides nothing');
    assert.deepEqual(near.screening.evidence.date_of_birth, { listed: ['1962-02-14'], result: 'near' });
  });

  test('dates of birth of every precision (search): a day, a month, a year and an alt. year, circa, a range of years, a range of days', async () => {
    const cases = [
      // [entry, typed name, date_of_birth, result, level]
      [E.ludovika, 'Ludovika Vorstandiq', '1962-02-14', 'agrees', 'block'],
      [E.ludovika, 'Ludovika Vorstandiq', '1962-07-01', 'near', 'review'],
      [E.ludovika, 'Ludovika Vorstandiq', '1963-02-14', 'disagrees', 'review'],
      [E.ludovika, 'Ludovika Pereth Amsel Vorstandiq', '1962-02-15', 'near', 'block'],
      [E.ludovika, 'Ludovika Pereth Amsel Vorstandiq', '1961-02-14', 'disagrees', 'review'],
      [E.odalric, 'Basilio Trenkovar', '1971-03-31', 'agrees', 'block'],
      [E.odalric, 'Basilio Trenkovar', '1971-04-01', 'near', 'review'],
      [E.odalric, 'Odalric Bristhaven', '1972-03-15', 'disagrees', 'review'],
      [E.perpetua, 'Perpetua Kelmvarro Istadune', '1976-07-01', 'agrees', 'block'],
      [E.perpetua, 'Perpetua Kelmvarro Istadune', '1975-01-01', 'agrees', 'block'],
      [E.perpetua, 'Perpetua Kelmvarro Istadune', '1977-01-01', 'disagrees', 'review'],
      [E.corvin, 'Corvin Drummelsk', '1968-01-01', 'agrees', 'block'],
      [E.corvin, 'Corvin Drummelsk', '1972-12-31', 'agrees', 'block'],
      [E.corvin, 'Corvin Drummelsk', '1973-01-01', 'disagrees', 'review'],
      [E.corvin, 'Corvin Drummelsk', '1967-12-31', 'disagrees', 'review'],
      [E.melisande, 'Melisande Quarstevik', '1963-06-30', 'agrees', 'block'],
      [E.melisande, 'Melisande Quarstevik', '1959-12-31', 'disagrees', 'review'],
      [E.idony, 'Idony Pellingrath', '1961-01-01', 'agrees', 'block'],
      [E.idony, 'Idony Pellingrath', '1962-08-20', 'agrees', 'block'],
      [E.idony, 'Idony Pellingrath', '1958-05-05', 'disagrees', 'review'],
    ];
    for (const [entry, name, dob, result, level] of cases) {
      const b = await searchOk({ name, date_of_birth: dob });
      const c = candidateOf(b, entry);
      const what = `${name} born ${dob} against ${entry.name} (${entry.remarks.split(';')[0]})`;
      assert.ok(c, `${what}: a candidate: ${JSON.stringify(b.candidates)}`);
      assert.deepEqual(c.evidence.date_of_birth, { listed: entry.dob, result }, what);
      assert.equal(c.level, level, `${what}: ${JSON.stringify(c)}`);
      assert.equal(b.candidates[0], c, `${what}: ranked first`);
    }
  });

  test('nationality, for an entry without a date of birth: agrees or disagrees by the applicant\'s country', async () => {
    // One typo in the listed name: a block from the name alone, on an inexact name (score < 1).
    const typo = 'Fenwick Quarle Ostravellen';
    const fr = await officerView((await submit(typo, { country: 'France' })).id);
    assert.equal(fr.screening.entry_id, E.fenwick.id, describeApp(fr));
    assert.ok(fr.screening.score < 1 && fr.screening.score >= 0.92, `score ${fr.screening.score}`);
    assert.deepEqual(fr.screening.evidence.nationality, { listed: ['FR'], result: 'agrees' });
    assert.deepEqual(fr.screening.evidence.date_of_birth, { listed: [], result: 'unknown' });
    assert.equal(fr.screening.level, 'block');
    assert.equal(fr.compliance_status, 'REJECTED', describeApp(fr));
    assert.ok(fr.failed_rules.includes('sanctions'), describeApp(fr));

    // Another country is recorded, and lowers nothing: the form's country is where the applicant
    // lives, not their passport (docs/screening.md).
    const de = await officerView((await submit(typo, { country: 'Germany' })).id);
    assert.equal(de.screening.entry_id, E.fenwick.id, describeApp(de));
    assert.deepEqual(de.screening.evidence.nationality, { listed: ['FR'], result: 'disagrees' });
    assert.equal(de.screening.level, 'block', 'a disagreeing nationality does not lower a block');
    assert.equal(de.compliance_status, 'REJECTED', describeApp(de));

    // The exact name is not cleared by another nationality; the country as name, alpha-2, alpha-3.
    const exact = await searchOk({ name: 'Fenwick Quarle Ostravellin', country: 'DE' });
    assert.deepEqual([candidateOf(exact, E.fenwick)?.level, candidateOf(exact, E.fenwick)?.evidence.nationality.result], ['block', 'disagrees']);
    for (const country of ['France', 'FR', 'fr', 'FRA']) {
      const b = await searchOk({ name: typo, country });
      const c = candidateOf(b, E.fenwick);
      assert.deepEqual([c?.level, c?.evidence.nationality.result], ['block', 'agrees'], `country=${country}: ${JSON.stringify(c)}`);
    }
    const de2 = candidateOf(await searchOk({ name: typo, country: 'DEU' }), E.fenwick);
    assert.deepEqual([de2?.level, de2?.evidence.nationality.result], ['block', 'disagrees']);
    const none = candidateOf(await searchOk({ name: typo }), E.fenwick);
    assert.deepEqual([none?.level, none?.evidence.nationality.result], ['block', 'unknown']);
  });

  test('a partial name of very common names (Maria Garcia) is clear alone; a nationality or a day of birth that agrees supports it', async () => {
    const find = async (params) => {
      const b = await searchOk({ ...params, name: 'Maria Garcia', limit: '50' });
      const c = candidateOf(b, E.maria);
      assert.ok(c, `${JSON.stringify(params)}: the listed Maria Garcia among the candidates: ${JSON.stringify(b.candidates.map((x) => [x.list, x.entry_id, x.level]))}`);
      assert.equal(c.kind, 'common', JSON.stringify(c));
      return { b, c };
    };
    const alone = await find({});
    assert.equal(alone.c.level, 'clear');
    const nationality = await find({ country: 'Portugal' });
    assert.equal(nationality.c.level, 'review');
    assert.equal(nationality.c.evidence.nationality.result, 'agrees');
    assert.equal(nationality.b.candidates[0], nationality.c, 'ranked first');
    const otherNationality = await find({ country: 'Germany' });
    assert.equal(otherNationality.c.level, 'clear');
    const day = await find({ date_of_birth: '1971-05-05' });
    assert.equal(day.c.level, 'block', 'a listed day of birth that agrees');
    assert.equal(day.c.evidence.date_of_birth.result, 'agrees');
    assert.equal(day.b.candidates[0], day.c);
    const otherYear = await find({ date_of_birth: '1980-01-01', country: 'Portugal' });
    assert.equal(otherYear.c.evidence.date_of_birth.result, 'disagrees');
    assert.equal(otherYear.c.level, 'clear', 'the date decided: the nationality does not count');
  });

  test('GET /screening/search: 401 without a token, 403 for an applicant, 200 for an officer and an admin', async () => {
    assertError(await api('GET', '/screening/search?name=Ludovika%20Vorstandiq'), 401);
    const applicant = await newApplicant('screening');
    assertError(await search({ name: 'Ludovika Vorstandiq' }, applicant.token), 403);
    assert.equal((await search({ name: 'Ludovika Vorstandiq' }, officer.token)).status, 200);
    assert.equal((await search({ name: 'Ludovika Vorstandiq' }, admin)).status, 200);
  });

  test('GET /screening/search: the shape, the right entry first for a partial name, block with a date of birth that agrees, limit', async () => {
    const b = await searchOk({ name: 'Ludovika Vorstandiq' });
    assert.deepEqual(b.query, { name: 'Ludovika Vorstandiq', date_of_birth: null, country: null });
    assert.equal(b.level, 'review');
    const c = b.candidates[0];
    assert.deepEqual({ list: c.list, entry_id: c.entry_id, matched_name: c.matched_name, kind: c.kind, level: c.level },
      { list: LIST, entry_id: E.ludovika.id, matched_name: E.ludovika.name, kind: 'partial', level: 'review' });
    assert.deepEqual(sorted(c.evidence.matched), ['ludovika', 'vorstandiq']);
    assert.deepEqual(sorted(c.evidence.missing), ['amsel', 'pereth']);
    assert.deepEqual(c.evidence.unmatched, []);
    assert.deepEqual(c.evidence.date_of_birth, { listed: ['1962-02-14'], result: 'unknown' });
    assert.deepEqual(c.evidence.nationality, { listed: ['DE'], result: 'unknown' });
    // The namesake who shares the surname only is not a partial match and ranks below.
    const namesake = candidateOf(b, E.emeric);
    assert.ok(namesake === undefined || (namesake.kind !== 'partial' && b.candidates.indexOf(namesake) > 0), JSON.stringify(namesake));

    const dob = await searchOk({ name: 'Ludovika Vorstandiq', date_of_birth: '1962-02-14' });
    assert.equal(dob.query.date_of_birth, '1962-02-14');
    assert.equal(dob.level, 'block');
    assert.deepEqual([dob.candidates[0].entry_id, dob.candidates[0].level], [E.ludovika.id, 'block']);

    const withCountry = await searchOk({ name: 'Ludovika Vorstandiq', country: 'Germany' });
    assert.equal(typeof withCountry.query.country, 'string');
    assert.deepEqual(withCountry.candidates[0].evidence.nationality, { listed: ['DE'], result: 'agrees' });
    assert.equal(withCountry.candidates[0].level, 'review', 'a nationality does not raise a partial match');

    assert.ok((await searchOk({ name: 'Vorstandiq Ludovika', limit: '1' })).candidates.length <= 1);
    await searchOk({ name: 'Vorstandiq Ludovika', limit: '50' });
  });

  test('GET /screening/search: 400 validation_failed naming the field', async () => {
    const cases = [
      [{}, 'name', 'no name'],
      [{ name: '' }, 'name', 'an empty name'],
      [{ name: 'Ludovika Vorstandiq', date_of_birth: 'yesterday' }, 'date_of_birth', 'date_of_birth yesterday'],
      [{ name: 'Ludovika Vorstandiq', date_of_birth: '2024-02-30' }, 'date_of_birth', 'date_of_birth 2024-02-30'],
      [{ name: 'Ludovika Vorstandiq', country: 'Atlantis' }, 'country', 'country Atlantis'],
      [{ name: 'Ludovika Vorstandiq', limit: '0' }, 'limit', 'limit 0'],
      [{ name: 'Ludovika Vorstandiq', limit: '51' }, 'limit', 'limit 51'],
      [{ name: 'Ludovika Vorstandiq', limit: 'x' }, 'limit', 'limit x'],
    ];
    for (const [params, field, what] of cases) assertFieldError(await search(params), field, what);
  });
});

// ---- ongoing monitoring: an open application -------------------------------------------------

describe('ongoing monitoring: a new list version re-screens an open application', () => {
  // X: an invented name nobody else has (a random token per run); v2 lists X's whole name.
  const surname = inventedToken();
  const X = `Ermengild ${surname}`;
  const ENTRY = { id: 96002, name: `${surname.toUpperCase()}, Ermengild` };
  const v1Rows = [person(96001, `${inventedToken().toUpperCase()}, Philippa Gorrance`, 'DOB 1958; nationality Italy; Gender Female.')];
  const v2Rows = [...v1Rows, person(ENTRY.id, ENTRY.name, 'Gender Male.')];
  const v3Rows = [...v2Rows, person(96003, `${inventedToken().toUpperCase()}, Oswin Malachy`, 'DOB 1949; nationality Belgium; Gender Male.')];
  let v2;
  let subject; // { applicant, id }
  let alertId;

  before(async () => {
    const v1 = writeList(v1Rows, 'monitor-v1');
    loadList(MONITOR, v1);
    await waitForWorkers(v1.version);
  });

  after(async () => {
    await deactivate("name = :'p1'", [MONITOR]);
  });

  test('an approved applicant whom the new version lists is back to review at once: one alert, one screening_hit by the system, an alert to compliance', async () => {
    const s = await submit(X);
    assert.equal(s.reply.json.application.final_status, 'APPROVED', `X is nobody's name yet: ${s.reply.text}`);
    subject = s;
    assert.equal(sql("SELECT count(*) FROM notifications WHERE application_id = :'p1' AND kind = 'alert'", s.id)[0][0], '0');

    v2 = writeList(v2Rows, 'monitor-v2');
    const t0 = pgNow();
    const out = loadList(MONITOR, v2);
    assert.match(out, /rescreened/, out);
    assert.match(out, /new matches/, out);
    const fig = rescreenFigures(out);
    assert.equal(fig.entries, 1, `one entry added: ${out}`);
    assert.ok(fig.subjects >= 1 && fig.hits >= 1, out);
    const [[re, rs, rh, rm, rat]] = sql(`SELECT rescreen_entries, rescreen_subjects, rescreen_hits, rescreen_ms, rescreened_at IS NOT NULL
                                         FROM sanctions_lists WHERE name = :'p1' AND version = :'p2'`, MONITOR, v2.version);
    assert.deepEqual([re, rs, rh, rm, rat].map(String), [String(fig.entries), String(fig.subjects), String(fig.hits), String(fig.ms), 't'],
      'the list\'s row keeps the printed figures');

    let seen;
    const app = await pollUntil(`${s.id} back to review`, async () => {
      seen = await officerView(s.id);
      return seen.final_status === 'PENDING' ? seen : null;
    }, 10000).catch((e) => { e.message += ` (last seen: ${describeApp(seen)})`; throw e; });
    assert.equal(app.compliance_status, 'PENDING', describeApp(app));
    assert.ok(app.review_flags.includes('sanctions_review'), describeApp(app));
    assert.deepEqual([app.screening.list, app.screening.list_version, app.screening.entry_id, app.screening.matched_name],
      [MONITOR, v2.version, ENTRY.id, ENTRY.name], 'the screening evidence is the new match');
    assert.equal(app.screening_alerts.length, 1, JSON.stringify(app.screening_alerts));
    const a = app.screening_alerts[0];
    for (const k of ['alert_id', 'list_version', 'entry_id', 'matched_name', 'score', 'level', 'evidence', 'raised_at', 'resolved_at']) assert.ok(k in a, `alert.${k}: ${JSON.stringify(a)}`);
    assert.deepEqual([a.list_version, a.entry_id, a.matched_name, a.level, a.score, a.resolved_at],
      [v2.version, ENTRY.id, ENTRY.name, 'block', 1, null], JSON.stringify(a));
    assert.equal(app.screening.level, a.level);
    assert.equal(a.evidence.kind, 'name');
    assert.ok(!Number.isNaN(Date.parse(a.raised_at)), a.raised_at);
    alertId = a.alert_id;

    const rows = sql(`SELECT id, entry_id, loan_id IS NULL, level FROM screening_alerts WHERE application_id = :'p1'`, s.id);
    assert.deepEqual(rows.map((r) => r.slice(1)), [[String(ENTRY.id), 't', 'block']], 'exactly one screening_alerts row, no loan');
    assert.equal(Number(rows[0][0]), Number(alertId));
    const logs = sql(`SELECT actor_id IS NULL, status_after FROM approval_logs WHERE application_id = :'p1' AND action = 'screening_hit'`, s.id);
    assert.deepEqual(logs, [['t', 'PENDING']], 'one screening_hit by the system');
    const alerts = sql(`SELECT count(*) FROM notifications WHERE application_id = :'p1' AND kind = 'alert' AND created_at >= :'p2'::timestamptz`, s.id, t0);
    assert.equal(alerts[0][0], '1', 'an alert to compliance in the outbox');

    // Still nothing for the applicant.
    const own = await view(s.id, s.applicant.token);
    assert.equal(own.json.application.final_status, 'PENDING');
    assertApplicantSeesNothing(own, 'the applicant\'s status after the alert', [ENTRY.name]);
  });

  test('loading the same version again, or a version whose only new entry is unrelated, adds no second alert', async () => {
    assert.ok(subject && v2, 'the previous test raised the alert');
    const again = loanctl(['sanctions', 'load', v2.file, '--name', MONITOR]);
    assert.match(again, /already the active list/, again);
    const v3 = writeList(v3Rows, 'monitor-v3');
    const out = loadList(MONITOR, v3);
    const fig = rescreenFigures(out);
    assert.equal(fig.entries, 1, `only the new entry is re-screened: ${out}`);
    assert.equal(fig.hits, 0, `the new entry matches nobody: ${out}`);
    assert.deepEqual(sql("SELECT rescreen_entries, rescreen_hits FROM sanctions_lists WHERE name = :'p1' AND version = :'p2'", MONITOR, v3.version),
      [['1', '0']]);
    await waitForWorkers(v3.version);
    assert.equal(sql("SELECT count(*) FROM screening_alerts WHERE application_id = :'p1'", subject.id)[0][0], '1', 'still one alert');
    assert.equal(sql("SELECT count(*) FROM approval_logs WHERE application_id = :'p1' AND action = 'screening_hit'", subject.id)[0][0], '1');
    assert.equal((await officerView(subject.id)).screening_alerts.length, 1);
  });

  test('GET /screening/alerts lists the alert for officers; POST …/resolve with a reason resolves it once', async () => {
    assert.ok(alertId, 'the first test raised the alert');
    const listFor = async (qs = '', token = officer.token) => {
      const r = await api('GET', `/screening/alerts${qs}`, { token });
      assert.equal(r.status, 200, `GET /screening/alerts${qs}: ${r.status} ${r.text}`);
      assert.ok(Array.isArray(r.json?.alerts), r.text);
      return r.json.alerts;
    };
    assertError(await api('GET', '/screening/alerts'), 401);
    assertError(await api('GET', '/screening/alerts', { token: subject.applicant.token }), 403);
    for (const qs of ['', '?state=open', '?state=all']) {
      const alerts = await listFor(qs);
      const a = alerts.find((x) => Number(x.alert_id) === Number(alertId));
      assert.ok(a, `${qs || '(default)'}: the open alert is listed`);
      for (const k of ['alert_id', 'application_id', 'loan_id', 'list', 'list_version', 'entry_id', 'matched_name', 'score', 'level', 'evidence', 'raised_at', 'resolved_at']) {
        assert.ok(k in a, `alert.${k}: ${JSON.stringify(a)}`);
      }
      assert.deepEqual([a.application_id, a.loan_id, a.list, a.list_version, a.entry_id, a.matched_name, a.level, a.resolved_at],
        [subject.id, null, MONITOR, v2.version, ENTRY.id, ENTRY.name, 'block', null]);
      const times = alerts.map((x) => Date.parse(x.raised_at));
      assert.ok(times.every((t, i) => i === 0 || times[i - 1] <= t), 'oldest first');
    }

    const resolve = (token, body = { reason: 'Checked: not the listed person (screening test)' }) =>
      api('POST', `/screening/alerts/${alertId}/resolve`, { token, body });
    assertError(await resolve(subject.applicant.token), 403);
    const ok = await resolve(officer.token);
    assert.equal(ok.status, 200, ok.text);
    assertError(await resolve(officer2.token), 409, 'already_resolved');
    assertError(await resolve(officer.token), 409, 'already_resolved');

    const [[by, at]] = sql("SELECT resolved_by, resolved_at IS NOT NULL FROM screening_alerts WHERE id = :'p1'", alertId);
    assert.deepEqual([Number(by), at], [Number(officer.id), 't'], 'who resolved it is kept');
    assert.ok(!(await listFor('?state=open')).some((x) => Number(x.alert_id) === Number(alertId)), 'no longer open');
    const all = (await listFor('?state=all')).find((x) => Number(x.alert_id) === Number(alertId));
    assert.ok(all && typeof all.resolved_at === 'string', JSON.stringify(all));
    const mine = (await officerView(subject.id)).screening_alerts[0];
    assert.equal(typeof mine.resolved_at, 'string', JSON.stringify(mine));
  });
});

describe('ongoing monitoring: an alert on an application an officer filed', () => {
  const surname = inventedToken();
  const Y = `Wendeline ${surname}`;
  const ENTRY = { id: 97501, name: `${surname.toUpperCase()}, Wendeline` };
  const NAME = `OWN ALERT TEST ${STAMP}`;
  after(async () => {
    await deactivate("name = :'p1'", [NAME]);
  });

  test('the officer who filed the application cannot resolve its alert (403 segregation_of_duties); another officer can', async () => {
    const v1 = writeList([person(97500, `${inventedToken().toUpperCase()}, Aurelio Fenmoor`, 'Gender Male.')], 'own-v1');
    loadList(NAME, v1);
    await waitForWorkers(v1.version);
    // officer2 files the application for a customer (officers may submit on a customer's behalf)
    const reply = await api('POST', '/loan-application/submit', { token: officer2.token, body: euBody(Y, uniqueEmail('own-alert')) });
    assert.equal(reply.status, 201, reply.text);
    const id = reply.json.application.application_id;
    assert.equal(reply.json.application.final_status, 'APPROVED', reply.text);
    const v2 = writeList([person(97500, `${inventedToken().toUpperCase()}, Aurelio Fenmoor`, 'Gender Male.'), person(ENTRY.id, ENTRY.name, 'Gender Female.')], 'own-v2');
    loadList(NAME, v2);
    const [[alertId]] = await pollUntil('the alert', async () => {
      const r = sql("SELECT id FROM screening_alerts WHERE application_id = :'p1'", id);
      return r.length ? r : null;
    });
    const resolve = (token) => api('POST', `/screening/alerts/${alertId}/resolve`, { token, body: { reason: 'Checked by the second officer (screening test)' } });
    assertError(await resolve(officer2.token), 403, 'segregation_of_duties');
    assert.equal(sql("SELECT resolved_at IS NULL FROM screening_alerts WHERE id = :'p1'", alertId)[0][0], 't', 'still open');
    const ok = await resolve(officer.token);
    assert.equal(ok.status, 200, ok.text);
  });
});

// ---- ongoing monitoring: borrowers -----------------------------------------------------------

describe('ongoing monitoring: borrowers', () => {
  const v1Rows = [person(95001, `${inventedToken().toUpperCase()}, Hortensia Bellweather`, 'DOB 1944; nationality Ireland; Gender Female.')];
  let rows = v1Rows;
  const touched = []; // Priya's applications this describe made: none may stay PENDING

  // The sandbox's Priya is the only borrower eKYC verifies, so each loan's application is renamed
  // (as the schema owner) to an invented name of its own before the version that lists it: the
  // new entry then matches this borrower alone. Re-screening screens the application's name.
  function rename(applicationId, name) {
    const r = sql("UPDATE loan_applications SET name = :'p2' WHERE application_id = :'p1' RETURNING application_id", applicationId, name);
    assert.equal(r.length, 1, `renamed ${applicationId}`);
  }

  // Adds a person to the list and loads the new version; returns { out, version, figures }.
  async function listAlso(id, name) {
    rows = [...rows, person(id, name, 'Gender Female.')];
    const v = writeList(rows, `loan-monitor-${id}`);
    const out = loadList(LOAN_MONITOR, v);
    await waitForWorkers(v.version);
    return { out, version: v.version, figures: rescreenFigures(out) };
  }

  // An open application of Priya's blocks her PAN for every later file: close what is left open.
  async function closeIfPending(id) {
    if (sql("SELECT final_status FROM loan_applications WHERE application_id = :'p1'", id)[0]?.[0] !== 'PENDING') return;
    for (const o of [officer, officer2]) {
      const r = await api('POST', `/loan-application/${id}/reject`, { token: o.token, body: { reason: 'screening test clean-up' } });
      if (r.status === 200) return;
    }
    // The last resort of a clean-up, so the files after this one can submit Priya again.
    sql("UPDATE loan_applications SET final_status = 'REJECTED', final_decision_at = now() WHERE application_id = :'p1' AND final_status = 'PENDING'", id);
  }

  before(async () => {
    const v1 = writeList(v1Rows, 'loan-monitor-v1');
    loadList(LOAN_MONITOR, v1);
    await waitForWorkers(v1.version);
  });

  after(async () => {
    for (const id of touched) await closeIfPending(id);
    await deactivate("name = :'p1'", [LOAN_MONITOR]);
  });

  test('an active loan\'s borrower whom the new version lists: an alert naming the loan, the loan and its application left as they are', async () => {
    const x = await activeLoan({ officers: [officer, officer2], tag: 'screening-loan' });
    const id = x.app.application_id;
    touched.push(id);
    const surname = inventedToken();
    rename(id, `Wendeline ${surname}`);
    const appBefore = await officerView(id);
    const loanBefore = await getLoan(x.loanId, officer.token);
    assert.equal(loanBefore.state, 'ACTIVE');

    const t0 = pgNow();
    const { version, figures } = await listAlso(95002, `${surname.toUpperCase()}, Wendeline`);
    assert.ok(figures.entries === 1 && figures.hits >= 1, JSON.stringify(figures));
    const rowsOf = () => sql("SELECT id, loan_id, entry_id, level FROM screening_alerts WHERE application_id = :'p1'", id);
    const [row] = await pollUntil(`an alert for ${id}`, () => (rowsOf().length ? rowsOf() : null), 10000);
    assert.equal(rowsOf().length, 1, 'one alert');
    assert.deepEqual(row.slice(1), [x.loanId, '95002', 'block'], 'the alert names the loan');

    const alerts = await api('GET', '/screening/alerts?state=open', { token: officer.token });
    assert.equal(alerts.status, 200, alerts.text);
    const a = alerts.json.alerts.find((y) => Number(y.alert_id) === Number(row[0]));
    assert.ok(a, 'GET /screening/alerts lists it');
    assert.deepEqual([a.application_id, a.loan_id, a.list, a.list_version, a.entry_id], [id, x.loanId, LOAN_MONITOR, version, 95002]);
    assert.equal(sql("SELECT count(*) FROM notifications WHERE application_id = :'p1' AND kind = 'alert' AND created_at >= :'p2'::timestamptz", id, t0)[0][0],
      '1', 'an alert to compliance in the outbox');

    const loanAfter = await getLoan(x.loanId, officer.token);
    assert.equal(loanAfter.state, 'ACTIVE');
    assert.deepEqual(loanAfter, loanBefore, 'the loan is left as it is');
    const appAfter = await officerView(id);
    assert.deepEqual([appAfter.final_status, appAfter.compliance_status, appAfter.review_flags],
      [appBefore.final_status, appBefore.compliance_status, appBefore.review_flags], 'the application is left as it is');
    assert.equal(appAfter.screening_alerts.length, 1);

    const ok = await api('POST', `/screening/alerts/${row[0]}/resolve`, { token: officer.token, body: { reason: 'Checked (screening test)' } });
    assert.equal(ok.status, 200, ok.text);
  });

  test('a loan awaiting disbursal whose borrower the new version lists: the application back to review, the disbursal refused (409 screening_hold)', async (t) => {
    const x = await signedLoan({}, 'screening-hold');
    const id = x.app.application_id;
    touched.push(id);
    try {
      // Only one application of a PAN may be PENDING (a unique index): with another of Priya's
      // open, this one could not go back to review.
      const others = sql(`SELECT count(*) FROM loan_applications o JOIN loan_applications m ON o.pan_bidx = m.pan_bidx
                          WHERE m.application_id = :'p1' AND o.application_id <> m.application_id AND o.final_status = 'PENDING'`, id)[0][0];
      if (others !== '0') {
        t.skip(`another application of the sandbox PAN is PENDING (${others})`);
        return;
      }
      assert.equal((await getLoan(x.loanId, officer.token)).state, 'AWAITING_DISBURSAL');
      const surname = inventedToken();
      rename(id, `Clothilde ${surname}`);
      await listAlso(95003, `${surname.toUpperCase()}, Clothilde`);
      let seen;
      const app = await pollUntil(`${id} back to review`, async () => {
        seen = await officerView(id);
        return seen.final_status === 'PENDING' ? seen : null;
      }, 10000).catch((e) => { e.message += ` (last seen: ${describeApp(seen)})`; throw e; });
      assert.equal(app.compliance_status, 'PENDING');
      assert.ok(app.review_flags.includes('sanctions_review'), describeApp(app));
      assert.equal(sql("SELECT count(*) FROM screening_alerts WHERE application_id = :'p1'", id)[0][0], '1');
      assertError(await api('POST', `/loans/${x.loanId}/disburse`, { token: officer.token, body: {} }), 409, 'screening_hold');
      assert.equal((await getLoan(x.loanId, officer.token)).state, 'AWAITING_DISBURSAL');
    } finally {
      await closeIfPending(id);
    }
  });
});
