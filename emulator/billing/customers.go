package billing

// This file holds what a customer is besides being billed: contact
// details and preferences that invoices show, and changes of its balance
// made by hand (an initial balance, or an adjustment).

// Address is a postal address. Every field is optional.
type Address struct {
	Line1      string `json:"line1,omitempty"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city,omitempty"`
	State      string `json:"state,omitempty"`
	PostalCode string `json:"postal_code,omitempty"`
	Country    string `json:"country,omitempty"`
}

// Shipping is where and to whom goods are shipped.
type Shipping struct {
	Name    string  `json:"name"`
	Phone   string  `json:"phone,omitempty"`
	Address Address `json:"address"`
}

// TaxExempt is a customer's tax exemption.
type TaxExempt string

// Tax exemptions; the zero value is none.
const (
	TaxExemptNone    TaxExempt = ""
	TaxExemptExempt  TaxExempt = "exempt"
	TaxExemptReverse TaxExempt = "reverse"
)

// BalanceInitial is the type of the balance transaction that records a
// balance a customer was created with.
const BalanceInitial BalanceTransactionType = "initial"

// InitialBalance records the balance cust was created with (its Balance,
// in its BalanceCurrency) as its initial balance transaction at now, and
// announces it. The caller has saved and announced cust.
func (e *Engine) InitialBalance(cust *Customer, now int64) error {
	bt := &BalanceTransaction{ID: e.L.NewID("cbtxn_"), Created: now, Customer: cust.ID, Clock: cust.Clock,
		Amount: cust.Balance, Currency: cust.BalanceCurrency, EndingBalance: cust.Balance, Type: BalanceInitial}
	if err := e.L.PutBalanceTransaction(bt); err != nil {
		return err
	}
	c := *bt
	return e.emit(EventBalanceTransactionCreated, now, &c)
}

// SetBalance sets cust's balance to balance (in currency, used when the
// customer has no balance currency yet) at now and records the change as
// a balance transaction of kind (BalanceInitial for a new customer,
// BalanceAdjustment otherwise), which it announces. It saves cust but
// does not announce the customer's own change: the caller does, once with
// whatever else the request changed. Setting the balance it has does
// nothing.
func (e *Engine) SetBalance(cust *Customer, balance int64, currency string, kind BalanceTransactionType, now int64) error {
	if balance == cust.Balance {
		return nil
	}
	if cust.BalanceCurrency != "" {
		currency = cust.BalanceCurrency
	}
	amount, err := addAmount(balance, -cust.Balance)
	if err != nil {
		return err
	}
	cust.Balance, cust.BalanceCurrency = balance, currency
	if err := e.L.PutCustomer(cust); err != nil {
		return err
	}
	bt := &BalanceTransaction{ID: e.L.NewID("cbtxn_"), Created: now, Customer: cust.ID, Clock: cust.Clock,
		Amount: amount, Currency: currency, EndingBalance: balance, Type: kind}
	if err := e.L.PutBalanceTransaction(bt); err != nil {
		return err
	}
	c := *bt
	return e.emit(EventBalanceTransactionCreated, now, &c)
}
