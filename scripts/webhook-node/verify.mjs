// verify.mjs checks billclock's webhook deliveries the way a stripe-node
// user's endpoint does: every delivery must pass
// stripe.webhooks.constructEvent(rawBody, signatureHeader, secret), unchanged.
//
// It serves its own endpoint on 127.0.0.1 (a free port), registers it with
// billclock through the stripe-node client, bills a monthly subscription on
// a test clock across a renewal, waits for the deliveries and checks them.
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
const WAIT_MS = 10_000;

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

async function main() {
  const base = process.env.BILLCLOCK_URL;
  const key = process.env.BILLCLOCK_API_KEY;
  if (!base || !key) {
    throw new Error('set BILLCLOCK_URL (e.g. http://127.0.0.1:12800) and BILLCLOCK_API_KEY');
  }
  const u = new URL(base);
  const stripe = new Stripe(key, {
    host: u.hostname,
    port: Number(u.port || 80),
    protocol: 'http',
    maxNetworkRetries: 0,
    telemetry: false,
  });

  const deliveries = [];
  let secret = '';
  const server = receive(stripe, deliveries, () => secret);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${server.address().port}/webhooks`;
    const endpoint = await stripe.webhookEndpoints.create({url, enabled_events: ['*']});
    secret = endpoint.secret ?? '';
    check(secret.startsWith('whsec_'), `endpoint secret ${JSON.stringify(endpoint.secret)} does not start with whsec_`);

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
    await stripe.testHelpers.testClocks.advance(clock.id, {frozen_time: FROZEN + 30 * DAY + 2 * HOUR});
    const ready = await until('the clock to be ready', async () => {
      const c = await stripe.testHelpers.testClocks.retrieve(clock.id);
      return c.status !== 'advancing';
    });
    if (!ready) return;

    // Every event delivered: none has a webhook pending any more.
    let events = [];
    await until('every event to be delivered', async () => {
      events = await stripe.events.list({limit: 100}).autoPagingToArray({limit: 10_000});
      return events.every((e) => e.pending_webhooks === 0) && deliveries.length >= events.length;
    });
    events.reverse(); // oldest first

    for (const [i, d] of deliveries.entries()) {
      const what = `delivery ${i + 1} (${d.event?.type ?? 'unparsed'})`;
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
      `deliveries out of order or missing:\n  got  ${got.join(' ')}\n  want ${want.join(' ')}`,
    );
    check(new Set(got).size === got.length, 'an event was delivered more than once');
    const types = deliveries.map((d) => d.event?.type);
    check(types.at(-1) === 'test_helpers.test_clock.ready', `last delivery is ${types.at(-1)}, want test_helpers.test_clock.ready`);
    check(types.includes('invoice.paid'), `no invoice.paid among ${types.join(', ')}`);
    const adv = types.lastIndexOf('test_helpers.test_clock.advancing');
    check(
      adv >= 0 && types.slice(adv + 1, -1).includes('invoice.paid'),
      'the renewal invoice.paid is not between the advance\'s advancing and ready',
    );
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

try {
  await main();
} catch (err) {
  failures.push(`error: ${err.stack ?? err}`);
}
for (const f of failures) console.log(`FAIL: ${f}`);
console.log(`${passed} passed, ${failures.length} failed`);
process.exitCode = failures.length > 0 ? 1 : 0;
