// scenario.mjs drives billclock's Chargebee Time Machine with the official
// npm chargebee SDK, the way a team's integration test would drive a
// Chargebee test site with Time Machine enabled:
//
//   - start afresh with no argument (the SDK sends an empty body: six
//     months back), then 3 months back, polling timeMachine.retrieve until
//     succeeded (the SDK's own wait helper is broken in 3.33.0);
//   - a webhook endpoint with Basic credentials (billclock's control
//     route), received by the SDK's webhook handler with basicAuthValidator;
//   - a catalog with a per-unit seat price, a customer with a card, and a
//     subscription for 5 seats;
//   - travel 1 month forward: the renewal invoice bills 5 seats;
//   - mid-term, 8 seats: the difference is invoiced at once, prorated to
//     the second;
//   - the customer's card becomes 4005 5192 0000 0004 (every charge fails
//     with "Insufficient funds"); travel past the next renewal and its
//     retries (1, 4, 7, 8 and 9 days after the first failure): the
//     subscription stays active while the invoice is payment_due, then the
//     invoice is not_paid and the subscription cancelled (not_paid);
//   - the webhook receiver saw every event, authenticated, in order.
//
// It prints one line per failure and then "N passed, M failed", and exits
// non-zero on any failure.
//
//   npm ci
//   BILLCLOCK_URL=http://127.0.0.1:12800 BILLCLOCK_CHARGEBEE_KEY=test_abc node scenario.mjs

import http from 'node:http';
import Chargebee, { basicAuthValidator } from 'chargebee';

const DAY = 86400;
const WAIT_MS = 60_000; // generous: a liveness wait, never a speed check (CI machines are shared)
const HOOK_USER = 'billclock-hooks';
const HOOK_PASS = 'p4ss:w0rd';

let passed = 0;
const failures = [];

function check(ok, what) {
  if (ok) {
    passed++;
  } else {
    failures.push(what);
  }
}

function equal(got, want, what) {
  check(got === want, `${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const base = new URL(process.env.BILLCLOCK_URL || 'http://127.0.0.1:12800');
const apiKey = process.env.BILLCLOCK_CHARGEBEE_KEY || 'test_billclock_node';
const chargebee = new Chargebee({
  site: base.hostname,
  hostSuffix: '',
  protocol: base.protocol.replace(':', ''),
  port: Number(base.port),
  apiKey,
});

// travelled polls the time machine until its travel has ended, as the
// SDK's wait_for_time_travel_completion would if it worked.
async function travelled(what) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const { time_machine: tm } = await chargebee.timeMachine.retrieve('delorean');
    if (tm.time_travel_status !== 'in_progress') {
      equal(tm.time_travel_status, 'succeeded', `${what}: time_travel_status`);
      return tm;
    }
    if (Date.now() > deadline) {
      failures.push(`${what}: still in_progress after ${WAIT_MS} ms`);
      return tm;
    }
    await sleep(20);
  }
}

async function travelTo(destination, what) {
  const { time_machine: tm } = await chargebee.timeMachine.travelForward('delorean', { destination_time: destination });
  check(['in_progress', 'succeeded'].includes(tm.time_travel_status), `${what}: answered ${tm.time_travel_status}`);
  const done = await travelled(what);
  equal(done.destination_time, destination, `${what}: destination_time`);
  return done;
}

// The webhook receiver: the SDK's handler, with Basic authentication.
const deliveries = [];
const rejected = [];
const handler = chargebee.webhooks.createHandler({
  requestValidator: basicAuthValidator((u, p) => u === HOOK_USER && p === HOOK_PASS),
});
handler.on('unhandled_event', ({ event, response }) => {
  deliveries.push(event);
  response.writeHead(200, { 'Content-Type': 'application/json' });
  response.end('{"ok":true}');
});
handler.on('error', (err, { response }) => {
  rejected.push(err.message);
  response.writeHead(401, { 'Content-Type': 'text/plain' });
  response.end(err.message);
});
const receiver = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    handler.handle({ body: Buffer.concat(chunks).toString('utf8'), headers: req.headers, request: req, response: res });
  });
});
await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));

async function control(method, path, form) {
  const resp = await fetch(new URL(path, base), {
    method,
    headers: {
      Authorization: 'Basic ' + Buffer.from(apiKey).toString('base64'),
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: form ? new URLSearchParams(form).toString() : undefined,
  });
  const body = await resp.json();
  if (!resp.ok) throw new Error(`${method} ${path}: ${resp.status} ${JSON.stringify(body)}`);
  return body;
}

try {
  const realNow = Math.floor(Date.now() / 1000);

  // start_afresh with no argument: an empty body, six months back.
  let { time_machine: tm } = await chargebee.timeMachine.startAfresh('delorean');
  check(['in_progress', 'succeeded'].includes(tm.time_travel_status), 'start_afresh answers in_progress');
  tm = await travelled('start afresh (default genesis)');
  const sixMonthsAgo = new Date(realNow * 1000);
  sixMonthsAgo.setUTCMonth(sixMonthsAgo.getUTCMonth() - 6);
  check(Math.abs(tm.genesis_time - sixMonthsAgo.getTime() / 1000) < 120, `default genesis is six months back: ${tm.genesis_time}`);
  equal(tm.destination_time, tm.genesis_time, 'destination_time is the genesis after start_afresh');

  // Three months back; the webhook endpoint is the site's setting, kept
  // by start_afresh.
  await control('POST', '/_billclock/chargebee/webhook_endpoints', {
    url: `http://127.0.0.1:${receiver.address().port}/chargebee`,
    username: HOOK_USER,
    password: HOOK_PASS,
  });
  const genesis = realNow - 92 * DAY;
  await chargebee.timeMachine.startAfresh('delorean', { genesis_time: genesis });
  tm = await travelled('start afresh (3 months back)');
  equal(tm.genesis_time, genesis, 'genesis_time');
  const { list: before } = await chargebee.customer.list({ limit: 100 });
  equal(before.length, 0, 'start_afresh left no customer');

  // The catalog, a customer with a card, 5 seats.
  const suffix = Date.now().toString(36);
  await chargebee.itemFamily.create({ id: `seats-${suffix}`, name: `Seats ${suffix}` });
  await chargebee.item.create({ id: `seat-${suffix}`, name: `Seat ${suffix}`, type: 'plan', item_family_id: `seats-${suffix}` });
  const PRICE = 1250;
  const { item_price: ip } = await chargebee.itemPrice.create({
    id: `seat-${suffix}-USD-monthly`,
    item_id: `seat-${suffix}`,
    name: `Seat ${suffix} monthly`,
    pricing_model: 'per_unit',
    price: PRICE,
    currency_code: 'USD',
    period: 1,
    period_unit: 'month',
  });
  equal(ip.pricing_model, 'per_unit', 'item price pricing_model');
  const { customer, card } = await chargebee.customer.create({
    first_name: 'Ada',
    last_name: 'Lovelace',
    email: 'ada@example.com',
    card: { number: '4111111111111111', expiry_month: 12, expiry_year: 2040, cvv: '100' },
  });
  equal(customer.created_at, genesis, 'the customer lives in the machine time');
  equal(card.last4, '1111', 'card last4');
  equal(customer.card_status, 'valid', 'card_status');

  const created = await chargebee.subscription.createWithItems(customer.id, {
    subscription_items: [{ item_price_id: ip.id, quantity: 5 }],
  });
  const sub = created.subscription;
  equal(sub.status, 'active', 'new subscription status');
  equal(sub.current_term_start, genesis, 'current_term_start');
  equal(created.invoice.status, 'paid', 'first invoice status');
  equal(created.invoice.total, 5 * PRICE, 'first invoice total');
  equal(created.invoice.first_invoice, true, 'first_invoice');

  // One month forward: the renewal.
  const renewal1 = sub.current_term_end;
  await travelTo(genesis + 31 * DAY, 'travel 1 month forward');
  const { list: invs } = await chargebee.invoice.list({ subscription_id: { is: sub.id }, sort_by: { asc: 'date' } });
  equal(invs.length, 2, 'invoices after the renewal');
  const renewal = invs[1]?.invoice ?? {};
  equal(renewal.date, renewal1, 'renewal invoice date');
  equal(renewal.status, 'paid', 'renewal invoice status');
  equal(renewal.total, 5 * PRICE, 'renewal invoice total');
  equal(renewal.amount_paid, 5 * PRICE, 'renewal invoice amount_paid');
  equal(renewal.line_items?.[0]?.quantity, 5, 'renewal line quantity');
  equal(renewal.line_items?.[0]?.date_from, renewal1, 'renewal line date_from');
  const paidOnly = await chargebee.invoice.list({ status: { in: ['paid'] }, customer_id: { is: customer.id } });
  equal(paidOnly.list.length, 2, 'status[in] filter');

  // Mid-term: 8 seats, prorated to the second and invoiced at once.
  const { subscription: renewed } = await chargebee.subscription.retrieve(sub.id);
  const changeAt = genesis + 45 * DAY + 3 * 3600 + 17;
  await travelTo(changeAt, 'travel to mid-term');
  const changed = await chargebee.subscription.updateForItems(sub.id, {
    subscription_items: [{ item_price_id: ip.id, quantity: 8 }],
    prorate: true,
    invoice_immediately: true,
  });
  equal(changed.subscription.subscription_items[0].quantity, 8, 'quantity after the change');
  const start = renewed.current_term_start;
  const end = renewed.current_term_end;
  const prorate = (qty) => Math.round((qty * PRICE * (end - changeAt)) / (end - start));
  const inv = changed.invoice ?? {};
  equal(inv.line_items?.[0]?.amount, prorate(8), 'prorated charge for 8 seats, to the second');
  equal(inv.line_items?.[0]?.date_from, changeAt, 'prorated line starts at the change');
  equal(inv.credits_applied, prorate(5), 'prorated credit for 5 seats, to the second');
  equal(inv.amount_paid, prorate(8) - prorate(5), 'the difference is paid at once');
  equal(inv.status, 'paid', 'proration invoice status');
  equal(changed.credit_notes?.length, 1, 'one credit note for the unused 5 seats');

  // Dunning: the card that stores fine and fails every charge.
  await chargebee.card.updateCardForCustomer(customer.id, { number: '4005519200000004', expiry_month: 12, expiry_year: 2040 });
  const renewal2 = changed.subscription.current_term_end;
  await travelTo(renewal2 + 3600, 'travel past the second renewal');
  let { subscription: dunning } = await chargebee.subscription.retrieve(sub.id);
  equal(dunning.status, 'active', 'the subscription stays active while dunning');
  equal(dunning.due_invoices_count, 1, 'due_invoices_count');
  let { list: due } = await chargebee.invoice.list({ status: { is: 'payment_due' }, subscription_id: { is: sub.id } });
  equal(due.length, 1, 'one invoice payment_due');
  const dueInv = due[0]?.invoice ?? {};
  equal(dueInv.dunning_status, 'in_progress', 'dunning_status while retrying');
  equal(dueInv.next_retry_at, renewal2 + DAY, 'first retry a day after the failure');
  equal(dueInv.amount_due, 8 * PRICE, 'amount_due of 8 seats');
  await travelTo(renewal2 + 10 * DAY, 'travel past the last retry');
  ({ subscription: dunning } = await chargebee.subscription.retrieve(sub.id));
  equal(dunning.status, 'cancelled', 'the subscription is cancelled after the last retry');
  equal(dunning.cancel_reason, 'not_paid', 'cancel_reason');
  const { invoice: notPaid } = await chargebee.invoice.retrieve(dueInv.id);
  equal(notPaid.status, 'not_paid', 'the invoice is not_paid');
  equal(notPaid.dunning_status, 'exhausted', 'dunning_status exhausted');
  equal(notPaid.dunning_attempts.length, 6, 'the first attempt and 5 retries');
  const retryDays = notPaid.dunning_attempts.map((a) => (a.created_at - renewal2) / DAY);
  equal(JSON.stringify(retryDays), JSON.stringify([0, 1, 4, 7, 8, 9]), 'attempts on days 0, 1, 4, 7, 8, 9');

  // The events, as the API lists them and as the receiver got them.
  const types = (await chargebee.event.list({ limit: 100, sort_by: { asc: 'occurred_at' } })).list.map((e) => e.event);
  const failed = types.filter((e) => e.event_type === 'payment_failed');
  equal(failed.length, 6, 'payment_failed events');
  equal(failed.at(-1)?.content?.invoice?.dunning_status, 'exhausted', 'the last payment_failed carries dunning_status exhausted');
  equal(failed[0]?.content?.transaction?.error_text, 'Insufficient funds', 'the failed transaction says why');
  const onlyFailed = await chargebee.event.list({ event_type: { in: ['payment_failed'] } });
  equal(onlyFailed.list.length, 6, 'event_type[in] filter');
  const deadline = Date.now() + WAIT_MS;
  while (deliveries.length < types.length && Date.now() < deadline) await sleep(20);
  equal(rejected.length, 0, `deliveries the handler refused: ${rejected.join('; ')}`);
  equal(deliveries.map((e) => e.id).join(','), types.map((e) => e.id).join(','), 'the receiver got every event, in order');
  const expect = [
    'customer_created', 'subscription_created', 'invoice_generated', 'payment_succeeded',
    'subscription_renewed', 'invoice_generated', 'payment_succeeded',
    'subscription_changed', 'credit_note_created', 'invoice_generated', 'payment_succeeded',
    'card_updated',
    'subscription_renewed', 'invoice_generated', 'payment_failed',
    'payment_failed', 'invoice_updated', 'payment_failed', 'invoice_updated', 'payment_failed', 'invoice_updated',
    'payment_failed', 'invoice_updated', 'payment_failed', 'subscription_cancelled', 'invoice_updated',
  ];
  equal(deliveries.map((e) => e.event_type).join(','), expect.join(','), 'the events in order');
  check(deliveries.every((e) => e.api_version === 'v2' && e.object === 'event'), 'events are v2 event objects');
} catch (err) {
  failures.push(`unexpected error: ${err?.stack ?? JSON.stringify(err)}`);
} finally {
  receiver.close();
}

for (const f of failures) console.log(`FAIL ${f}`);
console.log(`${passed} passed, ${failures.length} failed`);
process.exit(failures.length ? 1 : 0);
