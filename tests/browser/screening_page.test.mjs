// The officer's application page and its sanctions section in a real browser (headless Debian
// Chromium through playwright-core, issue 18 §4): an application typed with a listed person's
// first given name and surname shows its screening level and evidence (the typed and the missing
// listed tokens, the date of birth and nationality results), and the "Screen again" button shows
// the ranked candidates for the applicant's name, date of birth and country with the same
// answer GET /screening/search gives. The button is pressed from the keyboard (focused, Enter). No request leaves the origin, nothing throws, no console error. Screenshots go to
// TEST_OUTPUT. Uses the real OFAC list the stack screens against ("HAMOU, Sara Aleksandra
// Fayssal", ent_num 48061, DOB 27 Jun 1984).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { BASE, api, newApplicant, newUser, adminToken } from '../api/lib.mjs';

const OUT = process.env.TEST_OUTPUT || join(process.cwd(), 'test-output');
const ORIGIN = new URL(BASE).origin;
let browser;
let officer;
let page;
let appId;
const seen = { requests: [], errors: [], console: [], failed: [] };

describe('the application page screens again in Chromium', () => {
  before(async () => {
    mkdirSync(OUT, { recursive: true });
    officer = await newUser('officer', await adminToken());
    const applicant = await newApplicant('screen-page');
    const r = await api('POST', '/loan-application/submit', {
      token: applicant.token,
      body: {
        name: 'Sara Hamou', email: applicant.email, phone: '+1234567890', region: 'EU', country: 'Germany',
        income: 85000, debt: 25000, credit_score: 720, loan_amount: 250000, loan_purpose: 'Car',
        documents_uploaded: true, documents: ['ID_Proof', 'Income_Statement', 'Address_Proof'],
        date_of_birth: '1990-01-01',
      },
    });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.application.final_status, 'PENDING', r.text);
    appId = r.json.application.application_id;
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    const ctx = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      extraHTTPHeaders: { Authorization: `Bearer ${officer.token}` },
    });
    page = await ctx.newPage();
    page.on('request', (q) => seen.requests.push(q.url()));
    page.on('requestfailed', (q) => seen.failed.push(`${q.url()} ${q.failure()?.errorText}`));
    page.on('response', (q) => { if (q.status() >= 400) seen.failed.push(`${q.status()} ${q.url()}`); });
    page.on('pageerror', (e) => seen.errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') seen.console.push(m.text()); });
  });

  after(async () => {
    await browser?.close();
  });

  test('the screening section shows the partial match and its evidence; Screen again lists the candidates as the search API ranks them', async () => {
    const res = await page.goto(`${BASE}/applications/${appId}`);
    assert.equal(res.status(), 200);
    assert.equal(await page.locator('#screening-level').innerText(), 'review');
    const evidence = await page.locator('#screening-evidence').innerText();
    assert.match(evidence, /^partial name: typed sara hamou · not typed aleksandra fayssal/, evidence);
    const section = await page.locator('#screening').innerText();
    assert.match(section, /HAMOU, Sara Aleksandra Fayssal \(entry 48061/, section);
    assert.match(section, /Date of birth\s+disagrees \(listed 1984-06-27 ; application 1990-01-01\)/, section);
    assert.equal(await page.locator('#screen-again').count(), 0, 'no candidates before the button is pressed');

    // from the keyboard: the button focused, Enter
    await page.locator('#screen-again-button').focus();
    await Promise.all([page.waitForURL(/screen=again/), page.keyboard.press('Enter')]);
    await page.locator('#screen-again').waitFor();
    await page.screenshot({ path: join(OUT, 'screening-screen-again.png'), fullPage: true });
    const rows = page.locator('#screen-again tbody tr');
    assert.ok(await rows.count() >= 1, 'candidates are listed');
    const first = await rows.nth(0).locator('td').allInnerTexts();
    assert.deepEqual([first[0], first[1], first[4], first[6]], ['review', 'HAMOU, Sara Aleksandra Fayssal', 'partial', 'disagrees']);

    const api1 = await api('GET', '/screening/search?name=Sara%20Hamou&date_of_birth=1990-01-01&country=DE', { token: officer.token });
    assert.equal(api1.status, 200, api1.text);
    assert.equal(await rows.count(), api1.json.candidates.length, 'as many candidates as the search answers');
    for (let i = 0; i < api1.json.candidates.length; i++) {
      const cells = await rows.nth(i).locator('td').allInnerTexts();
      const c = api1.json.candidates[i];
      assert.deepEqual([cells[0], cells[1], cells[2]], [c.level, c.matched_name, `${c.list} ${c.entry_id}`], `row ${i}`);
    }
    for (const u of seen.requests) assert.ok(u.startsWith(ORIGIN), `a request to another host: ${u}`);
    assert.deepEqual(seen.errors, [], 'uncaught exceptions');
    assert.deepEqual(seen.console, [], 'console errors');
    assert.deepEqual(seen.failed, [], 'failed requests');
  });
});
