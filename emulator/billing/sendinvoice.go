package billing

// This file is collection by sending: an invoice is sent to the customer,
// who pays it by its due date, rather than charged. Such an invoice is
// finalized like any other, then sent (when it advances by itself, or by
// hand) and never attempted: the customer pays it by hand, or it is paid
// out of band. At its due date, an invoice still open is overdue: that is
// announced, and a subscription whose latest invoice it is becomes past
// due. A subscription that collects by sending is active from the start,
// and each of its invoices is due its DaysUntilDue after it is made.

// CollectionMethod says how an invoice is collected.
type CollectionMethod string

// Collection methods; the zero value charges automatically.
const (
	// CollectAutomatically charges the customer's payment method, at once
	// and then on the dunning policy's retries.
	CollectAutomatically CollectionMethod = "automatic"
	// CollectBySending sends the invoice for the customer to pay by its
	// due date; nothing is charged automatically.
	CollectBySending CollectionMethod = "send"
)

// MaxDaysUntilDue is the longest time until due billclock takes, in days
// (ten years).
const MaxDaysUntilDue = 3650

// Event types of collection by sending.
const (
	EventInvoiceSent    EventType = "invoice.sent"
	EventInvoiceOverdue EventType = "invoice.overdue"
)

// Error codes of collection by sending.
const (
	// CodeDueDateRequired: invoices collected by sending need a due date
	// (Param: the parameter that gives one).
	CodeDueDateRequired Code = "due_date_required"
	// CodeDueDateNotSending: a due date (Param) for invoices that are
	// charged automatically.
	CodeDueDateNotSending Code = "due_date_not_sending"
	// CodeDaysUntilDueRange: days until due (Param) outside [Min, Max].
	CodeDaysUntilDueRange Code = "days_until_due_range"
	// CodeDueDateNotFuture: a due date (Param) that is not after now,
	// Min.
	CodeDueDateNotFuture Code = "due_date_not_future"
	// CodeInvoiceNotSendable: the invoice ID, in Status, cannot be sent.
	CodeInvoiceNotSendable Code = "invoice_not_sendable"
)

// sendsInvoices reports whether s sends its invoices for payment.
func (s *Subscription) sendsInvoices() bool { return s.CollectionMethod == CollectBySending }

// sentForPayment reports whether inv is sent for payment rather than
// charged.
func (inv *Invoice) sentForPayment() bool { return inv.CollectionMethod == CollectBySending }

// SentForPayment reports whether inv is sent for the customer to pay
// rather than charged.
func (inv *Invoice) SentForPayment() bool { return inv.sentForPayment() }

// SendsInvoices reports whether s sends its invoices for the customer to
// pay rather than charging them.
func (s *Subscription) SendsInvoices() bool { return s.sendsInvoices() }

// checkDaysUntilDue refuses days until due, given in param, out of range.
func checkDaysUntilDue(days int64, param string) error {
	if days < 0 || days > MaxDaysUntilDue {
		e := invalid(CodeDaysUntilDueRange, param)
		e.Min, e.Max = 0, MaxDaysUntilDue
		return e
	}
	return nil
}

// setCollection applies a collection method and days until due to s,
// either of which may be nil (unchanged); an empty method is unchanged
// too. A subscription that starts sending its invoices needs days until
// due; one charged automatically takes none (and loses any it had).
func setCollection(s *Subscription, method *CollectionMethod, days *int64) error {
	was := s.sendsInvoices()
	switch {
	case method == nil || *method == "":
	case *method == CollectBySending:
		s.CollectionMethod = CollectBySending
	default:
		s.CollectionMethod, s.DaysUntilDue = "", 0
	}
	switch {
	case days != nil && !s.sendsInvoices():
		return invalid(CodeDueDateNotSending, "days_until_due")
	case days != nil:
		if err := checkDaysUntilDue(*days, "days_until_due"); err != nil {
			return err
		}
		s.DaysUntilDue = *days
	case s.sendsInvoices() && !was:
		return invalid(CodeDueDateRequired, "days_until_due")
	}
	return nil
}

// issue sends inv, just finalized, for the customer to pay: what an
// invoice collected by sending gets instead of a payment attempt.
func (e *Engine) issue(inv *Invoice, at int64) error {
	inv.SentAt = at
	if err := e.L.PutInvoice(inv); err != nil {
		return err
	}
	return e.emit(EventInvoiceSent, at, snapshotInvoice(inv))
}

// SendInvoice sends inv to its customer at now, by hand: a draft is
// finalized first. A paid invoice can be sent again (a receipt); a void
// one cannot.
func (e *Engine) SendInvoice(inv *Invoice, now int64) error {
	switch inv.Status {
	case InvoiceVoid:
		err := inv.refusal(CodeInvoiceNotSendable)
		err.Status = string(inv.Status)
		return err
	case InvoiceDraft:
		cust, err := e.L.Customer(inv.Customer)
		if err != nil {
			return err
		}
		if err := e.finalize(inv, cust, now); err != nil {
			return err
		}
	}
	return e.issue(inv, now)
}

// scheduleOverdue plans the overdue notice of inv, just finalized at now,
// if it is sent for payment: at its due date (at once if that has
// passed).
func (e *Engine) scheduleOverdue(inv *Invoice, now int64) error {
	if !inv.sentForPayment() || inv.DueDate == 0 || inv.Status != InvoiceOpen {
		return nil
	}
	return e.L.Schedule(Task{Clock: inv.Clock, At: max(inv.DueDate, now), Kind: TaskOverdue, Subject: inv.ID, Expect: inv.DueDate})
}

// overdue announces that an invoice sent for payment is still open at its
// due date. A subscription whose latest invoice it is, and that is
// active, becomes past due.
func (e *Engine) overdue(t *Task) error {
	inv, err := e.L.Invoice(t.Subject)
	if err != nil || inv.Status != InvoiceOpen || !inv.sentForPayment() || inv.DueDate != t.Expect {
		return ignoreNotFound(err)
	}
	if err := e.emit(EventInvoiceOverdue, t.At, snapshotInvoice(inv)); err != nil {
		return err
	}
	sub, err := e.subscriptionOf(inv)
	if err != nil || sub == nil || sub.LatestInvoice != inv.ID || sub.Status != StatusActive {
		return err
	}
	before := snapshotSub(sub)
	sub.Status = StatusPastDue
	if err := e.L.PutSubscription(sub); err != nil {
		return err
	}
	return e.emitUpdated(before, sub, t.At)
}
