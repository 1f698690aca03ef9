// The day-end under concurrency and as the lending trail sees it (issue 14 §2): two day-ends
// started at once for the same simulated date both succeed and do the work once (the advisory
// lock serialises them; without it one would fail on cob_runs' key or charge twice); the penal
// charges and classification changes it makes are rows of the lending trail (approval_logs,
// append-only), as every state change the system makes must be. Runs after servicing.test.mjs,
// and deletes the day-ends it adds, so later files see today's date again.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';

import { ROOT, activeLoan, addDays, adminToken, businessDate, getLoan, newUser, sql } from './lib.mjs';

const run = promisify(execFile);
let startedWith;

describe('the day-end, twice at once', () => {
  let officer, x;
  before(async () => {
    startedWith = sql("SELECT coalesce(max(business_date), '0001-01-01')::text FROM cob_runs")[0][0];
    const admin = await adminToken();
    officer = await newUser('officer', admin);
    const second = await newUser('officer', admin);
    x = await activeLoan({ officers: [officer, second], tag: 'cobtwice' });
  });
  after(() => {
    sql("DELETE FROM cob_runs WHERE business_date > :'p1'", startedWith);
  });

  test('after the day-end of the first due date, two loanctl cob for a month later at once: both exit 0, the days between run once each, in order, the penal charge is levied once and both it and the classification are in the lending trail', async () => {
    const first = x.schedule[0].due_date;
    const target = addDays(first, 31);
    const env = { ...process.env, LOANFLOW_STACK_ENV: `${process.env.STACK_DIR}/stack.env` };
    await run(`${ROOT}/loanctl`, ['cob', '--date', first], { env });
    const [a, b] = await Promise.all([
      run(`${ROOT}/loanctl`, ['cob', '--date', target], { env }),
      run(`${ROOT}/loanctl`, ['cob', '--date', target], { env }),
    ]);
    const lines = (a.stdout + b.stdout).split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
    const ran = lines.filter((o) => o.already_run === false).map((o) => o.business_date);
    assert.equal(new Set(ran).size, ran.length, `no date run twice: ${JSON.stringify(ran)}`);
    assert.ok(ran.includes(target), `the target date ran: ${JSON.stringify(ran)}`);
    const dup = sql('SELECT business_date FROM cob_runs GROUP BY 1 HAVING count(*) > 1');
    assert.deepEqual(dup, []);
    assert.equal(addDays(target, 1), businessDate());

    const l = await getLoan(x.loanId, officer.token);
    assert.equal(l.days_past_due, 32);
    assert.equal(l.classification, 'SMA-1');
    assert.equal(l.penal_due, 1000, 'installments 1 and 2 unpaid at their day-ends: 500.00 each');
    const pen = sql("SELECT details->>'installment', details->>'amount', actor_email FROM approval_logs WHERE action = 'penal_charged' AND details->>'loan_id' = :'p1' ORDER BY 1", x.loanId);
    assert.deepEqual(pen, [['1', '500.00', 'day-end'], ['2', '500.00', 'day-end']]);
    const cls = sql("SELECT details->>'from', details->>'to', details->>'reason' FROM approval_logs WHERE action = 'classification_changed' AND details->>'loan_id' = :'p1' ORDER BY id", x.loanId);
    assert.deepEqual(cls, [['STANDARD', 'SMA-0', 'days_past_due'], ['SMA-0', 'SMA-1', 'days_past_due']]);
  });
});
