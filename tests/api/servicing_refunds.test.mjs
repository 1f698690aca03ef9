// Refunds of collected payments (issue 14 §1: "a reversal (gateway refund ...) re-applies
// everything after it"): two partial refunds of one payment each keep what the lender kept,
// once, in one transaction each; a refund that arrives before its payment is not final (503,
// the gateway delivers it again) and applies once the payment is recorded; a payment in
// another currency than the loan's is refused, never booked as the loan's.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import {
  activeLoan, adminToken, api, deliverWebhook, newEventId, newUser, paise, sql,
} from './lib.mjs';

function paymentBody({ payId, loanId, amount, currency = 'INR', event = 'payment.captured' }) {
  return JSON.stringify({
    entity: 'event', event, contains: ['payment'],
    payload: { payment: { entity: { id: payId, entity: 'payment', amount, currency, status: 'captured', method: 'upi', notes: { loan_id: loanId }, created_at: Math.floor(Date.now() / 1000) } } },
    created_at: Math.floor(Date.now() / 1000),
  });
}

function refundBody({ refundId, payId, amount }) {
  return JSON.stringify({
    entity: 'event', event: 'refund.processed', contains: ['refund'],
    payload: { refund: { entity: { id: refundId, entity: 'refund', amount, currency: 'INR', payment_id: payId, status: 'processed', created_at: Math.floor(Date.now() / 1000) } } },
    created_at: Math.floor(Date.now() / 1000),
  });
}

const rows = (payId) => sql(
  "SELECT reference, amount::text, (reversed_at IS NOT NULL)::text FROM loan_repayments WHERE reference = :'p1' OR reference LIKE :'p1' || '-net-%' ORDER BY id", payId);

describe('refunds of collected payments', () => {
  let officer, x;
  before(async () => {
    const admin = await adminToken();
    officer = await newUser('officer', admin);
    const second = await newUser('officer', admin);
    x = await activeLoan({ officers: [officer, second], tag: 'refunds' });
  });

  test('two partial refunds of one payment: each reverses what stood for it and keeps the rest once; a refund delivered again changes nothing', async () => {
    const payId = `pay_rf${Date.now().toString(36)}`;
    let r = await deliverWebhook(paymentBody({ payId, loanId: x.loanId, amount: 1000000 }), { eventId: newEventId() });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, 'applied');
    r = await deliverWebhook(refundBody({ refundId: 'rfnd_a' + payId, payId, amount: 200000 }), { eventId: newEventId() });
    assert.equal(r.json.status, 'applied', r.text);
    const second = refundBody({ refundId: 'rfnd_b' + payId, payId, amount: 300000 });
    r = await deliverWebhook(second, { eventId: newEventId() });
    assert.equal(r.json.status, 'applied', r.text);
    r = await deliverWebhook(second, { eventId: newEventId() }); // the same refund, another event id
    assert.equal(r.json.status, 'duplicate', r.text);
    const all = rows(payId);
    assert.deepEqual(all.map((w) => [w[1], w[2]]), [['1000000', 'true'], ['800000', 'true'], ['500000', 'false']]);
    const kept = sql("SELECT sum(amount)::text FROM loan_repayments WHERE loan_id = :'p1' AND reversed_at IS NULL", x.loanId)[0][0];
    assert.equal(kept, '500000', 'the loan keeps 10,000.00 − 2,000.00 − 3,000.00');
    const l = await api('GET', `/loans/${x.loanId}`, { token: officer.token });
    assert.equal(paise(l.json.loan.outstanding_principal) < 10000000, true);
  });

  test('a refund before its payment is 503 (delivered again later); after the payment it applies', async () => {
    const payId = `pay_rb${Date.now().toString(36)}`;
    const refund = refundBody({ refundId: 'rfnd_' + payId, payId, amount: 100000 });
    let r = await deliverWebhook(refund, { eventId: newEventId() });
    assert.equal(r.status, 503, r.text);
    assert.deepEqual(rows(payId), []);
    r = await deliverWebhook(paymentBody({ payId, loanId: x.loanId, amount: 100000 }), { eventId: newEventId() });
    assert.equal(r.json.status, 'applied', r.text);
    r = await deliverWebhook(refund, { eventId: newEventId() });
    assert.equal(r.json.status, 'applied', r.text);
    assert.deepEqual(rows(payId).map((w) => w[2]), ['true']);
  });

  test('a payment in another currency than the loan\'s is refused, not booked', async () => {
    const payId = `pay_cu${Date.now().toString(36)}`;
    const r = await deliverWebhook(paymentBody({ payId, loanId: x.loanId, amount: 5000, currency: 'USD' }), { eventId: newEventId() });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, 'refused');
    assert.deepEqual(rows(payId), []);
  });

  test('an event of the protocol Loanflow does not act on (order.paid) is acknowledged, 200 ignored, so the gateway does not retry it for a day', async () => {
    const body = JSON.stringify({ entity: 'event', event: 'order.paid', contains: ['order'], payload: { order: { entity: { id: 'order_1' } } }, created_at: Math.floor(Date.now() / 1000) });
    const r = await deliverWebhook(body, { eventId: newEventId() });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, 'ignored');
  });

  test('a webhook without an event id is deduplicated by its body', async () => {
    const payId = `pay_ne${Date.now().toString(36)}`;
    const body = paymentBody({ payId, loanId: x.loanId, amount: 10000 });
    let r = await deliverWebhook(body, { eventId: null });
    assert.equal(r.json.status, 'applied', r.text);
    r = await deliverWebhook(body, { eventId: null });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, 'duplicate');
    assert.equal(rows(payId).length, 1);
  });
});
