// The gateway's webhooks (issue 13, SERVICING.md §4), through nginx as the gateway meets them:
// POST /webhooks/gateway is public and trusts only the hex HMAC-SHA256 of the raw body under
// GATEWAY_WEBHOOK_SECRET (a missing or wrong signature, or one over a re-serialised body, is 400
// invalid_signature and changes nothing); delivery is at least once and in no order, so an event
// id is acted on once and a payout's state only moves forward.
//
// Each test disburses a loan of its own while the sandbox holds its own events for a minute
// (POST /sandbox/config {"delay_ms": 60000}), then delivers the events itself, signed with
// GATEWAY_WEBHOOK_SECRET. The last test lets the sandbox deliver every event twice, shuffled.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  api, assertError, sql, newUser, adminToken, gateway, sandboxConfig, SANDBOX_DEFAULTS,
  signWebhook, webhookBody, deliverWebhook, newEventId, pollUntil, signedLoan, getLoan, paise,
} from './lib.mjs';

const HOLD = { delay_ms: 60000, duplicate_rate: 0, shuffle: false };

let admin;
let officer;

before(async () => {
  admin = await adminToken();
  officer = await newUser('officer', admin);
  await sandboxConfig(HOLD);
});

after(async () => {
  await sandboxConfig(SANDBOX_DEFAULTS);
});

// ---- helpers ---------------------------------------------------------------------------------

// A signed loan disbursed while the sandbox holds its events: DISBURSING, with its payout id and
// amount (paise) for the events this file delivers itself.
async function heldLoan() {
  const x = await signedLoan({}, 'hooks');
  const offer = (await api('GET', `/loan-application/${x.app.application_id}/offer`, { token: x.applicant.token })).json.offer;
  const r = await api('POST', `/loans/${x.loanId}/disburse`, { token: officer.token, body: {} });
  assert.equal(r.status, 202, `disburse: ${r.text}`);
  assert.equal(r.json.loan.state, 'DISBURSING');
  const payoutId = r.json.payout.payout_id;
  assert.match(String(payoutId), /^pout_/);
  const gp = await gateway('GET', `/v1/payouts/${payoutId}`);
  const amount = Number.isInteger(gp.json?.amount) ? gp.json.amount : paise(offer.net_disbursed);
  return { ...x, payoutId, amount };
}

// The webhook body of event for the held loan h (extra: status, reason, createdAt, payoutId).
const eventFor = (h, event, extra = {}) => webhookBody({ event, payoutId: h.payoutId, amount: h.amount, reference: h.loanId, ...extra });

const stateOf = async (loanId) => (await getLoan(loanId, officer.token)).state;

// Rows of gateway_events that carry this event id.
const eventRows = (eventId) => Number(sql("SELECT count(*) FROM gateway_events t WHERE strpos(t::text, :'p1') > 0", eventId)[0][0]);

const payoutStatus = (payoutId) => sql("SELECT status FROM loan_payouts t WHERE strpos(t::text, :'p1') > 0", payoutId).map((r) => r[0]);

const activations = (applicationId) => Number(sql("SELECT count(*) FROM approval_logs WHERE application_id = :'p1' AND action = 'loan_activated'", applicationId)[0][0]);

async function waitState(loanId, want, extra = () => true, ms = 10000) {
  let seen;
  try {
    return await pollUntil(`loan ${loanId} ${want}`, async () => {
      seen = await getLoan(loanId, officer.token);
      return seen.state === want && extra(seen) ? seen : null;
    }, ms);
  } catch (e) {
    e.message += ` (last seen: ${JSON.stringify(seen)})`;
    throw e;
  }
}

// Delivers a signed event and expects 200.
async function deliverOk(body, eventId, what) {
  const r = await deliverWebhook(body, { eventId });
  assert.equal(r.status, 200, `${what}: ${r.status} ${r.text}`);
  return r;
}

const ok2xx = (s) => s >= 200 && s < 300;

// ---- signature -------------------------------------------------------------------------------

describe('the signature', () => {
  test('the helper signs as SERVICING.md §4 says (the vector)', () => {
    const vector = '{"entity":"event","event":"payout.processed","payload":{"payout":{"entity":{"id":"pout_1","amount":9800000,"status":"processed"}}}}';
    assert.equal(signWebhook(vector, 'whsec_loanflow_test'), '6357898528cab23a164e66f8ecca24a7aa7c4ee977ccc28fc9b32bb91a71de7d');
  });

  test('missing, wrong, another secret\'s, or over a re-serialised body: 400 invalid_signature and nothing changes; the same body rightly signed is acted on', async () => {
    const h = await heldLoan();
    const body = eventFor(h, 'payout.processed');
    const eventId = newEventId();
    const pretty = JSON.stringify(JSON.parse(body), null, 2);
    const right = signWebhook(body);
    const cases = [
      ['no signature header', body, null],
      ['an empty signature', body, ''],
      ['the signature of another body', body, signWebhook(eventFor(h, 'payout.processing'))],
      ['signed with another secret', body, signWebhook(body, 'whsec_not_the_secret')],
      ['a truncated signature', body, right.slice(0, 63)],
      ['one hex digit changed', body, (right[0] === '0' ? '1' : '0') + right.slice(1)],
      ['the compact body\'s signature on a re-serialised body', pretty, right],
      ['a leading space added to the body after signing', ` ${body}`, right],
    ];
    for (const [what, b, signature] of cases) {
      const r = await deliverWebhook(b, { eventId, signature });
      assertError(r, 400, 'invalid_signature');
      assert.equal(eventRows(eventId), 0, `${what}: no gateway_events row for the event`);
      assert.equal(await stateOf(h.loanId), 'DISBURSING', `${what}: the loan did not move`);
    }
    assert.notDeepEqual(payoutStatus(h.payoutId), ['processed'], 'the payout is not processed');
    // Without a token too: the gateway has none.
    await deliverOk(body, eventId, 'the same body, rightly signed');
    const l = await waitState(h.loanId, 'ACTIVE');
    assert.ok(l.disbursed_at, 'disbursed_at set');
    assert.equal(eventRows(eventId), 1, 'the event recorded once');
  });

  test('the signature is judged before the body: an unsigned body of any type, JSON or not, is 400 invalid_signature', async () => {
    for (const [type, body] of [['text/plain', 'not json at all'], ['application/json', '{"broken":'],
      ['application/x-www-form-urlencoded', 'a=1'], ['application/json', '{"entity":"event"}']]) {
      const r = await api('POST', '/webhooks/gateway', { body, headers: { 'Content-Type': type } });
      assertError(r, 400, 'invalid_signature');
    }
  });

  test('a validly signed body that is not JSON: 400, nothing changes', async () => {
    const h = await heldLoan();
    for (const raw of ['{"entity":"event","event":"payout.processed",', 'not json', '']) {
      const r = await deliverWebhook(raw, { eventId: newEventId() });
      assertError(r, 400);
    }
    // A JSON body that is not a payout event: refused or acknowledged, never a server error.
    const r = await deliverWebhook(JSON.stringify({ entity: 'event', event: 'payout.processed' }), { eventId: newEventId() });
    assert.ok(r.status === 400 || ok2xx(r.status), `a payout event without its payout: ${r.status} ${r.text}`);
    assert.equal(await stateOf(h.loanId), 'DISBURSING');
  });
});

// ---- duplicates and order ----------------------------------------------------------------------

describe('at least once, in no order', () => {
  test('the same event id again: 200, and nothing happens twice (one gateway_events row), even with another body', async () => {
    const h = await heldLoan();
    const eventId = newEventId();
    const body = eventFor(h, 'payout.processed');
    await deliverOk(body, eventId, 'first delivery');
    const first = await waitState(h.loanId, 'ACTIVE');
    for (let i = 0; i < 3; i++) await deliverOk(body, eventId, `redelivery ${i + 1}`);
    assert.equal(eventRows(eventId), 1, 'one gateway_events row for the event id');
    const again = await getLoan(h.loanId, officer.token);
    assert.equal(again.state, 'ACTIVE');
    assert.equal(again.disbursed_at, first.disbursed_at, 'disbursed_at unchanged');
    assert.equal(activations(h.app.application_id), 1, 'activated once');
    // An event id already seen is not acted on, whatever its body says.
    const other = await deliverWebhook(eventFor(h, 'payout.reversed', { reason: 'duplicate id test' }), { eventId });
    assert.ok(ok2xx(other.status) || other.status === 409, `a seen event id with another body: ${other.status} ${other.text}`);
    assert.equal(await stateOf(h.loanId), 'ACTIVE', 'a seen event id changes nothing');
    assert.equal(eventRows(eventId), 1);
    assert.deepEqual(payoutStatus(h.payoutId), ['processed']);
  });

  test('out of order: payout.processed, then an older payout.processing and payout.queued: the loan stays ACTIVE', async () => {
    const h = await heldLoan();
    const now = Math.floor(Date.now() / 1000);
    await deliverOk(eventFor(h, 'payout.processed', { createdAt: now }), newEventId(), 'processed');
    const active = await waitState(h.loanId, 'ACTIVE');
    const processing = newEventId();
    await deliverOk(eventFor(h, 'payout.processing', { createdAt: now - 30 }), processing, 'an older processing');
    await deliverOk(eventFor(h, 'payout.queued', { createdAt: now - 60 }), newEventId(), 'an older queued');
    const l = await getLoan(h.loanId, officer.token);
    assert.equal(l.state, 'ACTIVE', 'states only move forward');
    assert.equal(l.disbursed_at, active.disbursed_at);
    assert.deepEqual(payoutStatus(h.payoutId), ['processed']);
    assert.ok(eventRows(processing) <= 1);
    // Another processed event (a new id) for the same payout: already there, nothing more.
    await deliverOk(eventFor(h, 'payout.processed'), newEventId(), 'processed again under a new id');
    assert.equal(activations(h.app.application_id), 1, 'activated once');
  });

  test('payout.failed: AWAITING_DISBURSAL with the reason; a late payout.processed of that payout does not activate it', async () => {
    const h = await heldLoan();
    const reason = 'IFSC not reachable over IMPS';
    await deliverOk(eventFor(h, 'payout.failed', { reason }), newEventId(), 'failed');
    await waitState(h.loanId, 'AWAITING_DISBURSAL', (l) => String(l.last_disbursal_error ?? '').includes(reason));
    assert.deepEqual(payoutStatus(h.payoutId), ['failed']);
    await deliverOk(eventFor(h, 'payout.processed'), newEventId(), 'a late processed');
    const l = await getLoan(h.loanId, officer.token);
    assert.equal(l.state, 'AWAITING_DISBURSAL', 'a failed payout stays failed');
    assert.equal(l.disbursed_at, null);
    assert.deepEqual(payoutStatus(h.payoutId), ['failed']);
  });

  test('payout.reversed after payout.processed: AWAITING_DISBURSAL with the reason', async () => {
    const h = await heldLoan();
    await deliverOk(eventFor(h, 'payout.processed'), newEventId(), 'processed');
    await waitState(h.loanId, 'ACTIVE');
    const reason = 'beneficiary account frozen';
    await deliverOk(eventFor(h, 'payout.reversed', { reason }), newEventId(), 'reversed');
    await waitState(h.loanId, 'AWAITING_DISBURSAL', (l) => String(l.last_disbursal_error ?? '').includes(reason));
    assert.deepEqual(payoutStatus(h.payoutId), ['reversed']);
  });

  test('an event for a payout the service never made: acknowledged (200) or 404, and nothing changes', async () => {
    const h = await heldLoan();
    const eventId = newEventId();
    const body = eventFor(h, 'payout.processed', { payoutId: `pout_unknown${Date.now()}` });
    const r = await deliverWebhook(body, { eventId });
    assert.ok(r.status === 200 || r.status === 404, `unknown payout: ${r.status} ${r.text}`);
    assert.equal(await stateOf(h.loanId), 'DISBURSING', 'the loan named in reference_id did not move');
    assert.notDeepEqual(payoutStatus(h.payoutId), ['processed']);
    assert.equal(activations(h.app.application_id), 0);
  });
});

// ---- the sandbox's own deliveries --------------------------------------------------------------

// The sandbox's delivery log, tolerant of its exact field names.
async function deliveries() {
  const r = await gateway('GET', '/sandbox/deliveries');
  assert.equal(r.status, 200, `GET /sandbox/deliveries: ${r.status} ${r.text}`);
  const list = Array.isArray(r.json) ? r.json : (r.json?.deliveries ?? r.json?.items ?? []);
  assert.ok(Array.isArray(list), r.text.slice(0, 300));
  return list.map((d) => ({
    eventId: d.event_id ?? d.eventId ?? d.id,
    event: d.event ?? d.type,
    payoutId: d.payout_id ?? d.payoutId ?? d.payout,
    answered: d.http_status ?? d.response_status ?? d.status_code ?? d.answered ?? d.status,
    raw: d,
  }));
}

describe('the sandbox delivers twice and shuffled', () => {
  test('every event at least twice, in any order: the loan ends ACTIVE and each event id is recorded once', async () => {
    await sandboxConfig({ delay_ms: 50, duplicate_rate: 1, shuffle: true });
    try {
      const x = await signedLoan({}, 'hooks-dup');
      const r = await api('POST', `/loans/${x.loanId}/disburse`, { token: officer.token, body: {} });
      assert.equal(r.status, 202, r.text);
      const payoutId = r.json.payout.payout_id;
      await waitState(x.loanId, 'ACTIVE', () => true, 20000);
      const mine = await pollUntil('the processed event delivered twice', async () => {
        const ds = (await deliveries()).filter((d) => d.payoutId === payoutId);
        return ds.filter((d) => d.event === 'payout.processed').length >= 2 ? ds : null;
      }, 10000, 200);
      const processed = mine.filter((d) => d.event === 'payout.processed');
      assert.equal(new Set(processed.map((d) => d.eventId)).size, 1, `a duplicate keeps its event id: ${JSON.stringify(processed.map((d) => d.raw))}`);
      for (const d of mine) {
        if (typeof d.answered === 'number') assert.ok(ok2xx(d.answered), `the service answered ${d.answered} to ${JSON.stringify(d.raw)}`);
      }
      assert.equal(eventRows(processed[0].eventId), 1, 'gateway_events has the processed event once');
      for (const id of new Set(mine.map((d) => d.eventId))) assert.ok(eventRows(id) <= 1, `event ${id} recorded at most once`);
      const l = await getLoan(x.loanId, officer.token);
      assert.equal(l.state, 'ACTIVE');
      assert.deepEqual(payoutStatus(payoutId), ['processed']);
      assert.equal(activations(x.app.application_id), 1, 'activated once');
    } finally {
      await sandboxConfig(SANDBOX_DEFAULTS);
    }
  });
});
