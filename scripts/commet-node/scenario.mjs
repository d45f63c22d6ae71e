// Drives billclock's Commet dialect with the official @commet/node SDK
// (7.10.0, API version 2026-07-11), unchanged but for where it sends its
// requests: the SDK hard-codes https://commet.co, so globalThis.fetch is
// wrapped to send them to billclock instead.
//
// The scenario: a customer, a seats feature and a plan ($99 a month, 5
// seats included, $25 per extra seat), a subscription with 6 seats that
// waits for its checkout, completed through billclock's checkout control
// route; seats added, removed and set, balances read; the clock advanced
// and billing processed, and the renewal checked to the cent against
// Commet's documented example ($99 + advance 2 × $25 + true-up
// 1 × $25 × 15/30 = $161.50); a second customer paying with 4000 0000
// 0000 0341 whose renewal fails and is retried on days 1, 3, 5 and 7
// until the subscription is canceled (dunning_exhausted); and a webhook
// receiver verifying every delivery's X-Commet-Signature with the SDK.
//
//   BILLCLOCK_URL=http://127.0.0.1:12800 BILLCLOCK_COMMET_KEY=ck_... node scenario.mjs
//
// It prints one line per check and ends with "N passed, M failed"; it
// exits 1 if any check failed.

import http from "node:http";
import { Commet, CommetAPIError, CommetValidationError } from "@commet/node";

const base = (process.env.BILLCLOCK_URL || "http://127.0.0.1:12800").replace(/\/$/, "");
const apiKey = process.env.BILLCLOCK_COMMET_KEY || `ck_scenario_${Date.now()}`;

// Point the SDK at billclock.
const realFetch = globalThis.fetch;
globalThis.fetch = (input, init) => {
  let url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
  if (url.startsWith("https://commet.co/")) url = base + url.slice("https://commet.co".length);
  return realFetch(url, init);
};

const commet = new Commet({ apiKey, telemetry: false });

let passed = 0;
let failed = 0;
function check(name, ok, detail) {
  if (ok) {
    passed++;
    console.log(`ok   ${name}`);
  } else {
    failed++;
    console.log(`FAIL ${name}${detail === undefined ? "" : ": " + JSON.stringify(detail)}`);
  }
}
function eq(name, got, want) {
  check(`${name} = ${JSON.stringify(want)}`, JSON.stringify(got) === JSON.stringify(want), got);
}
async function rejects(name, fn, test) {
  try {
    await fn();
    check(name, false, "no error");
  } catch (err) {
    check(name, test(err), { name: err.name, code: err.code, status: err.statusCode, message: err.message });
  }
}

// The webhook receiver: every delivery is verified with the SDK.
const deliveries = [];
let secret = "";
const receiver = http.createServer((req, res) => {
  let raw = "";
  req.setEncoding("utf8");
  req.on("data", (chunk) => (raw += chunk));
  req.on("end", () => {
    const signature = req.headers["x-commet-signature"] || null;
    const verified = commet.webhooks.verify({ payload: raw, signature, secret });
    const tampered = commet.webhooks.verify({ payload: raw + " ", signature, secret });
    deliveries.push({ verified, tampered, payload: JSON.parse(raw) });
    res.writeHead(verified ? 200 : 400, { "Content-Type": "application/json" });
    res.end("{}");
  });
});
await new Promise((resolve) => receiver.listen(0, "127.0.0.1", resolve));
const receiverURL = `http://127.0.0.1:${receiver.address().port}/commet`;

async function completeCheckout(url, cardNumber) {
  const res = await realFetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ cardNumber }),
  });
  return { status: res.status, body: await res.json() };
}

async function advance(params) {
  const clock = await commet.testClock.advance(params);
  return clock.data;
}

async function processBilling() {
  return (await commet.testClock.processBilling()).data;
}

async function waitFor(what, cond, ms = 60000) {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) {
      check(`waited for ${what}`, false, "timed out");
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

try {
  // The organization's clock follows real time until its first advance.
  const before = (await commet.testClock.get()).data;
  eq("clock: simulatedTime before the first advance", before.simulatedTime, null);
  eq("clock: object", before.object, "test_clock");
  // Start on April 1 (30 days), as the docs' example does.
  const start = await advance({ frozenTime: "2030-04-01T00:00:00Z" });
  eq("clock: advanced to frozenTime", start.simulatedTime, "2030-04-01T00:00:00.000Z");
  await rejects("clock: backwards is refused", () => advance({ frozenTime: "2030-03-01T00:00:00Z" }),
    (e) => e instanceof CommetValidationError && /only move forward/.test(e.message));
  await rejects("clock: both advanceDays and frozenTime is a validation error",
    () => advance({ advanceDays: 1, frozenTime: "2031-01-01T00:00:00Z" }), (e) => e instanceof CommetValidationError);

  const hook = (await commet.webhooks.create({
    url: receiverURL,
    events: ["subscription.created", "subscription.activated", "subscription.past_due", "subscription.canceled",
      "payment.received", "payment.failed", "payment.retry_failed", "payment.recovered", "invoice.created",
      "seats.updated"],
  })).data;
  secret = hook.secretKey;
  check("webhook: created with a secret", typeof secret === "string" && secret.length > 10, hook);

  // Catalog.
  const customer = (await commet.customers.create({ email: "billing@acme.test", id: "acme", fullName: "Acme" })).data;
  const again = (await commet.customers.create({ email: "billing@acme.test", id: "acme" })).data;
  eq("customer: create is idempotent on its own id", again.id, customer.id);
  const feature = (await commet.features.create({ name: "Seats", code: "seats", type: "seats" })).data;
  eq("feature: type", feature.type, "seats");
  const plan = (await commet.plans.create({ name: "Pro", code: "pro" })).data;
  await commet.plans.addPrice({ id: plan.id, billingInterval: "monthly", price: 9900 });
  await commet.plans.addFeature({ id: plan.id, featureId: "seats", includedAmount: 5,
    overage: { enabled: true, unitPrice: 2500 } });
  const fullPlan = (await commet.plans.get({ id: "pro" })).data;
  eq("plan: seats included", fullPlan.features[0].includedAmount, 5);
  eq("plan: extra seat price", fullPlan.features[0].overage.unitPrice, 2500);

  // Subscription: pending until its checkout is paid.
  const created = (await commet.subscriptions.create({ customerId: "acme", planCode: "pro",
    initialSeats: { seats: 6 } })).data;
  eq("subscription: status before checkout", created.status, "pending_payment");
  check("subscription: checkoutUrl served by billclock", created.checkoutUrl?.startsWith(base), created.checkoutUrl);
  await rejects("seats: none before the checkout", () => commet.seats.add({ customerId: "acme", featureCode: "seats", count: 1 }),
    (e) => e instanceof CommetAPIError && e.code === "no_active_subscription");
  const page = await realFetch(created.checkoutUrl);
  check("checkout: a page to pay on", page.ok && /Pay/.test(await page.text()));
  const declined = await completeCheckout(created.checkoutUrl, "4000 0000 0000 0002");
  eq("checkout: a decline card fails", [declined.status, declined.body.error?.code], [402, "payment_failed"]);
  const done = await completeCheckout(created.checkoutUrl, "4242 4242 4242 4242");
  eq("checkout: completed", done.body.status, "completed");
  const active = (await commet.subscriptions.getActive({ customerId: "acme" })).data;
  eq("subscription: active after checkout", active.status, "active");
  eq("subscription: 30-day period", active.currentPeriod.end, "2030-05-01T00:00:00.000Z");
  const firstInvoices = (await commet.invoices.list({ customerId: "acme" })).data;
  eq("first invoice: paid $99 + 1 × $25", [firstInvoices.length, firstInvoices[0].status, firstInvoices[0].total], [1, "paid", 12400]);

  // Seats: a removal is not refunded, setting back within what is paid
  // costs nothing; the 7th seat comes halfway through the period.
  const removed = (await commet.seats.remove({ customerId: "acme", featureCode: "seats", count: 1 })).data;
  eq("seats: remove", [removed.object, removed.previousBalance, removed.newBalance], ["seat", 6, 5]);
  const set = (await commet.seats.set({ customerId: customer.id, featureCode: "seats", count: 6 })).data;
  eq("seats: set (by Commet's id)", [set.previousBalance, set.newBalance], [5, 6]);
  await rejects("seats: removing more than held", () => commet.seats.remove({ customerId: "acme", featureCode: "seats", count: 7 }),
    (e) => e instanceof CommetAPIError && e.code === "insufficient_seats");
  await rejects("seats: unknown feature", () => commet.seats.add({ customerId: "acme", featureCode: "gpus", count: 1 }),
    (e) => e instanceof CommetAPIError && e.code === "feature_not_found");
  await rejects("seats: unknown customer", () => commet.seats.add({ customerId: "nobody", featureCode: "seats", count: 1 }),
    (e) => e instanceof CommetAPIError && e.code === "customer_not_found");
  await advance({ advanceDays: 15 });
  const added = (await commet.seats.add({ customerId: "acme", featureCode: "seats", count: 1 })).data;
  eq("seats: add on day 15", [added.previousBalance, added.newBalance, added.ts], [6, 7, "2030-04-16T00:00:00.000Z"]);
  const balance = (await commet.seats.getBalance({ customerId: "acme", featureCode: "seats" })).data;
  eq("seats: balance", [balance.object, balance.current], ["seat", 7]);
  const balances = (await commet.seats.getAllBalances({ customerId: "acme" })).data;
  eq("seats: all balances", balances.balances.seats.current, 7);
  const bulk = (await commet.seats.setAll({ customerId: "acme", seats: { seats: 7 } })).data;
  eq("seats: bulk set answers seat events", [Array.isArray(bulk), bulk[0]?.newBalance], [true, 7]);

  // Advance 30 days and process billing: the renewal of May 1.
  const moved = await advance({ advanceDays: 30 });
  eq("clock: advance moves the clock (2026-07-11)", moved.simulatedTime, "2030-05-16T00:00:00.000Z");
  const billing = await processBilling();
  eq("process billing: counts", [billing.customersFound, billing.enqueued, billing.failed], [1, 1, 0]);
  const invoices = (await commet.invoices.list({ customerId: "acme", status: "paid" })).data;
  const renewal = invoices.find((i) => i.periodStart === "2030-04-01T00:00:00.000Z" && i.id !== firstInvoices[0].id);
  check("renewal: invoiced", renewal !== undefined, invoices.map((i) => [i.invoiceNumber, i.periodStart]));
  const full = (await commet.invoices.get({ id: renewal.id })).data;
  const lines = full.lineItems.map((l) => [l.lineType, l.chargeType, l.quantity, l.amount]);
  eq("renewal: lines", lines, [["plan_base", "standard", 1, 9900], ["feature_seats", "advance", 2, 5000],
    ["feature_seats", "true_up", 1, 1250]]);
  eq("renewal: total $161.50, paid", [full.total, full.status], [16150, "paid"]);

  // A card that pays the checkout and fails every later charge: the
  // renewal fails and is retried on days 1, 3, 5 and 7.
  await commet.customers.create({ email: "ap@globex.test", externalId: "globex" });
  const sub2 = (await commet.subscriptions.create({ customerId: "globex", planCode: "pro",
    initialSeats: { seats: 5 } })).data;
  eq("dunning: checkout with 4000 0000 0000 0341 succeeds",
    (await completeCheckout(sub2.checkoutUrl, "4000000000000341")).body.subscriptionStatus, "active");
  await advance({ advanceDays: 31 }); // June 16: globex's renewal (and acme's of June 1)
  const failedRun = await processBilling();
  eq("dunning: the renewal failed", [failedRun.enqueued, failedRun.failed], [2, 1]);
  let s2 = (await commet.subscriptions.get({ id: sub2.id })).data;
  eq("dunning: past_due", s2.status, "past_due");
  const outstanding = (await commet.invoices.list({ customerId: "globex", status: "outstanding" })).data;
  eq("dunning: renewal invoice outstanding", outstanding.length, 1);
  const retries = [];
  for (const days of [1, 2, 2]) {
    await advance({ advanceDays: days });
    retries.push(await processBilling());
  }
  eq("dunning: retries on days 1, 3 and 5 fail", retries.map((r) => [r.dunningRetried, r.dunningFailed]), [[1, 1], [1, 1], [1, 1]]);
  s2 = (await commet.subscriptions.get({ id: sub2.id })).data;
  eq("dunning: still past_due before the last retry", s2.status, "past_due");
  await advance({ advanceDays: 2 });
  const last = await processBilling();
  eq("dunning: the day-7 retry fails", [last.dunningRetried, last.dunningFailed], [1, 1]);
  s2 = (await commet.subscriptions.get({ id: sub2.id })).data;
  eq("dunning: canceled", [s2.status, s2.cancelReason], ["canceled", "dunning_exhausted"]);
  const exhausted = (await commet.invoices.get({ id: outstanding[0].id })).data;
  eq("dunning: invoice uncollectible", exhausted.status, "uncollectible");

  // Webhooks: every delivery verifies, and the dunning events came.
  const want = ["payment.failed", "subscription.past_due", "payment.retry_failed", "subscription.canceled",
    "subscription.activated", "payment.received", "seats.updated"];
  await waitFor("the webhook deliveries", () => want.every((e) => deliveries.some((d) => d.payload.event === e)));
  for (const e of want) {
    const d = deliveries.find((x) => x.payload.event === e);
    check(`webhook: ${e} delivered and verified`, d?.verified === true, d?.payload);
  }
  check("webhook: every delivery verifies", deliveries.length > 0 && deliveries.every((d) => d.verified), deliveries.length);
  check("webhook: a changed body does not verify", deliveries.every((d) => !d.tampered));
  const canceled = deliveries.find((d) => d.payload.event === "subscription.canceled");
  eq("webhook: subscription.canceled names dunning_exhausted and the external id",
    [canceled?.payload.data.cancelReason, canceled?.payload.data.customerId, canceled?.payload.mode],
    ["dunning_exhausted", "globex", "sandbox"]);
  const retryFailed = deliveries.filter((d) => d.payload.event === "payment.failed" && d.payload.data.customerId === "globex");
  eq("webhook: payment.failed for the failure and the first three retries", retryFailed.length, 4);
} catch (err) {
  check("scenario ran without an unexpected error", false, { name: err.name, message: err.message, code: err.code });
} finally {
  receiver.close();
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
