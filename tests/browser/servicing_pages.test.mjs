// The officers' servicing pages in a real browser (headless Debian Chromium through
// playwright-core, issue 14 §4): the dashboard's portfolio section against GET /portfolio/overview,
// its bucket chart actually drawn by Chart.js; a bucket's list page linking to the loan; and the
// loan's page (linked from its application's page): where it stands, the schedule with each
// installment's status, a repayment with its split, and the classification history after a
// day-end. No page loads anything from another host, throws, or logs a console error (a CSP
// refusal is one). The day-end moves the stack's business date forward (simulated time): after()
// removes the day-ends this file ran, as tests/api/servicing.test.mjs does. Other files' loans are
// in the database: the pages are compared with the JSON endpoints, never with absolute counts.
// Screenshots go to TEST_OUTPUT.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import {
  BASE, api, sql, newUser, adminToken, activeLoan, businessDate, cob, getLoan,
} from '../api/lib.mjs';

const OUT = process.env.TEST_OUTPUT || join(process.cwd(), 'test-output');
const ORIGIN = new URL(BASE).origin;
const BUCKETS = ['current', 'SMA-0', 'SMA-1', 'SMA-2', 'NPA'];

let browser;
let officer;
let officer2;
let x; // the active loan (activeLoan)
let cobBefore = [];
let ctx;
let page;
const seen = { requests: [], errors: [], console: [], failed: [] };

async function getJson(path) {
  const r = await api('GET', path, { token: officer.token });
  assert.equal(r.status, 200, `${path}: ${r.status} ${r.text}`);
  return r.json;
}

async function gotoOk(path) {
  const res = await page.goto(BASE + path);
  assert.equal(res.status(), 200, `${path}: ${res.status()}`);
  return res;
}

// Alpha > 0 pixels of a canvas (-1: no such canvas), polled until more than 100 or ms pass.
async function drawnPixels(id, ms = 15000) {
  const end = Date.now() + ms;
  let n;
  for (;;) {
    n = await page.evaluate((cid) => {
      const c = document.getElementById(cid);
      if (!c || c.tagName !== 'CANVAS') return -1;
      if (!c.width || !c.height) return 0;
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let k = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 0) k++;
      return k;
    }, id);
    if (n > 100 || Date.now() > end) return n;
    await page.waitForTimeout(100);
  }
}

const cellTexts = (row) => row.locator('td').allInnerTexts();

function assertClean(what) {
  for (const u of seen.requests) assert.ok(u.startsWith(ORIGIN), `${what}: a request to another host: ${u}`);
  assert.deepEqual(seen.errors, [], `${what}: uncaught exceptions`);
  assert.deepEqual(seen.console, [], `${what}: console errors (a CSP refusal is one)`);
  assert.deepEqual(seen.failed, [], `${what}: failed requests`);
}

describe('the servicing pages in Chromium', () => {
  before(async () => {
    mkdirSync(OUT, { recursive: true });
    cobBefore = sql('SELECT business_date::text FROM cob_runs ORDER BY 1').map((r) => r[0]);
    const admin = await adminToken();
    officer = await newUser('officer', admin);
    officer2 = await newUser('officer', admin);
    x = await activeLoan({ officers: [officer, officer2], tag: 'svc-pages' });
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    ctx = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      extraHTTPHeaders: { Authorization: `Bearer ${officer.token}` },
    });
    page = await ctx.newPage();
    page.on('request', (r) => seen.requests.push(r.url()));
    page.on('requestfailed', (r) => seen.failed.push(`${r.url()} ${r.failure()?.errorText}`));
    page.on('response', (r) => { if (r.status() >= 400) seen.failed.push(`${r.status()} ${r.url()}`); });
    page.on('pageerror', (e) => seen.errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') seen.console.push(m.text()); });
  });

  after(async () => {
    await browser?.close();
    // The business date back to today for whatever runs after this file.
    sql("DELETE FROM cob_runs WHERE NOT (business_date = ANY (:'p1'::date[]))", `{${cobBefore.join(',')}}`);
  });

  test('the dashboard has a portfolio section that agrees with GET /portfolio/overview, and its bucket chart is drawn', async () => {
    // Loans of earlier files may still be activated by the sandbox's late webhooks, so the page
    // and a second read can see two versions: read until they agree (a few seconds at most).
    let ov;
    for (let tries = 0; ; tries++) {
      ov = await getJson('/portfolio/overview');
      await gotoOk('/dashboard');
      const again = await getJson('/portfolio/overview');
      const shown = await page.locator('#portfolio-states td[data-state="ACTIVE"]').innerText().catch(() => '');
      if ((JSON.stringify(again) === JSON.stringify(ov) && shown === String(ov.loans_by_state.ACTIVE)) || tries === 20) break;
      await new Promise((res) => setTimeout(res, 500));
    }
    assert.ok(await page.locator('#portfolio').isVisible(), 'the portfolio section is shown');
    // Loans by state, per currency, and the five buckets, as the overview answers them.
    for (const [state, n] of Object.entries(ov.loans_by_state)) {
      assert.equal(await page.locator(`#portfolio-states td[data-state="${state}"]`).innerText(), String(n), `loans ${state}`);
    }
    assert.ok(ov.loans_by_state.ACTIVE >= 1, `our loan is ACTIVE: ${JSON.stringify(ov.loans_by_state)}`);
    for (const c of ov.by_currency) {
      const cells = await cellTexts(page.locator(`#portfolio-currencies tr[data-currency="${c.currency}"]`));
      assert.equal(cells[1], `${c.currency} ${c.outstanding_principal.toFixed(2)}`, `${c.currency} outstanding`);
      assert.equal(cells[2], `${c.currency} ${c.collected_this_month.toFixed(2)}`, `${c.currency} collected this month`);
    }
    assert.deepEqual(ov.delinquency.map((b) => b.bucket), BUCKETS);
    const rows = page.locator('#portfolio-buckets tbody tr');
    assert.equal(await rows.count(), 5);
    for (let i = 0; i < 5; i++) {
      const b = ov.delinquency[i];
      const cells = await cellTexts(rows.nth(i));
      assert.equal(cells[0], b.bucket);
      assert.equal(cells[1], String(b.count), `${b.bucket} count`);
      assert.ok(cells[2].endsWith(b.outstanding_principal.toFixed(2)), `${b.bucket} outstanding: ${cells[2]}`);
      assert.equal(await rows.nth(i).locator('a').getAttribute('href'), `/delinquency/${b.bucket}`);
    }
    // The embedded data is the overview (no fetch), and Chart.js drew the bar chart from it.
    const embedded = JSON.parse(await page.$eval('script#portfolio-data', (s) => s.textContent));
    assert.deepEqual(embedded.delinquency, ov.delinquency);
    const px = await drawnPixels('chart-buckets');
    assert.ok(px > 100, `canvas#chart-buckets has drawn pixels: ${px}`);
    const chart = await page.evaluate(() => {
      const c = window.Chart && window.Chart.getChart(document.getElementById('chart-buckets'));
      return c ? { type: c.config.type, labels: c.data.labels, sets: c.data.datasets.map((d) => d.data) } : null;
    });
    assert.ok(chart, 'a Chart.js chart on canvas#chart-buckets');
    assert.equal(chart.type, 'bar');
    assert.deepEqual(chart.labels, BUCKETS);
    assert.deepEqual(chart.sets[0], ov.delinquency.map((b) => b.count), 'the bars count the loans');
    assert.deepEqual(chart.sets[1], ov.delinquency.map((b) => b.outstanding_principal), 'and their outstanding principal');
    // The other dashboard charts are untouched by the section.
    assert.ok((await drawnPixels('chart-region')) > 100, 'the region chart still draws');
    await page.locator('#portfolio').screenshot({ path: join(OUT, 'portfolio.png') });
    assertClean('/dashboard');
  });

  test('the loan page before any repayment or day-end: where it stands, the schedule as the API has it, no repayment, no history', async () => {
    const app = await gotoOk(`/applications/${x.app.application_id}`);
    assert.ok(app);
    const link = page.locator('#loan-link');
    assert.equal(await link.getAttribute('href'), `/loan-accounts/${x.loanId}`, "the application's page links to its loan");
    await link.click();
    await page.waitForURL(`**/loan-accounts/${x.loanId}`);
    assert.match(await page.title(), new RegExp(x.loanId));
    assert.equal(await page.locator('#loan-state').innerText(), 'ACTIVE');
    assert.equal(await page.locator('#loan-classification').innerText(), 'STANDARD');
    assert.equal(await page.locator('#loan-outstanding').innerText(), `${x.loan.currency} ${x.loan.outstanding_principal.toFixed(2)}`);
    assert.equal(await page.locator('#loan-schedule tbody tr').count(), x.schedule.length);
    assert.ok(await page.locator('#no-repayments').isVisible());
    assert.ok(await page.locator('#no-history').isVisible());
    assertClean('the loan page');
  });

  test('after a repayment and the day-end of the first due date: the schedule statuses, the repayment with its split, a history row', async () => {
    // 500.00 on the disbursal date: paid in advance, so installment 1 stays unpaid at F1.
    const reference = `svc-pages-${process.pid}-${Date.now().toString(36)}`;
    const p = await api('POST', `/loans/${x.loanId}/repayments`, {
      token: officer.token, body: { amount: 500, value_date: businessDate(), reference },
    });
    assert.equal(p.status, 201, p.text);
    const F1 = x.loan.first_due_date;
    assert.ok(businessDate() <= F1, `the business date ${businessDate()} has not passed F1 ${F1}`);
    const { out, json } = cob(['--date', F1]);
    assert.ok(json !== null, `loanctl cob prints JSON: ${out}`);

    const loan = await getLoan(x.loanId, officer.token);
    assert.equal(loan.classification, 'SMA-0', JSON.stringify(loan));
    assert.equal(loan.classified_on, F1);
    const sched = (await getJson(`/loans/${x.loanId}/schedule`)).schedule;
    const reps = await getJson(`/loans/${x.loanId}/repayments`);
    assert.deepEqual(reps.history.at(-1), { as_of: F1, days_past_due: 1, classification: 'SMA-0' });

    await gotoOk(`/loan-accounts/${x.loanId}`);
    // Where it stands, as of the day-end of F1.
    assert.equal(await page.locator('#loan-classification').innerText(), 'SMA-0');
    assert.equal(await page.locator('#loan-dpd').innerText(), '1');
    assert.equal(await page.locator('#loan-classified-on').innerText(), F1);
    assert.equal(await page.locator('#loan-outstanding').innerText(), `${x.loan.currency} ${loan.outstanding_principal.toFixed(2)}`);
    assert.equal(await page.locator('#loan-credit').innerText(), `${x.loan.currency} ${loan.credit_balance.toFixed(2)}`);
    assert.equal(await page.locator('#loan-overdue').innerText(), `${x.loan.currency} ${loan.overdue_amount.toFixed(2)}`);
    assert.equal(await page.locator('#loan-penal').innerText(), `${x.loan.currency} ${loan.penal_due.toFixed(2)}`);
    assert.ok(loan.overdue_amount > 0, 'installment 1 is overdue');

    // The schedule: one row per installment, each with the status and the paid amounts of the API.
    const rows = page.locator('#loan-schedule tbody tr');
    assert.equal(await rows.count(), sched.length);
    const statuses = [];
    for (let i = 0; i < sched.length; i++) {
      const it = sched[i];
      const row = rows.nth(i);
      assert.equal(await row.getAttribute('data-number'), String(it.number));
      const status = await row.locator('[data-status]').innerText();
      assert.equal(status, it.status, `installment ${it.number} status`);
      statuses.push(status);
      const cells = await cellTexts(row);
      assert.equal(cells[1], it.due_date);
      assert.equal(cells[6], `${x.loan.currency} ${it.paid.interest.toFixed(2)}`, `installment ${it.number} paid interest`);
      assert.equal(cells[7], `${x.loan.currency} ${it.paid.principal.toFixed(2)}`, `installment ${it.number} paid principal`);
    }
    assert.equal(statuses[0], 'overdue', `installment 1 overdue after its due date's day-end: ${statuses}`);
    assert.ok(statuses.slice(1).every((s) => s === 'upcoming' || s === 'due' || s === 'paid'), `${statuses}`);

    // The repayment with its split.
    const rep = reps.repayments.find((r) => r.reference === reference);
    assert.ok(rep, `the repayment in the API: ${JSON.stringify(reps.repayments)}`);
    const rrow = page.locator(`#loan-repayments tr[data-repayment-id="${rep.repayment_id}"]`);
    const rc = await cellTexts(rrow);
    assert.equal(rc[0], rep.value_date);
    assert.match(rc[1], new RegExp(`^${rep.kind}`));
    assert.equal(rc[2], rep.channel);
    assert.equal(rc[3], reference);
    assert.equal(rc[4], `${x.loan.currency} 500.00`);
    for (const k of ['penal', 'fee', 'interest', 'principal', 'credit']) {
      assert.equal(await rrow.locator(`td[data-split="${k}"]`).innerText(), `${x.loan.currency} ${rep.split[k].toFixed(2)}`, `split.${k}`);
    }
    const splitSum = ['penal', 'fee', 'interest', 'principal', 'credit'].reduce((s, k) => s + Math.round(rep.split[k] * 100), 0);
    assert.equal(splitSum, 50000, 'the split adds up to the amount');
    assert.equal(rc[10], 'no', 'not reversed');

    // The classification history: the API's rows, the last the SMA-0 of F1.
    const hrows = page.locator('#loan-history tbody tr');
    assert.equal(await hrows.count(), reps.history.length);
    assert.deepEqual(await cellTexts(hrows.nth(reps.history.length - 1)), [F1, '1', 'SMA-0']);
    await page.screenshot({ path: join(OUT, 'loan-account.png'), fullPage: true });
    assertClean('the loan page after a day-end');
  });

  test('a reversed repayment shows reversed with its reason; markup in a reference or a reason is text, never markup', async () => {
    const reference = `<b id="xss-ref">r</b>${Date.now().toString(36)}`;
    const p = await api('POST', `/loans/${x.loanId}/repayments`, {
      token: officer.token, body: { amount: 1, value_date: businessDate(), reference },
    });
    assert.equal(p.status, 201, p.text);
    const rid = p.json.repayment.repayment_id;
    const reason = 'keyed twice <script>window.__xss=1</script><img src=x onerror="window.__xss=2">';
    const rv = await api('POST', `/loans/${x.loanId}/repayments/${rid}/reverse`, { token: officer.token, body: { reason } });
    assert.equal(rv.status, 200, rv.text);
    const rep = (await getJson(`/loans/${x.loanId}/repayments`)).repayments.find((r) => r.repayment_id === rid);
    assert.ok(rep.reversed, JSON.stringify(rep));
    await gotoOk(`/loan-accounts/${x.loanId}`);
    const row = page.locator(`#loan-repayments tr[data-repayment-id="${rid}"]`);
    assert.match(await row.getAttribute('class'), /reversed/);
    const cells = await cellTexts(row);
    assert.equal(cells[3], reference, 'the reference as text');
    assert.equal(cells[10], `reversed ${rep.reversed_at.slice(0, 10)}: ${reason}`, 'reversed, on its date, with the reason as text');
    assert.equal(await page.locator('#xss-ref').count(), 0, 'no element from the reference');
    assert.equal(await page.evaluate(() => window.__xss), undefined, 'no script from the reason ran');
    assertClean('the loan page with a reversal');
  });

  test('the SMA-0 bucket on the dashboard links to its list page, which links to the loan', async () => {
    await gotoOk('/dashboard');
    const ov = await getJson('/portfolio/overview');
    const sma0 = ov.delinquency.find((b) => b.bucket === 'SMA-0');
    assert.ok(sma0.count >= 1, JSON.stringify(ov.delinquency));
    assert.equal(await page.locator('#portfolio-buckets tr[data-bucket="SMA-0"] td').nth(1).innerText(), String(sma0.count));
    assert.ok((await drawnPixels('chart-buckets')) > 100);
    await page.locator('#portfolio-buckets tr[data-bucket="SMA-0"] a').click();
    await page.waitForURL('**/delinquency/SMA-0');
    const list = await getJson('/portfolio/delinquency?bucket=SMA-0&limit=50');
    assert.match(await page.locator('h1').innerText(), new RegExp(`SMA-0 \\(${list.total} active loans\\)`));
    assert.equal(await page.locator('#bucket-loans tbody tr').count(), list.loans.length);
    const mine = page.locator(`#bucket-loans tr[data-loan-id="${x.loanId}"]`);
    if (list.loans.some((l) => l.loan_id === x.loanId)) {
      await mine.locator('a').first().click();
      await page.waitForURL(`**/loan-accounts/${x.loanId}`);
      assert.equal(await page.locator('#loan-classification').innerText(), 'SMA-0');
    } else {
      assert.ok(list.total > 50, 'our loan is on a later page only when the bucket has more than a page');
    }
    assertClean('the bucket page');
  });

  test('an unknown bucket or loan is an HTML 404 page; a bad offset a 400 page', async () => {
    for (const [path, status, text] of [
      ['/delinquency/SMA-9', 404, /No such bucket/],
      ['/loan-accounts/LN-NOSUCH', 404, /No such loan/],
      ['/delinquency/NPA?offset=-1', 400, /offset/],
    ]) {
      const res = await page.goto(BASE + path);
      assert.equal(res.status(), status, path);
      assert.match(res.headers()['content-type'], /^text\/html/, path);
      assert.match(await page.locator('main').innerText(), text, path);
    }
  });
});
