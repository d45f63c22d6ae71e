package stripe

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// This file is the Billing Portal page a portal session's url opens: the
// customer's subscriptions, invoices and payment methods, and what the
// session's configuration lets them do. Every action is the engine call
// the API makes for it, with the same events:
//
//   - update the payment method: a card is attached and made the
//     customer's invoice_settings.default_payment_method, as
//     POST /v1/customers/{id} does, and the default_payment_method of the
//     subscriptions that have one, as POST /v1/subscriptions/{id} does;
//   - change a quantity or a price: POST /v1/subscriptions/{id} with the
//     item, prorated as the configuration says;
//   - cancel: at period end (cancel_at_period_end=true) or at once
//     (DELETE /v1/subscriptions/{id}, prorating and invoicing as the
//     configuration says), and renew a cancellation at period end;
//   - invoices: each links to its hosted page (to pay it) and its PDF.

// portalView is what the portal page shows.
type portalView struct {
	Business, ReturnURL           string
	CustomerName, CustomerEmail   string
	Notice, Message, Confirmation string
	Flow, FlowSubscription        string
	Subscriptions                 []portalSubView
	Invoices                      []portalInvoiceView
	PaymentMethods                []portalPMView
	CanUpdatePM, CanCancel        bool
	CancelNow                     bool
	ShowInvoices, ShowPMs         bool
	Form                          checkoutForm
}

type portalSubView struct {
	ID, Status, Renews, CancelsOn, Trial string
	CancelAtPeriodEnd                    bool
	Items                                []portalItemView
	Total                                string
	CanUpdate                            bool
}

type portalItemView struct {
	ID, Product, PriceLabel string
	Quantity, Min, Max      int64
	CanQuantity, CanPrice   bool
	Prices                  []portalPriceOption
}

type portalPriceOption struct {
	ID, Label string
	Selected  bool
}

type portalInvoiceView struct {
	Number, Date, Amount, Status, URL, PDF string
}

type portalPMView struct {
	ID, Brand, Last4, Exp string
	Default               bool
}

// portalPage serves GET /p/session/{token}.
func (s *Surface) portalPage(w http.ResponseWriter, r *http.Request) {
	var v *portalView
	err := s.db.View(func(tx *store.Tx) error {
		l, ps, err := s.openPortal(tx, mux.Vars(r)["token"])
		if err != nil {
			return err
		}
		v, err = l.portalView(ps)
		return err
	})
	if err != nil {
		s.pageError(w, err)
		return
	}
	q := r.URL.Query()
	v.Notice = portalNotices[q.Get("done")]
	if q.Get("done") != "" && v.Confirmation != "" {
		v.Notice = v.Confirmation
	}
	s.writePage(w, http.StatusOK, "portal.html", v)
}

// portalNotices are what the page says after each action.
var portalNotices = map[string]string{
	"payment_method": "Your payment method was updated.",
	"update":         "Your subscription was updated.",
	"cancel":         "Your subscription was canceled.",
	"cancel_later":   "Your subscription will be canceled at the end of the period.",
	"renew":          "Your subscription will renew.",
}

func (s *Surface) openPortal(tx *store.Tx, token string) (*ledger, *portalSession, error) {
	key, id, err := s.openPage(tx, token, pagePortal, "")
	if err != nil {
		return nil, nil, err
	}
	l, err := s.pageLedger(tx, key)
	if err != nil {
		return nil, nil, err
	}
	ps, err := l.portalSession(id)
	if err != nil {
		return nil, nil, err
	}
	return l, ps, nil
}

// liveSubscriptions are the customer's subscriptions that have not ended,
// newest first.
func (l *ledger) liveSubscriptions(cust *billing.Customer) ([]*billing.Subscription, error) {
	var subs []*billing.Subscription
	err := l.SubscriptionsOnClock(cust.Clock, func(sub *billing.Subscription) error {
		if sub.Customer == cust.ID && !sub.Ended() {
			subs = append(subs, sub)
		}
		return nil
	})
	sort.SliceStable(subs, func(i, j int) bool {
		if subs[i].Created != subs[j].Created {
			return subs[i].Created > subs[j].Created
		}
		return subs[i].ID > subs[j].ID
	})
	return subs, err
}

// portalPrices are the prices the customer may switch item it to: those
// the configuration lists for the item's product, or, when it lists none,
// the product's active prices of the same currency and interval.
func (l *ledger) portalPrices(pc *portalConfig, sub *billing.Subscription, price *billing.Price) ([]*billing.Price, error) {
	var ids []string
	for _, pr := range pc.Features.SubscriptionUpdate.Products {
		if pr.Product == price.Product {
			ids = pr.Prices
		}
	}
	var out []*billing.Price
	if ids != nil {
		for _, id := range ids {
			p, err := l.Price(id)
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
		return out, nil
	}
	coll, err := l.Collection(clockwork.PricesCollection)
	if err != nil {
		return nil, err
	}
	err = coll.Each(func(_ string, raw []byte) error {
		var p billing.Price
		if err := json.Unmarshal(raw, &p); err != nil {
			return err
		}
		if p.Product == price.Product && p.Recurring != nil && *p.Recurring == sub.Interval && p.Currency == sub.Currency &&
			(p.Active || p.ID == price.ID) {
			out = append(out, &p)
		}
		return nil
	})
	return out, err
}

// quantityBounds are the quantities the configuration allows for an item
// of product; ok is false when it may not change.
func quantityBounds(pc *portalConfig, product string) (lo, hi int64, ok bool) {
	u := pc.Features.SubscriptionUpdate
	if !u.Enabled {
		return 0, 0, false
	}
	for _, pr := range u.Products {
		if pr.Product == product {
			if !pr.AdjustableQuantity.Enabled {
				return 0, 0, false
			}
			hi = billing.MaxQuantity
			if pr.AdjustableQuantity.Maximum != nil {
				hi = *pr.AdjustableQuantity.Maximum
			}
			return max(pr.AdjustableQuantity.Minimum, 1), hi, true
		}
	}
	if !slices.Contains(u.DefaultAllowedUpdates, "quantity") {
		return 0, 0, false
	}
	return 1, billing.MaxQuantity, true
}

// priceChangeAllowed reports whether the configuration lets a customer
// change the price of an item of product.
func priceChangeAllowed(pc *portalConfig, product string) bool {
	u := pc.Features.SubscriptionUpdate
	if !u.Enabled || !slices.Contains(u.DefaultAllowedUpdates, "price") {
		return false
	}
	if len(u.Products) == 0 {
		return true
	}
	for _, pr := range u.Products {
		if pr.Product == product {
			return true
		}
	}
	return false
}

// portalView builds the page of ps.
func (l *ledger) portalView(ps *portalSession) (*portalView, error) {
	pc, err := l.portalConfig(ps.Configuration)
	if err != nil {
		return nil, err
	}
	cust, err := l.Customer(ps.Customer)
	if err != nil {
		return nil, err
	}
	f := pc.Features
	v := &portalView{Business: "billclock test account", ReturnURL: ps.ReturnURL, CustomerName: cust.Name,
		CustomerEmail: cust.Email, CanUpdatePM: f.PaymentMethodUpdate.Enabled, CanCancel: f.SubscriptionCancel.Enabled,
		CancelNow: f.SubscriptionCancel.Mode == "immediately", ShowInvoices: f.InvoiceHistory.Enabled, ShowPMs: true}
	if ps.Flow != nil {
		v.Flow = ps.Flow.Type
		switch {
		case ps.Flow.SubscriptionCancel != nil:
			v.FlowSubscription = ps.Flow.SubscriptionCancel.Subscription
		case ps.Flow.SubscriptionUpdate != nil:
			v.FlowSubscription = ps.Flow.SubscriptionUpdate.Subscription
		case ps.Flow.SubscriptionUpdateConfirm != nil:
			v.FlowSubscription = ps.Flow.SubscriptionUpdateConfirm.Subscription
		}
		if hc := ps.Flow.AfterCompletion.HostedConfirmation; hc != nil {
			v.Confirmation = "Done."
			if hc.CustomMessage != nil {
				v.Confirmation = *hc.CustomMessage
			}
		}
	}
	subs, err := l.liveSubscriptions(cust)
	if err != nil {
		return nil, err
	}
	for _, sub := range subs {
		if v.FlowSubscription != "" && sub.ID != v.FlowSubscription {
			continue
		}
		sv := portalSubView{ID: sub.ID, Status: string(sub.Status), Renews: formatDate(sub.PeriodEnd),
			CancelAtPeriodEnd: sub.CancelAtPeriodEnd}
		if sub.CancelAtPeriodEnd {
			sv.CancelsOn = formatDate(sub.PeriodEnd)
		} else if sub.CancelAt != 0 {
			sv.CancelsOn = formatDate(sub.CancelAt)
		}
		if sub.Status == billing.StatusTrialing {
			sv.Trial = formatDate(sub.TrialEnd)
		}
		var total int64
		for _, it := range sub.Items {
			price, err := l.Price(it.Price)
			if err != nil {
				return nil, err
			}
			name := price.ID
			if prod, err := l.Product(price.Product); err == nil {
				name = prod.Name
			}
			iv := portalItemView{ID: it.ID, Product: name, Quantity: it.Quantity,
				PriceLabel: formatMoney(price.UnitAmount, price.Currency) + " / " + describeInterval(*price.Recurring)}
			total += price.UnitAmount * it.Quantity
			if lo, hi, ok := quantityBounds(pc, price.Product); ok && it.Units == nil {
				iv.CanQuantity, iv.Min, iv.Max = true, lo, hi
			}
			if priceChangeAllowed(pc, price.Product) {
				prices, err := l.portalPrices(pc, sub, price)
				if err != nil {
					return nil, err
				}
				for _, p := range prices {
					iv.Prices = append(iv.Prices, portalPriceOption{ID: p.ID, Selected: p.ID == price.ID,
						Label: formatMoney(p.UnitAmount, p.Currency) + " / " + describeInterval(*p.Recurring) + nickname(p)})
				}
				iv.CanPrice = len(iv.Prices) > 1
			}
			sv.CanUpdate = sv.CanUpdate || iv.CanQuantity || iv.CanPrice
			sv.Items = append(sv.Items, iv)
		}
		sv.Total = formatMoney(total, sub.Currency) + " / " + describeInterval(sub.Interval)
		v.Subscriptions = append(v.Subscriptions, sv)
	}
	if err := l.PaymentMethodsOf(cust.ID, func(pm *billing.PaymentMethod) error {
		if pm.DetachedAt != 0 {
			return nil
		}
		v.PaymentMethods = append(v.PaymentMethods, portalPMView{ID: pm.ID, Brand: pm.Card.Brand, Last4: pm.Card.Last4,
			Exp:     fmt.Sprintf("%02d/%d", pm.Card.ExpMonth, pm.Card.ExpYear),
			Default: pm.ID == cust.DefaultPaymentMethod || pm.ID == cust.DefaultSource})
		return nil
	}); err != nil {
		return nil, err
	}
	if v.ShowInvoices {
		coll, err := l.Collection(clockwork.InvoicesCollection)
		if err != nil {
			return nil, err
		}
		var invs []*billing.Invoice
		if _, err := coll.List(store.Page{Limit: 24}, func(raw []byte) (bool, error) {
			var inv billing.Invoice
			if err := json.Unmarshal(raw, &inv); err != nil {
				return false, err
			}
			return inv.Customer == cust.ID && inv.Status != billing.InvoiceDraft, nil
		}, func(raw []byte) error {
			var inv billing.Invoice
			if err := json.Unmarshal(bytes.Clone(raw), &inv); err != nil {
				return err
			}
			invs = append(invs, &inv)
			return nil
		}); err != nil {
			return nil, err
		}
		for _, inv := range invs {
			hosted, pdf := invoiceLinks(inv, l)
			iv := portalInvoiceView{Number: inv.Number, Date: formatDate(inv.FinalizedAt), Status: string(inv.Status),
				Amount: formatMoney(inv.AmountDue(), inv.Currency)}
			if hosted != nil {
				iv.URL, iv.PDF = *hosted, *pdf
			}
			v.Invoices = append(v.Invoices, iv)
		}
	}
	return v, nil
}

func nickname(p *billing.Price) string {
	if p.Nickname == "" {
		return ""
	}
	return " (" + p.Nickname + ")"
}

// portalSubmit serves POST /p/session/{token}: one action of the page.
func (s *Surface) portalSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	token := mux.Vars(r)["token"]
	form, in, err := readCheckoutForm(r)
	action := r.PostForm.Get("action")
	var done, redirect string
	if err == nil {
		err = s.db.Batch(func(tx *store.Tx) error {
			l, ps, err := s.openPortal(tx, token)
			if err != nil {
				return err
			}
			done, err = l.portalAction(ps, action, r.PostForm, in, s.now().Unix())
			if err != nil {
				return err
			}
			redirect = ""
			if ps.Flow != nil && ps.Flow.AfterCompletion.Redirect != nil {
				redirect = ps.Flow.AfterCompletion.Redirect.ReturnURL
			}
			return nil
		})
	}
	if err == nil {
		s.rt.WakeDeliverer()
		if redirect == "" {
			redirect = r.URL.Path + "?done=" + url.QueryEscape(done)
		}
		http.Redirect(w, r, redirect, http.StatusSeeOther)
		return
	}
	e, known := apiError(err)
	if !known || errors.Is(err, errPageNotFound) || isMissing(err) && e.Param == "id" {
		s.pageError(w, err)
		return
	}
	var v *portalView
	if verr := s.db.View(func(tx *store.Tx) error {
		l, ps, err := s.openPortal(tx, token)
		if err != nil {
			return err
		}
		v, err = l.portalView(ps)
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
	s.writePage(w, status, "portal.html", v)
}

// portalAction does action for the session's customer, at the customer's
// time, and says which notice follows it.
func (l *ledger) portalAction(ps *portalSession, action string, form url.Values, in checkoutInput, wall int64) (string, error) {
	pc, err := l.portalConfig(ps.Configuration)
	if err != nil {
		return "", err
	}
	cust, err := l.Customer(ps.Customer)
	if err != nil {
		return "", err
	}
	now, err := l.TimeOn(cust.Clock, wall)
	if err != nil {
		return "", err
	}
	f := pc.Features
	if action == "update_payment_method" {
		if !f.PaymentMethodUpdate.Enabled {
			return "", errPortalRefused("update the payment method")
		}
		return "payment_method", l.portalUpdatePaymentMethod(cust, in, now)
	}
	sub, err := l.Subscription(form.Get("subscription"))
	if err != nil {
		return "", err
	}
	if sub.Customer != cust.ID {
		return "", errPageNotFound
	}
	if ps.Flow != nil && ps.Flow.Type != "payment_method_update" && ps.Flow.Type != "customer_update" {
		if id := flowSubscription(ps.Flow); id != "" && id != sub.ID {
			return "", invalid("subscription", "This session only changes the subscription %s.", id)
		}
	}
	switch action {
	case "update_subscription":
		if !f.SubscriptionUpdate.Enabled {
			return "", errPortalRefused("change the subscription")
		}
		it := sub.Item(form.Get("item"))
		if it == nil {
			return "", invalid("item", "The subscription has no such item.")
		}
		price, err := l.Price(it.Price)
		if err != nil {
			return "", err
		}
		spec := billing.ItemSpec{ID: it.ID}
		if qs := strings.TrimSpace(form.Get("quantity")); qs != "" {
			q, err := strconv.ParseInt(qs, 10, 64)
			lo, hi, ok := quantityBounds(pc, price.Product)
			switch {
			case err != nil:
				return "", invalid("quantity", "Enter a whole number as the quantity.")
			case q != it.Quantity && !ok:
				return "", errPortalRefused("change the quantity")
			case q != it.Quantity && (q < lo || q > hi):
				return "", invalid("quantity", "The quantity must be between %d and %d.", lo, hi)
			case q != it.Quantity:
				spec.Quantity = &q
			}
		}
		if np := form.Get("price"); np != "" && np != it.Price {
			if !priceChangeAllowed(pc, price.Product) {
				return "", errPortalRefused("change the price")
			}
			allowed, err := l.portalPrices(pc, sub, price)
			if err != nil {
				return "", err
			}
			if !slices.ContainsFunc(allowed, func(p *billing.Price) bool { return p.ID == np }) {
				return "", invalid("price", "That price cannot be chosen here.")
			}
			spec.Price = np
		}
		if spec.Quantity == nil && spec.Price == "" {
			return "update", nil
		}
		ch := billing.SubscriptionChange{Items: []billing.ItemSpec{spec}, ProrationBehavior: f.SubscriptionUpdate.ProrationBehavior}
		if sub.Status == billing.StatusTrialing && f.SubscriptionUpdate.TrialUpdateBehavior == "end_trial" && spec.Price != "" {
			ch.TrialEnd = &now
		}
		_, err = l.Engine().UpdateSubscription(sub.ID, ch, now)
		return "update", err
	case "cancel_subscription":
		if !f.SubscriptionCancel.Enabled {
			return "", errPortalRefused("cancel the subscription")
		}
		if f.SubscriptionCancel.Mode == "immediately" {
			pb := f.SubscriptionCancel.ProrationBehavior
			_, err := l.Engine().CancelSubscription(sub.ID, pb == billing.ProrateAlways, pb != billing.ProrateNone, now)
			return "cancel", err
		}
		yes := true
		_, err := l.Engine().UpdateSubscription(sub.ID, billing.SubscriptionChange{CancelAtPeriodEnd: &yes}, now)
		return "cancel_later", err
	case "renew_subscription":
		if !f.SubscriptionCancel.Enabled {
			return "", errPortalRefused("renew the subscription")
		}
		no := false
		_, err := l.Engine().UpdateSubscription(sub.ID, billing.SubscriptionChange{CancelAtPeriodEnd: &no}, now)
		return "renew", err
	}
	return "", invalid("action", "Unknown action.")
}

func flowSubscription(f *portalFlow) string {
	switch {
	case f.SubscriptionCancel != nil:
		return f.SubscriptionCancel.Subscription
	case f.SubscriptionUpdate != nil:
		return f.SubscriptionUpdate.Subscription
	case f.SubscriptionUpdateConfirm != nil:
		return f.SubscriptionUpdateConfirm.Subscription
	}
	return ""
}

func errPortalRefused(what string) *Error {
	return &Error{Status: http.StatusForbidden, Type: typeInvalidRequest,
		Message: "This portal's configuration does not let you " + what + "."}
}

// portalUpdatePaymentMethod attaches the card given and makes it the
// customer's default, and the default of each live subscription that
// names one.
func (l *ledger) portalUpdatePaymentMethod(cust *billing.Customer, in checkoutInput, now int64) error {
	pm, err := l.checkoutCard(in, cust.ID, now)
	if err != nil {
		return err
	}
	if err := l.Engine().AttachPaymentMethod(pm, cust, now); err != nil {
		return declined(err)
	}
	// As POST /v1/customers/{id} with invoice_settings[default_payment_method].
	if cust, err = l.Customer(cust.ID); err != nil {
		return err
	}
	before := *cust
	if cust.DefaultPaymentMethod != pm.ID {
		cust.DefaultPaymentMethod = pm.ID
		if err := l.PutCustomer(cust); err != nil {
			return err
		}
		if err := l.Emit(billing.Event{Type: billing.EventCustomerUpdated, Time: now, Object: cust, Before: &before}); err != nil {
			return err
		}
	}
	subs, err := l.liveSubscriptions(cust)
	if err != nil {
		return err
	}
	for _, sub := range subs {
		if sub.DefaultPaymentMethod == "" || sub.DefaultPaymentMethod == pm.ID {
			continue
		}
		id := pm.ID
		if _, err := l.Engine().UpdateSubscription(sub.ID, billing.SubscriptionChange{DefaultPaymentMethod: &id}, now); err != nil {
			return err
		}
	}
	return nil
}
