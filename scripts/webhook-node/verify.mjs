// verify.mjs checks billclock's webhook deliveries the way a stripe-node
// user's endpoint does: every delivery must pass
// stripe.webhooks.constructEvent(rawBody, signatureHeader, secret), unchanged.
//
// It serves its own endpoint on 127.0.0.1 (a free port), registers it with
// billclock through the stripe-node client, bills a monthly subscription on
// a test clock across a renewal, waits for the deliveries and checks them.
// Then, as a second account (the key with "_dunning" appended, so that its
// settings and events are its own), it walks a failed renewal through
// every retry: a customer paying with pm_card_chargeCustomerFail, a trial
// whose renewal is declined, retried 1 and 3 days later (the account's
// settings, set through /_billclock/settings), then the subscription
// canceled; it checks the invoice, the subscription and the events its
// endpoint receives, in order.
// It prints one line per failure and then "N passed, M failed", and exits
// non-zero on any failure.
//
//   npm ci
//   BILLCLOCK_URL=http://127.0.0.1:12800 BILLCLOCK_API_KEY=sk_test_123 node verify.mjs

import http from 'node:http';
import Stripe from 'stripe';

const FROZEN = 1732320000; // 2024-11-23T00:00:00Z
const DAY = 86400;
const HOUR = 3600;
const WAIT_MS = 60_000; // generous: a liveness wait, never a speed check (CI machines are shared)

let passed = 0;
const failures = [];

function check(ok, what) {
  if (ok) {
    passed++;
  } else {
    failures.push(what);
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(what, cond) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() > deadline) {
      failures.push(`timed out after ${WAIT_MS} ms waiting for ${what}`);
      return false;
    }
    await sleep(20);
  }
}

// receive serves the webhook endpoint and verifies each delivery as it
// arrives (constructEvent's tolerance is measured against now).
function receive(stripe, deliveries, getSecret) {
  return http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const d = {
        raw,
        method: req.method,
        contentType: req.headers['content-type'],
        userAgent: req.headers['user-agent'],
      };
      try {
        d.event = stripe.webhooks.constructEvent(raw, req.headers['stripe-signature'], getSecret());
        res.writeHead(200, {'Content-Type': 'application/json'});
        res.end('{"received":true}');
      } catch (err) {
        d.error = err.message;
        res.writeHead(400, {'Content-Type': 'text/plain'});
        res.end(err.message);
      }
      deliveries.push(d);
    });
  });
}

// client is a stripe-node client of billclock at base, as key.
function client(base, key) {
  const u = new URL(base);
  return new Stripe(key, {
    host: u.hostname,
    port: Number(u.port || 80),
    protocol: 'http',
    maxNetworkRetries: 0,
    telemetry: false,
  });
}

// withEndpoint serves a webhook endpoint, registers it for every event and
// runs fn(deliveries) while it is up.
async function withEndpoint(stripe, fn) {
  const deliveries = [];
  let secret = '';
  const server = receive(stripe, deliveries, () => secret);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${server.address().port}/webhooks`;
    const endpoint = await stripe.webhookEndpoints.create({url, enabled_events: ['*']});
    secret = endpoint.secret ?? '';
    check(secret.startsWith('whsec_'), `endpoint secret ${JSON.stringify(endpoint.secret)} does not start with whsec_`);
    await fn(deliveries);
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

// advance moves the clock to t and waits until it is ready.
async function advance(stripe, clock, t) {
  await stripe.testHelpers.testClocks.advance(clock, {frozen_time: t});
  return until(`the clock to reach ${t}`, async () => {
    const c = await stripe.testHelpers.testClocks.retrieve(clock);
    return c.status !== 'advancing';
  });
}

// delivered waits until every event of the account has been delivered and
// returns the events, oldest first.
async function delivered(stripe, deliveries) {
  let events = [];
  await until('every event to be delivered', async () => {
    events = await stripe.events.list({limit: 100}).autoPagingToArray({limit: 10_000});
    return events.every((e) => e.pending_webhooks === 0) && deliveries.length >= events.length;
  });
  return events.reverse();
}

// checkDeliveries checks that every delivery passed constructEvent with
// Stripe's headers, and that events arrived once each, in order.
function checkDeliveries(scenario, deliveries, events) {
  for (const [i, d] of deliveries.entries()) {
    const what = `${scenario}: delivery ${i + 1} (${d.event?.type ?? 'unparsed'})`;
    check(!d.error, `${what}: stripe.webhooks.constructEvent: ${d.error}`);
    check(d.method === 'POST', `${what}: method ${d.method}`);
    check(d.contentType === 'application/json; charset=utf-8', `${what}: Content-Type ${d.contentType}`);
    check(
      d.userAgent === 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
      `${what}: User-Agent ${d.userAgent}`,
    );
  }
  const got = deliveries.map((d) => d.event?.id);
  const want = events.map((e) => e.id);
  check(
    JSON.stringify(got) === JSON.stringify(want),
    `${scenario}: deliveries out of order or missing:\n  got  ${got.join(' ')}\n  want ${want.join(' ')}`,
  );
  check(new Set(got).size === got.length, `${scenario}: an event was delivered more than once`);
}

async function main() {
  const base = process.env.BILLCLOCK_URL;
  const key = process.env.BILLCLOCK_API_KEY;
  if (!base || !key) {
    throw new Error('set BILLCLOCK_URL (e.g. http://127.0.0.1:12800) and BILLCLOCK_API_KEY');
  }
  await renewal(client(base, key));
  await dunning(client(base, `${key}_dunning`));
}

// renewal bills a monthly subscription across its first renewal.
async function renewal(stripe) {
  await withEndpoint(stripe, async (deliveries) => {
    const clock = await stripe.testHelpers.testClocks.create({frozen_time: FROZEN, name: 'webhook-node'});
    const customer = await stripe.customers.create({
      email: 'jenny@example.com',
      payment_method: 'pm_card_visa',
      test_clock: clock.id,
    });
    const price = await stripe.prices.create({
      currency: 'usd',
      unit_amount: 2000,
      recurring: {interval: 'month'},
      product_data: {name: 'Pro'},
    });
    await stripe.subscriptions.create({customer: customer.id, items: [{price: price.id}]});
    if (!(await advance(stripe, clock.id, FROZEN + 30 * DAY + 2 * HOUR))) return;

    const events = await delivered(stripe, deliveries);
    checkDeliveries('renewal', deliveries, events);
    const types = deliveries.map((d) => d.event?.type);
    check(types.at(-1) === 'test_helpers.test_clock.ready', `last delivery is ${types.at(-1)}, want test_helpers.test_clock.ready`);
    check(types.includes('invoice.paid'), `no invoice.paid among ${types.join(', ')}`);
    const adv = types.lastIndexOf('test_helpers.test_clock.advancing');
    check(
      adv >= 0 && types.slice(adv + 1, -1).includes('invoice.paid'),
      'the renewal invoice.paid is not between the advance\'s advancing and ready',
    );
  });
}

// dunning walks a renewal declined at every attempt through the account's
// retries to its final action.
async function dunning(stripe) {
  // Two retries, 1 and 2 days after the attempt before; then cancel the
  // subscription and leave its invoice open (Stripe's defaults).
  const settings = await stripe.rawRequest('POST', '/_billclock/settings', {
    retry_days: '1,2',
    subscription_action: 'cancel',
    invoice_action: 'leave_open',
  });
  check(JSON.stringify(settings.retry_days) === '[1,2]', `settings: retry_days ${JSON.stringify(settings.retry_days)}`);

  await withEndpoint(stripe, async (deliveries) => {
    const clock = await stripe.testHelpers.testClocks.create({frozen_time: FROZEN, name: 'webhook-node dunning'});
    const customer = await stripe.customers.create({
      email: 'declined@example.com',
      payment_method: 'pm_card_chargeCustomerFail',
      test_clock: clock.id,
    });
    // The test id made a card of the customer's own.
    const cards = await stripe.customers.listPaymentMethods(customer.id);
    check(
      cards.data.length === 1 && cards.data[0].id.startsWith('pm_') && cards.data[0].id !== 'pm_card_chargeCustomerFail' &&
        cards.data[0].card.last4 === '0341',
      `the customer's cards: ${JSON.stringify(cards.data.map((pm) => [pm.id, pm.card?.last4]))}`,
    );
    const price = await stripe.prices.create({
      currency: 'usd',
      unit_amount: 1500,
      recurring: {interval: 'month'},
      product_data: {name: 'Dunning'},
    });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{price: price.id}],
      trial_period_days: 7,
    });
    check(sub.status === 'trialing', `new subscription: ${sub.status}`);

    // The renewal at the end of the trial is finalized and attempted an
    // hour later; the retries follow 1 and 1 + 2 days after that.
    const first = FROZEN + 7 * DAY + HOUR;
    const attempts = [first, first + DAY, first + 3 * DAY];
    let invoiceID = '';
    for (const [i, at] of attempts.entries()) {
      if (!(await advance(stripe, clock.id, at))) return;
      const s = await stripe.subscriptions.retrieve(sub.id);
      invoiceID = s.latest_invoice;
      const inv = await stripe.invoices.retrieve(invoiceID);
      const what = `after attempt ${i + 1}`;
      check(inv.status === 'open', `${what}: invoice status ${inv.status}`);
      check(inv.attempted === true, `${what}: invoice attempted ${inv.attempted}`);
      check(inv.attempt_count === i + 1, `${what}: attempt_count ${inv.attempt_count}`);
      check(inv.amount_due === 1500 && inv.amount_paid === 0, `${what}: amount_due ${inv.amount_due} amount_paid ${inv.amount_paid}`);
      const next = attempts[i + 1] ?? null;
      check(inv.next_payment_attempt === next, `${what}: next_payment_attempt ${inv.next_payment_attempt}, want ${next}`);
      const want = i + 1 < attempts.length ? 'past_due' : 'canceled';
      check(s.status === want, `${what}: subscription status ${s.status}, want ${want}`);
    }
    const final = await stripe.subscriptions.retrieve(sub.id);
    check(
      final.cancellation_details?.reason === 'payment_failed',
      `cancellation_details ${JSON.stringify(final.cancellation_details)}`,
    );
    const charges = await stripe.charges.list({customer: customer.id});
    check(
      charges.data.length === attempts.length &&
        charges.data.every((ch) => ch.status === 'failed' && ch.failure_code === 'card_declined' &&
          ch.outcome?.reason === 'generic_decline'),
      `charges: ${JSON.stringify(charges.data.map((ch) => [ch.status, ch.failure_code, ch.outcome?.reason]))}`,
    );

    const events = await delivered(stripe, deliveries);
    checkDeliveries('dunning', deliveries, events);
    const got = deliveries.map((d) => d.event);
    const adv = got.findIndex((e) => e?.type === 'test_helpers.test_clock.advancing');
    const failed = [
      'charge.failed',
      'payment_intent.payment_failed',
      'invoice.payment_failed',
      'invoice.updated',
    ];
    const want = [
      'test_helpers.test_clock.advancing',
      'customer.subscription.trial_will_end', // 3 days before the trial ends
      'invoice.upcoming', // the first invoice, as many days ahead (the account's upcoming_invoice_days)
      'customer.subscription.updated', // trialing → active
      'invoice.created',
      'invoice.finalized', // an hour later
      'payment_intent.created',
      ...failed,
      'customer.subscription.updated', // active → past_due
      'test_helpers.test_clock.ready',
      'test_helpers.test_clock.advancing',
      ...failed, // the first retry
      'test_helpers.test_clock.ready',
      'test_helpers.test_clock.advancing',
      ...failed, // the last retry
      'customer.subscription.deleted', // canceled
      'test_helpers.test_clock.ready',
    ];
    const types = got.slice(adv).map((e) => e?.type);
    check(
      JSON.stringify(types) === JSON.stringify(want),
      `dunning events:\n  got  ${types.join(' ')}\n  want ${want.join(' ')}`,
    );
    const failures = got.filter((e) => e?.type === 'invoice.payment_failed');
    check(
      JSON.stringify(failures.map((e) => [e.data.object.id, e.data.object.attempt_count, e.created])) ===
        JSON.stringify(attempts.map((at, i) => [invoiceID, i + 1, at])),
      `invoice.payment_failed: ${JSON.stringify(failures.map((e) => [e.data.object.id, e.data.object.attempt_count, e.created]))}`,
    );
    const pastDue = got.find((e) => e?.type === 'customer.subscription.updated' && e.data.object.status === 'past_due');
    check(
      pastDue?.data.previous_attributes?.status === 'active',
      `past_due update's previous_attributes: ${JSON.stringify(pastDue?.data.previous_attributes)}`,
    );
    const deleted = got.find((e) => e?.type === 'customer.subscription.deleted');
    check(
      deleted?.data.object.status === 'canceled' && deleted?.created === attempts.at(-1),
      `customer.subscription.deleted: status ${deleted?.data.object.status} created ${deleted?.created}`,
    );
  });
}

try {
  await main();
} catch (err) {
  failures.push(`error: ${err.stack ?? err}`);
}
for (const f of failures) console.log(`FAIL: ${f}`);
console.log(`${passed} passed, ${failures.length} failed`);
process.exitCode = failures.length > 0 ? 1 : 0;
