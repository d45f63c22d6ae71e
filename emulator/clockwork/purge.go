package clockwork

import (
	"github.com/billclock/billclock/emulator/billing"
)

// This file wipes an account's customer data and moves a clock back in
// time: what Chargebee's start_afresh does to a site. Both are general: a
// dialect whose account is one sandbox on one clock (Chargebee's site,
// Commet's organization) starts it again this way.

// customerData are the collections and indexes that hold an account's
// customer data: everything billed (customers, their payment methods,
// subscriptions, invoices, invoice items, payments, charges, invoice
// payments, balance transactions), the deleted customers' stubs, and the
// events. The catalog (products, prices), clocks, webhook endpoints and
// their attempts, settings, idempotency records and a dialect's own
// collections are not customer data.
var (
	customerDataCollections = []string{
		CustomersCollection, SubscriptionsCollection, itemsCollection, InvoicesCollection, InvoiceItemsCollection,
		PaymentMethodsCollection, PaymentsCollection, ChargesCollection, InvoicePaymentsCollection,
		BalanceTxnsCollection, TombstonesCollection, EventsCollection,
	}
	customerDataIndexes = []string{
		customersByClock, subscriptionsByClock, deletedCustomers, pendingItems, paymentMethodsByCustomer,
		invoicePaymentsByInvoice, balanceTxnsByCustomer,
	}
)

// PurgeCustomerData deletes the account's customer data (see
// customerData: customers, subscriptions, invoices, payments and the rest
// of what is billed, and the events) and the billing work due on every
// clock, without emitting any event. The catalog, clocks, webhook
// endpoints, settings and idempotency records stay. Deliveries still
// queued for the deleted events are dropped when their turn comes.
func (l *Ledger) PurgeCustomerData() error {
	for _, name := range customerDataCollections {
		if err := l.acct.DropCollection(name); err != nil {
			return err
		}
	}
	for _, name := range customerDataIndexes {
		if err := l.acct.DropIndex(name); err != nil {
			return err
		}
	}
	if err := l.acct.DropTimeline(); err != nil {
		return err
	}
	// Collections opened before the drop, and the objects decoded from
	// them, are gone.
	clear(l.colls)
	l.forgetAll()
	return nil
}

// QueueRestart moves clock, which may be at any time, to genesis (earlier
// or later) by way of the advance worker: the clock is stored advancing to
// genesis at once and made ready by the worker, not before the runtime's
// AdvanceDelay has passed, as after QueueAdvance (and an armed failure,
// see ArmAdvanceFailure, fails it). Nothing falls due on the way: call it
// after PurgeCustomerData, or on a clock with nothing on it. A clock that
// is advancing is refused (billing.CodeClockAdvancing); one that failed is
// taken, and leaves its failure behind. Call start once the transaction
// has committed.
func (l *Ledger) QueueRestart(clock *billing.Clock, genesis int64) (start func(), err error) {
	if clock.Status == billing.ClockAdvancing {
		e := &billing.Error{Kind: billing.Invalid, Code: billing.CodeClockAdvancing, Resource: KindClock, ID: clock.ID}
		return nil, e
	}
	if err := billing.CheckTimestamp("genesis_time", genesis); err != nil {
		return nil, err
	}
	clock.FrozenTime, clock.TargetTime = genesis, genesis
	clock.Status, clock.AdvanceTasks = billing.ClockAdvancing, 0
	return l.QueueAdvance(clock)
}
