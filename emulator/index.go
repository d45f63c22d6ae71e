package emulator

import (
	"encoding/json"
	"html/template"
	"mime"
	"net/http"
	"strings"

	"github.com/billclock/billclock/emulator/chargebee"
	"github.com/billclock/billclock/emulator/commet"
)

// docsURL is billclock's README, where the index's links lead.
const docsURL = "https://github.com/billclock/billclock"

// indexDoc is a README section the index links to.
type indexDoc struct {
	Title string `json:"title"`
	URL   string `json:"url"`
}

// indexRoute is a control route the index names.
type indexRoute struct {
	Method      string `json:"method"`
	Path        string `json:"path"`
	Description string `json:"description"`
}

// indexPage is the answer of GET /: what a person who opens the server's
// address finds, instead of a 404.
type indexPage struct {
	Object       string `json:"object"`
	Description  string `json:"description"`
	StripeAPI    string `json:"stripe_api"`
	ChargebeeAPI string `json:"chargebee_api"`
	CommetAPI    string `json:"commet_api"`
	// CommetCheckout is where the checkout page of a Commet subscription
	// is (its checkoutUrl).
	CommetCheckout string `json:"commet_checkout"`
	Health         string `json:"health"`
	// Dashboard is billclock's dashboard: the clocks' timelines.
	Dashboard     string       `json:"dashboard"`
	Docs          []indexDoc   `json:"docs"`
	ControlRoutes []indexRoute `json:"control_routes"`
}

// theIndex returns the index's content.
func theIndex() indexPage {
	return indexPage{
		Object: "billclock.index",
		Description: "billclock, a local emulator of Stripe's test clocks, is running here. Point stripe-go, " +
			"stripe-node, the Stripe CLI (--api-base) or curl at this address with any sk_test_ key; " +
			"each key is its own account. Chargebee's Time Machine (test_ keys) and Commet's test clock " +
			"(ck_ keys) are served here too.",
		StripeAPI:      "/v1",
		ChargebeeAPI:   chargebee.APIPrefix,
		CommetAPI:      commet.APIPrefix,
		CommetCheckout: commet.CheckoutPath + "{token}",
		Health:         "/healthz",
		Dashboard:      "/_billclock/",
		Docs: []indexDoc{
			{"Pointing clients at billclock", docsURL + "#pointing-clients-at-billclock"},
			{"In containers and CI", docsURL + "#in-containers-and-ci"},
			{"The billclock CLI", docsURL + "#the-billclock-cli"},
			{"The dashboard (clock timelines)", docsURL + "#the-dashboard-clock-timelines"},
			{"serve flags and environment", docsURL + "#serve-flags-and-environment"},
			{"What is emulated", docsURL + "#what-is-emulated"},
			{"Chargebee (Time Machine)", docsURL + "#chargebee-time-machine"},
			{"Commet", docsURL + "#commet"},
		},
		ControlRoutes: []indexRoute{
			{http.MethodGet, "/_billclock/settings", "the account's dunning settings"},
			{http.MethodPost, "/_billclock/settings", "change the account's dunning settings"},
			{http.MethodGet, "/_billclock/webhook_attempts", "webhook delivery attempts, newest first"},
			{http.MethodGet, "/_billclock/test_clocks/{id}/progress", "how far the clock's advance has got: simulated time reached, tasks done"},
			{http.MethodPost, "/_billclock/test_clocks/{id}/fail_next_advance", "make the clock's next advance end in internal_failure"},
			{http.MethodPost, "/_billclock/checkout/sessions/{session}/complete", "complete a Checkout Session with a test card, as its page does"},
		},
	}
}

// indexHTML renders the index for browsers.
var indexHTML = template.Must(template.New("index").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>billclock</title></head>
<body>
<h1>billclock</h1>
<p>{{.Description}}</p>
<p>Stripe's API: <code>{{.StripeAPI}}</code>. Health: <a href="{{.Health}}"><code>{{.Health}}</code></a>.</p>
<p>The clocks' timelines: <a href="{{.Dashboard}}">the dashboard</a> (open on loopback, or with your API key).</p>
<p>Chargebee's API: <code>{{.ChargebeeAPI}}</code>. Commet's API: <code>{{.CommetAPI}}</code>; its subscriptions'
checkout pages: <code>{{.CommetCheckout}}</code>.</p>
<h2>Documentation</h2>
<ul>{{range .Docs}}
<li><a href="{{.URL}}">{{.Title}}</a></li>{{end}}
</ul>
<h2>Control routes</h2>
<p>They take your API key, like the API.</p>
<ul>{{range .ControlRoutes}}
<li><code>{{.Method}} {{.Path}}</code>: {{.Description}}</li>{{end}}
</ul>
</body></html>
`))

// serveIndex answers GET / with the index: HTML for a browser (which asks
// for text/html), JSON for everything else. It needs no API key.
func serveIndex(w http.ResponseWriter, r *http.Request) {
	if wantsHTML(r.Header.Get("Accept")) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		indexHTML.Execute(w, theIndex())
		return
	}
	body, _ := json.MarshalIndent(theIndex(), "", "  ")
	w.Header().Set("Content-Type", "application/json")
	w.Write(append(body, '\n'))
}

// wantsHTML reports whether an Accept header names text/html, as browsers'
// do; curl's */* and API clients get JSON.
func wantsHTML(accept string) bool {
	for part := range strings.SplitSeq(accept, ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "text/html" {
			return true
		}
	}
	return false
}
