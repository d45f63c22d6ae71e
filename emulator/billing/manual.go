package billing

import (
	"reflect"
	"slices"
	"strings"
)

// This file is invoicing by hand: invoice items (charges and credits)
// made, changed and deleted by a user, and invoices made by a user from a
// customer's pending items, changed and deleted while they are drafts,
// given lines and losing them, marked uncollectible. An item is pending
// until an invoice takes it; it can change, or be deleted, while it is
// pending or on a draft, whose lines and prices follow it. Finalizing,
// paying and voiding are collection's (collect.go), sending is
// sendinvoice.go's.

// LineOneTime is an invoice item (or its line) that bills Quantity × a
// one-time price.
const LineOneTime LineKind = "one_time"

// Event types of invoicing by hand.
const (
	EventInvoiceDeleted EventType = "invoice.deleted"
)

// Error codes of invoicing by hand. Resource and ID name the object that
// refuses.
const (
	// CodePriceNotOneTime: the price ID is recurring where a one-time
	// price is needed.
	CodePriceNotOneTime Code = "price_not_one_time"
	// CodeInvoiceNotEditable: the invoice ID, in Status, is not a draft,
	// so Param cannot change.
	CodeInvoiceNotEditable Code = "invoice_not_editable"
	// CodeInvoiceNotDeletable: the invoice ID, in Status, is not a draft,
	// or (Status "draft") it is a subscription's.
	CodeInvoiceNotDeletable Code = "invoice_not_deletable"
	// CodeInvoiceNotOpen: the invoice ID, in Status, is not open, so it
	// cannot be marked uncollectible.
	CodeInvoiceNotOpen Code = "invoice_not_open"
	// CodeInvoiceItemLocked: the invoice item ID is on the invoice Value,
	// which is finalized: it can no longer change.
	CodeInvoiceItemLocked Code = "invoice_item_locked"
	// CodeInvoiceItemNotPending: the invoice item ID is on the invoice
	// Value already, so it cannot be added to another.
	CodeInvoiceItemNotPending Code = "invoice_item_not_pending"
	// CodeCustomerMismatch: the object ID (Resource) belongs to the
	// customer Value, not Want.
	CodeCustomerMismatch Code = "customer_mismatch"
	// CodeInvoiceCurrencyMismatch: an item in currency Value for the
	// invoice ID, in Want.
	CodeInvoiceCurrencyMismatch Code = "invoice_currency_mismatch"
	// CodeLineNotRemovable: the line ID bills a subscription item, not an
	// invoice item.
	CodeLineNotRemovable Code = "line_not_removable"
	// CodeFinalizeAtNotFuture: an automatic finalization time (Param)
	// that is not after now, Min.
	CodeFinalizeAtNotFuture Code = "finalize_at_not_future"
	// CodeAmountWithQuantity: a quantity other than 1 for an item priced
	// by its amount.
	CodeAmountWithQuantity Code = "amount_with_quantity"
)

// NewInvoiceItem is a charge (or a credit) made by hand. It is priced by a
// one-time Price, Quantity times, or else by Amount in Currency.
type NewInvoiceItem struct {
	Customer string
	// Price is a one-time price; PriceParam names it in errors.
	Price, PriceParam string
	Amount            int64
	Currency          string
	// Quantity is 1 when nil.
	Quantity    *int64
	Description string
	// PeriodStart and PeriodEnd are the period it bills; both zero: its
	// date.
	PeriodStart, PeriodEnd int64
	// Subscription, if set, keeps the item for that subscription's
	// invoices (it must be the customer's).
	Subscription string
	// Invoice, if set, is the draft the item goes on at once.
	Invoice string
	// Discountable is true when nil, unless the amount is negative.
	Discountable *bool
	Metadata     map[string]string
	// Discounts are redeemed for the item; TaxRates tax it (nil: the
	// invoice's default tax rates).
	Discounts []DiscountSpec
	TaxRates  []string
	// Param, if set, is the request parameter the item came from
	// ("add_invoice_items[0]"), within which errors name its fields; its
	// Currency is then its subscription's, which a price in another is
	// refused for.
	Param string
}

// param names field of the item in errors.
func (in NewInvoiceItem) param(field string) string {
	if in.Param == "" {
		return field
	}
	return in.Param + "[" + field + "]"
}

// InvoiceItemChange changes an invoice item; nil fields stay as they are.
type InvoiceItemChange struct {
	// Price reprices the item by a one-time price (PriceParam names it);
	// Amount reprices it by an amount, and it has no price any more.
	Price, PriceParam      *string
	Amount                 *int64
	Quantity               *int64
	Description            *string
	PeriodStart, PeriodEnd *int64
	Discountable           *bool
	// Metadata is merged as in MergeMetadata.
	Metadata  map[string]string
	Discounts *[]DiscountSpec
	TaxRates  *[]string
}

// CreateInvoiceItem makes an invoice item at now (the customer's time)
// and announces it; with Invoice set it goes on that draft at once.
func (e *Engine) CreateInvoiceItem(in NewInvoiceItem, now int64) (*InvoiceItem, error) {
	var inv *Invoice
	if in.Invoice != "" {
		var err error
		if inv, err = e.L.Invoice(in.Invoice); err != nil {
			return nil, withParam(err, "invoice")
		}
		if inv.Status != InvoiceDraft {
			return nil, inv.notEditable("invoice")
		}
		if in.Customer == "" {
			in.Customer = inv.Customer
		}
	}
	if in.Customer == "" {
		return nil, invalid(CodeMissingParam, "customer")
	}
	cust, err := e.L.Customer(in.Customer)
	if err != nil {
		return nil, withParam(err, "customer")
	}
	if inv != nil && inv.Customer != cust.ID {
		return nil, mismatch("invoice", inv.ID, inv.Customer, cust.ID, "invoice")
	}
	var sub *Subscription
	if in.Subscription != "" {
		if sub, err = e.L.Subscription(in.Subscription); err != nil {
			return nil, withParam(err, "subscription")
		}
		if sub.Customer != cust.ID {
			return nil, mismatch("subscription", sub.ID, sub.Customer, cust.ID, "subscription")
		}
	}
	ii, err := e.newItem(in, cust, sub, inv, now)
	if err != nil {
		return nil, err
	}
	if inv != nil {
		before := snapshotInvoice(inv)
		ii.Invoice = inv.ID
		inv.Lines = append(inv.Lines, itemLine(e.L.NewID("il_"), ii))
		if err := e.saveItem(ii, EventInvoiceItemCreated, now); err != nil {
			return nil, err
		}
		return ii, e.repriceDraft(inv, before, now)
	}
	return ii, e.saveItem(ii, EventInvoiceItemCreated, now)
}

// newItem makes, without storing it, the invoice item in describes for
// cust at now: priced, its discounts redeemed and its tax rates checked.
// sub is its subscription (nil: none; it may not be stored yet), inv the
// draft it goes on (nil: it is pending).
func (e *Engine) newItem(in NewInvoiceItem, cust *Customer, sub *Subscription, inv *Invoice, now int64) (*InvoiceItem, error) {
	ii := &InvoiceItem{ID: e.L.NewID("ii_"), Customer: cust.ID, Clock: cust.Clock, Date: now,
		Description: in.Description, Subscription: in.Subscription, Metadata: in.Metadata,
		PeriodStart: now, PeriodEnd: now, Quantity: 1}
	if in.PeriodStart != 0 || in.PeriodEnd != 0 {
		ii.PeriodStart, ii.PeriodEnd = in.PeriodStart, in.PeriodEnd
	}
	if ii.PeriodEnd < ii.PeriodStart {
		e := invalid(CodeItemPeriodReversed, in.param("period")+"[end]")
		e.Min, e.Max = ii.PeriodStart, ii.PeriodEnd
		return nil, e
	}
	if in.Quantity != nil {
		if *in.Quantity < 0 {
			return nil, invalid(CodeNegativeQuantity, in.param("quantity"))
		}
		ii.Quantity = *in.Quantity
	}
	currencyParam := "currency"
	if in.Param != "" {
		currencyParam = in.PriceParam
	}
	if err := e.priceItem(ii, in.Price, in.PriceParam, in.Amount, in.Currency, currencyParam, in.Quantity != nil); err != nil {
		return nil, err
	}
	if inv != nil && ii.Currency != inv.Currency {
		return nil, currencyMismatch(inv, ii.Currency)
	}
	ii.Discountable = ii.Amount >= 0
	if in.Discountable != nil {
		ii.Discountable = *in.Discountable
	}
	if err := e.itemTerms(ii, inv, cust, sub, &in.Discounts, &in.TaxRates, in.param("tax_rates"), now); err != nil {
		return nil, err
	}
	return ii, nil
}

// priceItem sets ii's amount, currency, price and what it bills: from the
// one-time price given in param (quantity times), or else from amount in
// currency. A price in another currency than currency is refused, naming
// currencyParam.
func (e *Engine) priceItem(ii *InvoiceItem, price, param string, amount int64, currency, currencyParam string, hasQuantity bool) error {
	if price == "" {
		if currency == "" {
			return invalid(CodeMissingParam, "currency")
		}
		if hasQuantity && ii.Quantity != 1 {
			return invalid(CodeAmountWithQuantity, "quantity")
		}
		if amount > MaxAmount || amount < -MaxAmount {
			e := errAmountTooLarge()
			e.Param = "amount"
			return e
		}
		ii.Price, ii.Billed, ii.Amount, ii.Currency, ii.Quantity = "", Billed{}, amount, currency, 1
		return nil
	}
	p, err := e.L.Price(price)
	if err != nil {
		return withParam(err, param)
	}
	switch {
	case p.Deleted:
		return NotFoundError("price", p.ID, param)
	case p.Recurring != nil:
		return priceRefusal(CodePriceNotOneTime, param, p)
	}
	if currency != "" && currency != p.Currency {
		e := priceRefusal(CodeCurrencyMismatch, currencyParam, p)
		e.Value, e.Want = p.Currency, currency
		return e
	}
	prod, err := e.L.Product(p.Product)
	if err != nil {
		return err
	}
	if ii.Amount, err = mulAmount(p.UnitAmount, ii.Quantity); err != nil {
		return err
	}
	ii.Price, ii.Currency = p.ID, p.Currency
	ii.Billed = Billed{Kind: LineOneTime, ProductName: prod.Name, UnitAmount: p.UnitAmount}
	return nil
}

// itemTerms redeems discounts for ii, on the draft inv (nil: pending),
// and checks its tax rates (given in ratesParam); nil pointers leave them
// as they are. sub is ii's subscription when the caller has it (nil: it
// is looked up, if ii has one).
func (e *Engine) itemTerms(ii *InvoiceItem, inv *Invoice, cust *Customer, sub *Subscription, discounts *[]DiscountSpec,
	rates *[]string, ratesParam string, now int64) error {
	if rates != nil {
		checked, err := e.checkTaxRates(*rates, ii.TaxRates, ratesParam)
		if err != nil {
			return err
		}
		ii.TaxRates = checked
	}
	if discounts == nil || len(*discounts) == 0 && len(ii.Discounts) == 0 {
		return nil
	}
	if sub == nil && ii.Subscription != "" {
		var err error
		if sub, err = e.L.Subscription(ii.Subscription); err != nil {
			return err
		}
	}
	reusable := ancestors(cust, sub, inv)
	ds, err := e.RedeemDiscounts(*discounts, DiscountTarget{Customer: cust, InvoiceItem: ii.ID, Currency: ii.Currency,
		Reusable: append(slices.Clone(ii.Discounts), reusable...)}, now)
	if err != nil {
		return err
	}
	ii.Discounts = ds
	return nil
}

// ancestorDiscounts are the discounts a discounts[][discount] spec may
// reuse besides the object's own: its customer's, its subscription's (sub;
// "" for none) and its invoice's (inv; nil for none).
func (e *Engine) ancestorDiscounts(cust *Customer, sub string, inv *Invoice) ([]Discount, error) {
	var s *Subscription
	if sub != "" {
		var err error
		if s, err = e.L.Subscription(sub); err != nil {
			return nil, err
		}
	}
	return ancestors(cust, s, inv), nil
}

// ancestors are the discounts of cust, sub and inv (each but cust may be
// nil), as ancestorDiscounts.
func ancestors(cust *Customer, sub *Subscription, inv *Invoice) []Discount {
	var out []Discount
	if cust.Discount != nil {
		out = append(out, *cust.Discount)
	}
	if sub != nil {
		out = append(out, sub.Discounts...)
	}
	if inv != nil {
		out = append(out, inv.Discounts...)
	}
	return out
}

// useUpInherited uses up, as the invoice inv made by hand is finalized at
// now, the customer's once discount it inherited if it took something
// off, as a subscription's invoice uses it up when made.
func (e *Engine) useUpInherited(inv *Invoice, cust *Customer, now int64) error {
	if cust.Discount == nil || !slices.ContainsFunc(inv.Discounts, func(d Discount) bool { return d.ID == cust.Discount.ID }) {
		return nil
	}
	t, err := inv.Totals()
	if err != nil {
		return err
	}
	used := map[string]int64{}
	for _, d := range t.Discounts {
		used[d.Discount] = d.Amount
	}
	return e.useUpOnce(inv, used, nil, cust, now)
}

// saveItem stores ii and announces it with typ.
func (e *Engine) saveItem(ii *InvoiceItem, typ EventType, now int64) error {
	if err := e.L.PutInvoiceItem(ii); err != nil {
		return err
	}
	return e.emit(typ, now, snapshotInvoiceItem(ii))
}

// itemLine is the invoice line of ii, with its discounts and tax rates.
func itemLine(id string, ii *InvoiceItem) InvoiceLine {
	l := InvoiceLine{ID: id, Amount: ii.Amount, Billed: ii.Billed, Description: ii.Description,
		PeriodStart: ii.PeriodStart, PeriodEnd: ii.PeriodEnd, Proration: ii.Proration, Quantity: ii.Quantity,
		Price: ii.Price, SubscriptionItem: ii.SubscriptionItem, InvoiceItem: ii.ID}
	carryItemTerms(&l, ii)
	return l
}

// repriceDraft prices the draft inv again after its lines changed, saves
// it and announces the change from before.
func (e *Engine) repriceDraft(inv, before *Invoice, now int64) error {
	if err := e.PriceInvoice(inv); err != nil {
		return err
	}
	if _, err := inv.checkedTotal(); err != nil {
		return err
	}
	if err := e.L.PutInvoice(inv); err != nil {
		return err
	}
	return e.L.Emit(Event{Type: EventInvoiceUpdated, Time: now, Object: snapshotInvoice(inv), Before: before})
}

// editableItem returns invoice item id and, if it is on one, its draft
// invoice; an item on a finalized invoice is refused.
func (e *Engine) editableItem(id string) (*InvoiceItem, *Invoice, error) {
	ii, err := e.L.InvoiceItem(id)
	if err != nil {
		return nil, nil, err
	}
	if ii.Invoice == "" {
		return ii, nil, nil
	}
	inv, err := e.L.Invoice(ii.Invoice)
	if err != nil {
		return nil, nil, err
	}
	if inv.Status != InvoiceDraft {
		err := invalid(CodeInvoiceItemLocked, "")
		err.Resource, err.ID, err.Value = "invoice_item", ii.ID, inv.ID
		return nil, nil, err
	}
	return ii, inv, nil
}

// UpdateInvoiceItem changes invoice item id at now, while it is pending
// or on a draft (whose line follows). Stripe announces no change of an
// item of its own, so only its draft's change is announced.
func (e *Engine) UpdateInvoiceItem(id string, ch InvoiceItemChange, now int64) (*InvoiceItem, error) {
	ii, inv, err := e.editableItem(id)
	if err != nil {
		return nil, err
	}
	cust, err := e.L.Customer(ii.Customer)
	if err != nil {
		return nil, err
	}
	if ch.Quantity != nil {
		ii.Quantity = *ch.Quantity
	}
	switch {
	case ch.Amount != nil:
		if err := e.priceItem(ii, "", "", *ch.Amount, ii.Currency, "currency", ch.Quantity != nil); err != nil {
			return nil, err
		}
	case ch.Price != nil || ch.Quantity != nil && ii.Price != "":
		price, param := ii.Price, "price"
		if ch.Price != nil {
			price = *ch.Price
		}
		if ch.PriceParam != nil {
			param = *ch.PriceParam
		}
		if err := e.priceItem(ii, price, param, 0, ii.Currency, "currency", true); err != nil {
			return nil, err
		}
	case ch.Quantity != nil && *ch.Quantity != 1:
		return nil, invalid(CodeAmountWithQuantity, "quantity")
	}
	if ch.Description != nil {
		ii.Description = *ch.Description
	}
	if ch.PeriodStart != nil && ch.PeriodEnd != nil {
		ii.PeriodStart, ii.PeriodEnd = *ch.PeriodStart, *ch.PeriodEnd
	}
	if ch.Discountable != nil {
		ii.Discountable = *ch.Discountable
	}
	ii.Metadata = MergeMetadata(ii.Metadata, ch.Metadata)
	if err := e.itemTerms(ii, inv, cust, nil, ch.Discounts, ch.TaxRates, "tax_rates", now); err != nil {
		return nil, err
	}
	if err := e.L.PutInvoiceItem(ii); err != nil {
		return nil, err
	}
	if inv == nil {
		return ii, nil
	}
	before := snapshotInvoice(inv)
	for i := range inv.Lines {
		if inv.Lines[i].InvoiceItem == ii.ID {
			inv.Lines[i] = itemLine(inv.Lines[i].ID, ii)
		}
	}
	return ii, e.repriceDraft(inv, before, now)
}

// DeleteInvoiceItem deletes invoice item id at now, while it is pending
// or on a draft (which loses its line), and announces it.
func (e *Engine) DeleteInvoiceItem(id string, now int64) (*InvoiceItem, error) {
	ii, inv, err := e.editableItem(id)
	if err != nil {
		return nil, err
	}
	if err := e.dropItem(ii, now); err != nil {
		return nil, err
	}
	if inv == nil {
		return ii, nil
	}
	before := snapshotInvoice(inv)
	inv.Lines = slices.DeleteFunc(inv.Lines, func(l InvoiceLine) bool { return l.InvoiceItem == ii.ID })
	return ii, e.repriceDraft(inv, before, now)
}

// dropItem deletes ii and announces it.
func (e *Engine) dropItem(ii *InvoiceItem, now int64) error {
	if err := e.L.DeleteInvoiceItem(ii); err != nil {
		return err
	}
	return e.emit(EventInvoiceItemDeleted, now, snapshotInvoiceItem(ii))
}

// NewInvoice is an invoice made by hand.
type NewInvoice struct {
	Customer string
	// Subscription, if set, is the customer's subscription the invoice is
	// for: it takes only that subscription's pending items.
	Subscription string
	// Currency defaults to the customer's balance currency, else to that
	// of its first pending item taken, else to DefaultCurrency.
	Currency, DefaultCurrency string
	// IncludePending takes the customer's pending items in the invoice's
	// currency.
	IncludePending bool
	// AutoAdvance finalizes the draft by itself at AutomaticallyFinalizesAt
	// (zero: the policy's FinalizeDelay after it is made), and collects it.
	AutoAdvance              bool
	AutomaticallyFinalizesAt int64
	// CollectionMethod CollectBySending needs DueDate, or DaysUntilDue
	// (from now).
	CollectionMethod    CollectionMethod
	DaysUntilDue        *int64
	DueDate             int64
	Description, Footer string
	// Number, if set, is the invoice's number instead of the customer's
	// next.
	Number   string
	Metadata map[string]string
	// Discounts are redeemed for the invoice (a spec may reuse the
	// customer's or the subscription's); nil inherits the customer's
	// discount active at now, as Stripe's does, and an empty list none.
	// DefaultTaxRates tax its lines that have none.
	Discounts       *[]DiscountSpec
	DefaultTaxRates []string
}

// InvoiceChange changes an invoice; nil fields stay as they are. Only a
// draft's money, collection, number and finalization can change; an open
// invoice can change its texts, metadata and automatic collection.
type InvoiceChange struct {
	AutoAdvance              *bool
	AutomaticallyFinalizesAt *int64
	CollectionMethod         *CollectionMethod
	DaysUntilDue             *int64
	DueDate                  *int64
	Description, Footer      *string
	Number                   *string
	// Metadata is merged as in MergeMetadata.
	Metadata        map[string]string
	Discounts       *[]DiscountSpec
	DefaultTaxRates *[]string
}

// CreateInvoice makes a draft invoice by hand at now (the customer's
// time) and announces it.
func (e *Engine) CreateInvoice(in NewInvoice, now int64) (*Invoice, error) {
	cust, err := e.L.Customer(in.Customer)
	if err != nil {
		return nil, withParam(err, "customer")
	}
	var sub *Subscription
	if in.Subscription != "" {
		if sub, err = e.L.Subscription(in.Subscription); err != nil {
			return nil, withParam(err, "subscription")
		}
		if sub.Customer != cust.ID {
			return nil, mismatch("subscription", sub.ID, sub.Customer, cust.ID, "subscription")
		}
	}
	inv := e.newInvoice(cust, sub, ReasonManual, now)
	inv.CollectionMethod, inv.DueDate = "", 0
	inv.AutoAdvance, inv.Description, inv.Footer, inv.Number, inv.Metadata = in.AutoAdvance, in.Description, in.Footer, in.Number, in.Metadata
	if inv.Footer == "" {
		inv.Footer = cust.InvoiceFooter
	}
	if err := e.setDue(inv, &in.CollectionMethod, in.DaysUntilDue, nonZero(in.DueDate), now); err != nil {
		return nil, err
	}
	var pending []*InvoiceItem
	if in.IncludePending {
		if pending, err = e.L.PendingInvoiceItems(cust.ID); err != nil {
			return nil, err
		}
	}
	inv.Currency = in.Currency
	switch {
	case inv.Currency != "":
	case sub != nil:
		inv.Currency = sub.Currency
	case cust.BalanceCurrency != "":
		inv.Currency = cust.BalanceCurrency
	case len(pending) > 0:
		inv.Currency = pending[0].Currency
	default:
		inv.Currency = in.DefaultCurrency
	}
	if in.IncludePending {
		if err := e.sweepPending(inv, func(ii *InvoiceItem) bool {
			return ii.Currency == inv.Currency && (sub == nil || ii.Subscription == sub.ID)
		}); err != nil {
			return nil, err
		}
	}
	if len(in.DefaultTaxRates) > 0 {
		if inv.DefaultTaxRates, err = e.checkTaxRates(in.DefaultTaxRates, nil, "default_tax_rates"); err != nil {
			return nil, err
		}
	}
	switch {
	case in.Discounts == nil:
		inv.Discounts = ownerDiscounts(nil, cust, now)
	case len(*in.Discounts) > 0:
		reusable, err := e.ancestorDiscounts(cust, inv.Subscription, nil)
		if err != nil {
			return nil, err
		}
		if inv.Discounts, err = e.RedeemDiscounts(*in.Discounts, DiscountTarget{Customer: cust, Invoice: inv.ID,
			Currency: inv.Currency, Reusable: reusable}, now); err != nil {
			return nil, err
		}
	}
	if err := e.PriceInvoice(inv); err != nil {
		return nil, err
	}
	if _, err := inv.checkedTotal(); err != nil {
		return nil, err
	}
	if err := e.autoFinalize(inv, nonZero(in.AutomaticallyFinalizesAt), now); err != nil {
		return nil, err
	}
	if err := e.L.PutInvoice(inv); err != nil {
		return nil, err
	}
	return inv, e.emit(EventInvoiceCreated, now, snapshotInvoice(inv))
}

func nonZero(t int64) *int64 {
	if t == 0 {
		return nil
	}
	return &t
}

// setDue applies a collection method, days until due (from inv's
// creation) and a due date to inv; nil leaves each as it is. An invoice
// sent for payment needs a due date; one charged automatically takes
// none.
func (e *Engine) setDue(inv *Invoice, method *CollectionMethod, days, due *int64, now int64) error {
	if method != nil && *method != "" {
		inv.CollectionMethod = *method
		if *method != CollectBySending {
			inv.CollectionMethod, inv.DueDate = "", 0
		}
	}
	switch {
	case (days != nil || due != nil) && !inv.sentForPayment():
		param := "due_date"
		if days != nil {
			param = "days_until_due"
		}
		return invalid(CodeDueDateNotSending, param)
	case due != nil:
		if *due <= now {
			err := invalid(CodeDueDateNotFuture, "due_date")
			err.Min = now
			return err
		}
		inv.DueDate = *due
	case days != nil:
		if err := checkDaysUntilDue(*days, "days_until_due"); err != nil {
			return err
		}
		inv.DueDate = inv.Created + *days*secondsPerDay
	case inv.sentForPayment() && inv.DueDate == 0:
		return invalid(CodeDueDateRequired, "days_until_due")
	}
	return nil
}

// autoFinalize plans the automatic finalization of the draft inv: at
// at, or else at the time it had if still ahead, or else the policy's
// FinalizeDelay after now; a draft that does not advance by itself has
// none.
func (e *Engine) autoFinalize(inv *Invoice, at *int64, now int64) error {
	if !inv.AutoAdvance {
		inv.AutomaticallyFinalizesAt = 0
		return nil
	}
	switch {
	case at != nil:
		if *at <= now {
			err := invalid(CodeFinalizeAtNotFuture, "automatically_finalizes_at")
			err.Min = now
			return err
		}
		inv.AutomaticallyFinalizesAt = *at
	case inv.AutomaticallyFinalizesAt > now:
		return nil // planned already
	default:
		policy, err := e.L.Policy()
		if err != nil {
			return err
		}
		inv.AutomaticallyFinalizesAt = now + policy.FinalizeDelay
	}
	return e.L.Schedule(Task{Clock: inv.Clock, At: inv.AutomaticallyFinalizesAt, Kind: TaskFinalize, Subject: inv.ID,
		Expect: inv.AutomaticallyFinalizesAt})
}

// notEditable refuses a change of param to inv, which is not a draft.
func (inv *Invoice) notEditable(param string) *Error {
	e := inv.refusal(CodeInvoiceNotEditable)
	e.Param, e.Status = param, string(inv.Status)
	return e
}

// UpdateInvoice changes invoice id at now and announces the change, if
// any.
func (e *Engine) UpdateInvoice(id string, ch InvoiceChange, now int64) (*Invoice, error) {
	inv, err := e.L.Invoice(id)
	if err != nil {
		return nil, err
	}
	before := snapshotInvoice(inv)
	if inv.Status != InvoiceDraft {
		for _, f := range []struct {
			set   bool
			param string
		}{
			{ch.CollectionMethod != nil, "collection_method"}, {ch.DaysUntilDue != nil, "days_until_due"},
			{ch.DueDate != nil, "due_date"}, {ch.Number != nil, "number"}, {ch.Discounts != nil, "discounts"},
			{ch.DefaultTaxRates != nil, "default_tax_rates"}, {ch.AutomaticallyFinalizesAt != nil, "automatically_finalizes_at"},
			{ch.AutoAdvance != nil && *ch.AutoAdvance && inv.Status != InvoiceOpen, "auto_advance"},
		} {
			if f.set {
				return nil, inv.notEditable(f.param)
			}
		}
	}
	if ch.Description != nil {
		inv.Description = *ch.Description
	}
	if ch.Footer != nil {
		inv.Footer = *ch.Footer
	}
	if ch.Number != nil {
		inv.Number = *ch.Number
	}
	inv.Metadata = MergeMetadata(inv.Metadata, ch.Metadata)
	if ch.AutoAdvance != nil {
		inv.AutoAdvance = *ch.AutoAdvance
	}
	if inv.Status == InvoiceDraft {
		if err := e.setDue(inv, ch.CollectionMethod, ch.DaysUntilDue, ch.DueDate, now); err != nil {
			return nil, err
		}
		if ch.AutomaticallyFinalizesAt != nil && ch.AutoAdvance == nil {
			inv.AutoAdvance = true
		}
		if err := e.autoFinalize(inv, ch.AutomaticallyFinalizesAt, now); err != nil {
			return nil, err
		}
		if err := e.invoiceTerms(inv, ch.Discounts, ch.DefaultTaxRates, now); err != nil {
			return nil, err
		}
	}
	if inv.Status == InvoiceOpen && ch.AutoAdvance != nil && !*ch.AutoAdvance {
		inv.NextPaymentAttempt = 0 // no more automatic retries
	}
	if reflect.DeepEqual(before, inv) {
		return inv, nil
	}
	if inv.Status == InvoiceDraft {
		return inv, e.repriceDraft(inv, before, now)
	}
	if err := e.L.PutInvoice(inv); err != nil {
		return nil, err
	}
	return inv, e.L.Emit(Event{Type: EventInvoiceUpdated, Time: now, Object: snapshotInvoice(inv), Before: before})
}

// invoiceTerms changes the discounts and default tax rates of the draft
// inv; nil leaves each.
func (e *Engine) invoiceTerms(inv *Invoice, discounts *[]DiscountSpec, rates *[]string, now int64) error {
	if rates != nil {
		checked, err := e.checkTaxRates(*rates, inv.DefaultTaxRates, "default_tax_rates")
		if err != nil {
			return err
		}
		inv.DefaultTaxRates = checked
	}
	if discounts == nil || len(*discounts) == 0 && len(inv.Discounts) == 0 {
		return nil
	}
	cust, err := e.L.Customer(inv.Customer)
	if err != nil {
		return err
	}
	reusable, err := e.ancestorDiscounts(cust, inv.Subscription, nil)
	if err != nil {
		return err
	}
	ds, err := e.RedeemDiscounts(*discounts, DiscountTarget{Customer: cust, Invoice: inv.ID, Currency: inv.Currency,
		Reusable: append(slices.Clone(inv.Discounts), reusable...)}, now)
	if err != nil {
		return err
	}
	inv.Discounts = ds
	return nil
}

// DeleteInvoice deletes the draft invoice id, made by hand, at now, with
// the invoice items on it, and announces it.
func (e *Engine) DeleteInvoice(id string, now int64) (*Invoice, error) {
	inv, err := e.L.Invoice(id)
	if err != nil {
		return nil, err
	}
	if inv.Status != InvoiceDraft || inv.BillingReason != ReasonManual {
		err := inv.refusal(CodeInvoiceNotDeletable)
		err.Status = string(inv.Status)
		return nil, err
	}
	for _, l := range inv.Lines {
		if l.InvoiceItem == "" {
			continue
		}
		ii, err := e.L.InvoiceItem(l.InvoiceItem)
		if err != nil {
			if ignoreNotFound(err) == nil {
				continue
			}
			return nil, err
		}
		if err := e.dropItem(ii, now); err != nil {
			return nil, err
		}
	}
	if err := e.L.DeleteInvoice(inv.ID); err != nil {
		return nil, err
	}
	return inv, e.emit(EventInvoiceDeleted, now, snapshotInvoice(inv))
}

// MarkUncollectible marks the open invoice inv uncollectible at now: it
// is no longer collected automatically, and can still be paid or voided.
func (e *Engine) MarkUncollectible(inv *Invoice, now int64) error {
	if inv.Status != InvoiceOpen {
		err := inv.refusal(CodeInvoiceNotOpen)
		err.Status = string(inv.Status)
		return err
	}
	before := snapshotInvoice(inv)
	inv.Status, inv.MarkedUncollectibleAt = InvoiceUncollectible, now
	inv.AutoAdvance, inv.NextPaymentAttempt = false, 0
	if err := e.L.PutInvoice(inv); err != nil {
		return err
	}
	snap := snapshotInvoice(inv)
	if err := e.emit(EventInvoiceMarkedUncollectible, now, snap); err != nil {
		return err
	}
	return e.L.Emit(Event{Type: EventInvoiceUpdated, Time: now, Object: snap, Before: before})
}

// NewLine is a line added to a draft: a pending invoice item of its
// customer (InvoiceItem), or else a new item (Item; its customer and
// invoice are the draft's).
type NewLine struct {
	InvoiceItem string
	Item        NewInvoiceItem
	// Param names the line in errors ("lines[0]").
	Param string
}

// LineRemoval removes a line, billing an invoice item, from a draft: the
// item is deleted, or else it is pending again.
type LineRemoval struct {
	Line   string
	Delete bool
	Param  string
}

// AddLines adds lines to the draft inv at now, and merges metadata into
// its own; its change is announced once.
func (e *Engine) AddLines(inv *Invoice, lines []NewLine, metadata map[string]string, now int64) error {
	if inv.Status != InvoiceDraft {
		return inv.notEditable("lines")
	}
	cust, err := e.L.Customer(inv.Customer)
	if err != nil {
		return err
	}
	before := snapshotInvoice(inv)
	for _, nl := range lines {
		var ii *InvoiceItem
		if nl.InvoiceItem != "" {
			param := nl.Param + "[invoice_item]"
			if ii, err = e.L.InvoiceItem(nl.InvoiceItem); err != nil {
				return withParam(err, param)
			}
			switch {
			case ii.Invoice != "":
				err := invalid(CodeInvoiceItemNotPending, param)
				err.Resource, err.ID, err.Value = "invoice_item", ii.ID, ii.Invoice
				return err
			case ii.Customer != inv.Customer:
				return mismatch("invoice_item", ii.ID, ii.Customer, inv.Customer, param)
			case ii.Currency != inv.Currency:
				return currencyMismatch(inv, ii.Currency)
			}
			ii.Invoice = inv.ID
			if err := e.L.PutInvoiceItem(ii); err != nil {
				return err
			}
		} else {
			in := nl.Item
			in.Customer, in.Invoice = cust.ID, ""
			if in.Currency == "" && in.Price == "" {
				in.Currency = inv.Currency
			}
			if ii, err = e.CreateInvoiceItem(in, now); err != nil {
				return inLine(err, nl.Param)
			}
			if ii.Currency != inv.Currency {
				return currencyMismatch(inv, ii.Currency)
			}
			ii.Invoice = inv.ID
			if err := e.L.PutInvoiceItem(ii); err != nil {
				return err
			}
		}
		inv.Lines = append(inv.Lines, itemLine(e.L.NewID("il_"), ii))
	}
	inv.Metadata = MergeMetadata(inv.Metadata, metadata)
	return e.repriceDraft(inv, before, now)
}

// RemoveLines removes lines from the draft inv at now, and merges
// metadata into its own; its change is announced once.
func (e *Engine) RemoveLines(inv *Invoice, lines []LineRemoval, metadata map[string]string, now int64) error {
	if inv.Status != InvoiceDraft {
		return inv.notEditable("lines")
	}
	before := snapshotInvoice(inv)
	for _, r := range lines {
		i := slices.IndexFunc(inv.Lines, func(l InvoiceLine) bool { return l.ID == r.Line })
		if i < 0 {
			return NotFoundError("line_item", r.Line, r.Param+"[id]")
		}
		l := inv.Lines[i]
		if l.InvoiceItem == "" {
			err := invalid(CodeLineNotRemovable, r.Param+"[id]")
			err.Resource, err.ID = "line_item", l.ID
			return err
		}
		ii, err := e.L.InvoiceItem(l.InvoiceItem)
		if err != nil {
			return err
		}
		if r.Delete {
			if err := e.dropItem(ii, now); err != nil {
				return err
			}
		} else {
			ii.Invoice = ""
			if err := e.L.PutInvoiceItem(ii); err != nil {
				return err
			}
		}
		inv.Lines = slices.Delete(inv.Lines, i, i+1)
	}
	inv.Metadata = MergeMetadata(inv.Metadata, metadata)
	return e.repriceDraft(inv, before, now)
}

// inLine names the parameter of err, a refusal of a new line given in
// line ("lines[0]"), within the line: "tax_rates[0]" becomes
// "lines[0][tax_rates][0]". A parameter named within it already (its
// price, its discounts) stays as it is.
func inLine(err error, line string) error {
	e, ok := err.(*Error)
	if !ok || e.Param == "" || line == "" || strings.HasPrefix(e.Param, line+"[") {
		return err
	}
	head, rest, found := strings.Cut(e.Param, "[")
	if found {
		rest = "[" + rest
	}
	e.Param = line + "[" + head + "]" + rest
	return e
}

// mismatch refuses the object id (resource), given in param, which
// belongs to the customer has rather than want.
func mismatch(resource, id, has, want, param string) *Error {
	e := invalid(CodeCustomerMismatch, param)
	e.Resource, e.ID, e.Value, e.Want = resource, id, has, want
	return e
}

// currencyMismatch refuses an item in currency for inv.
func currencyMismatch(inv *Invoice, currency string) *Error {
	e := inv.refusal(CodeInvoiceCurrencyMismatch)
	e.Value, e.Want = currency, inv.Currency
	return e
}
