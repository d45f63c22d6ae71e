package stripe

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// This file is the Checkout page a session's url opens: the line items
// and totals, and a form that takes a test card. Paying completes the
// session (checkout_complete.go) and redirects to its success_url; a
// declined card shows Stripe's message on the page.

// checkoutView is what the Checkout page shows.
type checkoutView struct {
	ID, Status, Mode, Business string
	Lines                      []checkoutLineView
	Subtotal, Discount, Total  string
	HasDiscount, Recurring     bool
	TotalLabel, Submit, Trial  string
	Email                      string
	EmailLocked, AskEmail      bool
	AllowPromo                 bool
	CancelURL, SuccessURL      string
	Message                    string
	Form                       checkoutForm
	Expired, Complete          bool
}

type checkoutLineView struct {
	Index                 int
	Name, Unit, Total     string
	Quantity              int64
	Adjustable            bool
	Min, Max              int64
	Interval, DiscountAmt string
}

// checkoutForm is what the customer typed, shown again after a refusal.
type checkoutForm struct {
	Card, Exp, CVC, Name, Email, Promo string
}

// checkoutView builds the page of cs at now (the session's time).
func (l *ledger) checkoutView(cs *checkoutSession, now int64) (*checkoutView, error) {
	v := &checkoutView{ID: cs.ID, Status: cs.Status, Mode: cs.Mode, Business: "billclock test account",
		CancelURL: cs.CancelURL, SuccessURL: successRedirect(cs), AllowPromo: cs.AllowPromotionCodes != nil && *cs.AllowPromotionCodes}
	v.Expired = cs.Status == "expired" || cs.Status == "open" && now >= cs.ExpiresAt
	v.Complete = cs.Status == "complete"
	switch cs.Mode {
	case "subscription":
		v.Submit, v.TotalLabel = "Subscribe", "Total due today"
	case "payment":
		v.Submit, v.TotalLabel = "Pay", "Total due"
	default:
		v.Submit = "Save card"
	}
	if cs.SubmitType == "donate" {
		v.Submit = "Donate"
	} else if cs.SubmitType == "book" {
		v.Submit = "Book"
	}
	a, err := cs.amounts(l)
	if err != nil {
		return nil, err
	}
	for i, line := range cs.Lines {
		la := a.Lines[i]
		lv := checkoutLineView{Index: i, Name: la.ProductName, Quantity: line.Quantity,
			Unit: formatMoney(la.Price.UnitAmount, cs.Currency), Total: formatMoney(la.Subtotal, cs.Currency)}
		if lv.Name == "" {
			lv.Name = la.Price.ID
		}
		if la.Price.Recurring != nil {
			lv.Interval = "per " + describeInterval(*la.Price.Recurring)
			v.Recurring = true
		}
		if line.Adjustable != nil && cs.Status == "open" {
			lv.Adjustable, lv.Min, lv.Max = true, line.Adjustable.Min, line.Adjustable.Max
		}
		v.Lines = append(v.Lines, lv)
	}
	v.Subtotal, v.Discount, v.Total = formatMoney(a.Subtotal, cs.Currency), formatMoney(a.Discount, cs.Currency),
		formatMoney(a.Total, cs.Currency)
	v.HasDiscount = a.Discount != 0
	if cs.Mode == "subscription" && cs.TrialPeriodDays > 0 {
		v.Trial = fmt.Sprintf("%d days free", cs.TrialPeriodDays)
		v.Total = formatMoney(0, cs.Currency)
	}
	v.Email = cs.CustomerEmail
	if cs.Customer != "" {
		cust, err := l.Customer(cs.Customer)
		if err != nil && !isMissing(err) {
			return nil, err
		}
		if err == nil {
			v.Email = cust.Email
		}
		v.EmailLocked = true
	} else if cs.CustomerEmail != "" {
		v.EmailLocked = true
	}
	v.AskEmail = !v.EmailLocked && (cs.Mode != "payment" || cs.CustomerCreation == "always")
	return v, nil
}

// checkoutPage serves GET /c/pay/{token}.
func (s *Surface) checkoutPage(w http.ResponseWriter, r *http.Request) {
	var v *checkoutView
	err := s.db.View(func(tx *store.Tx) error {
		var err error
		v, err = s.loadCheckoutView(tx, mux.Vars(r)["token"])
		return err
	})
	if err != nil {
		s.pageError(w, err)
		return
	}
	s.writePage(w, http.StatusOK, "checkout.html", v)
}

// loadCheckoutView opens the session token names and builds its page.
func (s *Surface) loadCheckoutView(tx *store.Tx, token string) (*checkoutView, error) {
	key, id, err := s.openPage(tx, token, pageCheckout, "")
	if err != nil {
		return nil, err
	}
	l, err := s.pageLedger(tx, key)
	if err != nil {
		return nil, err
	}
	cs, err := l.checkoutSession(id)
	if err != nil {
		return nil, err
	}
	now, err := l.TimeOn(cs.Clock, s.now().Unix())
	var busy *clockwork.ClockBusyError
	if errors.As(err, &busy) {
		// An advancing clock: the page as it stood before the advance.
		clock, cerr := l.Clock(cs.Clock)
		if cerr != nil {
			return nil, cerr
		}
		now, err = clock.FrozenTime, nil
	}
	if err != nil {
		return nil, err
	}
	return l.checkoutView(cs, now)
}

// readCheckoutForm reads the Checkout page's form.
func readCheckoutForm(r *http.Request) (checkoutForm, checkoutInput, error) {
	var f checkoutForm
	var in checkoutInput
	if err := r.ParseForm(); err != nil {
		return f, in, invalid("", "The form could not be read.")
	}
	f = checkoutForm{Card: r.PostForm.Get("card"), Exp: r.PostForm.Get("exp"), CVC: r.PostForm.Get("cvc"),
		Name: r.PostForm.Get("name"), Email: r.PostForm.Get("email"), Promo: r.PostForm.Get("promotion_code")}
	in = checkoutInput{card: f.Card, cvc: strings.TrimSpace(f.CVC), email: f.Email, name: f.Name,
		promotionCode: f.Promo, quantities: map[int]int64{}}
	if exp := strings.TrimSpace(f.Exp); exp != "" {
		m, y, ok := parseExpiry(exp)
		if !ok {
			return f, in, &Error{Status: http.StatusPaymentRequired, Type: typeCard, Code: "invalid_expiry_year",
				Message: "Your card's expiration date is incomplete."}
		}
		in.expMonth, in.expYear = m, y
	}
	for k, vs := range r.PostForm {
		idx, ok := strings.CutPrefix(k, "quantity_")
		if !ok || len(vs) == 0 {
			continue
		}
		i, err := strconv.Atoi(idx)
		q, qerr := strconv.ParseInt(strings.TrimSpace(vs[0]), 10, 64)
		if err != nil || qerr != nil || i < 0 || i > checkoutMaxLineItems {
			return f, in, invalid("quantity", "Enter a whole number as the quantity.")
		}
		in.quantities[i] = q
	}
	return f, in, nil
}

// parseExpiry reads "MM / YY", "MM/YYYY" or "MMYY".
func parseExpiry(s string) (month, year int64, ok bool) {
	s = strings.ReplaceAll(strings.ReplaceAll(s, " ", ""), "-", "/")
	var mm, yy string
	if m, y, found := strings.Cut(s, "/"); found {
		mm, yy = m, y
	} else if len(s) == 4 || len(s) == 6 {
		mm, yy = s[:2], s[2:]
	} else {
		return 0, 0, false
	}
	m, err1 := strconv.ParseInt(mm, 10, 64)
	y, err2 := strconv.ParseInt(yy, 10, 64)
	if err1 != nil || err2 != nil || len(yy) != 2 && len(yy) != 4 {
		return 0, 0, false
	}
	return m, y, true
}

// checkoutSubmit serves POST /c/pay/{token}: the Pay button.
func (s *Surface) checkoutSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	token := mux.Vars(r)["token"]
	form, in, ferr := readCheckoutForm(r)
	var redirect string
	err := ferr
	var account string
	if err == nil {
		err = s.db.Batch(func(tx *store.Tx) error {
			key, id, err := s.openPage(tx, token, pageCheckout, "")
			account = key
			if err != nil {
				return err
			}
			l, err := s.pageLedger(tx, key)
			if err != nil {
				return err
			}
			cs, err := l.checkoutSession(id)
			if err != nil {
				return err
			}
			now, err := l.checkoutNow(cs, s.now().Unix())
			if err != nil {
				return err
			}
			if err := l.completeCheckout(cs, in, now); err != nil {
				return err
			}
			redirect = successRedirect(cs)
			return nil
		})
	}
	if err == nil {
		s.rt.WakeDeliverer()
		if redirect == "" {
			redirect = r.URL.Path
		}
		http.Redirect(w, r, redirect, http.StatusSeeOther)
		return
	}
	if errors.Is(err, errPageNotFound) || isMissing(err) {
		s.pageError(w, err)
		return
	}
	s.recordAfterRollback(account, nil, err)
	e, known := apiError(err)
	if !known {
		s.pageError(w, err)
		return
	}
	// A refusal or a decline: the page again, with Stripe's message.
	var v *checkoutView
	verr := s.db.View(func(tx *store.Tx) error {
		var err error
		v, err = s.loadCheckoutView(tx, token)
		return err
	})
	if verr != nil {
		s.pageError(w, verr)
		return
	}
	v.Message, v.Form = e.Message, form
	v.Form.Card, v.Form.CVC = "", "" // a card's details are never sent back
	status := e.Status
	if status < 400 {
		status = http.StatusBadRequest
	}
	s.writePage(w, status, "checkout.html", v)
}
