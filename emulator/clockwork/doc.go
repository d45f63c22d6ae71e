// Package clockwork is billclock's provider-neutral runtime: the machinery
// that makes test clocks work, shared by every provider dialect (Stripe's
// in emulator/stripe; Chargebee's and Commet's next). The engine
// (emulator/billing) knows billing rules and nothing of storage or wire
// formats; a dialect knows one provider's wire and nothing of storage or
// background work; the runtime holds the two together over the store.
//
// # Parts
//
//   - Runtime (runtime.go): made once by the server with New, given its
//     dialects with Register, its routes with Routes (each dialect's, then
//     the control routes) and run with Run. Options are the server's:
//     database, wall clock, allowed keys, advance delay, webhook delivery,
//     retention.
//   - Accounts (accounts.go): every API key is an account of exactly one
//     dialect; Runtime.Ledger records the dialect on the account at its
//     first write, and background work finds it there. Accounts that
//     recorded none (databases from before) are Stripe's.
//   - Ledger (ledger.go): one account's data in one transaction. It is the
//     engine's billing.Ledger (objects, timeline of tasks, events) and holds
//     everything else a dialect needs: clocks (clocks.go), the event log
//     (events.go), webhook endpoints (endpoints.go), idempotency records
//     (idempotency.go), settings and the dunning policy (ledger.go), and
//     the listing primitives (ListEvents, ListAttempts, Collection for the
//     rest). Not-found errors are billing.NotFoundError with a neutral Kind*
//     that each dialect words. The ledgers of an account in a transaction
//     share the customers, subscriptions, invoices and payments they read
//     or stored, and hold their writes back until the function given the
//     transaction returns or the collection is read as stored (held.go):
//     each object is written once, as it last stood.
//   - The advance worker (advance.go) finishes queued clock advances in
//     chunks of one transaction each, crash-safe and retried on storage
//     errors; its progress is Ledger.Progress. A clock armed by
//     Ledger.ArmAdvanceFailure fails its next advance, whatever its dialect.
//   - The due-work runner (duework.go) runs the advance and delivery jobs:
//     one at a time per key, resting after failures.
//   - The event log and webhook outbox (events.go, delivery.go): the engine
//     emits billing.Events; the account's dialect renders each (Recorder),
//     and the runtime stores it in its type's group and queues it for every
//     endpoint that wants it. Deliveries go in order per endpoint, retried
//     with backoff, persisted, each attempt recorded; the dialect formats
//     them (Dialect.FormatDelivery).
//   - The janitor (janitor.go): every minute, the billing work of objects
//     on no clock (wall time), clocks past their dialect's ClockLifetime,
//     pruning of events, attempts, tombstones and idempotency records, and
//     the one-time upgrade of databases from earlier billclocks.
//   - The event stream (stream.go): Runtime.Subscribe follows an account's
//     new events in the order they were recorded, from the moment it was
//     made, the one channel under every live view of events (a dialect's
//     listen protocol). A stream is a position in the event log that each
//     Stream.Next reads on from; commits only wake it, so a slow reader
//     holds up nothing.
//
// # Dialects
//
// A dialect implements Dialect and is registered with Runtime.Register:
//
//	rt := clockwork.New(clockwork.Options{DB: db})
//	rt.Register(stripe.New(rt, stripe.Options{}))
//	rt.Register(chargebee.New(rt, chargebee.Options{})) // next
//	rt.Routes(router)
//	go rt.Run(ctx)
//
// Its handlers authenticate the request's key (refusing what
// KeyCanAuthenticate refuses, and keys KeyAllowed does not allow), run a
// transaction on Runtime.DB, get the account's Ledger from Runtime.Ledger
// and call the engine (Ledger.Engine), the clock operations
// (Ledger.PutClock, QueueAdvance, DeleteClock, TimeOn, RunDue) and the
// rest, then render what they got in their provider's shape. Once the
// transaction has committed they call the start function QueueAdvance
// returned, if any, and Runtime.WakeDeliverer. Their adapters read through
// View (a panicking handler gets an error, answered as a 500), log the
// errors they answer as a 500 with LogInternal (never with the key) and
// tell a JSON body with IsJSON (respond.go).
//
// The runtime asks a dialect for: its name and routes; whether a request
// carries its key (Claims) and its handler of each control route
// (Control, for settings, failure injection, progress and webhook
// attempts); ids (NewID); the default dunning policy (DefaultPolicy, whose
// FinalizeDelay says how long renewals stay drafts); how long clocks live
// (ClockLifetime); how to render events (NewRecorder) and read them back
// (EventHead); how to deliver them (FormatDelivery). Optionally, a
// PendingCounter keeps a count of pending deliveries in its stored events
// (Stripe's pending_webhooks), and a TaskObserver sees each task an
// advance or RunDue applies, with the events it caused.
package clockwork
