// The sandbox payment gateway (loanctl gateway-sandbox) as a RazorpayX client sees it, straight
// on its loopback port (not through nginx): basic auth, contact -> fund account -> payout, the
// mandatory idempotency header, validation, the lifecycle to processed, and the webhooks:
// signed over the exact bytes sent, retried until a 2xx, duplicated and shuffled on request;
// and collections: payment links, paying them (the control API and the checkout page), refunds,
// and their events.
// The stack's own webhook URL (POST /webhooks/gateway) is another module's: nothing here
// depends on its answer; the delivery tests point the sandbox at a receiver of their own.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, createHash, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { stack, sleep } from './lib.mjs';

const G = `http://127.0.0.1:${process.env.GATEWAY_PORT}`;
const KEY_ID = process.env.GATEWAY_KEY_ID || 'rzp_test_loanflow';
const KEY_SECRET = process.env.GATEWAY_KEY_SECRET;
const WEBHOOK_SECRET = process.env.GATEWAY_WEBHOOK_SECRET;
const SOURCE = process.env.GATEWAY_ACCOUNT || '7878780080316316';
const basic = (id, secret) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const hmac = (bytes) => createHmac('sha256', WEBHOOK_SECRET).update(bytes).digest('hex');

async function gw(method, path, { body, auth = basic(KEY_ID, KEY_SECRET), headers = {} } = {}) {
  const h = { ...headers };
  if (auth) h.Authorization = auth;
  if (body !== undefined) h['Content-Type'] = 'application/json';
  const res = await fetch(G + path, {
    method, headers: h, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, text, json };
}
const ctl = (method, path, body) => gw(method, `/sandbox${path}`, { body, auth: null });

async function until(what, fn, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    assert.ok(Date.now() < end, `timed out waiting for ${what}`);
    await sleep(50);
  }
}

function assertGatewayError(r, status, field) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.json?.error?.code, status >= 500 ? 'SERVER_ERROR' : 'BAD_REQUEST_ERROR', r.text);
  assert.equal(typeof r.json.error.description, 'string');
  if (field !== undefined) assert.equal(r.json.error.field, field, r.text);
  return r.json.error;
}

let seq = 0;
const contactBody = () => {
  seq += 1;
  return { name: 'Asha Rao', email: `asha.${process.pid}.${seq}@example.com`, contact: '+919812345678', type: 'customer', reference_id: `LN-T${process.pid}-${seq}` };
};
const bankBody = (contactId, over = {}) => ({
  contact_id: contactId, account_type: 'bank_account',
  bank_account: { name: 'Asha Rao', ifsc: 'HDFC0001234', account_number: '50100234567890', ...over },
});
async function fundAccount() {
  const c = await gw('POST', '/v1/contacts', { body: contactBody() });
  assert.equal(c.status, 201, c.text);
  const f = await gw('POST', '/v1/fund_accounts', { body: bankBody(c.json.id) });
  assert.equal(f.status, 201, f.text);
  return f.json.id;
}
const payoutBody = (fa, over = {}) => ({
  account_number: SOURCE, fund_account_id: fa, amount: 9800000, currency: 'INR', mode: 'NEFT', purpose: 'payout',
  queue_if_low_balance: true, reference_id: `LN-T${process.pid}-${seq}`, narration: 'Loanflow disbursal', ...over,
});
async function payout(fa, over = {}, key = randomUUID()) {
  const r = await gw('POST', '/v1/payouts', { body: payoutBody(fa, over), headers: { 'X-Payout-Idempotency': key } });
  assert.equal(r.status, 200, r.text);
  return r.json;
}
const statusOf = async (id) => (await gw('GET', `/v1/payouts/${id}`)).json?.status;

// A webhook receiver of the test's own: records each request's raw bytes and headers; answer()
// decides the status.
async function receiver(answer = () => 200) {
  const got = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const hit = { raw, headers: req.headers, method: req.method, url: req.url, json: JSON.parse(raw.toString('utf8')) };
      got.push(hit);
      res.writeHead(answer(hit, got), { 'Content-Type': 'text/plain' });
      res.end('ok');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}/hook`;
  // of(id): the hits about a payout, a payment link, a payment or a refund with that id.
  const ids = (h) => ['payout', 'payment_link', 'payment', 'refund'].map((k) => h.json.payload?.[k]?.entity?.id);
  return { got, url, close: () => new Promise((r) => server.close(r)), of: (id) => got.filter((h) => ids(h).includes(id)) };
}

let original;
before(async () => {
  const h = await ctl('GET', '/health');
  assert.equal(h.status, 200, `the sandbox answers on ${G}: ${h.text}`);
  original = (await ctl('GET', '/config')).json;
});

// Each test leaves the sandbox as the stack started it.
async function restore() {
  const { delay_ms, duplicate_rate, shuffle, retry_ms, retry_for_ms, webhook_timeout_ms, webhook_url } = original;
  const r = await ctl('POST', '/config', { delay_ms, duplicate_rate, shuffle, retry_ms, retry_for_ms, webhook_timeout_ms, webhook_url });
  assert.equal(r.status, 200, r.text);
  await ctl('POST', '/next-outcome', {});
  await ctl('POST', '/next-error', { count: 0 });
}
after(restore);

test('the API needs the key; the control API under /sandbox/ does not', async () => {
  const h = await ctl('GET', '/health');
  assert.equal(h.json.status, 'ok');
  assert.match(h.json.account_id, /^acc_[A-Za-z0-9]{14}$/);
  for (const auth of [null, basic(KEY_ID, `${KEY_SECRET}x`), basic('rzp_test_other', KEY_SECRET), 'Bearer abc', 'Basic !!!']) {
    const r = await gw('POST', '/v1/contacts', { body: contactBody(), auth });
    assertGatewayError(r, 401);
    assert.match(r.headers.get('www-authenticate') || '', /^Basic /);
  }
  // Unknown API paths are behind the key too; unknown control paths are 404.
  assert.equal((await gw('GET', '/v1/nothing', { auth: null })).status, 401);
  assert.equal((await gw('GET', '/v1/nothing')).status, 404);
  assert.equal((await ctl('GET', '/nothing')).status, 404);
  const m = await gw('DELETE', '/v1/payouts');
  assert.equal(m.status, 405);
  assert.match(m.headers.get('allow'), /POST/);
});

test('contact, fund account and payout, each answered again for the same details', async () => {
  const cb = contactBody();
  const c = await gw('POST', '/v1/contacts', { body: cb });
  assert.equal(c.status, 201, c.text);
  assert.match(c.json.id, /^cont_[A-Za-z0-9]{14}$/);
  assert.equal(c.json.entity, 'contact');
  assert.equal(c.json.reference_id, cb.reference_id);
  const again = await gw('POST', '/v1/contacts', { body: cb });
  assert.equal(again.status, 200);
  assert.equal(again.json.id, c.json.id);

  const f = await gw('POST', '/v1/fund_accounts', { body: bankBody(c.json.id) });
  assert.equal(f.status, 201, f.text);
  assert.match(f.json.id, /^fa_[A-Za-z0-9]{14}$/);
  assert.equal(f.json.contact_id, c.json.id);
  assert.equal(f.json.bank_account.ifsc, 'HDFC0001234');
  const fa2 = await gw('POST', '/v1/fund_accounts', { body: bankBody(c.json.id) });
  assert.equal(fa2.status, 200);
  assert.equal(fa2.json.id, f.json.id);
  // Read back, the number is masked: the sandbox keeps no account number in clear.
  const fget = await gw('GET', `/v1/fund_accounts/${f.json.id}`);
  assert.equal(fget.status, 200);
  assert.equal(fget.json.bank_account.account_number, 'XXXXXXXX7890');

  const p = await payout(f.json.id);
  assert.match(p.id, /^pout_[A-Za-z0-9]{14}$/);
  assert.equal(p.entity, 'payout');
  assert.equal(p.status, 'queued');
  assert.equal(p.amount, 9800000);
  assert.equal(p.fund_account_id, f.json.id);
  assert.equal(p.utr, null);
  const get = await gw('GET', `/v1/payouts/${p.id}`);
  assert.equal(get.status, 200);
  assert.equal(get.json.id, p.id);
  assertGatewayError(await gw('GET', '/v1/payouts/pout_doesnotexist00'), 400, 'id');
  // Listing by reference (how a client finds a payout it lost the answer to).
  const list = await gw('GET', `/v1/payouts?account_number=${SOURCE}&reference_id=${encodeURIComponent(p.reference_id)}`);
  assert.equal(list.status, 200, list.text);
  assert.deepEqual(list.json.items.map((x) => x.id), [p.id]);
});

test('X-Payout-Idempotency: required; the same request answers the same payout; another is refused', async () => {
  const fa = await fundAccount();
  const key = `LN-${randomUUID()}:1`;
  const missing = await gw('POST', '/v1/payouts', { body: payoutBody(fa) });
  assertGatewayError(missing, 400, 'X-Payout-Idempotency');
  const empty = await gw('POST', '/v1/payouts', { body: payoutBody(fa), headers: { 'X-Payout-Idempotency': '' } });
  assertGatewayError(empty, 400, 'X-Payout-Idempotency');

  const first = await payout(fa, {}, key);
  const same = await payout(fa, {}, key);
  assert.equal(same.id, first.id);
  // The same members in another order are the same request.
  const reordered = Object.fromEntries(Object.entries(payoutBody(fa)).reverse());
  const r2 = await gw('POST', '/v1/payouts', { body: reordered, headers: { 'X-Payout-Idempotency': key } });
  assert.equal(r2.status, 200, r2.text);
  assert.equal(r2.json.id, first.id);
  for (const over of [{ amount: 9800001 }, { mode: 'IMPS', amount: 100000 }, { narration: 'Other words' }]) {
    const other = await gw('POST', '/v1/payouts', { body: payoutBody(fa, over), headers: { 'X-Payout-Idempotency': key } });
    const e = assertGatewayError(other, 400, 'X-Payout-Idempotency');
    assert.match(e.description, /Idempotency/);
  }
  // Another key is another payout.
  const second = await payout(fa, {}, `${key}-2`);
  assert.notEqual(second.id, first.id);
});

test('validation: IFSC, account number, amount, fund account, members', async () => {
  const c = await gw('POST', '/v1/contacts', { body: contactBody() });
  for (const ifsc of ['hdfc0001234', 'HDFC1001234', 'HDFC000123', 'HDFC00012345', 'HD1C0001234', 'HDFC0-01234', '']) {
    assertGatewayError(await gw('POST', '/v1/fund_accounts', { body: bankBody(c.json.id, { ifsc }) }), 400, 'ifsc');
  }
  for (const account_number of ['12345678', '1234567890123456789', '12345678901A', ' 123456789', 123456789012]) {
    assertGatewayError(await gw('POST', '/v1/fund_accounts', { body: bankBody(c.json.id, { account_number }) }), 400, 'account_number');
  }
  assertGatewayError(await gw('POST', '/v1/fund_accounts', { body: bankBody('cont_doesnotexist00') }), 400, 'contact_id');
  assertGatewayError(await gw('POST', '/v1/fund_accounts', { body: { ...bankBody(c.json.id), extra: 1 } }), 400, 'extra');
  assertGatewayError(await gw('POST', '/v1/contacts', { body: { email: 'x@example.com' } }), 400, 'name');

  const fa = await fundAccount();
  const post = (body) => gw('POST', '/v1/payouts', { body, headers: { 'X-Payout-Idempotency': randomUUID() } });
  for (const amount of [0, -100, 99, 100.5, '9800000', null, true]) {
    assertGatewayError(await post(payoutBody(fa, { amount })), 400, 'amount');
  }
  assertGatewayError(await post(payoutBody(fa, { mode: 'IMPS', amount: 50000001 })), 400, 'amount');
  assertGatewayError(await post(payoutBody(fa, { mode: 'RTGS', amount: 100000 })), 400, 'amount');
  assertGatewayError(await post(payoutBody('fa_doesnotexist000')), 400, 'fund_account_id');
  assertGatewayError(await post(payoutBody(fa, { account_number: '1111222233334444' })), 400, 'account_number');
  assertGatewayError(await post(payoutBody(fa, { currency: 'USD' })), 400, 'currency');
  assertGatewayError(await post(payoutBody(fa, { mode: 'CASH' })), 400, 'mode');
  assertGatewayError(await post(payoutBody(fa, { narration: 'Loan LN-42: disbursal' })), 400, 'narration');
  assertGatewayError(await post(payoutBody(fa, { narration: 'x'.repeat(31) })), 400, 'narration');
  assertGatewayError(await post(payoutBody(fa, { surprise: true })), 400, 'surprise');
  assertGatewayError(await post('{"amount": 1'), 400);
  assertGatewayError(await post('[1,2,3]'), 400);
});

test('a payout goes queued -> processing -> processed with a UTR; each step is a signed delivery', async () => {
  const fa = await fundAccount();
  const p = await payout(fa, { mode: 'IMPS', amount: 2500000 });
  const seen = new Set();
  const done = await until('processed', async () => {
    const r = await gw('GET', `/v1/payouts/${p.id}`);
    seen.add(r.json.status);
    return r.json.status === 'processed' && r.json;
  });
  assert.ok(!seen.has('failed') && !seen.has('reversed'));
  assert.match(done.utr, /^[0-9]{12}$/, 'an IMPS UTR is 12 digits');
  assert.equal(done.status_details.source, 'beneficiary_bank');

  // The stack's webhook URL was tried for each event (whatever it answered).
  const deliveries = await until('three events attempted', async () => {
    const d = (await ctl('GET', `/deliveries?payout_id=${p.id}`)).json.items;
    return new Set(d.map((x) => x.event)).size === 3 && d;
  });
  assert.deepEqual([...new Set(deliveries.map((x) => x.event))].sort(), ['payout.initiated', 'payout.processed', 'payout.queued']);
  const ids = new Map();
  for (const d of deliveries) {
    assert.equal(typeof d.status, 'number');
    assert.equal(d.signature, hmac(Buffer.from(d.body, 'utf8')), 'the signature is the HMAC of the exact body');
    assert.equal(d.body_sha256, createHash('sha256').update(d.body, 'utf8').digest('hex'));
    const ev = JSON.parse(d.body);
    assert.equal(ev.event, d.event);
    assert.equal(ev.payload.payout.entity.id, p.id);
    assert.match(d.event_id, /^evt_[A-Za-z0-9]{14}$/);
    if (ids.has(d.event_id)) assert.equal(ids.get(d.event_id), d.body, 'a redelivery sends the same bytes');
    ids.set(d.event_id, d.body);
  }
  assert.equal(ids.size, 3, 'one event id per event');
  const processed = JSON.parse([...ids.values()].find((b) => JSON.parse(b).event === 'payout.processed'));
  assert.equal(processed.payload.payout.entity.utr, done.utr);
  assert.equal(processed.payload.payout.entity.status, 'processed');
});

test('webhooks to a receiver: the exact signed bytes, headers, retried after a 500 with the same event id', async () => {
  // The first delivery of each event is answered 500; the retry gets 200.
  const rx = await receiver((hit, got) => (got.filter((h) => h.headers['x-razorpay-event-id'] === hit.headers['x-razorpay-event-id']).length === 1 ? 500 : 200));
  try {
    assert.equal((await ctl('POST', '/config', { webhook_url: rx.url, retry_ms: 50 })).status, 200);
    const fa = await fundAccount();
    const p = await payout(fa);
    await until('each event delivered twice', () => {
      const mine = rx.of(p.id);
      const n = new Map();
      for (const h of mine) n.set(h.headers['x-razorpay-event-id'], (n.get(h.headers['x-razorpay-event-id']) || 0) + 1);
      return n.size === 3 && [...n.values()].every((x) => x >= 2);
    });
    const mine = rx.of(p.id);
    const first = new Map();
    for (const h of mine) {
      assert.equal(h.method, 'POST');
      assert.equal(h.url, '/hook');
      assert.match(h.headers['content-type'], /^application\/json/);
      assert.equal(h.headers['x-razorpay-signature'], hmac(h.raw), 'HMAC-SHA256 of the raw bytes received');
      const id = h.headers['x-razorpay-event-id'];
      assert.match(id, /^evt_[A-Za-z0-9]{14}$/);
      if (first.has(id)) {
        assert.ok(first.get(id).raw.equals(h.raw), 'the retry sends the same bytes');
        assert.equal(first.get(id).headers['x-razorpay-signature'], h.headers['x-razorpay-signature']);
      } else first.set(id, h);
    }
    // In order without shuffle, and in RazorpayX's shape.
    assert.deepEqual([...first.values()].map((h) => h.json.event), ['payout.queued', 'payout.initiated', 'payout.processed']);
    const ev = [...first.values()][2].json;
    assert.equal(ev.entity, 'event');
    assert.match(ev.account_id, /^acc_/);
    assert.deepEqual(ev.contains, ['payout']);
    assert.equal(typeof ev.created_at, 'number');
    const e = ev.payload.payout.entity;
    for (const k of ['id', 'entity', 'fund_account_id', 'amount', 'currency', 'status', 'utr', 'mode', 'reference_id', 'narration', 'failure_reason', 'status_details', 'created_at']) {
      assert.ok(k in e, `payload.payout.entity.${k}`);
    }
    assert.equal(e.entity, 'payout');
    assert.equal(e.currency, 'INR');
    assert.equal(e.fund_account_id, fa);
    assert.equal(e.failure_reason, null);
    assert.equal(typeof e.status_details.description, 'string');
    // The sandbox's record agrees: attempt 1 answered 500, attempt 2 answered 200.
    const d = (await ctl('GET', `/deliveries?payout_id=${p.id}`)).json.items;
    for (const id of first.keys()) {
      const mineD = d.filter((x) => x.event_id === id);
      assert.deepEqual(mineD.slice(0, 2).map((x) => [x.attempt, x.status]), [[1, 500], [2, 200]]);
    }
  } finally {
    await restore();
    await rx.close();
  }
});

test('duplicate_rate 1 delivers every event twice; shuffle delivers a payout\'s events out of order', async () => {
  const rx = await receiver();
  try {
    assert.equal((await ctl('POST', '/config', { webhook_url: rx.url, duplicate_rate: 1, shuffle: true })).status, 200);
    const fa = await fundAccount();
    const p = await payout(fa);
    await until('each event delivered twice', () => {
      const n = new Map();
      for (const h of rx.of(p.id)) n.set(h.headers['x-razorpay-event-id'], (n.get(h.headers['x-razorpay-event-id']) || 0) + 1);
      return n.size === 3 && [...n.values()].every((x) => x === 2);
    });
    await sleep(300);
    const mine = rx.of(p.id);
    assert.equal(mine.length, 6, 'nothing more than one duplicate each');
    const order = [];
    for (const h of mine) if (!order.includes(h.json.event)) order.push(h.json.event);
    assert.notDeepEqual(order, ['payout.queued', 'payout.initiated', 'payout.processed'], `shuffled: ${order}`);
    const byId = new Map();
    for (const h of mine) {
      const id = h.headers['x-razorpay-event-id'];
      if (byId.has(id)) assert.ok(byId.get(id).equals(h.raw), 'a duplicate is the same bytes');
      else byId.set(id, h.raw);
    }
    const d = (await ctl('GET', `/deliveries?payout_id=${p.id}`)).json.items;
    assert.equal(d.filter((x) => x.duplicate).length, 3);
  } finally {
    await restore();
    await rx.close();
  }
});

test('outcomes: the next payout fails, a processed one is reversed, a held one waits', async () => {
  const rx = await receiver();
  try {
    await ctl('POST', '/config', { webhook_url: rx.url });
    const fa = await fundAccount();
    assert.equal((await ctl('POST', '/next-outcome', { outcome: 'failed', reason: 'Beneficiary account is closed' })).status, 200);
    const bad = await payout(fa);
    const other = await payout(fa);
    await until('failed', async () => (await statusOf(bad.id)) === 'failed');
    const failed = (await gw('GET', `/v1/payouts/${bad.id}`)).json;
    assert.equal(failed.failure_reason, 'Beneficiary account is closed');
    assert.equal(failed.utr, null);
    const hook = await until('payout.failed delivered', () => rx.of(bad.id).find((h) => h.json.event === 'payout.failed'));
    assert.equal(hook.json.payload.payout.entity.status_details.description, 'Beneficiary account is closed');
    // Only the next payout: the one after it is processed.
    await until('processed', async () => (await statusOf(other.id)) === 'processed');
    // A processed payout can be reversed, and then nothing else.
    const rev = await ctl('POST', `/payouts/${other.id}/outcome`, { outcome: 'reversed', reason: 'Credit returned by the bank' });
    assert.equal(rev.status, 200, rev.text);
    assert.equal(rev.json.status, 'reversed');
    await until('payout.reversed delivered', () => rx.of(other.id).find((h) => h.json.event === 'payout.reversed'));
    assert.equal((await ctl('POST', `/payouts/${other.id}/outcome`, { outcome: 'failed' })).status, 409);
    assert.equal((await ctl('POST', `/payouts/${bad.id}/outcome`, { outcome: 'reversed' })).status, 409);
    assert.equal((await ctl('POST', '/payouts/pout_doesnotexist00/outcome', { outcome: 'failed' })).status, 404);
    assert.equal((await ctl('POST', `/payouts/${other.id}/outcome`, { outcome: 'lost' })).status, 400);

    // hold: stays queued until told; then ends as told.
    await ctl('POST', '/next-outcome', { outcome: 'hold' });
    const held = await payout(fa);
    await sleep(Math.max(4 * original.delay_ms, 400));
    assert.equal(await statusOf(held.id), 'queued');
    assert.equal((await ctl('POST', `/payouts/${held.id}/outcome`, { outcome: 'processed' })).status, 200);
    await until('processed after the hold', async () => (await statusOf(held.id)) === 'processed');
  } finally {
    await restore();
    await rx.close();
  }
});

test('injected faults: a 5xx, a closed connection, a stall, then normal again', async () => {
  const fa = await fundAccount();
  const key = randomUUID();
  const send = () => gw('POST', '/v1/payouts', { body: payoutBody(fa), headers: { 'X-Payout-Idempotency': key } });
  await ctl('POST', '/next-error', { status: 503, path: '/v1/payouts' });
  assertGatewayError(await send(), 503);
  // The 503 came before the request took effect: the same key makes a new payout now.
  const made = await send();
  assert.equal(made.status, 200);
  // Taking effect, then losing the answer: asking again answers the same payout.
  await ctl('POST', '/next-error', { status: 0, after: true, path: '/v1/payouts' });
  const key2 = randomUUID();
  const send2 = () => gw('POST', '/v1/payouts', { body: payoutBody(fa, { amount: 123400 }), headers: { 'X-Payout-Idempotency': key2 } });
  await assert.rejects(send2());
  const again = await send2();
  assert.equal(again.status, 200);
  const list = await gw('GET', `/v1/payouts?account_number=${SOURCE}&fund_account_id=${fa}&count=100`);
  assert.equal(list.json.items.filter((x) => x.amount === 123400).length, 1, 'one payout for the key');
  // A stall delays the real answer; the API stays responsive meanwhile.
  await ctl('POST', '/next-error', { stall_ms: 700, path: '/v1/payouts/' });
  const t0 = Date.now();
  const slow = gw('GET', `/v1/payouts/${made.json.id}`);
  await sleep(50);
  const quick = await ctl('GET', '/health');
  assert.equal(quick.status, 200);
  assert.ok(Date.now() - t0 < 600, 'another client is answered during the stall');
  const s = await slow;
  assert.equal(s.status, 200);
  assert.ok(Date.now() - t0 >= 650);
  assert.equal((await ctl('POST', '/next-error', { status: 200 })).status, 400);
});

test('the stack restarts a dead sandbox, and its journal keeps payouts and idempotency keys', async () => {
  const fa = await fundAccount();
  const key = randomUUID();
  const p = await payout(fa, {}, key);
  await until('processed', async () => (await statusOf(p.id)) === 'processed');
  const utr = (await gw('GET', `/v1/payouts/${p.id}`)).json.utr;

  // Held down on purpose: stays down.
  stack('gateway-kill');
  await assert.rejects(fetch(`${G}/sandbox/health`));
  await sleep(1500);
  await assert.rejects(fetch(`${G}/sandbox/health`), 'the supervisor leaves a sandbox held down');
  stack('gateway-start');
  const back = await gw('GET', `/v1/payouts/${p.id}`);
  assert.equal(back.status, 200, back.text);
  assert.equal(back.json.status, 'processed');
  assert.equal(back.json.utr, utr);
  assert.equal((await payout(fa, {}, key)).id, p.id, 'the idempotency key survived the restart');

  // A crash: the supervisor restarts it within a few seconds.
  const pid = Number(readFileSync(`${process.env.STACK_DIR}/run/gateway.pid`, 'utf8'));
  process.kill(pid, 'SIGKILL');
  const h = await until('restarted', async () => {
    try {
      const r = await ctl('GET', '/health');
      return r.status === 200 && r.json.pid !== pid && r.json;
    } catch { return false; }
  }, 10000);
  assert.ok(h.payouts >= 1);
  assert.equal(await statusOf(p.id), 'processed');
});

// ---- collections: payment links, payments, refunds ----

let lseq = 0;
const linkBody = (over = {}) => {
  lseq += 1;
  return {
    amount: 1250000, currency: 'INR', accept_partial: false, description: 'Loanflow EMI 3',
    reference_id: `LN-C${process.pid}-${lseq}:3`,
    customer: { name: 'Asha Rao', email: 'asha@example.com', contact: '+919812345678' },
    notify: { sms: false, email: false },
    notes: { loan_id: `LN-C${process.pid}-${lseq}`, purpose: 'repayment' },
    ...over,
  };
};
async function link(over = {}) {
  const r = await gw('POST', '/v1/payment_links', { body: linkBody(over) });
  assert.equal(r.status, 200, r.text);
  return r.json;
}
const pay = (id, body) => ctl('POST', `/payment_links/${id}/pay`, body);

test('payment links: created, read back, validated; a reference_id is used once', async () => {
  const body = linkBody();
  const t0 = Math.floor(Date.now() / 1000);
  const r = await gw('POST', '/v1/payment_links', { body });
  assert.equal(r.status, 200, r.text);
  const l = r.json;
  assert.match(l.id, /^plink_[A-Za-z0-9]{14}$/);
  assert.equal(l.amount, 1250000);
  assert.equal(l.amount_paid, 0);
  assert.equal(l.currency, 'INR');
  assert.equal(l.accept_partial, false);
  assert.equal(l.description, body.description);
  assert.equal(l.reference_id, body.reference_id);
  assert.equal(l.status, 'created');
  assert.equal(l.short_url, `${G}/pay/${l.id}`);
  assert.ok(Math.abs(l.expire_by - (t0 + 7 * 86400)) < 60, 'expire_by defaults to a week');
  assert.deepEqual(l.notes, body.notes);
  assert.deepEqual(l.customer, body.customer);
  assert.equal(typeof l.created_at, 'number');
  const get = await gw('GET', `/v1/payment_links/${l.id}`);
  assert.equal(get.status, 200, get.text);
  assert.deepEqual({ ...get.json, updated_at: 0 }, { ...l, updated_at: 0 });
  const expire_by = t0 + 3600;
  assert.equal((await link({ expire_by })).expire_by, expire_by);

  const dup = assertGatewayError(await gw('POST', '/v1/payment_links', { body: { ...linkBody(), reference_id: body.reference_id } }), 400, 'reference_id');
  assert.equal(dup.description, 'reference_id already exists');
  assertGatewayError(await gw('GET', '/v1/payment_links/plink_doesnotexist0'), 400, 'id');
  assertGatewayError(await gw('POST', '/v1/payment_links', { body: linkBody(), auth: null }), 401);
  for (const amount of [0, -100, 100.5, '1000', null, true]) {
    assertGatewayError(await gw('POST', '/v1/payment_links', { body: linkBody({ amount }) }), 400, 'amount');
  }
  const bad = [
    [{ currency: 'USD' }, 'currency'], [{ reference_id: undefined }, 'reference_id'], [{ reference_id: 'x'.repeat(41) }, 'reference_id'],
    [{ expire_by: t0 - 10 }, 'expire_by'], [{ expire_by: t0 + 60 }, 'expire_by'], [{ accept_partial: 'yes' }, 'accept_partial'],
    [{ customer: { name: 'A', email: 'not-an-email' } }, 'email'], [{ customer: { name: 'A', contact: '12' } }, 'contact'],
    [{ notes: { loan_id: 42 } }, 'notes'], [{ notes: 'LN-1' }, 'notes'], [{ notify: { sms: 'yes' } }, 'notify'], [{ surprise: 1 }, 'surprise'],
  ];
  for (const [over, field] of bad) {
    assertGatewayError(await gw('POST', '/v1/payment_links', { body: JSON.parse(JSON.stringify(linkBody(over))) }), 400, field);
  }
});

test('paying a link: payment.captured then payment_link.paid, signed, to a receiver', async () => {
  const rx = await receiver();
  try {
    assert.equal((await ctl('POST', '/config', { webhook_url: rx.url })).status, 200);
    const l = await link();
    const r = await pay(l.id);
    assert.equal(r.status, 200, r.text);
    const p = r.json.payment;
    assert.match(p.id, /^pay_[A-Za-z0-9]{14}$/);
    assert.equal(p.entity, 'payment');
    assert.equal(p.amount, l.amount);
    assert.equal(p.status, 'captured');
    assert.equal(p.method, 'upi');
    assert.deepEqual(p.notes, { ...l.notes, reference: l.reference_id });
    assert.equal(r.json.payment_link.status, 'paid');
    assert.equal(r.json.payment_link.amount_paid, l.amount);
    assert.equal((await gw('GET', `/v1/payment_links/${l.id}`)).json.status, 'paid');
    assert.equal((await gw('GET', `/v1/payments/${p.id}`)).json.amount, l.amount);

    const hits = await until('two events delivered', () => rx.of(p.id).length >= 2 && rx.of(p.id));
    for (const h of hits) {
      assert.equal(h.headers['x-razorpay-signature'], hmac(h.raw), 'HMAC-SHA256 of the raw bytes');
      assert.match(h.headers['x-razorpay-event-id'], /^evt_[A-Za-z0-9]{14}$/);
      assert.equal(h.json.entity, 'event');
      assert.match(h.json.account_id, /^acc_/);
    }
    const captured = hits.find((h) => h.json.event === 'payment.captured').json;
    assert.deepEqual(captured.contains, ['payment']);
    const e = captured.payload.payment.entity;
    assert.equal(e.id, p.id);
    assert.equal(e.entity, 'payment');
    assert.equal(e.amount, l.amount);
    assert.equal(e.currency, 'INR');
    assert.equal(e.status, 'captured');
    assert.equal(e.method, 'upi');
    assert.equal(e.description, l.description);
    assert.equal(e.notes.loan_id, l.notes.loan_id);
    assert.equal(e.notes.purpose, 'repayment');
    assert.equal(e.notes.reference, l.reference_id);
    assert.equal(typeof e.created_at, 'number');
    const paid = hits.find((h) => h.json.event === 'payment_link.paid').json;
    assert.equal(paid.payload.payment_link.entity.id, l.id);
    assert.equal(paid.payload.payment_link.entity.status, 'paid');
    assert.equal(paid.payload.payment_link.entity.amount_paid, l.amount);
    assert.equal(paid.payload.payment.entity.id, p.id);

    // The sandbox's record: the two events in that order, delivered with a 200.
    const evs = (await ctl('GET', `/events?payment_link_id=${l.id}`)).json.items;
    assert.deepEqual(evs.map((x) => x.event), ['payment.captured', 'payment_link.paid']);
    for (const x of evs) {
      assert.equal(x.payment_link_id, l.id);
      assert.equal(x.payment_id, p.id);
      assert.equal(x.signature, hmac(Buffer.from(x.body, 'utf8')));
    }
    const d = await until('delivered', async () => {
      const items = (await ctl('GET', `/deliveries?payment_id=${p.id}`)).json.items;
      return items.length >= 2 && items;
    });
    assert.ok(d.every((x) => x.status === 200), JSON.stringify(d.map((x) => x.status)));

    // A paid link is paid: nothing more.
    assertGatewayError(await pay(l.id), 400);
    assert.equal((await pay('plink_doesnotexist0')).status, 404);
  } finally {
    await restore();
    await rx.close();
  }
});

test('partial payments only when accept_partial; refunds; expiry', async () => {
  const rx = await receiver();
  try {
    await ctl('POST', '/config', { webhook_url: rx.url });
    const whole = await link();
    assertGatewayError(await pay(whole.id, { amount: 1000 }), 400, 'amount');
    assertGatewayError(await pay(whole.id, { amount: whole.amount + 1 }), 400, 'amount');
    assertGatewayError(await pay(whole.id, { method: 'cash' }), 400, 'method');

    const l = await link({ amount: 300000, accept_partial: true, notes: { loan_id: 'LN-PART', purpose: 'repayment', reference: 'OWN-REF' } });
    const first = await pay(l.id, { amount: 100000, method: 'netbanking' });
    assert.equal(first.status, 200, first.text);
    assert.equal(first.json.payment_link.status, 'partially_paid');
    assert.equal(first.json.payment_link.amount_paid, 100000);
    assert.equal(first.json.payment.method, 'netbanking');
    assert.equal(first.json.payment.notes.reference, 'OWN-REF', 'the notes\' own reference is kept');
    const p1 = first.json.payment.id;
    await until('partially_paid delivered', () => rx.of(p1).find((h) => h.json.event === 'payment_link.partially_paid'));
    assertGatewayError(await pay(l.id, { amount: 250000 }), 400, 'amount');
    const rest = await pay(l.id);
    assert.equal(rest.status, 200, rest.text);
    assert.equal(rest.json.payment.amount, 200000);
    assert.equal(rest.json.payment_link.status, 'paid');
    assert.equal(rest.json.payment_link.payments.length, 2);

    // Refunds: a part, not more than what is left, then the rest.
    const rf = await ctl('POST', `/payments/${p1}/refund`, { amount: 40000 });
    assert.equal(rf.status, 200, rf.text);
    assert.match(rf.json.refund.id, /^rfnd_[A-Za-z0-9]{14}$/);
    assert.equal(rf.json.refund.amount, 40000);
    assert.equal(rf.json.refund.payment_id, p1);
    assert.equal(rf.json.payment.amount_refunded, 40000);
    const hook = await until('refund.processed delivered', () => rx.of(rf.json.refund.id).find((h) => h.json.event === 'refund.processed'));
    assert.equal(hook.headers['x-razorpay-signature'], hmac(hook.raw));
    const re = hook.json.payload.refund.entity;
    assert.equal(re.entity, 'refund');
    assert.equal(re.amount, 40000);
    assert.equal(re.currency, 'INR');
    assert.equal(re.payment_id, p1);
    assert.equal(re.status, 'processed');
    assert.equal(re.notes.loan_id, 'LN-PART');
    assert.equal(hook.json.payload.payment.entity.id, p1);
    assertGatewayError(await ctl('POST', `/payments/${p1}/refund`, { amount: 60001 }), 400, 'amount');
    const all = await ctl('POST', `/payments/${p1}/refund`);
    assert.equal(all.status, 200, all.text);
    assert.equal(all.json.refund.amount, 60000);
    assert.equal(all.json.payment.status, 'refunded');
    assertGatewayError(await ctl('POST', `/payments/${p1}/refund`), 400);
    assert.equal((await ctl('POST', '/payments/pay_doesnotexist000/refund')).status, 404);

    // Expiry: the link ends, its event goes out, it cannot be paid.
    const x = await link();
    const ex = await ctl('POST', `/payment_links/${x.id}/expire`);
    assert.equal(ex.status, 200, ex.text);
    assert.equal(ex.json.status, 'expired');
    assert.ok(ex.json.expired_at > 0);
    const eh = await until('payment_link.expired delivered', () => rx.of(x.id).find((h) => h.json.event === 'payment_link.expired'));
    assert.equal(eh.json.payload.payment_link.entity.status, 'expired');
    assertGatewayError(await pay(x.id), 400);
    assertGatewayError(await ctl('POST', `/payment_links/${x.id}/expire`), 400);
  } finally {
    await restore();
    await rx.close();
  }
});

test('the checkout page: GET /pay/{id} renders the link escaped; its form pays what remains', async () => {
  const l = await link({ description: '<script>alert("x")</script> & co', customer: { name: 'O\'Brien <b>' } });
  const page = await fetch(`${G}/pay/${l.id}`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type'), /^text\/html/);
  assert.match(page.headers.get('content-security-policy') || '', /default-src 'none'/);
  const html = await page.text();
  assert.ok(!html.includes('<script>'), 'nothing printed unescaped');
  assert.ok(html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co'));
  assert.ok(html.includes('O&#39;Brien &lt;b&gt;'));
  assert.ok(html.includes('12,500.00'));
  assert.ok(html.includes(`<form method="post" action="/pay/${l.id}">`));
  assert.match(html, /<button[^>]*>Pay /);

  const done = await fetch(`${G}/pay/${l.id}`, {
    method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'method=card',
  });
  assert.equal(done.status, 200);
  const doneHtml = await done.text();
  assert.match(doneHtml, /Payment successful/);
  const after = (await gw('GET', `/v1/payment_links/${l.id}`)).json;
  assert.equal(after.status, 'paid');
  assert.equal(after.payments.length, 1);
  assert.equal(after.payments[0].method, 'card');
  assert.ok(doneHtml.includes(after.payments[0].payment_id));
  // Paid: the page says so and has no form; paying again is refused.
  const again = await (await fetch(`${G}/pay/${l.id}`)).text();
  assert.ok(!again.includes('<form'));
  assert.equal((await fetch(`${G}/pay/${l.id}`, { method: 'POST', body: '' })).status, 400);
  assert.equal((await fetch(`${G}/pay/plink_doesnotexist0`)).status, 404);
});

test('the journal keeps payment links, payments and refunds across a restart', async () => {
  const l = await link({ amount: 500000, accept_partial: true });
  const p = (await pay(l.id, { amount: 200000 })).json.payment;
  assert.equal((await ctl('POST', `/payments/${p.id}/refund`, { amount: 50000 })).status, 200);
  stack('gateway-kill');
  stack('gateway-start');
  // The first request may meet a kept-alive connection to the old process.
  await until('the sandbox back', async () => {
    try { return (await ctl('GET', '/health')).json?.payment_links >= 1; } catch { return false; }
  });
  const back = await gw('GET', `/v1/payment_links/${l.id}`);
  assert.equal(back.status, 200, back.text);
  assert.equal(back.json.status, 'partially_paid');
  assert.equal(back.json.amount_paid, 200000);
  assert.deepEqual(back.json.notes, l.notes);
  assert.deepEqual(back.json.customer, l.customer);
  assert.equal(back.json.expire_by, l.expire_by);
  const bp = (await gw('GET', `/v1/payments/${p.id}`)).json;
  assert.equal(bp.amount_refunded, 50000);
  assert.equal(bp.refund_status, 'partial');
  assert.equal((await gw('POST', '/v1/payment_links', { body: { ...linkBody(), reference_id: l.reference_id } })).status, 400, 'the reference is still taken');
  // It can still be paid after the restart.
  const rest = await pay(l.id);
  assert.equal(rest.status, 200, rest.text);
  assert.equal(rest.json.payment_link.status, 'paid');
  const evs = (await ctl('GET', `/events?payment_link_id=${l.id}`)).json.items.map((x) => x.event);
  assert.deepEqual(evs, ['payment.captured', 'payment_link.partially_paid', 'refund.processed', 'payment.captured', 'payment_link.paid']);
});
