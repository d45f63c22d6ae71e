package commet

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/mux"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// This file is the checkout billclock serves for Commet subscriptions: the
// checkoutUrl of a subscription opens a small page where a person pays
// with a test card (GET), and the same address completes it for tests
// (POST {"cardNumber": "..."}, the card defaulting to 4242 4242 4242 4242),
// outside /api/v1 and without an API key: the address itself is the
// capability, as a hosted checkout link is. Completing it stores the card
// as the customer's default and pays the subscription's outstanding
// invoice: the first one of a pending_payment subscription (which becomes
// active), or the failed renewal of a past_due one (recovery).

// CheckoutPath is where the checkout pages of subscriptions are served,
// each under its token (a subscription's checkoutUrl).
const CheckoutPath = "/_billclock/commet/checkout/"

// checkoutQueue maps checkout tokens to their organization and
// subscription, across accounts.
const checkoutQueue = "commet_checkouts"

type checkoutRef struct {
	Account      string `json:"account"`
	Subscription string `json:"subscription"`
}

// fileCheckout files the checkout token of subscription sub.
func fileCheckout(l *clockwork.Ledger, token, sub string) error {
	q, err := l.Tx().Queue(checkoutQueue)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(checkoutRef{Account: l.Account(), Subscription: sub})
	if err != nil {
		return err
	}
	return q.Put(token, raw)
}

func findCheckout(tx *store.Tx, token string) (*checkoutRef, error) {
	q, err := tx.Queue(checkoutQueue)
	if err != nil {
		return nil, err
	}
	raw, err := q.Get(token)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("checkout_not_found", "No checkout at this address.")
	}
	if err != nil {
		return nil, err
	}
	var ref checkoutRef
	return &ref, json.Unmarshal(raw, &ref)
}

// checkoutRoutes adds the checkout's routes.
func (s *Surface) checkoutRoutes(r *mux.Router) {
	r.HandleFunc(CheckoutPath+"{token}", s.checkoutPage).Methods(http.MethodGet)
	r.HandleFunc(CheckoutPath+"{token}", s.completeCheckout).Methods(http.MethodPost)
}

// checkoutState is what the page shows.
type checkoutState struct {
	Plan, Status, Amount, Customer, Message string
	Payable                                 bool
	Card                                    string
}

var checkoutTemplate = template.Must(template.New("checkout").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Checkout: {{.Plan}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}
input,button{font-size:1rem;padding:.5rem;width:100%;box-sizing:border-box;margin:.25rem 0}
.note{color:#555;font-size:.9rem}.msg{padding:.5rem;background:#eef}</style></head>
<body><h1>{{.Plan}}</h1>
<p>Customer: {{.Customer}}<br>Subscription: {{.Status}}</p>
{{if .Message}}<p class="msg">{{.Message}}</p>{{end}}
{{if .Payable}}<p>Amount due: <strong>{{.Amount}}</strong></p>
<form method="post"><label>Card number <input name="cardNumber" value="{{.Card}}" autocomplete="off"></label>
<button type="submit">Pay</button></form>
<p class="note">billclock sandbox checkout. Test cards: 4242 4242 4242 4242 pays; 4000 0000 0000 0341 pays now and
declines every later charge; 4000 0000 0000 9995, 4000 0000 0000 0002 and 4000 0000 0000 0069 are declined.</p>
{{end}}</body></html>`))

// due is the invoice a checkout pays for sub, or nil.
func due(l *clockwork.Ledger, sub *billing.Subscription) (*billing.Invoice, error) {
	if sub.LatestInvoice == "" {
		return nil, nil
	}
	inv, err := l.Invoice(sub.LatestInvoice)
	if err != nil {
		return nil, err
	}
	if inv.Status == billing.InvoiceOpen || inv.Status == billing.InvoiceUncollectible {
		return inv, nil
	}
	return nil, nil
}

func (s *Surface) checkoutState(l *clockwork.Ledger, sub *billing.Subscription, rec *subscriptionRecord) (*checkoutState, error) {
	st := &checkoutState{Status: statusOf(sub), Card: "4242 4242 4242 4242"}
	if p, err := s.plan(l, rec.PlanID); err == nil {
		st.Plan = p.Name
	}
	if c, err := l.Customer(sub.Customer); err == nil {
		st.Customer = c.Email
	}
	inv, err := due(l, sub)
	if err != nil {
		return nil, err
	}
	if inv != nil && !sub.Ended() {
		st.Payable, st.Amount = true, dollars(inv.AmountDue())
	}
	if !st.Payable && !sub.Ended() {
		st.Message = "Nothing is due."
	}
	return st, nil
}

func (s *Surface) checkoutPage(w http.ResponseWriter, r *http.Request) {
	var st *checkoutState
	err := s.db.View(func(tx *store.Tx) error {
		ref, err := findCheckout(tx, mux.Vars(r)["token"])
		if err != nil {
			return err
		}
		l, err := s.rt.Ledger(tx, s, ref.Account, nil)
		if err != nil {
			return err
		}
		sub, rec, err := subscriptionOf(l, ref.Subscription)
		if err != nil {
			return err
		}
		st, err = s.checkoutState(l, sub, rec)
		return err
	})
	s.answerPage(w, st, err)
}

func (s *Surface) answerPage(w http.ResponseWriter, st *checkoutState, err error) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("x-request-id", clockwork.NewID("req_", 20))
	if err != nil {
		e, known := apiError(err)
		if !known {
			s.log.Error("checkout", "err", err.Error())
		}
		w.WriteHeader(e.Status)
		if st == nil {
			st = &checkoutState{Plan: "Checkout"}
		}
		st.Message = e.Message
		st.Payable = st.Payable && e.Status != http.StatusNotFound
	}
	checkoutTemplate.Execute(w, st)
}

// completeCheckout serves POST on a checkout's address: JSON
// {"cardNumber"} for tests (answering JSON), or the page's form.
func (s *Surface) completeCheckout(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	form := isForm(r.Header.Get("Content-Type"))
	number := DefaultCard
	if err == nil {
		if form {
			var v url.Values
			if v, err = url.ParseQuery(string(raw)); err == nil && strings.TrimSpace(v.Get("cardNumber")) != "" {
				number = v.Get("cardNumber")
			}
		} else {
			var fields map[string]any
			if fields, err = decodeBody(raw); err == nil {
				p := newParams(fields)
				if n, ok := p.str("cardNumber", 40); ok {
					number = n
				}
				err = p.check()
			}
		}
	}
	var sub *billing.Subscription
	var rec *subscriptionRecord
	var st *checkoutState
	if err == nil {
		err = s.db.Batch(func(tx *store.Tx) error {
			var err error
			sub, rec, st, err = s.pay(tx, mux.Vars(r)["token"], number)
			return err
		})
	}
	if err == nil {
		s.rt.WakeDeliverer()
	}
	if form {
		if err == nil {
			st.Message = "Payment complete. The subscription is " + st.Status + "."
		}
		s.answerPage(w, st, err)
		return
	}
	w.Header().Set("x-request-id", clockwork.NewID("req_", 20))
	if err != nil {
		e, known := apiError(err)
		if !known {
			s.log.Error("checkout", "err", err.Error())
		}
		writeJSON(w, e.Status, mustJSON(e.body()))
		return
	}
	writeJSON(w, http.StatusOK, mustJSON(map[string]any{"object": "checkout", "status": "completed",
		"subscriptionId": sub.ID, "subscriptionStatus": statusOf(sub), "customerId": sub.Customer,
		"checkoutUrl": rec.CheckoutURL, "livemode": false}))
}

func isForm(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// pay completes the checkout of token with the card number: the card is
// stored as the customer's default and pays what is due.
func (s *Surface) pay(tx *store.Tx, token, number string) (*billing.Subscription, *subscriptionRecord, *checkoutState, error) {
	ref, err := findCheckout(tx, token)
	if err != nil {
		return nil, nil, nil, err
	}
	req := &clockwork.Request{ID: clockwork.NewID("req_", 20), Time: s.now()}
	l, err := s.rt.Ledger(tx, s, ref.Account, req)
	if err != nil {
		return nil, nil, nil, err
	}
	sub, rec, err := subscriptionOf(l, ref.Subscription)
	if err != nil {
		return nil, nil, nil, err
	}
	st, err := s.checkoutState(l, sub, rec)
	if err != nil {
		return nil, nil, nil, err
	}
	card, ok := lookupCard(number)
	if !ok {
		return nil, nil, st, invalidField("cardNumber", "Use a sandbox test card, such as 4242 4242 4242 4242.")
	}
	if sub.Ended() {
		return nil, nil, st, &Error{Status: http.StatusBadRequest, Type: typeInvalidRequest, Code: "subscription_canceled",
			Message: "The subscription is canceled."}
	}
	at, err := l.ClockNow(orgClockID, req.Time.Unix())
	if err != nil {
		return nil, nil, st, err
	}
	eng := l.Engine()
	digits := cardNumber(number)
	pm := &billing.PaymentMethod{Type: "card", Behavior: card.Behavior, Card: billing.Card{Brand: card.Brand,
		Last4: digits[len(digits)-4:], ExpMonth: 12, ExpYear: 2034, Funding: "credit", Country: "US",
		Fingerprint: fingerprint(digits)}}
	if err := eng.CreatePaymentMethod(pm, at); err != nil {
		return nil, nil, st, err
	}
	cust, err := l.Customer(sub.Customer)
	if err != nil {
		return nil, nil, st, err
	}
	if err := eng.AttachPaymentMethod(pm, cust, at); err != nil {
		return nil, nil, st, err
	}
	if cust, err = l.Customer(sub.Customer); err != nil {
		return nil, nil, st, err
	}
	cust.DefaultPaymentMethod = pm.ID
	if err := l.PutCustomer(cust); err != nil {
		return nil, nil, st, err
	}
	inv, err := due(l, sub)
	if err != nil {
		return nil, nil, st, err
	}
	if inv != nil {
		payWith := *pm
		if card.PaysAtCheckout {
			payWith.Behavior = billing.CardBehavior{}
		}
		if err := eng.Pay(inv, billing.PayOptions{PaymentMethod: &payWith}, at); err != nil {
			return nil, nil, st, err
		}
	}
	if sub, err = l.Subscription(sub.ID); err != nil {
		return nil, nil, st, err
	}
	st.Status = statusOf(sub)
	return sub, rec, st, nil
}

// fingerprint is a card's stable fingerprint, a digest of its number.
func fingerprint(digits string) string {
	return fmt.Sprintf("fp_%x", len(digits)) + strings.TrimPrefix(organizationID("card\x00"+digits), "org_")[:12]
}
