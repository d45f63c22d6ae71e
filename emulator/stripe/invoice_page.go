package stripe

import (
	"errors"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/store"
)

// This file is the hosted invoice page (hosted_invoice_url) and the
// address of its PDF (invoice_pdf, invoice_pdf.go). A finalized invoice
// gets both; they work without an API key, their token being the
// capability (pages.go). The page shows the invoice and lets the customer
// pay an open one with a test card: the engine's Pay with that card, as
// POST /v1/invoices/{id}/pay with payment_method does, a declined attempt
// kept as it is there.

// invoiceLinks are an invoice's hosted_invoice_url and invoice_pdf: null
// for a draft, as at Stripe, and where no server address is known.
func invoiceLinks(inv *billing.Invoice, lk renderLookup) (hosted, pdf *string) {
	l, ok := lk.(*ledger)
	if !ok || l.base == "" || inv.Status == billing.InvoiceDraft {
		return nil, nil
	}
	key := l.Account()
	tok := pageToken(key, pageInvoice, inv.ID)
	h := l.base + invoicePagePath + accountID(key) + "/" + tok
	p := l.base + invoicePDFPath + accountID(key) + "/" + tok + "/pdf"
	return &h, &p
}

// invoiceView is what the hosted invoice page (and the PDF) shows.
type invoiceView struct {
	ID, Number, Status, Business        string
	CustomerName, CustomerEmail         string
	Issued, PeriodStart, PeriodEnd      string
	PaidAt, NextAttempt                 string
	Lines                               []invoiceLineView
	Subtotal, Total, AmountDue          string
	AmountPaid, AmountRemaining         string
	Discounts, Taxes                    []labelledAmount
	Balance                             string
	Payable                             bool
	PDFURL                              string
	Message, Notice                     string
	Form                                checkoutForm
	Currency                            string
	amountDue, amountPaid, amountRemain int64
	issuedAt                            int64
}

type invoiceLineView struct {
	Description, Period, Amount string
	Quantity                    int64
}

type labelledAmount struct {
	Label, Amount string
}

// invoiceView builds the page of inv.
func (l *ledger) invoiceView(inv *billing.Invoice) (*invoiceView, error) {
	totals, err := inv.Totals()
	if err != nil {
		return nil, err
	}
	cur := inv.Currency
	v := &invoiceView{ID: inv.ID, Number: inv.Number, Status: string(inv.Status), Business: "billclock test account",
		PeriodStart: formatDate(inv.PeriodStart), PeriodEnd: formatDate(inv.PeriodEnd), Currency: cur,
		Subtotal: formatMoney(totals.Subtotal, cur), Total: formatMoney(totals.Total, cur)}
	issued := inv.FinalizedAt
	if issued == 0 {
		issued = inv.Created
	}
	v.Issued, v.issuedAt = formatDate(issued), issued
	if inv.PaidAt != 0 {
		v.PaidAt = formatDate(inv.PaidAt)
	}
	if inv.NextPaymentAttempt != 0 && inv.Status == billing.InvoiceOpen {
		v.NextAttempt = formatDate(inv.NextPaymentAttempt)
	}
	cust, err := l.Customer(inv.Customer)
	switch {
	case err == nil:
		v.CustomerName, v.CustomerEmail = cust.Name, cust.Email
	case !isMissing(err):
		return nil, err
	}
	for _, line := range inv.Lines {
		desc := ""
		if d := describeLine(line.Billed, line.Description, line.Quantity, line.PeriodStart, cur); d != nil {
			desc = *d
		}
		v.Lines = append(v.Lines, invoiceLineView{Description: desc, Quantity: line.Quantity, Amount: formatMoney(line.Amount, cur),
			Period: formatDate(line.PeriodStart) + " – " + formatDate(line.PeriodEnd)})
	}
	for _, d := range totals.Discounts {
		label := "Discount"
		for _, dd := range inv.Discounts {
			if dd.ID == d.Discount && dd.Coupon.Name != "" {
				label = dd.Coupon.Name
			}
		}
		v.Discounts = append(v.Discounts, labelledAmount{Label: label, Amount: "−" + formatMoney(d.Amount, cur)})
	}
	for _, t := range totals.Taxes {
		label := "Tax"
		if r, err := l.TaxRate(t.TaxRate); err == nil {
			label = r.DisplayName + " (" + r.Percentage.String() + "%)"
		}
		v.Taxes = append(v.Taxes, labelledAmount{Label: label, Amount: formatMoney(t.Amount, cur)})
	}
	if applied := inv.StartingBalance - inv.EndingBalance; applied != 0 && inv.Status != billing.InvoiceDraft {
		v.Balance = formatMoney(applied, cur)
	}
	v.amountDue, v.amountPaid = inv.AmountDue(), inv.AmountPaid
	v.amountRemain = v.amountDue - v.amountPaid
	if inv.Status == billing.InvoicePaid || inv.Status == billing.InvoiceVoid {
		v.amountRemain = 0
	}
	v.AmountDue, v.AmountPaid, v.AmountRemaining = formatMoney(v.amountDue, cur), formatMoney(v.amountPaid, cur),
		formatMoney(v.amountRemain, cur)
	v.Payable = (inv.Status == billing.InvoiceOpen || inv.Status == billing.InvoiceUncollectible) && v.amountRemain > 0
	return v, nil
}

// openInvoicePage opens the invoice of the page at r.
func (s *Surface) openInvoicePage(tx *store.Tx, r *http.Request) (*ledger, *billing.Invoice, error) {
	vars := mux.Vars(r)
	key, id, err := s.openPage(tx, vars["token"], pageInvoice, vars["acct"])
	if err != nil {
		return nil, nil, err
	}
	l, err := s.pageLedger(tx, key)
	if err != nil {
		return nil, nil, err
	}
	inv, err := l.Invoice(id)
	if err != nil {
		return nil, nil, err
	}
	if inv.Status == billing.InvoiceDraft {
		return nil, nil, errPageNotFound
	}
	return l, inv, nil
}

func (s *Surface) loadInvoiceView(tx *store.Tx, r *http.Request) (*invoiceView, error) {
	l, inv, err := s.openInvoicePage(tx, r)
	if err != nil {
		return nil, err
	}
	v, err := l.invoiceView(inv)
	if err != nil {
		return nil, err
	}
	v.PDFURL = r.URL.Path
	if vars := mux.Vars(r); vars["acct"] != "" {
		v.PDFURL = invoicePDFPath + vars["acct"] + "/" + vars["token"] + "/pdf"
	}
	return v, nil
}

// invoicePage serves GET /i/{acct}/{token}.
func (s *Surface) invoicePage(w http.ResponseWriter, r *http.Request) {
	var v *invoiceView
	err := s.db.View(func(tx *store.Tx) (err error) {
		v, err = s.loadInvoiceView(tx, r)
		return err
	})
	if err != nil {
		s.pageError(w, err)
		return
	}
	if r.URL.Query().Get("paid") != "" && v.Status == string(billing.InvoicePaid) {
		v.Notice = "Thank you: the invoice is paid."
	}
	s.writePage(w, http.StatusOK, "invoice.html", v)
}

// invoiceSubmit serves POST /i/{acct}/{token}: paying the invoice with a
// test card.
func (s *Surface) invoiceSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	form, in, err := readCheckoutForm(r)
	var refusal *Error
	if err == nil {
		err = s.db.Batch(func(tx *store.Tx) error {
			refusal = nil
			l, inv, err := s.openInvoicePage(tx, r)
			if err != nil {
				return err
			}
			now, err := l.TimeOn(inv.Clock, s.now().Unix())
			if err != nil {
				return err
			}
			pm, err := l.checkoutCard(in, inv.Customer, now)
			if err != nil {
				return err
			}
			err = l.Engine().Pay(inv, billing.PayOptions{PaymentMethod: pm}, now)
			var d *billing.Declined
			if errors.As(err, &d) {
				// As at POST /v1/invoices/{id}/pay: the failed attempt is
				// kept, and the customer sees why.
				refusal = errCardDeclined(d.Reason)
				return nil
			}
			return err
		})
	}
	if err == nil && refusal == nil {
		s.rt.WakeDeliverer()
		http.Redirect(w, r, r.URL.Path+"?paid=1", http.StatusSeeOther)
		return
	}
	if err == nil {
		s.rt.WakeDeliverer()
		err = refusal
	}
	e, known := apiError(err)
	if !known || errors.Is(err, errPageNotFound) || isMissing(err) {
		s.pageError(w, err)
		return
	}
	var v *invoiceView
	if verr := s.db.View(func(tx *store.Tx) (err error) {
		v, err = s.loadInvoiceView(tx, r)
		return err
	}); verr != nil {
		s.pageError(w, verr)
		return
	}
	v.Message, v.Form = e.Message, form
	v.Form.Card, v.Form.CVC = "", ""
	status := e.Status
	if status < 400 {
		status = http.StatusBadRequest
	}
	s.writePage(w, status, "invoice.html", v)
}
