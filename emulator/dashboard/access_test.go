package dashboard

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/emulator/clockwork"
)

func TestMaskKey(t *testing.T) {
	for key, want := range map[string]string{
		"sk_test_dashboardAlpha000000000001":  "sk_test_…0001",
		"sk_test_billclock":                   "sk_test_…", // too short to show any of it
		"test_dashboardsite000000000000003":   "test_…0003",
		"ck_dashboardorg00000000000000000004": "ck_…0004",
		"rk_live_0123456789abcdef":            "rk_live_…cdef",
		"nounderscoresatallinthiskey":         "…skey",
		"short":                               "…",
		"":                                    "…",
	} {
		got := MaskKey(key)
		assert.Equal(t, want, got, key)
		if len(key) > 4 {
			assert.NotContains(t, got, key, "the mask gives the key away")
		}
	}
}

func TestKeyOf(t *testing.T) {
	for name, c := range map[string]struct {
		header, key string
		given       bool
	}{
		"none":              {"", "", false},
		"bearer":            {"Bearer sk_test_x", "sk_test_x", true},
		"bearer lower case": {"bearer sk_test_x", "sk_test_x", true},
		"basic":             {"Basic dGVzdF9zaXRlOg==", "test_site", true},  // test_site:
		"basic no colon":    {"Basic dGVzdF9zaXRl", "test_site", true},      // test_site
		"basic not base64":  {"Basic %%%", "", true},                        // given, but no key
		"other scheme":      {"Digest username=x", "", true},                // given, but no key
		"basic password":    {"Basic Y2tfb3JnOnNlY3JldA==", "ck_org", true}, // ck_org:secret
	} {
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		if c.header != "" {
			r.Header.Set("Authorization", c.header)
		}
		key, given := keyOf(r)
		assert.Equal(t, c.key, key, name)
		assert.Equal(t, c.given, given, name)
	}
}

func TestLoopback(t *testing.T) {
	for _, c := range []struct {
		remote, host string
		want         bool
	}{
		{"127.0.0.1:1", "127.0.0.1:12800", true},
		{"127.0.0.1:1", "localhost:12800", true},
		{"127.0.0.1:1", "localhost", true},
		{"127.0.0.1:1", "billclock.localhost:12800", true},
		{"[::1]:1", "[::1]:12800", true},
		{"127.0.0.5:1", "127.0.0.1", true},
		// DNS rebinding: a page of another site reaching loopback under
		// its own name.
		{"127.0.0.1:1", "attacker.example:12800", false},
		{"127.0.0.1:1", "", false},
		{"192.0.2.10:1", "127.0.0.1:12800", false},
		{"10.88.0.1:1", "localhost:12800", false}, // a container's gateway
		{"garbage", "localhost", false},
	} {
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr, r.Host = c.remote, c.host
		assert.Equal(t, c.want, loopback(r), "%s → %s", c.remote, c.host)
	}
}

// world is a stack with an account of every dialect, and a second Stripe
// account.
type world struct {
	*stack
	clock, sub, invoice string // of stripeKey
	clock2, invoice2    string // of stripeKey2
	cbSub               string
}

func newWorld(t testing.TB, opts clockwork.Options) *world {
	s := newStack(t, opts)
	w := &world{stack: s}
	w.clock, w.sub, w.invoice = s.stripeWorld(stripeKey, "pm_card_visa", 0)
	w.clock2, _, w.invoice2 = s.stripeWorld(stripeKey2, "pm_card_visa", 0)
	_, w.cbSub = s.chargebeeWorld(cbKey)
	s.commetWorld(commetKey)
	return w
}

var allKeys = []string{stripeKey, stripeKey2, cbKey, commetKey}

// noKeyIn requires that no account's key is in body.
func noKeyIn(t *testing.T, what string, body string) {
	t.Helper()
	for _, k := range allKeys {
		require.NotContains(t, body, k, "%s shows an API key", what)
	}
}

// TestAccessLoopback: from loopback without a key the index lists every
// account by its masked key and label, with its clocks, and never a key.
func TestAccessLoopback(t *testing.T) {
	w := newWorld(t, clockwork.Options{})
	rec := w.send(local, http.MethodGet, "/_billclock/", nil, "")
	require.Equal(t, http.StatusOK, rec.Code, "%s", rec.Body)
	body := rec.Body.String()
	noKeyIn(t, "the index", body)
	for _, k := range allKeys {
		assert.Contains(t, body, MaskKey(k))
		assert.Contains(t, body, clockwork.AccountLabel(k))
	}
	assert.Contains(t, body, w.clock)
	assert.Contains(t, body, w.clock2)
	assert.Contains(t, body, `data-clock="delorean"`, "the Chargebee site's time machine")
	assert.Contains(t, body, `data-clock="org_test_clock"`, "the Commet organization's clock")
	assert.Contains(t, body, "time machine")
	assert.Contains(t, body, "organization")
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	assert.Contains(t, rec.Header().Get("Content-Security-Policy"), "default-src 'self'")
}

// TestAccessRemote: from another address the dashboard asks for a key
// (401, Basic, so that a browser prompts for it); a key of any dialect,
// as Bearer or Basic, shows its own account only; keys no dialect takes,
// and keys the server does not allow, are refused; a loopback request
// naming another host (DNS rebinding) is treated as remote.
func TestAccessRemote(t *testing.T) {
	w := newWorld(t, clockwork.Options{APIKeys: append([]string{"sk_test_unused0000000000000000"}, allKeys...)})
	for name, f := range map[string]from{"remote": remote, "rebinding": {"127.0.0.1:5", "attacker.example"}} {
		rec := w.send(f, http.MethodGet, "/_billclock/", nil, "")
		assert.Equal(t, http.StatusUnauthorized, rec.Code, name)
		assert.Contains(t, rec.Header().Get("WWW-Authenticate"), "Basic realm=", name)
		noKeyIn(t, name, rec.Body.String())
		for _, path := range []string{"/_billclock/dashboard/clocks/" + w.clock,
			"/_billclock/dashboard/" + clockwork.AccountLabel(stripeKey) + "/clocks/" + w.clock,
			"/_billclock/dashboard/" + clockwork.AccountLabel(stripeKey) + "/clocks/" + w.clock + "/status",
			"/_billclock/dashboard/" + clockwork.AccountLabel(stripeKey) + "/objects/invoice/" + w.invoice} {
			assert.Equal(t, http.StatusUnauthorized, w.send(f, http.MethodGet, path, nil, "").Code, "%s %s", name, path)
		}
	}

	for name, c := range map[string]struct {
		header http.Header
		key    string
	}{
		"stripe bearer":    {bearer(stripeKey), stripeKey},
		"stripe basic":     {basic(stripeKey), stripeKey},
		"chargebee basic":  {basic(cbKey), cbKey},
		"commet bearer":    {bearer(commetKey), commetKey},
		"second stripe":    {bearer(stripeKey2), stripeKey2},
		"key with no data": {bearer("sk_test_unused0000000000000000"), "sk_test_unused0000000000000000"},
	} {
		rec := w.send(remote, http.MethodGet, "/_billclock/", c.header, "")
		require.Equal(t, http.StatusOK, rec.Code, "%s: %s", name, rec.Body)
		body := rec.Body.String()
		noKeyIn(t, name, body)
		assert.Equal(t, 1, strings.Count(body, `<section class="account"`), "%s sees one account", name)
		assert.Contains(t, body, clockwork.AccountLabel(c.key), name)
		assert.Contains(t, body, MaskKey(c.key), name)
		for _, other := range allKeys {
			if other != c.key {
				assert.NotContains(t, body, clockwork.AccountLabel(other), "%s sees another account", name)
			}
		}
	}

	for name, h := range map[string]http.Header{
		"no dialect's key":   bearer("hello_there_0000000000000"),
		"not allowed":        bearer("sk_test_notallowed000000000000"),
		"empty basic":        basic(""),
		"control characters": bearer("sk_test_a\x01b"),
		"not base64":         {"Authorization": {"Basic %%%"}},
	} {
		for _, f := range []from{local, remote} {
			rec := w.send(f, http.MethodGet, "/_billclock/", h, "")
			assert.Equal(t, http.StatusUnauthorized, rec.Code, "%s from %s", name, f.remote)
		}
	}
}

// TestKeySeesOnlyItsAccount: a key, even on loopback, reaches neither the
// pages nor the objects nor the advances of another account, whether it
// names the other account or the other account's objects under its own.
func TestKeySeesOnlyItsAccount(t *testing.T) {
	w := newWorld(t, clockwork.Options{})
	mine, theirs := clockwork.AccountLabel(stripeKey), clockwork.AccountLabel(stripeKey2)
	h := bearer(stripeKey)
	for _, path := range []string{
		"/_billclock/dashboard/" + theirs + "/clocks/" + w.clock2,
		"/_billclock/dashboard/" + theirs + "/clocks/" + w.clock2 + "/timeline",
		"/_billclock/dashboard/" + theirs + "/clocks/" + w.clock2 + "/status",
		"/_billclock/dashboard/" + theirs + "/objects/invoice/" + w.invoice2,
		"/_billclock/dashboard/" + mine + "/clocks/" + w.clock2,
		"/_billclock/dashboard/" + mine + "/objects/invoice/" + w.invoice2,
		"/_billclock/dashboard/clocks/" + w.clock2,
	} {
		for _, f := range []from{local, remote} {
			rec := w.send(f, http.MethodGet, path, h, "")
			assert.Equal(t, http.StatusNotFound, rec.Code, "%s from %s: %s", path, f.remote, rec.Body)
			assert.NotContains(t, rec.Body.String(), `"object": "invoice"`, "the other account's invoice shows")
			assert.NotContains(t, rec.Body.String(), "<svg", "the other account's timeline shows")
		}
	}
	adv := w.send(remote, http.MethodPost, "/_billclock/dashboard/"+theirs+"/clocks/"+w.clock2+"/advance",
		http.Header{"Authorization": h["Authorization"], "X-Billclock-Dashboard": {"1"}, "Content-Type": {"application/x-www-form-urlencoded"}},
		"by=day")
	assert.Equal(t, http.StatusNotFound, adv.Code, "%s", adv.Body)

	// Its own clock is there, the same way.
	rec := w.send(remote, http.MethodGet, "/_billclock/dashboard/clocks/"+w.clock, h, "")
	assert.Equal(t, http.StatusFound, rec.Code)
	assert.Equal(t, "/_billclock/dashboard/"+mine+"/clocks/"+w.clock, rec.Header().Get("Location"))
	obj := w.send(remote, http.MethodGet, "/_billclock/dashboard/"+mine+"/objects/invoice/"+w.invoice, h, "")
	require.Equal(t, http.StatusOK, obj.Code, "%s", obj.Body)
	noKeyIn(t, "an invoice's JSON", obj.Body.String())
}

// TestNoKeyInPages: no page, fragment or JSON the dashboard serves shows an
// API key, for any dialect.
func TestNoKeyInPages(t *testing.T) {
	w := newWorld(t, clockwork.Options{})
	w.advanceStripe(stripeKey, w.clock, jan1+40*86400)
	paths := []string{"/_billclock/", "/_billclock/dashboard/clocks/delorean"} // the chooser: two... one site here
	for key, clock := range map[string]string{stripeKey: w.clock, cbKey: "delorean", commetKey: "org_test_clock"} {
		base := "/_billclock/dashboard/" + clockwork.AccountLabel(key)
		paths = append(paths, base+"/clocks/"+clock, base+"/clocks/"+clock+"/timeline", base+"/clocks/"+clock+"/status",
			base+"/objects/clock/"+clock)
	}
	paths = append(paths, "/_billclock/dashboard/"+clockwork.AccountLabel(stripeKey)+"/objects/invoice/"+w.invoice,
		"/_billclock/dashboard/"+clockwork.AccountLabel(cbKey)+"/objects/subscription/"+w.cbSub)
	for _, path := range paths {
		for _, h := range []http.Header{nil, bearer(stripeKey), basic(cbKey), bearer(commetKey)} {
			rec := w.send(local, http.MethodGet, path, h, "")
			if rec.Code == http.StatusNotFound && h != nil {
				continue // another account's page
			}
			require.Contains(t, []int{http.StatusOK, http.StatusFound}, rec.Code, "%s: %s", path, rec.Body)
			noKeyIn(t, path, rec.Body.String())
		}
	}
}

// TestAdvanceNeedsTheDashboardHeader: an advance without the dashboard's
// header (such as a form posted by another site to loopback) is refused
// and moves nothing.
func TestAdvanceNeedsTheDashboardHeader(t *testing.T) {
	w := newWorld(t, clockwork.Options{})
	path := "/_billclock/dashboard/" + clockwork.AccountLabel(stripeKey) + "/clocks/" + w.clock
	rec := w.send(local, http.MethodPost, path+"/advance", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, "by=month")
	assert.Equal(t, http.StatusForbidden, rec.Code, "%s", rec.Body)
	var st clockStatus
	require.NoError(t, json.Unmarshal(w.send(local, http.MethodGet, path+"/status", nil, "").Body.Bytes(), &st))
	assert.Equal(t, int64(jan1), st.FrozenTime)
	assert.Equal(t, "ready", st.Status)
}
