// Package dashboard is billclock's own dashboard, GET /_billclock/: the
// accounts (by masked key) and their clocks (Stripe's test clocks,
// Chargebee sites' time machine, Commet organizations' test clock), and
// for each clock a timeline over simulated time of its subscriptions'
// periods, invoices, payment attempts, retries, events and advances, with
// buttons that advance the clock. Pages are rendered on the server; a
// small script (assets/dashboard.js) shows objects' JSON, filters events
// and follows an advance live. Every asset is embedded in the binary.
//
// What it shows it reads from the runtime (clockwork); an object's JSON and
// an advance go through the dialect's own API (clockwork.Inspector),
// in-process with the account's key, so that they are what the API shows
// and does. Access: see access.go.
package dashboard

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// Prefix is where the dashboard lives; Path(clock) is a clock's page.
const (
	Prefix    = "/_billclock/"
	pagesRoot = "/_billclock/dashboard"
)

// ClockPath is the path that opens the page of clock id, in whichever
// account (visible to the request) has it: `billclock open` opens it.
func ClockPath(id string) string { return pagesRoot + "/clocks/" + url.PathEscape(id) }

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed assets
var assetFiles embed.FS

// Dashboard serves the dashboard over a runtime.
type Dashboard struct {
	rt    *clockwork.Runtime
	pages *template.Template
	// api serves the in-process requests of the dialects' APIs: the
	// router Routes was given.
	api http.Handler
}

// New returns the dashboard of rt's accounts. Register the dialects on rt
// first.
func New(rt *clockwork.Runtime) *Dashboard {
	funcs := template.FuncMap{
		"f":     func(v float64) string { return fmt.Sprintf("%.1f", v) },
		"stamp": stamp,
		"add":   func(a, b float64) float64 { return a + b },
		"human": func(s string) string { return strings.ReplaceAll(s, "_", " ") },
	}
	pages := template.Must(template.New("").Funcs(funcs).ParseFS(templateFiles, "templates/*.html"))
	return &Dashboard{rt: rt, pages: pages}
}

// Routes adds the dashboard's routes to r. The API requests the dashboard
// makes in-process (an object's JSON, an advance) are served by r, which
// must hold the dialects' routes when the first request comes.
func (d *Dashboard) Routes(r *mux.Router) {
	d.api = r
	r.HandleFunc(Prefix, d.page(d.serveIndex)).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(pagesRoot+"/clocks/{clock}", d.page(d.serveOpen)).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(pagesRoot+"/{account}/clocks/{clock}", d.page(d.serveClock)).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(pagesRoot+"/{account}/clocks/{clock}/timeline", d.page(d.serveTimeline)).Methods(http.MethodGet)
	r.HandleFunc(pagesRoot+"/{account}/clocks/{clock}/status", d.page(d.serveStatus)).Methods(http.MethodGet)
	r.HandleFunc(pagesRoot+"/{account}/clocks/{clock}/advance", d.page(d.serveAdvance)).Methods(http.MethodPost)
	r.HandleFunc(pagesRoot+"/{account}/objects/{kind}/{id}", d.page(d.serveObject)).Methods(http.MethodGet)
	assets, _ := fs.Sub(assetFiles, "assets")
	r.PathPrefix(pagesRoot+"/assets/").Handler(http.StripPrefix(pagesRoot+"/assets/", assetServer(http.FileServerFS(assets)))).
		Methods(http.MethodGet, http.MethodHead)
}

// assetServer serves the embedded assets, cached briefly. A name that is
// no file's (not UTF-8, say, which the file server would answer with a
// 500) is not found.
func assetServer(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if name := strings.TrimPrefix(r.URL.Path, "/"); name != "" && !fs.ValidPath(name) {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}

// request is one request to the dashboard, authorized.
type request struct {
	w    http.ResponseWriter
	r    *http.Request
	who  viewer
	vars map[string]string
}

// page authorizes a request and sets the headers every answer carries.
func (d *Dashboard) page(h func(*request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Cache-Control", "no-store")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
		who, ok := d.authorize(w, r)
		if !ok {
			return
		}
		req := &request{w: w, r: r, who: who, vars: mux.Vars(r)}
		if err := h(req); err != nil {
			d.fail(req, err)
		}
	}
}

// notFound is a page or object that is not there, or not visible to the
// request.
type notFound struct{ what string }

func (e *notFound) Error() string { return e.what + " not found" }

// fail answers an error: 404 for what is not there, else 500 without
// details (they may name stored data; the runtime's logger gets them).
func (d *Dashboard) fail(req *request, err error) {
	var nf *notFound
	status, msg := http.StatusInternalServerError, "billclock's dashboard could not read this: see the server's log."
	if errors.As(err, &nf) {
		status, msg = http.StatusNotFound, nf.Error()+"."
	} else {
		d.rt.Logger().Error("dashboard", "path", req.r.URL.Path, "err", err)
	}
	if strings.Contains(req.r.Header.Get("Accept"), "application/json") || req.r.Method == http.MethodPost {
		writeJSON(req.w, status, map[string]string{"error": msg})
		return
	}
	req.w.Header().Set("Content-Type", "text/html; charset=utf-8")
	req.w.WriteHeader(status)
	d.pages.ExecuteTemplate(req.w, "error.html", map[string]any{"Status": status, "Message": msg, "Root": Prefix,
		"Assets": pagesRoot + "/assets/"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, _ := json.MarshalIndent(v, "", "  ")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

// account is an account as the dashboard shows it. Its key is never
// rendered: pages name it by Masked and Label.
type account struct {
	key       string
	dialect   clockwork.Dialect
	insp      clockwork.Inspector
	Label     string
	Masked    string
	Provider  string
	Noun      string
	ClockNoun string
}

func (d *Dashboard) newAccount(key string, dl clockwork.Dialect) (account, bool) {
	insp, ok := dl.(clockwork.Inspector)
	if !ok {
		return account{}, false
	}
	noun, clockNoun := insp.Nouns()
	name := dl.Name()
	return account{key: key, dialect: dl, insp: insp, Label: clockwork.AccountLabel(key), Masked: MaskKey(key),
		Provider: strings.ToUpper(name[:1]) + name[1:], Noun: noun, ClockNoun: clockNoun}, true
}

// accounts are the accounts the request may see, in key order: every one
// on loopback, else the request's key's own (which may have no data yet).
func (d *Dashboard) accounts(tx *store.Tx, who viewer) ([]account, error) {
	var keys []string
	if err := tx.Accounts(func(key string) error {
		if who.key == "" || key == who.key {
			keys = append(keys, key)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	var out []account
	for _, key := range keys {
		dl, err := d.rt.AccountDialect(tx, key)
		if err != nil {
			d.rt.Logger().Warn("dashboard: an account of no dialect served here", "account", clockwork.AccountLabel(key), "err", err)
			continue
		}
		if a, ok := d.newAccount(key, dl); ok {
			out = append(out, a)
		}
	}
	if who.key != "" && len(keys) == 0 {
		if a, ok := d.newAccount(who.key, d.keyDialect(who.key)); ok {
			out = append(out, a)
		}
	}
	return out, nil
}

// findAccount is the visible account labelled label.
func (d *Dashboard) findAccount(tx *store.Tx, who viewer, label string) (account, error) {
	accts, err := d.accounts(tx, who)
	if err != nil {
		return account{}, err
	}
	for _, a := range accts {
		if a.Label == label {
			return a, nil
		}
	}
	return account{}, &notFound{"account " + label}
}

// ledger is a's ledger in tx, for reading.
func (d *Dashboard) ledger(tx *store.Tx, a account) (*clockwork.Ledger, error) {
	return d.rt.Ledger(tx, a.dialect, a.key, nil)
}

// clockLink is a clock in a list.
type clockLink struct {
	ID, Name, Status, Frozen, URL string
	Subscriptions                 int
}

// accountView is an account with its clocks, for the index.
type accountView struct {
	account
	Clocks []clockLink
}

func (d *Dashboard) clockURL(a account, clock string) string {
	return pagesRoot + "/" + a.Label + "/clocks/" + url.PathEscape(clock)
}

func (d *Dashboard) serveIndex(req *request) error {
	var views []accountView
	err := d.rt.DB().View(func(tx *store.Tx) error {
		accts, err := d.accounts(tx, req.who)
		if err != nil {
			return err
		}
		for _, a := range accts {
			v := accountView{account: a}
			l, err := d.ledger(tx, a)
			if err != nil {
				return err
			}
			if err := l.Clocks(func(c *billing.Clock) error {
				n := 0
				if err := l.SubscriptionsOnClock(c.ID, func(*billing.Subscription) error { n++; return nil }); err != nil {
					return err
				}
				v.Clocks = append(v.Clocks, clockLink{ID: c.ID, Name: c.Name, Status: string(c.Status), Frozen: stamp(c.FrozenTime),
					URL: d.clockURL(a, c.ID), Subscriptions: n})
				return nil
			}); err != nil {
				return err
			}
			views = append(views, v)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return d.render(req, "index.html", map[string]any{"Accounts": views, "Scoped": req.who.key != ""})
}

// serveOpen finds clock id among the visible accounts: one is shown, and
// several (Chargebee's delorean is every site's) are listed to choose.
func (d *Dashboard) serveOpen(req *request) error {
	id := req.vars["clock"]
	var found []accountView
	err := d.rt.DB().View(func(tx *store.Tx) error {
		accts, err := d.accounts(tx, req.who)
		if err != nil {
			return err
		}
		for _, a := range accts {
			l, err := d.ledger(tx, a)
			if err != nil {
				return err
			}
			c, err := l.Clock(id)
			if isMissing(err) {
				continue
			}
			if err != nil {
				return err
			}
			found = append(found, accountView{account: a, Clocks: []clockLink{{ID: c.ID, Name: c.Name, Status: string(c.Status),
				Frozen: stamp(c.FrozenTime), URL: d.clockURL(a, c.ID)}}})
		}
		return nil
	})
	switch {
	case err != nil:
		return err
	case len(found) == 0:
		return &notFound{"clock " + id}
	case len(found) == 1:
		http.Redirect(req.w, req.r, found[0].Clocks[0].URL, http.StatusFound)
		return nil
	}
	return d.render(req, "index.html", map[string]any{"Accounts": found, "Choose": id})
}

func isMissing(err error) bool {
	var be *billing.Error
	return errors.As(err, &be) && be.Kind == billing.NotFound
}

// clockData is what a clock's page shows.
type clockData struct {
	Account  account
	Clock    *billing.Clock
	Timeline *timeline
	Drawing  *drawing
	Base     string // the clock page's URL
	Objects  string // the account's objects' URL prefix
	Assets   string
	Root     string
}

// readClock reads the clock of the request's account and clock vars, with
// its timeline.
func (d *Dashboard) readClock(req *request) (*clockData, error) {
	cd := &clockData{Assets: pagesRoot + "/assets/", Root: Prefix}
	err := d.rt.DB().View(func(tx *store.Tx) error {
		a, err := d.findAccount(tx, req.who, req.vars["account"])
		if err != nil {
			return err
		}
		l, err := d.ledger(tx, a)
		if err != nil {
			return err
		}
		c, err := l.Clock(req.vars["clock"])
		if isMissing(err) {
			return &notFound{a.ClockNoun + " " + req.vars["clock"]}
		}
		if err != nil {
			return err
		}
		tl, err := buildTimeline(l, c)
		if err != nil {
			return err
		}
		cd.Account, cd.Clock, cd.Timeline, cd.Drawing = a, c, tl, layout(tl)
		cd.Base = d.clockURL(a, c.ID)
		cd.Objects = pagesRoot + "/" + a.Label + "/objects/"
		return nil
	})
	return cd, err
}

func (d *Dashboard) serveClock(req *request) error {
	cd, err := d.readClock(req)
	if err != nil {
		return err
	}
	return d.render(req, "clock.html", cd)
}

func (d *Dashboard) serveTimeline(req *request) error {
	cd, err := d.readClock(req)
	if err != nil {
		return err
	}
	return d.render(req, "timeline", cd)
}

func (d *Dashboard) render(req *request, name string, data any) error {
	if m, ok := data.(map[string]any); ok {
		m["Assets"], m["Root"] = pagesRoot+"/assets/", Prefix
	}
	var buf bytes.Buffer
	if err := d.pages.ExecuteTemplate(&buf, name, data); err != nil {
		return err
	}
	req.w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, err := req.w.Write(buf.Bytes())
	return err
}

// clockStatus is the answer of .../status: what the page polls to follow
// an advance.
type clockStatus struct {
	Clock       string `json:"clock"`
	Status      string `json:"status"`
	FrozenTime  int64  `json:"frozen_time"`
	Frozen      string `json:"frozen"`
	TargetTime  int64  `json:"target_time"`
	Target      string `json:"target"`
	ReachedTime int64  `json:"reached_time"`
	Reached     string `json:"reached"`
	TasksDone   int64  `json:"tasks_done"`
	// Moves counts the clock's logged moves: the page redraws when it
	// changes.
	Moves int `json:"moves"`
}

func (d *Dashboard) serveStatus(req *request) error {
	var st clockStatus
	err := d.rt.DB().View(func(tx *store.Tx) error {
		a, err := d.findAccount(tx, req.who, req.vars["account"])
		if err != nil {
			return err
		}
		l, err := d.ledger(tx, a)
		if err != nil {
			return err
		}
		p, err := l.Progress(req.vars["clock"])
		if isMissing(err) {
			return &notFound{a.ClockNoun + " " + req.vars["clock"]}
		}
		if err != nil {
			return err
		}
		c, err := l.Clock(req.vars["clock"])
		if err != nil {
			return err
		}
		moves, err := l.ClockMoves(c.ID)
		if err != nil {
			return err
		}
		st = clockStatus{Clock: c.ID, Status: p.Status, FrozenTime: c.FrozenTime, Frozen: stamp(c.FrozenTime),
			TargetTime: p.TargetFrozenTime, Target: stamp(p.TargetFrozenTime), ReachedTime: p.ReachedTime,
			Reached: stamp(p.ReachedTime), TasksDone: p.TasksDone, Moves: len(moves)}
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(req.w, http.StatusOK, st)
	return nil
}

// advanceHeader must be on every advance: a form of another site cannot
// send it, so no page but the dashboard's own can move a clock.
const advanceHeader = "X-Billclock-Dashboard"

// target computes where an advance asked for by form goes from frozen:
// by=hour|day|week|month, or to=a UTC date or time.
func target(form url.Values, frozen int64) (int64, error) {
	t := time.Unix(frozen, 0).UTC()
	if to := strings.TrimSpace(form.Get("to")); to != "" {
		for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02", time.RFC3339} {
			if at, err := time.ParseInLocation(layout, to, time.UTC); err == nil {
				return at.Unix(), nil
			}
		}
		return 0, fmt.Errorf("%q is not a date: give it as 2006-01-02 or 2006-01-02T15:04 (UTC)", to)
	}
	switch form.Get("by") {
	case "hour":
		return t.Add(time.Hour).Unix(), nil
	case "day":
		return t.AddDate(0, 0, 1).Unix(), nil
	case "week":
		return t.AddDate(0, 0, 7).Unix(), nil
	case "month":
		// As billing months go: Jan 31 plus a month is the end of February.
		return billing.Interval{Unit: billing.Month, Count: 1}.AddTo(frozen), nil
	}
	return 0, errors.New("say by=hour, day, week or month, or to=a date")
}

// advanceAnswer is the answer of .../advance: the API's, with its status.
type advanceAnswer struct {
	Target     int64           `json:"target_time"`
	APIRequest string          `json:"api_request"`
	APIStatus  int             `json:"api_status"`
	Error      string          `json:"error,omitempty"`
	Response   json.RawMessage `json:"response,omitempty"`
}

func (d *Dashboard) serveAdvance(req *request) error {
	if req.r.Header.Get(advanceHeader) == "" {
		writeJSON(req.w, http.StatusForbidden, map[string]string{"error": "advances come from the dashboard's own page (" + advanceHeader + ")"})
		return nil
	}
	if err := req.r.ParseForm(); err != nil {
		writeJSON(req.w, http.StatusBadRequest, map[string]string{"error": "the form could not be read"})
		return nil
	}
	var a account
	var clock *billing.Clock
	err := d.rt.DB().View(func(tx *store.Tx) (err error) {
		if a, err = d.findAccount(tx, req.who, req.vars["account"]); err != nil {
			return err
		}
		l, err := d.ledger(tx, a)
		if err != nil {
			return err
		}
		clock, err = l.Clock(req.vars["clock"])
		if isMissing(err) {
			return &notFound{a.ClockNoun + " " + req.vars["clock"]}
		}
		return err
	})
	if err != nil {
		return err
	}
	to, err := target(req.r.PostForm, clock.FrozenTime)
	if err != nil {
		writeJSON(req.w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return nil
	}
	api := a.insp.AdvanceRequest(a.key, clock.ID, to)
	status, body := d.callAPI(req.r, api)
	ans := advanceAnswer{Target: to, APIRequest: api.Method + " " + api.URL.Path, APIStatus: status}
	if json.Valid(body) {
		ans.Response = body
	}
	code := http.StatusOK
	if status >= 300 {
		code, ans.Error = http.StatusUnprocessableEntity, firstMessage(body)
		if ans.Error == "" {
			ans.Error = fmt.Sprintf("the API answered %d", status)
		}
	}
	writeJSON(req.w, code, ans)
	return nil
}

// callAPI serves api in-process, as the dialect's API would over the
// network, and returns its status and body.
func (d *Dashboard) callAPI(parent *http.Request, api *http.Request) (int, []byte) {
	api = api.WithContext(parent.Context())
	api.RemoteAddr = parent.RemoteAddr
	if api.Body == nil {
		api.Body = http.NoBody // as a server's requests have
	}
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	d.api.ServeHTTP(rec, api)
	return rec.status, rec.body.Bytes()
}

// recorder is the http.ResponseWriter of an in-process API request.
type recorder struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
}
func (r *recorder) Write(p []byte) (int, error) {
	r.wrote = true
	return r.body.Write(p)
}

// firstMessage finds an error's message in an API's error body, whatever
// its envelope: the first "message" string.
func firstMessage(body []byte) string {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	var find func(v any) string
	find = func(v any) string {
		switch t := v.(type) {
		case map[string]any:
			if m, ok := t["message"].(string); ok {
				return m
			}
			keys := make([]string, 0, len(t))
			for k := range t {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				if m := find(t[k]); m != "" {
					return m
				}
			}
		case []any:
			for _, e := range t {
				if m := find(e); m != "" {
					return m
				}
			}
		}
		return ""
	}
	return find(v)
}

// objectKinds are the kinds of object a page links to.
var objectKinds = map[string]bool{clockwork.KindClock: true, clockwork.KindCustomer: true, clockwork.KindSubscription: true,
	clockwork.KindInvoice: true, clockwork.KindPayment: true, clockwork.KindCharge: true, clockwork.KindEvent: true}

// objectID is the shape of the ids of every dialect's objects.
var objectID = regexp.MustCompile(`^[A-Za-z0-9_.\-]{1,255}$`)

// objectAnswer is the answer of .../objects/{kind}/{id}: the object as the
// API returns it (Body), and how it was had.
type objectAnswer struct {
	Kind       string          `json:"kind"`
	ID         string          `json:"id"`
	APIRequest string          `json:"api_request,omitempty"`
	APIStatus  int             `json:"api_status,omitempty"`
	Note       string          `json:"note,omitempty"`
	Body       json.RawMessage `json:"body"`
}

func (d *Dashboard) serveObject(req *request) error {
	kind, id := req.vars["kind"], req.vars["id"]
	if !objectKinds[kind] || !objectID.MatchString(id) {
		return &notFound{"object " + kind + " " + id}
	}
	var a account
	ans := objectAnswer{Kind: kind, ID: id}
	var fallback func() error
	err := d.rt.DB().View(func(tx *store.Tx) (err error) {
		if a, err = d.findAccount(tx, req.who, req.vars["account"]); err != nil {
			return err
		}
		if a.insp.InspectRequest(a.key, kind, id) != nil {
			return nil
		}
		l, err := d.ledger(tx, a)
		if err != nil {
			return err
		}
		// No route of the API retrieves such an object: show what the
		// API shows of it.
		switch kind {
		case clockwork.KindCharge, clockwork.KindPayment:
			invoice := ""
			if kind == clockwork.KindCharge {
				ch, err := l.Charge(id)
				if err != nil {
					return err
				}
				invoice = ch.Invoice
				if invoice == "" {
					if p, err := l.Payment(ch.Payment); err == nil {
						invoice = p.Invoice
					}
				}
			} else {
				p, err := l.Payment(id)
				if err != nil {
					return err
				}
				invoice = p.Invoice
			}
			if invoice == "" {
				return &notFound{a.Provider + "'s API shows no " + kind + " " + id + ", and it paid no invoice:"}
			}
			ans.Note = fmt.Sprintf("%s's API has no route for a %s: this is invoice %s, which it paid.", a.Provider, kind, invoice)
			fallback = func() error { return d.inspect(req, a, clockwork.KindInvoice, invoice, &ans) }
		case clockwork.KindEvent:
			stored, err := l.Event(id)
			if err != nil {
				return err
			}
			body, _, err := a.dialect.FormatDelivery(&clockwork.Endpoint{}, bytes.Clone(stored), d.rt.Now())
			if err != nil {
				return err
			}
			ans.Note = fmt.Sprintf("%s's API has no route for events: this is the event as webhooks deliver it.", a.Provider)
			ans.Body = json.RawMessage(body)
		default:
			return &notFound{kind + " " + id}
		}
		return nil
	})
	if isMissing(err) || errors.Is(err, store.ErrNotFound) {
		return &notFound{kind + " " + id}
	}
	if err != nil {
		return err
	}
	switch {
	case fallback != nil:
		err = fallback()
	case ans.Body == nil:
		err = d.inspect(req, a, kind, id, &ans)
	}
	if err != nil {
		return err
	}
	status := http.StatusOK
	if ans.APIStatus >= 300 {
		status = ans.APIStatus
	}
	writeJSON(req.w, status, ans)
	return nil
}

// inspect fills ans with object id of kind as a's API retrieves it.
func (d *Dashboard) inspect(req *request, a account, kind, id string, ans *objectAnswer) error {
	api := a.insp.InspectRequest(a.key, kind, id)
	if api == nil {
		return &notFound{kind + " " + id}
	}
	status, body := d.callAPI(req.r, api)
	ans.APIRequest, ans.APIStatus = api.Method+" "+api.URL.EscapedPath(), status
	if !json.Valid(body) {
		raw, _ := json.Marshal(string(body))
		body = raw
	}
	ans.Body = body
	return nil
}
