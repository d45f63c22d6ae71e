package clockwork

import "github.com/billclock/billclock/emulator/billing"

// This file keeps setups and refunds (billing.SetupLedger and
// billing.RefundLedger), each refund filed under its charge.

// Collections of setups and refunds, which dialects list.
const (
	SetupsCollection  = "setups"
	RefundsCollection = "refunds"
)

// refundsByCharge files each refund under its charge.
const refundsByCharge = "refunds_by_charge"

// Kinds of setups and refunds, as not-found errors name them.
const (
	KindSetup  = "setup"
	KindRefund = "refund"
)

var (
	_ billing.SetupLedger  = (*Ledger)(nil)
	_ billing.RefundLedger = (*Ledger)(nil)
)

// Setup returns a setup (Stripe's SetupIntent).
func (l *Ledger) Setup(id string) (*billing.Setup, error) {
	var s billing.Setup
	return &s, l.Get(SetupsCollection, KindSetup, id, &s)
}

// PutSetup stores a setup.
func (l *Ledger) PutSetup(s *billing.Setup) error {
	return l.Put(SetupsCollection, s.ID, s.Created, s)
}

// Refund returns a refund.
func (l *Ledger) Refund(id string) (*billing.Refund, error) {
	var r billing.Refund
	return &r, l.Get(RefundsCollection, KindRefund, id, &r)
}

// PutRefund stores a refund, filed under its charge.
func (l *Ledger) PutRefund(r *billing.Refund) error {
	if err := l.Put(RefundsCollection, r.ID, r.Created, r); err != nil {
		return err
	}
	x, err := l.index(refundsByCharge)
	if err != nil {
		return err
	}
	return x.Add(r.Charge, r.ID)
}

// RefundsOf returns a charge's refunds, oldest first.
func (l *Ledger) RefundsOf(charge string) ([]*billing.Refund, error) {
	var out []*billing.Refund
	err := eachIndexed(l, refundsByCharge, charge, l.Refund, func(r *billing.Refund) error {
		out = append(out, r)
		return nil
	})
	return out, err
}
