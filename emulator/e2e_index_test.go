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
	Health      string `json:"health"`
	Dashboard   string `json:"dashboard"`
	Docs        []struct {
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
