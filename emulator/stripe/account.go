package stripe

import (
	"crypto/sha256"
	"encoding/json"

	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// This file serves GET /v1/account: the account an API key acts for.
// Every test key is its own account in billclock; its id is a stable
// digest of the key, from which the key cannot be read back.

// accountID is the id of the account of API key key.
func accountID(key string) string {
	sum := sha256.Sum256([]byte("billclock account\x00" + key))
	out := make([]byte, 16)
	for i := range out {
		out[i] = clockwork.IDAlphabet[int(sum[i])%len(clockwork.IDAlphabet)]
	}
	return "acct_" + string(out)
}

// accountObject is components.schemas.account, as an account sees itself.
type accountObject struct {
	ID                 string            `json:"id"`
	Object             string            `json:"object"`
	BusinessProfile    businessProfile   `json:"business_profile"`
	BusinessType       *string           `json:"business_type"`
	Capabilities       map[string]string `json:"capabilities"`
	ChargesEnabled     bool              `json:"charges_enabled"`
	Controller         accountController `json:"controller"`
	Country            string            `json:"country"`
	DefaultCurrency    string            `json:"default_currency"`
	DetailsSubmitted   bool              `json:"details_submitted"`
	Email              *string           `json:"email"`
	ExternalAccounts   listObject        `json:"external_accounts"`
	FutureRequirements requirements      `json:"future_requirements"`
	Metadata           map[string]string `json:"metadata"`
	PayoutsEnabled     bool              `json:"payouts_enabled"`
	Requirements       requirements      `json:"requirements"`
	Settings           accountSettings   `json:"settings"`
	TosAcceptance      tosAcceptance     `json:"tos_acceptance"`
	Type               string            `json:"type"`
}

// businessProfile is account_business_profile.
type businessProfile struct {
	AnnualRevenue        any     `json:"annual_revenue"`
	EstimatedWorkerCount *int64  `json:"estimated_worker_count"`
	MCC                  *string `json:"mcc"`
	Name                 *string `json:"name"`
	ProductDescription   *string `json:"product_description"`
	SupportAddress       any     `json:"support_address"`
	SupportEmail         *string `json:"support_email"`
	SupportPhone         *string `json:"support_phone"`
	SupportURL           *string `json:"support_url"`
	URL                  *string `json:"url"`
}

// accountController is account_unification_account_controller.
type accountController struct {
	Type string `json:"type"`
}

// requirements is account_requirements (and account_future_requirements):
// nothing is due.
type requirements struct {
	Alternatives        []any    `json:"alternatives"`
	CurrentDeadline     *int64   `json:"current_deadline"`
	CurrentlyDue        []string `json:"currently_due"`
	DisabledReason      *string  `json:"disabled_reason"`
	Errors              []any    `json:"errors"`
	EventuallyDue       []string `json:"eventually_due"`
	PastDue             []string `json:"past_due"`
	PendingVerification []string `json:"pending_verification"`
}

func noRequirements() requirements {
	return requirements{Alternatives: []any{}, CurrentlyDue: []string{}, Errors: []any{}, EventuallyDue: []string{},
		PastDue: []string{}, PendingVerification: []string{}}
}

// accountSettings is account_settings.
type accountSettings struct {
	Branding struct {
		Icon           any     `json:"icon"`
		Logo           any     `json:"logo"`
		PrimaryColor   *string `json:"primary_color"`
		SecondaryColor *string `json:"secondary_color"`
	} `json:"branding"`
	CardPayments struct {
		DeclineOn struct {
			AVSFailure bool `json:"avs_failure"`
			CVCFailure bool `json:"cvc_failure"`
		} `json:"decline_on"`
		StatementDescriptorPrefix      *string `json:"statement_descriptor_prefix"`
		StatementDescriptorPrefixKana  *string `json:"statement_descriptor_prefix_kana"`
		StatementDescriptorPrefixKanji *string `json:"statement_descriptor_prefix_kanji"`
	} `json:"card_payments"`
	Dashboard struct {
		DisplayName *string `json:"display_name"`
		Timezone    *string `json:"timezone"`
	} `json:"dashboard"`
	Payments struct {
		StatementDescriptor      *string `json:"statement_descriptor"`
		StatementDescriptorKana  *string `json:"statement_descriptor_kana"`
		StatementDescriptorKanji *string `json:"statement_descriptor_kanji"`
	} `json:"payments"`
	Payouts struct {
		DebitNegativeBalances bool `json:"debit_negative_balances"`
		Schedule              struct {
			DelayDays int64  `json:"delay_days"`
			Interval  string `json:"interval"`
		} `json:"schedule"`
		StatementDescriptor *string `json:"statement_descriptor"`
	} `json:"payouts"`
}

// tosAcceptance is account_tos_acceptance.
type tosAcceptance struct {
	Date      *int64  `json:"date"`
	IP        *string `json:"ip"`
	UserAgent *string `json:"user_agent"`
}

// renderAccount renders the account of API key key: a US account taking
// card payments in usd, with nothing left to verify.
func renderAccount(key string) *accountObject {
	id := accountID(key)
	o := &accountObject{
		ID: id, Object: "account",
		BusinessProfile: businessProfile{Name: nullString("billclock test account")},
		Capabilities:    map[string]string{"card_payments": "active", "transfers": "active"},
		ChargesEnabled:  true, Controller: accountController{Type: "account"}, Country: "US", DefaultCurrency: "usd",
		DetailsSubmitted:   true,
		ExternalAccounts:   listObject{Object: "list", Data: []json.RawMessage{}, URL: "/v1/accounts/" + id + "/external_accounts"},
		FutureRequirements: noRequirements(), Metadata: map[string]string{}, PayoutsEnabled: true,
		Requirements: noRequirements(), Type: "standard",
	}
	o.Settings.Dashboard.DisplayName = nullString("billclock")
	o.Settings.Dashboard.Timezone = nullString("Etc/UTC")
	o.Settings.Payments.StatementDescriptor = nullString("BILLCLOCK")
	o.Settings.Payouts.DebitNegativeBalances = true
	o.Settings.Payouts.Schedule.DelayDays, o.Settings.Payouts.Schedule.Interval = 2, "daily"
	return o
}

func (s *Surface) retrieveAccount(c *call, _ *store.Tx) (any, error) {
	if err := c.p.expand(); err != nil {
		return nil, err
	}
	return renderAccount(c.account), nil
}
