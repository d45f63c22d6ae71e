package stripe

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

func TestRetryDays(t *testing.T) {
	tests := []struct {
		form    string
		want    []int64
		sent    bool
		wantErr string
	}{
		{form: "", sent: false},
		{form: "retry_days=", sent: true},
		{form: "retry_days=3", want: []int64{3}, sent: true},
		{form: "retry_days=1,2,2,2,2,2,3", want: []int64{1, 2, 2, 2, 2, 2, 3}, sent: true},
		{form: "retry_days=1,%202", want: []int64{1, 2}, sent: true},
		{form: "retry_days[]=1&retry_days[]=60", want: []int64{1, 60}, sent: true},
		{form: "retry_days[0]=5&retry_days[1]=7", want: []int64{5, 7}, sent: true},
		{form: "retry_days=1,1,1,1,1,1,1,1,1,1,1,1", want: []int64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, sent: true},
		{form: "retry_days=0", wantErr: "Invalid retry_days: each retry must come 1 to 60 days after the attempt before it; got 0."},
		{form: "retry_days=61", wantErr: "Invalid retry_days: each retry must come 1 to 60 days after the attempt before it; got 61."},
		{form: "retry_days=-1", wantErr: "Invalid retry_days: each retry must come 1 to 60 days after the attempt before it; got -1."},
		{form: "retry_days=1,,2", wantErr: "Invalid integer: "},
		{form: "retry_days=two", wantErr: "Invalid integer: two"},
		{form: "retry_days=99999999999999999999", wantErr: "Invalid integer: 99999999999999999999"},
		{form: "retry_days[]=1,2", wantErr: "Invalid integer: 1,2"},
		{form: "retry_days=1,1,1,1,1,1,1,1,1,1,1,1,1", wantErr: "Invalid retry_days: at most 12 retries; got 13."},
		{form: "retry_days[a]=1", wantErr: "Invalid array"},
	}
	for _, tt := range tests {
		t.Run(tt.form, func(t *testing.T) {
			p := paramsOf(t, tt.form)
			days, sent := retryDays(p)
			err := p.check()
			if tt.wantErr != "" {
				requireAPIError(t, err, http.StatusBadRequest, errCodeOf(tt.wantErr), "retry_days", tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.sent, sent)
			assert.Equal(t, tt.want, days)
		})
	}
}

// errCodeOf is the code Stripe gives the error with message msg.
func errCodeOf(msg string) string {
	if len(msg) >= 16 && msg[:16] == "Invalid integer:" {
		return "parameter_invalid_integer"
	}
	return ""
}

func TestRenderSettingsDefault(t *testing.T) {
	o := renderSettings(defaultPolicy())
	assert.Equal(t, &settingsObject{Object: "billclock.settings", RetryDays: []int64{1, 2, 2, 2, 2, 2, 3},
		SubscriptionAction: "cancel", InvoiceAction: "leave_open", UpcomingInvoiceDays: 3}, o)
}

// FuzzRetryDays: any retry_days value is refused with a Stripe error or
// read as at most maxRetryCount delays of 1 to maxRetryDays days; never a
// panic or a wrapped integer.
func FuzzRetryDays(f *testing.F) {
	for _, s := range []string{"", "1", "1,2,2,2,2,2,3", " 7 , 8", "0", "-5", "1,,2", "9223372036854775807", "61", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		form, err := ParseForm("retry_days=" + url.QueryEscape(v))
		if err != nil {
			t.Fatalf("ParseForm: %v", err)
		}
		p := newParams(form)
		days, sent := retryDays(p)
		if err := p.check(); err != nil {
			if _, ok := apiError(err); !ok {
				t.Fatalf("retry_days=%q: not an API error: %v", v, err)
			}
			return
		}
		if !sent || len(days) > maxRetryCount {
			t.Fatalf("retry_days=%q: sent %v, %d days", v, sent, len(days))
		}
		for _, d := range days {
			if d < 1 || d > maxRetryDays {
				t.Fatalf("retry_days=%q: accepted %d", v, d)
			}
		}
	})
}

// TestStoredPolicyKeepsTheHourDraft: a policy stored before policies had a
// FinalizeDelay (every one set through the settings route until then)
// still leaves renewal invoices drafts for Stripe's hour.
func TestStoredPolicyKeepsTheHourDraft(t *testing.T) {
	s, _ := newTestSurface(t, nil)
	const key = "sk_test_old_policy"
	require.NoError(t, s.db.Update(func(tx *store.Tx) error {
		acct, err := tx.Account(key)
		require.NoError(t, err)
		coll, err := acct.Collection(clockwork.SettingsCollection)
		require.NoError(t, err)
		return coll.Put("dunning", 0, []byte(`{"retry_after":[86400],"subscription_action":"unpaid","invoice_action":"leave_open"}`))
	}))
	require.NoError(t, s.db.View(func(tx *store.Tx) error {
		l, err := s.ledger(tx, key, nil)
		require.NoError(t, err)
		p, err := l.Policy()
		require.NoError(t, err)
		assert.Equal(t, billing.DunningPolicy{RetryAfter: []int64{86400}, SubscriptionAction: billing.FinalUnpaid,
			InvoiceAction: billing.InvoiceLeaveOpen, FinalizeDelay: billing.FinalizeDelay}, p)
		return nil
	}))
}
