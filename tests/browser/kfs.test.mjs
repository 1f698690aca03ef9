// The Key Fact Statement page in a real browser (headless Debian Chromium through playwright-core),
// as the applicant who owns it sees it: every figure of the offer on the page, one schedule row
// per installment, nothing loaded from another host, no script or style the CSP refuses, and on
// paper (print media) the print stylesheet: the screen-only note hidden, the schedule kept.
// Another applicant's browser gets the 404 page. Screenshots go to TEST_OUTPUT.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { BASE, api, newApplicant, approvedApplication } from '../api/lib.mjs';

const OUT = process.env.TEST_OUTPUT || join(process.cwd(), 'test-output');
const ORIGIN = new URL(BASE).origin;
let dir;
let browser;
let x; // the approved application { applicant, app }
let offer;

async function pageAs(token) {
  const ctx = await browser.newContext({
    viewport: { width: 1100, height: 900 },
    extraHTTPHeaders: { Authorization: `Bearer ${token}` },
  });
  const page = await ctx.newPage();
  const seen = { requests: [], errors: [], console: [] };
  page.on('request', (r) => seen.requests.push(r.url()));
  page.on('pageerror', (e) => seen.errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') seen.console.push(m.text()); });
  return { ctx, page, seen };
}

const money = (v) => Number(v).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }).replace(/,/g, '');
const flat = (s) => s.replace(/,/g, '');

describe('the KFS page in Chromium', () => {
  before(async () => {
    mkdirSync(OUT, { recursive: true });
    x = await approvedApplication({ tenure_months: 24 }, 'kfs-browser');
    const r = await api('GET', `/loan-application/${x.app.application_id}/offer`, { token: x.applicant.token });
    assert.equal(r.status, 200, r.text);
    offer = r.json.offer;
    dir = mkdtempSync(join(tmpdir(), 'loanflow-kfs-'));
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });

  after(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the owner sees every figure of the offer and the illustrative schedule', async () => {
    const { ctx, page, seen } = await pageAs(x.applicant.token);
    const res = await page.goto(`${BASE}/applications/${x.app.application_id}/kfs`);
    assert.equal(res.status(), 200);
    assert.match(await page.title(), /Key Fact Statement/);
    assert.equal(flat(await page.locator('#kfs-apr').innerText()).trim(), `${money(offer.apr)} %`);
    assert.ok(flat(await page.locator('#kfs-emi').innerText()).includes(money(offer.emi)));
    assert.ok(flat(await page.locator('#kfs-amount').innerText()).includes(money(offer.principal)));
    assert.equal(await page.locator('#kfs-valid-until').innerText(), offer.valid_until);
    assert.equal(await page.locator('#kfs-sha256').innerText(), offer.kfs_sha256);
    const rows = page.locator('#kfs-schedule tbody tr');
    assert.equal(await rows.count(), 24);
    const last = await rows.nth(23).locator('td').allInnerTexts();
    assert.equal(last[1], offer.schedule[23].due_date);
    assert.equal(flat(last[5]), '0.00', 'the last row leaves nothing outstanding');
    // The page's fees and the grievance officer are there (Part 1 and Part 2).
    const text = await page.locator('main').innerText();
    assert.match(text, /processing fee/i);
    assert.match(text, /Grievance/);
    assert.match(text, /Cooling-off/);
    // Nothing from another host; the CSP refused nothing (it would log a console error).
    for (const u of seen.requests) assert.ok(u.startsWith(ORIGIN), `a request to another host: ${u}`);
    assert.deepEqual(seen.errors, []);
    assert.deepEqual(seen.console, []);
    // The stylesheet applied: the APR row is highlighted on screen.
    const bg = await page.locator('tr.apr td').evaluate((e) => getComputedStyle(e).backgroundColor);
    assert.notEqual(bg, 'rgba(0, 0, 0, 0)', 'kfs.css styles the APR row');
    await page.screenshot({ path: join(OUT, 'kfs.png'), fullPage: true });

    // On paper: the print stylesheet hides the screen note and keeps the schedule.
    await page.emulateMedia({ media: 'print' });
    assert.equal(await page.locator('.no-print').first().isVisible(), false, 'screen-only note hidden in print');
    assert.equal(await rows.first().isVisible(), true, 'the schedule prints');
    const pdf = await page.pdf({ format: 'A4' });
    assert.ok(pdf.length > 10000, `a printable PDF (${pdf.length} bytes)`);
    await ctx.close();
  });

  test("another applicant's browser: 404, not the statement", async () => {
    const stranger = await newApplicant('kfs-stranger');
    const { ctx, page } = await pageAs(stranger.token);
    const res = await page.goto(`${BASE}/applications/${x.app.application_id}/kfs`);
    assert.equal(res.status(), 404);
    assert.ok(!(await page.content()).includes(offer.kfs_sha256));
    await ctx.close();
  });
});
