// The outbox notifier: killed with SIGKILL in the middle of a batch, then restarted, it loses no
// message and delivers none twice (delivery here is a JSON line in log/notifications.jsonl).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { api, newApplicant, sql, stack, sleep, uniqueEmail } from './lib.mjs';

const sink = () => {
  const f = `${process.env.STACK_DIR}/log/notifications.jsonl`;
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
};

const body = (email) => ({
  name: 'John Doe', email, phone: '+1234567890', region: 'AMERICAS', country: 'United States',
  income: 85000, debt: 25000, credit_score: 720, loan_amount: 250000, loan_purpose: 'Home Purchase',
  documents_uploaded: true, documents: ['ID_Proof', 'Income_Statement', 'Address_Proof'],
});

test('a notifier killed mid-batch loses and duplicates nothing', async () => {
  stack('notifier-kill');
  const applicant = await newApplicant('notify');
  const ids = [];
  for (let i = 0; i < 30; i++) {
    const r = await api('POST', '/loan-application/submit', { token: applicant.token, body: body(applicant.email) });
    assert.equal(r.status, 201, r.text);
    ids.push(r.json.application.application_id);
  }
  const list = `{${ids.join(',')}}`;
  const notes = sql("SELECT id FROM notifications WHERE application_id = ANY(:'p1'::text[]) ORDER BY id", list).map((r) => r[0]);
  assert.equal(notes.length, 30, 'one email per decided application is queued');
  const ours = (m) => notes.includes(String(m.id));

  // A slow notifier, killed once it has delivered some of the batch but not committed it.
  process.env.NOTIFIER_DELAY_MS = '100';
  try {
    stack('notifier-start');
  } finally {
    delete process.env.NOTIFIER_DELAY_MS;
  }
  const end = Date.now() + 15000;
  while (sink().filter(ours).length < 5) {
    assert.ok(Date.now() < end, 'the slow notifier started delivering');
    await sleep(50);
  }
  stack('notifier-kill');
  const before = sink().filter(ours).length;
  assert.ok(before >= 5 && before < 30, `killed mid-batch after ${before} deliveries`);
  const unsent = Number(sql("SELECT count(*) FROM notifications WHERE application_id = ANY(:'p1'::text[]) AND sent_at IS NULL", list)[0][0]);
  assert.ok(unsent > 0, 'the killed batch was not marked sent');

  stack('notifier-start');
  const end2 = Date.now() + 20000;
  for (;;) {
    const left = Number(sql("SELECT count(*) FROM notifications WHERE application_id = ANY(:'p1'::text[]) AND sent_at IS NULL", list)[0][0]);
    if (left === 0) break;
    assert.ok(Date.now() < end2, `${left} notifications still unsent`);
    await sleep(100);
  }
  const delivered = sink().filter(ours);
  const counts = new Map();
  for (const m of delivered) counts.set(String(m.id), (counts.get(String(m.id)) || 0) + 1);
  assert.equal(counts.size, 30, 'every message delivered');
  for (const [id, n] of counts) assert.equal(n, 1, `notification ${id} delivered ${n} times`);
  const flagged = Number(sql("SELECT count(*) FROM loan_applications WHERE application_id = ANY(:'p1'::text[]) AND email_sent", list)[0][0]);
  assert.equal(flagged, 30, 'email_sent is set on every application');
});
