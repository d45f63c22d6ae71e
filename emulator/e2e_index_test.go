package emulator_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator"
)

// index is the answer of GET /.
type index struct {
	Object      string `json:"object"`
	Description string `json:"description"`
	StripeAPI   string `json:"stripe_api"`
	// The other providers' APIs, and the checkout pages of Commet's
	// subscriptions.
	ChargebeeAPI   string `json:"chargebee_api"`
	CommetAPI      string `json:"commet_api"`
	CommetCheckout string `json:"commet_checkout"`
	Health         string `json:"health"`
	Dashboard      string `json:"dashboard"`
	Docs           []struct {
		Title string `json:"title"`
		URL   string `json:"url"`
	} `json:"docs"`
	ControlRoutes []struct {
		Method      string `json:"method"`
		Path        string `json:"path"`
		Description string `json:"description"`
	} `json:"control_routes"`
}

// getRoot sends GET / with accept, without a key.
func getRoot(t *testing.T, e *env, accept string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, e.srv.URL()+"/", nil)
	require.NoError(t, err)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

// readmeAnchors returns the GitHub anchors of README.md's headings.
func readmeAnchors(t *testing.T) map[string]bool {
	t.Helper()
	raw, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	drop := regexp.MustCompile(`[^a-z0-9 _-]`)
	anchors := map[string]bool{}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if title, ok := strings.CutPrefix(line, "## "); ok {
			anchors[strings.ReplaceAll(drop.ReplaceAllString(strings.ToLower(title), ""), " ", "-")] = true
		}
	}
	return anchors
}

// TestRootPointsToDocs: GET / (what a person tries first, in a browser or
// with curl) answers a short pointer to the README's sections and the
// control routes, in JSON or, for a browser, HTML; needs no key; and every
// route it names is served.
func TestRootPointsToDocs(t *testing.T) {
	t.Parallel()
	e := start(t, emulator.Config{NoSync: true})

	for _, accept := range []string{"", "application/json", "*/*"} {
		resp, body := getRoot(t, e, accept)
		require.Equal(t, http.StatusOK, resp.StatusCode, "Accept %q: %s", accept, body)
		assert.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json"), "Accept %q: %s", accept, resp.Header.Get("Content-Type"))
	}
	resp, body := getRoot(t, e, "")
	var ix index
	require.NoError(t, json.Unmarshal([]byte(body), &ix), body)
	assert.Equal(t, "billclock.index", ix.Object)
	assert.Contains(t, ix.Description, "Stripe")
	assert.Equal(t, "/v1", ix.StripeAPI)
	assert.Equal(t, "/healthz", ix.Health)
	assert.Equal(t, "/_billclock/", ix.Dashboard)
	assert.Empty(t, resp.Header.Get("Set-Cookie"))

	// Every doc link is a section of the README.
	anchors := readmeAnchors(t)
	require.NotEmpty(t, ix.Docs)
	for _, d := range ix.Docs {
		u, err := url.Parse(d.URL)
		require.NoError(t, err, d.URL)
		assert.Equal(t, "https", u.Scheme, d.URL)
		assert.True(t, anchors[u.Fragment], "%s: no README section #%s", d.Title, u.Fragment)
	}

	// Every control route named is served: none answers "Unrecognized".
	clock := createClock(t, e.client(testKey), "")
	cs, err := e.client(testKey).V1CheckoutSessions.Create(t.Context(), &stripe.CheckoutSessionCreateParams{
		Mode: stripe.String("payment"), LineItems: []*stripe.CheckoutSessionCreateLineItemParams{{Quantity: stripe.Int64(1),
			PriceData: &stripe.CheckoutSessionCreateLineItemPriceDataParams{Currency: stripe.String("usd"), UnitAmount: stripe.Int64(500),
				ProductData: &stripe.CheckoutSessionCreateLineItemPriceDataProductDataParams{Name: stripe.String("Poster")}}}}})
	require.NoError(t, err)
	require.NotEmpty(t, ix.ControlRoutes)
	for _, r := range ix.ControlRoutes {
		path := strings.NewReplacer("{id}", clock.ID, "{session}", cs.ID).Replace(r.Path)
		got := e.as(t, testKey, r.Method, path, "", nil)
		assert.NotEqual(t, http.StatusNotFound, got.Status, "%s %s: %s", r.Method, r.Path, got.Body)
		assert.NotEmpty(t, r.Description, r.Path)
	}

	// A browser gets the same as a page.
	resp, page := getRoot(t, e, "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html"), resp.Header.Get("Content-Type"))
	assert.Contains(t, page, "<title>billclock</title>")
	assert.Contains(t, page, `href="/_billclock/"`)
	for _, d := range ix.Docs {
		assert.Contains(t, page, `href="`+d.URL+`"`)
	}
	for _, r := range ix.ControlRoutes {
		assert.Contains(t, page, r.Method+" "+r.Path)
	}

	// HEAD / answers too; other methods on / are still Stripe's 404
	// (TestUnrecognizedPaths).
	req, err := http.NewRequestWithContext(t.Context(), http.MethodHead, e.srv.URL()+"/", nil)
	require.NoError(t, err)
	head, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	head.Body.Close()
	assert.Equal(t, http.StatusOK, head.StatusCode)
}

// TestRootPointsToEveryProvider: GET / names Chargebee's and Commet's APIs
// and Commet's checkout pages as it names Stripe's API, each of them
// served there, and links their README sections.
func TestRootPointsToEveryProvider(t *testing.T) {
	t.Parallel()
	e := start(t, emulator.Config{NoSync: true})
	_, body := getRoot(t, e, "")
	var ix index
	require.NoError(t, json.Unmarshal([]byte(body), &ix), body)
	assert.Contains(t, ix.Description, "Chargebee")
	assert.Contains(t, ix.Description, "Commet")

	// Chargebee's API answers there, in Chargebee's shape.
	require.Equal(t, "/api/v2", ix.ChargebeeAPI)
	cb := &cbEnv{srv: e.srv, key: "test_index"}
	m := cb.do(t, http.MethodGet, ix.ChargebeeAPI+"/time_machines/delorean", nil).ok(t)
	assert.Equal(t, "delorean", obj(t, m, "time_machine")["name"])

	// So does Commet's; a subscription's checkout page is at the path named.
	require.Equal(t, "/api/v1", ix.CommetAPI)
	commet := commetAPI{t: t, base: e.srv.URL(), key: "ck_index"} // it calls /api/v1
	assert.Equal(t, "test_clock", commet.ok(http.MethodGet, "/test-clock", nil).str("object"))
	commet.ok(http.MethodPost, "/plans", map[string]any{"name": "Pro", "code": "pro"})
	commet.ok(http.MethodPost, "/plans/pro/prices", map[string]any{"billingInterval": "monthly", "price": 9900})
	commet.ok(http.MethodPost, "/customers", map[string]any{"email": "acme@example.test", "id": "acme"})
	sub := commet.ok(http.MethodPost, "/subscriptions", map[string]any{"customerId": "acme", "planCode": "pro"})
	checkout, err := url.Parse(sub.str("checkoutUrl"))
	require.NoError(t, err)
	prefix, ok := strings.CutSuffix(ix.CommetCheckout, "{token}")
	require.True(t, ok, "the checkout path ends in its token: %s", ix.CommetCheckout)
	assert.True(t, strings.HasPrefix(checkout.Path, prefix), "%s is not under %s", checkout.Path, ix.CommetCheckout)
	resp, err := http.Get(e.srv.URL() + checkout.Path)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html"), resp.Header.Get("Content-Type"))

	// Their README sections are linked (TestRootPointsToDocs checks that
	// every link is a section).
	var fragments []string
	for _, d := range ix.Docs {
		u, err := url.Parse(d.URL)
		require.NoError(t, err)
		fragments = append(fragments, u.Fragment)
	}
	assert.Contains(t, fragments, "chargebee-time-machine")
	assert.Contains(t, fragments, "commet")

	// A browser's page names them too.
	_, page := getRoot(t, e, "text/html")
	for _, path := range []string{ix.ChargebeeAPI, ix.CommetAPI, ix.CommetCheckout} {
		assert.Contains(t, page, "<code>"+path+"</code>")
	}
}
