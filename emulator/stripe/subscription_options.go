package stripe

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/store"
)

// A subscription's settings that only Stripe has (its description, its
// payment_settings and the billing_cycle_anchor_config it was created
// with) are kept by the surface beside the engine's subscription, like a
// PaymentIntent's intentOptions.

// subscriptionOptionsCollection holds each subscription's Stripe-only
// settings, by subscription id.
const subscriptionOptionsCollection = "subscription_options"

// subscriptionOptions are a subscription's Stripe-only settings.
type subscriptionOptions struct {
	Description     string           `json:"description,omitempty"`
	PaymentSettings *paymentSettings `json:"payment_settings,omitempty"`
	AnchorConfig    *anchorConfig    `json:"billing_cycle_anchor_config,omitempty"`
}

// paymentSettings is a subscription's payment_settings. Only cards are
// collected; the types and card options are kept and shown.
type paymentSettings struct {
	Types       []string                 `json:"payment_method_types,omitempty"`
	SaveDefault string                   `json:"save_default_payment_method,omitempty"`
	Card        *subscriptionCardOptions `json:"card,omitempty"`
}

// subscriptionCardOptions is payment_method_options[card].
type subscriptionCardOptions struct {
	RequestThreeDSecure string          `json:"request_three_d_secure,omitempty"`
	Network             string          `json:"network,omitempty"`
	Mandate             *mandateOptions `json:"mandate_options,omitempty"`
}

type mandateOptions struct {
	Amount      *int64 `json:"amount,omitempty"`
	AmountType  string `json:"amount_type,omitempty"`
	Description string `json:"description,omitempty"`
}

// anchorConfig is billing_cycle_anchor_config as it was sent.
type anchorConfig struct {
	DayOfMonth int64  `json:"day_of_month"`
	Hour       *int64 `json:"hour,omitempty"`
	Minute     *int64 `json:"minute,omitempty"`
	Month      *int64 `json:"month,omitempty"`
	Second     *int64 `json:"second,omitempty"`
}

// subscriptionOptionsLookup finds a subscription's Stripe-only settings;
// the ledger is one.
type subscriptionOptionsLookup interface {
	subscriptionOptions(id string) (*subscriptionOptions, error)
}

// subscriptionOptions returns subscription id's Stripe-only settings; one
// without any gets the zero settings.
func (l *ledger) subscriptionOptions(id string) (*subscriptionOptions, error) {
	coll, err := l.Collection(subscriptionOptionsCollection)
	if err != nil {
		return nil, err
	}
	raw, err := coll.Get(id)
	if errors.Is(err, store.ErrNotFound) {
		return &subscriptionOptions{}, nil
	}
	if err != nil {
		return nil, err
	}
	var o subscriptionOptions
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, err
	}
	return &o, nil
}

func (l *ledger) putSubscriptionOptions(id string, created int64, o *subscriptionOptions) error {
	return l.Put(subscriptionOptionsCollection, id, created, o)
}

// paymentMethodTypes are the payment_method_types Stripe's spec allows.
var paymentMethodTypes = []string{"ach_credit_transfer", "ach_debit", "acss_debit", "affirm", "alipay", "amazon_pay",
	"au_becs_debit", "bacs_debit", "bancontact", "billie", "boleto", "card", "cashapp", "crypto", "custom",
	"customer_balance", "eps", "fpx", "giropay", "grabpay", "ideal", "jp_credit_transfer", "kakao_pay", "klarna",
	"konbini", "kr_card", "link", "mb_way", "multibanco", "naver_pay", "nz_bank_account", "p24", "pay_by_bank", "payco",
	"paynow", "paypal", "payto", "pix", "promptpay", "revolut_pay", "satispay", "sepa_credit_transfer", "sepa_debit",
	"sofort", "swish", "twint", "upi", "us_bank_account", "wechat_pay"}

// subscriptionCardNetworks are the networks payment_method_options[card][network] takes.
var subscriptionCardNetworks = []string{"amex", "cartes_bancaires", "diners", "discover", "eftpos_au", "girocard", "interac", "jcb",
	"link", "mastercard", "unionpay", "unknown", "visa"}

// paymentSettingsParam reads payment_settings; nil when it was not sent.
// What it returns applies the update to a subscription's settings (nil:
// none yet). billclock collects cards only: options of other payment
// method types are refused.
func (p *params) paymentSettingsParam() func(*paymentSettings) *paymentSettings {
	const name = "payment_settings"
	ps, ok := p.sub(name)
	if !ok {
		return nil
	}
	var sets []func(*paymentSettings)
	const types = name + "[payment_method_types]"
	if v, sent := ps.form.lookup(types).leafValue(); sent && v == "" {
		ps.seen[types] = true
		sets = append(sets, func(o *paymentSettings) { o.Types = nil })
	} else if ps.present(types) {
		list := ps.strings(types)
		for i, t := range list {
			if !contains(paymentMethodTypes, t) {
				ps.fail(invalid(types, "Invalid %s[%d]: must be one of %s", types, i, joinOr(paymentMethodTypes)))
			}
		}
		sets = append(sets, func(o *paymentSettings) { o.Types = list })
	}
	if v, ok := ps.enum(name+"[save_default_payment_method]", "off", "on_subscription"); ok {
		sets = append(sets, func(o *paymentSettings) { o.SaveDefault = v })
	}
	if opts, ok := ps.sub(name + "[payment_method_options]"); ok {
		const card = name + "[payment_method_options][card]"
		if c, ok := opts.sub(card); ok {
			var co subscriptionCardOptions
			co.RequestThreeDSecure, _ = c.enum(card+"[request_three_d_secure]", "any", "automatic", "challenge")
			co.Network, _ = c.enum(card+"[network]", subscriptionCardNetworks...)
			if m, ok := c.sub(card + "[mandate_options]"); ok {
				mo := mandateOptions{}
				if v, ok := m.int64(card + "[mandate_options][amount]"); ok {
					mo.Amount = &v
				}
				mo.AmountType, _ = m.enum(card+"[mandate_options][amount_type]", "fixed", "maximum")
				mo.Description, _ = m.text(card+"[mandate_options][description]", 200)
				c.fail(m.check())
				co.Mandate = &mo
			}
			opts.fail(c.check())
			sets = append(sets, func(o *paymentSettings) { o.Card = &co })
		} else if v, sent := opts.form.lookup(card).leafValue(); sent && v == "" {
			sets = append(sets, func(o *paymentSettings) { o.Card = nil })
		}
		for _, k := range opts.form.Keys() {
			if k != card {
				opts.seen[k] = true
				opts.fail(invalid(k, "billclock collects card payments only: %s cannot be set.", k))
			}
		}
		ps.fail(opts.check())
	}
	p.fail(ps.check())
	return func(current *paymentSettings) *paymentSettings {
		out := paymentSettings{}
		if current != nil {
			out = *current
		}
		for _, set := range sets {
			set(&out)
		}
		return &out
	}
}

// contains reports whether list holds s.
func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// anchorConfigParam reads billing_cycle_anchor_config; nil when not sent.
func (p *params) anchorConfigParam() *anchorConfig {
	const name = "billing_cycle_anchor_config"
	c, ok := p.sub(name)
	if !ok {
		return nil
	}
	cfg := &anchorConfig{}
	day, ok := c.intIn(name+"[day_of_month]", 1, 31)
	if !ok && !c.present(name+"[day_of_month]") {
		c.fail(errMissing(name + "[day_of_month]"))
	}
	cfg.DayOfMonth = day
	for _, f := range []struct {
		key    string
		hi, lo int64
		into   **int64
	}{{"hour", 23, 0, &cfg.Hour}, {"minute", 59, 0, &cfg.Minute}, {"month", 12, 1, &cfg.Month}, {"second", 59, 0, &cfg.Second}} {
		if v, ok := c.intIn(name+"["+f.key+"]", f.lo, f.hi); ok {
			*f.into = &v
		}
	}
	p.fail(c.check())
	return cfg
}

// anchorFor is the billing cycle anchor cfg gives a subscription billed
// every iv and starting at now: the next time after now on cfg's day of
// the month (the month's last day when it has fewer), in cfg's month for
// a yearly interval that names one, at cfg's time of day (now's, for what
// it leaves out), UTC.
func (cfg *anchorConfig) anchorFor(iv billing.Interval, now int64) (int64, error) {
	if iv.Unit != billing.Month && iv.Unit != billing.Year {
		return 0, invalid("billing_cycle_anchor_config",
			"billing_cycle_anchor_config is only valid with monthly and yearly price intervals.")
	}
	if cfg.Month != nil && iv.Unit != billing.Year {
		return 0, invalid("billing_cycle_anchor_config[month]",
			"billing_cycle_anchor_config[month] is only valid with yearly price intervals.")
	}
	start := time.Unix(now, 0).UTC()
	h, m, s := start.Clock()
	pick := func(v *int64, def int) int {
		if v == nil {
			return def
		}
		return int(*v)
	}
	h, m, s = pick(cfg.Hour, h), pick(cfg.Minute, m), pick(cfg.Second, s)
	at := func(y int, mon time.Month) time.Time {
		last := time.Date(y, mon+1, 0, 0, 0, 0, 0, time.UTC).Day()
		return time.Date(y, mon, min(int(cfg.DayOfMonth), last), h, m, s, 0, time.UTC)
	}
	y, mon, _ := start.Date()
	if cfg.Month != nil {
		mon = time.Month(*cfg.Month)
	}
	for i := 0; i < 24; i++ {
		t := at(y, mon)
		if t.Unix() > now {
			return t.Unix(), nil
		}
		if cfg.Month != nil {
			y++
		} else if mon++; mon > 12 {
			mon, y = 1, y+1
		}
	}
	return 0, errors.New("billing_cycle_anchor_config: no anchor found")
}

// pauseCollectionObject is subscriptions_resource_pause_collection.
type pauseCollectionObject struct {
	Behavior  string `json:"behavior"`
	ResumesAt *int64 `json:"resumes_at"`
}

// paymentMethodOptionsObject is
// subscriptions_resource_payment_method_options: billclock keeps card
// options only.
type paymentMethodOptionsObject struct {
	AcssDebit     any                `json:"acss_debit"`
	Bancontact    any                `json:"bancontact"`
	Billie        any                `json:"billie"`
	Card          *cardOptionsObject `json:"card"`
	CustomerBal   any                `json:"customer_balance"`
	Konbini       any                `json:"konbini"`
	Payto         any                `json:"payto"`
	Pix           any                `json:"pix"`
	SepaDebit     any                `json:"sepa_debit"`
	Upi           any                `json:"upi"`
	UsBankAccount any                `json:"us_bank_account"`
}

// cardOptionsObject is subscription_payment_method_options_card.
type cardOptionsObject struct {
	MandateOptions      *mandateOptionsObject `json:"mandate_options,omitempty"`
	Network             *string               `json:"network"`
	RequestThreeDSecure *string               `json:"request_three_d_secure"`
}

// mandateOptionsObject is invoice_mandate_options_card.
type mandateOptionsObject struct {
	Amount      *int64  `json:"amount"`
	AmountType  *string `json:"amount_type"`
	Description *string `json:"description"`
}

// anchorConfigObject is subscriptions_resource_billing_cycle_anchor_config.
type anchorConfigObject struct {
	DayOfMonth int64  `json:"day_of_month"`
	Hour       *int64 `json:"hour"`
	Minute     *int64 `json:"minute"`
	Month      *int64 `json:"month"`
	Second     *int64 `json:"second"`
}

// renderSubscriptionExtras fills in what o shows of s beyond the shared
// fields: its schedule, paused collection and Stripe-only settings.
func renderSubscriptionExtras(o *subscriptionObject, s *billing.Subscription, lk renderLookup) error {
	if s.Schedule != "" {
		o.Schedule = s.Schedule
	}
	if p := s.PauseCollection; p != nil {
		o.PauseCollection = &pauseCollectionObject{Behavior: string(p.Behavior), ResumesAt: nullTime(p.ResumesAt)}
	}
	ol, ok := lk.(subscriptionOptionsLookup)
	if !ok {
		return nil
	}
	opts, err := ol.subscriptionOptions(s.ID)
	if err != nil {
		return err
	}
	o.Description = nullString(opts.Description)
	if c := opts.AnchorConfig; c != nil {
		o.BillingCycleAnchorConfig = &anchorConfigObject{DayOfMonth: c.DayOfMonth, Hour: c.Hour, Minute: c.Minute,
			Month: c.Month, Second: c.Second}
	}
	if ps := opts.PaymentSettings; ps != nil {
		if ps.Types != nil {
			o.PaymentSettings.PaymentMethodTypes = ps.Types
		}
		if ps.SaveDefault != "" {
			o.PaymentSettings.SaveDefaultPaymentMethod = nullString(ps.SaveDefault)
		}
		if c := ps.Card; c != nil {
			card := &cardOptionsObject{Network: nullString(c.Network), RequestThreeDSecure: nullString(c.RequestThreeDSecure)}
			if m := c.Mandate; m != nil {
				card.MandateOptions = &mandateOptionsObject{Amount: m.Amount, AmountType: nullString(m.AmountType),
					Description: nullString(m.Description)}
			}
			o.PaymentSettings.PaymentMethodOptions = &paymentMethodOptionsObject{Card: card}
		}
	}
	return nil
}
