package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"
)

// FuzzParseTimestamp: any input is either a timestamp or a clear error.
func FuzzParseTimestamp(f *testing.F) {
	for _, s := range []string{"1732320000", "-1", "2024-11-23T00:00:00Z", "2024-11-23T00:00:00+01:00", "", "soon", "9999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := parseTimestamp(s); err != nil && !strings.Contains(err.Error(), "invalid timestamp") {
			t.Fatalf("parseTimestamp(%q): unclear error %v", s, err)
		}
	})
}

// FuzzFixture: a fixture file of any content is either refused with an
// error or encodes into parameters, with references resolved or reported,
// and never panics.
func FuzzFixture(f *testing.F) {
	f.Add(`{"_meta":{"template_version":0},"fixtures":[{"name":"c","path":"/v1/customers","method":"post","params":{"email":"a@b.c","metadata":{"k":"v"},"items":[{"price":"${p:id}"}]}}]}`)
	f.Add(`{"fixtures":[{"name":"x","path":"/v1/x/${c:items.data[0].id|none}","method":"get","params":{"n":1.5,"b":true,"z":null}}]}`)
	f.Add(`{"_meta":{"template_version":7}}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, raw string) {
		fx, err := parseFixture([]byte(raw))
		if err != nil {
			return
		}
		r := &fixtureRunner{getenv: func(string) string { return "" },
			responses: map[string]any{"c": map[string]any{"id": "cus_1", "items": map[string]any{"data": []any{map[string]any{"id": "si_1"}}}}}}
		for _, step := range fx.Steps {
			r.resolve(step.Path)
			for k, v := range step.Params {
				r.encodeParams(url.Values{}, k, v)
			}
		}
	})
}

// FuzzVerifySignature: listen checks the Stripe-Signature header of every
// delivery it receives. Whatever the header, it never panics; a header
// whose v1 is the HMAC of its own t and the body verifies, even among
// other parts; and no header verifies a body it was not made for.
func FuzzVerifySignature(f *testing.F) {
	f.Add("t=1732320000,v1=00ff", []byte(`{"id":"evt_1"}`), "whsec_test", "1732320000", "v0=abc")
	f.Add("", []byte{}, "", "", "")
	f.Add("t=,v1=,,=,t", []byte("x"), "s", "-1", ",,,")
	f.Fuzz(func(t *testing.T, header string, body []byte, secret, ts, extra string) {
		if err := verifySignature(header, body, secret); err != nil && err.Error() == "" {
			t.Fatalf("verifySignature(%q): error without a message", header)
		}
		if strings.ContainsAny(ts, ",") || strings.TrimSpace("t="+ts) != "t="+ts {
			return // the parts below would not be the ones meant
		}
		for part := range strings.SplitSeq(extra, ",") {
			if k, _, _ := strings.Cut(strings.TrimSpace(part), "="); k == "t" {
				return // another t, which stripe-go would not take either
			}
		}
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(ts + "."))
		mac.Write(body)
		good := "t=" + ts + "," + extra + ",v1=" + hex.EncodeToString(mac.Sum(nil))
		if ts != "" {
			if err := verifySignature(good, body, secret); err != nil {
				t.Fatalf("verifySignature(%q) refused its own signature: %v", good, err)
			}
		}
		if err := verifySignature(good, append(body, 'x'), secret); err == nil {
			t.Fatalf("verifySignature(%q) verified a body it was not made for", good)
		}
	})
}

// FuzzServeOptions: serve reads its settings from the environment; any
// value is either taken or refused with an error naming what is wrong, and
// what is taken is usable (positive retry delays and timeout, at least one
// attempt, a known log level, API keys without surrounding space).
func FuzzServeOptions(f *testing.F) {
	f.Add("1s", "sk_test_a, sk_test_b,,", "true", "3", "debug", "-5s")
	f.Add("", "", "", "", "", "")
	f.Add("1h30m", ",", "maybe", "0", "LOUD", "9223372036854775807ns")
	f.Fuzz(func(t *testing.T, delay, keys, limits, attempts, level, retry string) {
		env := map[string]string{"BILLCLOCK_ADVANCE_DELAY": delay, "BILLCLOCK_API_KEYS": keys, "BILLCLOCK_STRIPE_LIMITS": limits,
			"BILLCLOCK_WEBHOOK_ATTEMPTS": attempts, "BILLCLOCK_LOG_LEVEL": level, "BILLCLOCK_WEBHOOK_RETRY_DELAY": retry}
		flags := serveOptions{Addr: defaultAddr, DB: defaultDB, LogLevel: defaultLogLevel, Webhooks: defaultWebhookOptions()}
		o, err := resolveServeOptions(flags, func(string) bool { return false }, func(k string) string { return env[k] })
		if err != nil {
			if err.Error() == "" {
				t.Fatal("error without a message")
			}
			return
		}
		if o.AdvanceDelay < 0 || o.Webhooks.RetryDelay <= 0 || o.Webhooks.MaxRetryDelay <= 0 || o.Webhooks.Timeout <= 0 || o.Webhooks.Attempts < 1 {
			t.Fatalf("took unusable settings: %+v", o)
		}
		if _, err := parseLogLevel(o.LogLevel); err != nil {
			t.Fatalf("took log level %q: %v", o.LogLevel, err)
		}
		for _, k := range o.APIKeys {
			if k == "" || k != strings.TrimSpace(k) || strings.Contains(k, ",") {
				t.Fatalf("took API key %q from %q", k, keys)
			}
		}
	})
}
