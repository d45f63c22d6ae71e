package commet

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
)

// This file renders objects on Commet's wire: camelCase fields, ISO 8601
// times, amounts in cents, livemode false.

// statusOf is a subscription's Commet status.
func statusOf(sub *billing.Subscription) string {
	switch sub.Status {
	case billing.StatusIncomplete:
		return "pending_payment"
	case billing.StatusTrialing:
		return "trialing"
	case billing.StatusPastDue, billing.StatusUnpaid:
		return "past_due"
	case billing.StatusCanceled, billing.StatusIncompleteExpired:
		return "canceled"
	}
	return "active"
}

// cancelReason is why a subscription ended: dunning_exhausted when its
// payment retries ran out, else the reason its cancellation gave.
func cancelReason(sub *billing.Subscription, rec *subscriptionRecord) any {
	if sub.CancellationReason == billing.CancelPaymentFailed {
		return "dunning_exhausted"
	}
	return nullable(rec.CancelReason)
}

// invoiceStatus is an invoice's Commet status: an open invoice is
// outstanding.
func invoiceStatus(inv *billing.Invoice) string {
	if inv.Status == billing.InvoiceOpen {
		return "outstanding"
	}
	return string(inv.Status)
}

// currency is how Commet writes a currency code.
func currency(c string) string { return strings.ToUpper(c) }

type customerObject struct {
	ID           string          `json:"id"`
	ExternalID   *string         `json:"externalId"`
	FullName     *string         `json:"fullName"`
	Email        string          `json:"email"`
	TaxDocument  *string         `json:"taxDocument"`
	DocumentType *string         `json:"documentType"`
	Timezone     *string         `json:"timezone"`
	Metadata     json.RawMessage `json:"metadata"`
	Address      json.RawMessage `json:"address,omitempty"`
	CreatedAt    string          `json:"createdAt"`
	UpdatedAt    string          `json:"updatedAt"`
	Object       string          `json:"object"`
	Livemode     bool            `json:"livemode"`
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func renderCustomer(c *billing.Customer, rec *customerRecord) *customerObject {
	meta := rec.Metadata
	if meta == nil {
		meta = json.RawMessage("null")
	}
	ext := rec.ExternalID
	return &customerObject{ID: c.ID, ExternalID: strPtr(ext), FullName: strPtr(rec.FullName), Email: c.Email,
		TaxDocument: strPtr(rec.TaxDocument), Timezone: strPtr(rec.Timezone), Metadata: meta, Address: rec.Address,
		CreatedAt: iso(c.Created), UpdatedAt: iso(max(rec.Updated, c.Created)), Object: "customer"}
}

type featureObject struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	Code        string  `json:"code"`
	Type        string  `json:"type"`
	Description *string `json:"description"`
	UnitName    *string `json:"unitName"`
	CreatedAt   string  `json:"createdAt"`
	UpdatedAt   string  `json:"updatedAt"`
	Object      string  `json:"object"`
	Livemode    bool    `json:"livemode"`
}

func renderFeature(f *featureRecord) *featureObject {
	return &featureObject{ID: f.ID, Name: f.Name, Code: f.Code, Type: f.Type, Description: strPtr(f.Description),
		UnitName: strPtr(f.UnitName), CreatedAt: iso(f.Created), UpdatedAt: iso(f.Updated), Object: "feature"}
}

type overageObject struct {
	Enabled   bool    `json:"enabled"`
	Model     *string `json:"model,omitempty"`
	UnitPrice *int64  `json:"unitPrice"`
}

type planFeatureView struct {
	Code           string         `json:"code"`
	Name           string         `json:"name"`
	Type           string         `json:"type"`
	UnitName       *string        `json:"unitName"`
	Enabled        bool           `json:"enabled"`
	IncludedAmount *int64         `json:"includedAmount"`
	Unlimited      bool           `json:"unlimited"`
	Overage        *overageObject `json:"overage"`
}

type planPriceView struct {
	ID              string `json:"id"`
	BillingInterval string `json:"billingInterval"`
	Price           int64  `json:"price"`
	IsDefault       bool   `json:"isDefault"`
	TrialDays       int64  `json:"trialDays"`
	IncludedBalance *int64 `json:"includedBalance"`
	IncludedCredits *int64 `json:"includedCredits"`
	IntroOffer      any    `json:"introOffer"`
}

type planObject struct {
	ID                string            `json:"id"`
	Name              string            `json:"name"`
	Code              string            `json:"code"`
	Description       *string           `json:"description"`
	ConsumptionModel  *string           `json:"consumptionModel"`
	IsPublic          bool              `json:"isPublic"`
	IsDefault         bool              `json:"isDefault"`
	IsFree            bool              `json:"isFree"`
	BlockOnExhaustion *bool             `json:"blockOnExhaustion"`
	SortOrder         int               `json:"sortOrder"`
	PlanGroupID       *string           `json:"planGroupId"`
	Metadata          json.RawMessage   `json:"metadata"`
	CreatedAt         string            `json:"createdAt"`
	UpdatedAt         string            `json:"updatedAt"`
	Features          []planFeatureView `json:"features"`
	Prices            []planPriceView   `json:"prices"`
	Object            string            `json:"object"`
	Livemode          bool              `json:"livemode"`
}

func (s *Surface) renderPlan(l *clockwork.Ledger, p *planRecord) *planObject {
	meta := p.Metadata
	if meta == nil {
		meta = json.RawMessage("null")
	}
	o := &planObject{ID: p.ID, Name: p.Name, Code: p.Code, Description: strPtr(p.Description), IsPublic: p.IsPublic,
		IsFree: p.IsFree, Metadata: meta, CreatedAt: iso(p.Created), UpdatedAt: iso(p.Updated), Object: "plan",
		Features: []planFeatureView{}, Prices: []planPriceView{}}
	for _, pf := range p.Features {
		v := planFeatureView{Code: pf.Code, Enabled: pf.Enabled, Unlimited: pf.Unlimited}
		if f, err := s.feature(l, pf.FeatureID); err == nil {
			v.Name, v.Type, v.UnitName = f.Name, f.Type, strPtr(f.UnitName)
		}
		if v.Type != featureBoolean {
			inc := pf.Included
			v.IncludedAmount = &inc
			price := pf.UnitPrice
			model := "per_unit"
			v.Overage = &overageObject{Enabled: pf.OverageEnabled, Model: &model, UnitPrice: &price}
		}
		o.Features = append(o.Features, v)
	}
	for _, pp := range p.Prices {
		o.Prices = append(o.Prices, renderPlanPrice(pp))
	}
	return o
}

func renderPlanPrice(pp planPrice) planPriceView {
	return planPriceView{ID: pp.ID, BillingInterval: pp.Interval, Price: pp.Price, IsDefault: pp.IsDefault, TrialDays: pp.TrialDays}
}

type priceObject struct {
	planPriceView
	PlanID    string `json:"planId"`
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
	Object    string `json:"object"`
	Livemode  bool   `json:"livemode"`
}

type planFeatureObject struct {
	PlanID         string `json:"planId"`
	FeatureID      string `json:"featureId"`
	Enabled        bool   `json:"enabled"`
	IncludedAmount int64  `json:"includedAmount"`
	Unlimited      bool   `json:"unlimited"`
	Overage        struct {
		Enabled   bool  `json:"enabled"`
		UnitPrice int64 `json:"unitPrice"`
	} `json:"overage"`
	CreditsPerUnit *int64 `json:"creditsPerUnit"`
	PricingMode    string `json:"pricingMode"`
	Margin         *int64 `json:"margin"`
	Object         string `json:"object"`
	Livemode       bool   `json:"livemode"`
}

type periodObject struct {
	Start         string `json:"start"`
	End           string `json:"end"`
	DaysRemaining int64  `json:"daysRemaining"`
}

type subFeatureUsage struct {
	Current          int64 `json:"current"`
	Included         int64 `json:"included"`
	OverageQuantity  int64 `json:"overageQuantity"`
	OverageUnitPrice int64 `json:"overageUnitPrice"`
}

type subFeature struct {
	Code    string          `json:"code"`
	Name    string          `json:"name"`
	Type    string          `json:"type"`
	Enabled bool            `json:"enabled"`
	Usage   subFeatureUsage `json:"usage"`
}

type cancellationObject struct {
	ScheduledAt string  `json:"scheduledAt"`
	Reason      *string `json:"reason"`
	EffectiveAt string  `json:"effectiveAt"`
}

type subscriptionObject struct {
	ID                  string              `json:"id"`
	CustomerID          string              `json:"customerId"`
	Plan                map[string]any      `json:"plan"`
	Name                string              `json:"name"`
	Description         *string             `json:"description"`
	Status              string              `json:"status"`
	BillingInterval     string              `json:"billingInterval"`
	TrialEndsAt         *string             `json:"trialEndsAt"`
	CurrentPeriod       *periodObject       `json:"currentPeriod"`
	Features            []subFeature        `json:"features"`
	Cancellation        *cancellationObject `json:"cancellation"`
	CancelAtPeriodEnd   bool                `json:"cancelAtPeriodEnd"`
	CancelReason        any                 `json:"cancelReason"`
	ScheduledPlanChange any                 `json:"scheduledPlanChange"`
	Discount            any                 `json:"discount"`
	StartDate           string              `json:"startDate"`
	EndDate             *string             `json:"endDate"`
	BillingDayOfMonth   *int                `json:"billingDayOfMonth"`
	NextBillingDate     *string             `json:"nextBillingDate"`
	CheckoutURL         *string             `json:"checkoutUrl"`
	CreatedAt           string              `json:"createdAt"`
	UpdatedAt           string              `json:"updatedAt"`
	Object              string              `json:"object"`
	Livemode            bool                `json:"livemode"`
}

// renderSubscription renders sub as seen at now.
func (s *Surface) renderSubscription(l *clockwork.Ledger, sub *billing.Subscription, rec *subscriptionRecord, now int64) *subscriptionObject {
	o := &subscriptionObject{ID: sub.ID, CustomerID: sub.Customer, Status: statusOf(sub), BillingInterval: rec.Interval,
		Name: rec.Name, CancelAtPeriodEnd: sub.CancelAtPeriodEnd, CancelReason: cancelReason(sub, rec),
		StartDate: iso(sub.StartDate), EndDate: isoPtr(sub.EndedAt), CreatedAt: iso(sub.Created),
		UpdatedAt: iso(max(rec.Updated, sub.Created)), Object: "subscription", Features: []subFeature{}}
	o.Plan = map[string]any{"id": rec.PlanID}
	if p, err := s.plan(l, rec.PlanID); err == nil {
		o.Plan["name"] = p.Name
		if o.Name == "" {
			o.Name = p.Name
		}
		for _, pp := range p.Prices {
			if pp.ID == rec.PriceID {
				o.Plan["basePrice"] = pp.Price
			}
		}
	}
	if sub.Status == billing.StatusTrialing {
		o.TrialEndsAt = isoPtr(sub.TrialEnd)
	}
	if !sub.Ended() {
		days := billing.WholeDays(now, sub.PeriodEnd)
		o.CurrentPeriod = &periodObject{Start: iso(sub.PeriodStart), End: iso(sub.PeriodEnd), DaysRemaining: days}
		if !sub.CancelAtPeriodEnd {
			o.NextBillingDate = isoPtr(sub.PeriodEnd)
		}
		day := timeOf(sub.BillingCycleAnchor).Day()
		o.BillingDayOfMonth = &day
	}
	if sub.CancelAtPeriodEnd && !sub.Ended() {
		o.Cancellation = &cancellationObject{ScheduledAt: iso(sub.CanceledAt), Reason: strPtr(rec.CancelReason),
			EffectiveAt: iso(sub.PeriodEnd)}
	}
	if sub.Status == billing.StatusIncomplete || sub.Status == billing.StatusPastDue {
		o.CheckoutURL = strPtr(rec.CheckoutURL)
	}
	for _, st := range rec.Seats {
		it := sub.UnitItem(st.Code)
		if it == nil {
			continue
		}
		o.Features = append(o.Features, subFeature{Code: st.Code, Name: st.Name, Type: featureSeats, Enabled: true,
			Usage: subFeatureUsage{Current: it.Quantity, Included: st.Included,
				OverageQuantity: max(it.Quantity-st.Included, 0), OverageUnitPrice: st.UnitPrice}})
	}
	return o
}

type lineItemObject struct {
	LineType       string  `json:"lineType"`
	FeatureName    *string `json:"featureName"`
	Description    string  `json:"description"`
	Quantity       int64   `json:"quantity"`
	UnitAmount     int64   `json:"unitAmount"`
	Amount         int64   `json:"amount"`
	IncludedAmount *int64  `json:"includedAmount"`
	UsedAmount     *int64  `json:"usedAmount"`
	OverageAmount  *int64  `json:"overageAmount"`
	DiscountType   *string `json:"discountType"`
	DiscountValue  *int64  `json:"discountValue"`
	DiscountName   *string `json:"discountName"`
	ChargeType     string  `json:"chargeType"`
	PeriodStart    string  `json:"periodStart"`
	PeriodEnd      string  `json:"periodEnd"`
}

type invoiceObject struct {
	ID             string           `json:"id"`
	CustomerID     string           `json:"customerId"`
	SubscriptionID *string          `json:"subscriptionId"`
	InvoiceNumber  string           `json:"invoiceNumber"`
	Status         string           `json:"status"`
	InvoiceType    string           `json:"invoiceType"`
	Currency       string           `json:"currency"`
	Subtotal       int64            `json:"subtotal"`
	DiscountAmount int64            `json:"discountAmount"`
	CreditApplied  int64            `json:"creditApplied"`
	TaxAmount      int64            `json:"taxAmount"`
	Total          int64            `json:"total"`
	AmountPaid     int64            `json:"amountPaid"`
	PeriodStart    string           `json:"periodStart"`
	PeriodEnd      string           `json:"periodEnd"`
	IssueDate      string           `json:"issueDate"`
	DueDate        string           `json:"dueDate"`
	PaidAt         *string          `json:"paidAt"`
	PlanName       *string          `json:"planName"`
	Memo           *string          `json:"memo"`
	Metadata       map[string]any   `json:"metadata"`
	CreatedAt      string           `json:"createdAt"`
	UpdatedAt      string           `json:"updatedAt"`
	LineItems      []lineItemObject `json:"lineItems"`
	Object         string           `json:"object"`
	Livemode       bool             `json:"livemode"`
}

// dollars writes cents as Commet's descriptions do: $25, $12.50.
func dollars(cents int64) string {
	if cents%100 == 0 {
		return fmt.Sprintf("$%d", cents/100)
	}
	return fmt.Sprintf("$%d.%02d", cents/100, cents%100)
}

func (s *Surface) renderInvoice(l *clockwork.Ledger, inv *billing.Invoice) *invoiceObject {
	o := &invoiceObject{ID: inv.ID, CustomerID: inv.Customer, SubscriptionID: strPtr(inv.Subscription),
		InvoiceNumber: inv.Number, Status: invoiceStatus(inv), InvoiceType: "recurring", Currency: currency(inv.Currency),
		Subtotal: inv.Total(), Total: inv.Total(), AmountPaid: inv.AmountPaid, PeriodStart: iso(inv.PeriodStart),
		PeriodEnd: iso(inv.PeriodEnd), IssueDate: iso(max(inv.FinalizedAt, inv.Created)),
		DueDate: iso(max(inv.FinalizedAt, inv.Created)), PaidAt: isoPtr(inv.PaidAt), Metadata: map[string]any{},
		CreatedAt: iso(inv.Created), UpdatedAt: iso(max(inv.PaidAt, inv.FinalizedAt, inv.Created, inv.MarkedUncollectibleAt, inv.VoidedAt)),
		Object: "invoice", LineItems: []lineItemObject{}}
	if inv.BillingReason == billing.ReasonSubscriptionReactivate {
		o.InvoiceType = "reactivation"
	}
	planName := ""
	var seatNames map[string]string
	if inv.Subscription != "" {
		if rec, err := subscriptionRec(l, inv.Subscription); err == nil {
			if p, err := s.plan(l, rec.PlanID); err == nil {
				planName = p.Name
			}
			seatNames = map[string]string{}
			for _, st := range rec.Seats {
				seatNames[st.Code] = st.Name
			}
		}
	}
	o.PlanName = strPtr(planName)
	for _, ln := range inv.Lines {
		li := lineItemObject{Quantity: ln.Quantity, Amount: ln.Amount, ChargeType: "standard",
			PeriodStart: iso(ln.PeriodStart), PeriodEnd: iso(ln.PeriodEnd)}
		if u := ln.Units; u != nil {
			name := seatNames[u.Feature]
			if name == "" {
				name = u.Feature
			}
			inc := u.Included
			li.LineType, li.FeatureName, li.UnitAmount, li.IncludedAmount = "feature_seats", &name, u.UnitAmount, &inc
			li.ChargeType = string(u.Charge)
			if u.Charge == billing.UnitAdvance {
				li.Description = fmt.Sprintf("Extra seats — upcoming period (%d × %s)", ln.Quantity, dollars(u.UnitAmount))
			} else {
				li.Description = fmt.Sprintf("Extra seats — true-up (%d × %s × %d/%d days)", ln.Quantity, dollars(u.UnitAmount),
					u.Days, u.PeriodDays)
			}
		} else {
			li.LineType, li.UnitAmount = "plan_base", ln.UnitAmount
			li.Description = planName
			if li.Description == "" {
				li.Description = ln.ProductName
			}
		}
		o.LineItems = append(o.LineItems, li)
	}
	return o
}

type seatEventObject struct {
	ID              string `json:"id"`
	CustomerID      string `json:"customerId"`
	FeatureCode     string `json:"featureCode"`
	PreviousBalance int64  `json:"previousBalance"`
	NewBalance      int64  `json:"newBalance"`
	TS              string `json:"ts"`
	CreatedAt       string `json:"createdAt"`
	Object          string `json:"object"`
	Livemode        bool   `json:"livemode"`
}

func (c *call) renderSeatEvent(ch *billing.UnitChange, customer string) *seatEventObject {
	obj := "seat_event"
	if c.legacy {
		obj = "seat"
	}
	return &seatEventObject{ID: ch.ID, CustomerID: customer, FeatureCode: ch.Feature, PreviousBalance: ch.Previous,
		NewBalance: ch.New, TS: iso(ch.At), CreatedAt: iso(ch.At), Object: obj}
}
