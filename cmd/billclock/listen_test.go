package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v86/webhook"

	"github.com/billclock/billclock/emulator"
	"github.com/billclock/billclock/emulator/emulatortest"
)

// runningListen is a `billclock listen` running through the root command.
type runningListen struct {
	out    *syncBuffer
	errOut *syncBuffer
	secret string
	cancel context.CancelFunc
	done   chan error
}

var (
	readyLine = regexp.MustCompile(`^Ready! Your webhook signing secret is (whsec_\w+) \(\^C to quit\)$`)
	eventLine = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})   --> (\S+) \[(evt_\w+)\]( .*)?$`)
	// forwardLine is an event line when forwarding; it captures the status
	// (or ERROR), the URL, the event id and, for errors, the error.
	forwardLine = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}   --> \S+ \[(evt_\w+)\]  <--  \[(\d+|ERROR)\] POST (\S+?)(?:: (.+))?$`)
)

// waitTimeout bounds every wait for something asynchronous to happen.
const waitTimeout = 10 * time.Second

// startListen runs `billclock listen args...` against base with key until
// stop is called or the test ends, and waits for its Ready line.
func startListen(t *testing.T, base, key string, args ...string) *runningListen {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l := &runningListen{out: &syncBuffer{}, errOut: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	cmd := newRootCommand(envFunc(nil))
	cmd.SetArgs(append([]string{"listen", "--api-base", base, "--api-key", key}, args...))
	cmd.SetOut(l.out)
	cmd.SetErr(l.errOut)
	go func() { l.done <- cmd.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-l.done
	})
	deadline := time.Now().Add(waitTimeout)
	for {
		if lines := l.lines(); len(lines) > 0 {
			m := readyLine.FindStringSubmatch(lines[0])
			if m == nil {
				t.Fatalf("first line is not the Ready line: %q", lines[0])
			}
			l.secret = m[1]
			return l
		}
		select {
		case err := <-l.done:
			l.done <- err // for Cleanup
			t.Fatalf("listen returned early: %v\n%s", err, l.out)
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("listen printed no Ready line")
		}
	}
}

// lines returns the complete lines printed so far.
func (l *runningListen) lines() []string {
	s := l.out.String()
	i := strings.LastIndexByte(s, '\n')
	if i < 0 {
		return nil
	}
	return strings.Split(s[:i], "\n")
}

// waitLines waits until listen has printed n lines after its Ready line,
// and returns them.
func (l *runningListen) waitLines(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		lines := l.lines()[1:]
		if len(lines) >= n {
			return lines
		}
		if time.Now().After(deadline) {
			t.Fatalf("listen printed %d lines after Ready, want %d:\n%s", len(lines), n, l.out)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// stop cancels listen's context, as SIGINT does, and returns what it
// returned.
func (l *runningListen) stop(t *testing.T) error {
	t.Helper()
	l.cancel()
	select {
	case err := <-l.done:
		l.done <- err // for Cleanup
		return err
	case <-time.After(waitTimeout):
		t.Fatal("listen did not stop after its context ended")
		return nil
	}
}

// printedEvent is one `-->` line.
type printedEvent struct{ at, typ, id string }

func parseEventLine(t *testing.T, line string) printedEvent {
	t.Helper()
	m := eventLine.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("not an event line: %q", line)
	}
	return printedEvent{at: m[1], typ: m[2], id: m[3]}
}

// testAPI is a client of srv's API for key.
func testAPI(srv *emulatortest.Server, key string) *apiClient {
	return clientOptions{APIBase: srv.URL(), APIKey: key}.client()
}

// apiEvent is the head of an event from GET /v1/events.
type apiEvent struct {
	ID              string `json:"id"`
	Type            string `json:"type"`
	PendingWebhooks int    `json:"pending_webhooks"`
}

// listEvents lists the account's events, oldest first.
func listEvents(t *testing.T, api *apiClient, params url.Values) []apiEvent {
	t.Helper()
	raw, err := api.do(t.Context(), http.MethodGet, "/v1/events", params)
	if err != nil {
		t.Fatal(err)
	}
	var l struct{ Data []apiEvent }
	if err := json.Unmarshal(raw, &l); err != nil {
		t.Fatal(err)
	}
	slices.Reverse(l.Data)
	return l.Data
}

// webhookEndpoints lists the account's webhook endpoints.
func webhookEndpoints(t *testing.T, api *apiClient) []struct{ ID, URL, Description string } {
	t.Helper()
	raw, err := api.do(t.Context(), http.MethodGet, "/v1/webhook_endpoints", nil)
	if err != nil {
		t.Fatal(err)
	}
	var l struct {
		Data []struct{ ID, URL, Description string }
	}
	if err := json.Unmarshal(raw, &l); err != nil {
		t.Fatal(err)
	}
	return l.Data
}

func mustDo(t *testing.T, api *apiClient, method, path string, params url.Values) map[string]any {
	t.Helper()
	raw, err := api.do(t.Context(), method, path, params)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// noEndpoints fails the test if the account has webhook endpoints: listen
// registers none.
func noEndpoints(t *testing.T, api *apiClient, when string) {
	t.Helper()
	if eps := webhookEndpoints(t, api); len(eps) != 0 {
		t.Errorf("webhook endpoints %s: %+v", when, eps)
	}
}

func TestListenPrintsEvents(t *testing.T) {
	t.Parallel()
	srv := emulatortest.Start(t, emulator.Config{NoSync: true})
	const key = "sk_test_listen"
	api := testAPI(srv, key)
	l := startListen(t, srv.URL(), key)
	noEndpoints(t, api, "while listening")

	start := time.Now().UTC().Add(-time.Second)
	mustDo(t, api, http.MethodPost, "/v1/test_helpers/test_clocks", url.Values{"frozen_time": {"1732320000"}})
	mustDo(t, api, http.MethodPost, "/v1/customers", url.Values{"name": {"Jenny"}})
	want := listEvents(t, api, nil)
	if len(want) != 2 {
		t.Fatalf("events: %+v", want)
	}

	lines := l.waitLines(t, len(want))
	for i, line := range lines {
		got := parseEventLine(t, line)
		if got.id != want[i].ID || got.typ != want[i].Type {
			t.Errorf("line %d = %q, want %s [%s]", i, line, want[i].Type, want[i].ID)
		}
		at, err := time.Parse(listenTimeFormat, got.at)
		if err != nil || at.Before(start.Truncate(time.Second)) || at.After(time.Now().UTC().Add(time.Second)) {
			t.Errorf("line %d: time %s is not the UTC time of receipt (test started %s)", i, got.at, start)
		}
	}
	if err := l.stop(t); err != nil {
		t.Fatalf("listen returned %v after its context ended, want nil", err)
	}
	if got := l.lines()[1:]; len(got) != len(want) {
		t.Errorf("listen printed %d lines for %d events:\n%s", len(got), len(want), l.out)
	}
	noEndpoints(t, api, "after listen stopped")
	if s := l.errOut.String(); s != "" {
		t.Errorf("listen printed on stderr: %s", s)
	}
}

// handlerSpy is a webhook handler that verifies what it gets as an
// application would, with stripe-go and the secret listen printed.
type handlerSpy struct {
	mu       sync.Mutex
	secret   string
	got      []string // event ids, verified
	problems []string
	status   map[string]int // answer by event type; 200 otherwise
}

func (h *handlerSpy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	ev, err := webhook.ConstructEvent(body, r.Header.Get("Stripe-Signature"), h.secret)
	if err != nil {
		h.problems = append(h.problems, err.Error())
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if ua := r.Header.Get("User-Agent"); ua != "Stripe/1.0 (+https://stripe.com/docs/webhooks)" {
		h.problems = append(h.problems, "User-Agent "+ua)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		h.problems = append(h.problems, "Content-Type "+ct)
	}
	if r.Method != http.MethodPost || r.URL.Path != "/webhook" {
		h.problems = append(h.problems, r.Method+" "+r.URL.Path)
	}
	h.got = append(h.got, ev.ID)
	if s, ok := h.status[string(ev.Type)]; ok {
		w.WriteHeader(s)
	}
}

func (h *handlerSpy) verified() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.got)
}

func TestListenForwards(t *testing.T) {
	t.Parallel()
	srv := emulatortest.Start(t, emulator.Config{NoSync: true})
	const key = "sk_test_forward"
	api := testAPI(srv, key)
	spy := &handlerSpy{status: map[string]int{"customer.updated": http.StatusInternalServerError}}
	target := httptest.NewServer(spy)
	defer target.Close()
	// Without a scheme, as `stripe listen -f localhost:4242/webhook`.
	forwardTo := strings.TrimPrefix(target.URL, "http://") + "/webhook"
	l := startListen(t, srv.URL(), key, "--forward-to", forwardTo)
	spy.mu.Lock()
	spy.secret = l.secret
	spy.mu.Unlock()

	stdout, _, err := runCLI(t, nil, "--api-base", srv.URL(), "--api-key", key, "trigger", "customer.updated")
	if err != nil {
		t.Fatalf("trigger: %v\n%s", err, stdout)
	}
	want := listEvents(t, api, nil)
	if len(want) != 2 || want[0].Type != "customer.created" || want[1].Type != "customer.updated" {
		t.Fatalf("events: %+v", want)
	}
	lines := l.waitLines(t, len(want))
	for i, ev := range want {
		got := parseEventLine(t, lines[i])
		if got.id != ev.ID || got.typ != ev.Type {
			t.Errorf("line %q, want %s [%s]", lines[i], ev.Type, ev.ID)
		}
		m := forwardLine.FindStringSubmatch(lines[i])
		wantStatus := "200"
		if ev.Type == "customer.updated" {
			wantStatus = "500"
		}
		if m == nil || m[1] != ev.ID || m[2] != wantStatus || m[3] != "http://"+forwardTo {
			t.Errorf("line %q, want %s [%s]  <--  [%s] POST http://%s", lines[i], ev.Type, ev.ID, wantStatus, forwardTo)
		}
	}
	spy.mu.Lock()
	if len(spy.problems) > 0 {
		t.Errorf("handler saw: %v", spy.problems)
	}
	spy.mu.Unlock()
	if got := spy.verified(); !slices.Equal(got, []string{want[0].ID, want[1].ID}) {
		t.Errorf("handler verified %v, want %s then %s", got, want[0].ID, want[1].ID)
	}
	// The events did not go through billclock's webhook deliveries.
	noEndpoints(t, api, "while listening")
	if err := l.stop(t); err != nil {
		t.Fatalf("listen returned %v after its context ended, want nil", err)
	}

	// A listen started again prints the same secret: it is the account's,
	// as `stripe listen`'s is.
	again := startListen(t, srv.URL(), key)
	if again.secret != l.secret {
		t.Errorf("second listen's secret differs from the first's")
	}
}

func TestListenForwardError(t *testing.T) {
	t.Parallel()
	srv := emulatortest.Start(t, emulator.Config{NoSync: true})
	const key = "sk_test_forward_err"
	// A port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String() + "/webhook"
	ln.Close()

	l := startListen(t, srv.URL(), key, "--forward-to", dead)
	mustDo(t, testAPI(srv, key), http.MethodPost, "/v1/customers", nil)
	lines := l.waitLines(t, 1)
	ev := parseEventLine(t, lines[0])
	m := forwardLine.FindStringSubmatch(lines[0])
	if ev.typ != "customer.created" || m == nil || m[1] != ev.id || m[2] != "ERROR" || m[3] != dead ||
		!strings.Contains(m[4], "connection refused") {
		t.Fatalf("lines:\n%s", strings.Join(lines, "\n"))
	}
	if strings.Contains(m[4], "POST") {
		t.Errorf("error repeats the request: %q", lines[0])
	}
}

func TestListenEventsFilter(t *testing.T) {
	t.Parallel()
	srv := emulatortest.Start(t, emulator.Config{NoSync: true})
	const key = "sk_test_filter"
	api := testAPI(srv, key)
	l := startListen(t, srv.URL(), key, "--events", "customer.updated,product.created")

	for _, ev := range []string{"customer.updated", "product.created"} {
		if _, _, err := runCLI(t, nil, "--api-base", srv.URL(), "--api-key", key, "trigger", ev); err != nil {
			t.Fatalf("trigger %s: %v", ev, err)
		}
	}
	var want []apiEvent
	all := listEvents(t, api, nil)
	for _, ev := range all {
		if ev.Type == "customer.updated" || ev.Type == "product.created" {
			want = append(want, ev)
		}
	}
	if len(want) != 2 || len(all) <= len(want) {
		t.Fatalf("events: %+v", all)
	}
	lines := l.waitLines(t, 2)
	for i, line := range lines {
		if got := parseEventLine(t, line); got.id != want[i].ID || got.typ != want[i].Type {
			t.Errorf("line %q, want %s [%s]", line, want[i].Type, want[i].ID)
		}
	}
	// One more event of each kind: only the wanted one is printed, so
	// the others before it were passed over, not held back.
	mustDo(t, api, http.MethodPost, "/v1/customers", nil)
	mustDo(t, api, http.MethodPost, "/v1/products", url.Values{"name": {"Seats"}})
	lines = l.waitLines(t, 3)
	if got := parseEventLine(t, lines[2]); got.typ != "product.created" {
		t.Errorf("line %q, want a product.created", lines[2])
	}
	if err := l.stop(t); err != nil {
		t.Fatal(err)
	}
	if got := l.lines()[1:]; len(got) != 3 {
		t.Errorf("listen printed:\n%s", l.out)
	}
}

func TestListenErrors(t *testing.T) {
	t.Parallel()
	srv := emulatortest.Start(t, emulator.Config{NoSync: true})
	const key = "sk_test_listen_errors"

	for _, bad := range []string{"bogus", "invoice.paid,", "invoice .paid"} {
		stdout, _, err := runCLI(t, nil, "listen", "--api-base", srv.URL(), "--api-key", key, "--events", bad)
		if err == nil || !strings.Contains(err.Error(), "invalid --events value") {
			t.Errorf("--events %q: err = %v", bad, err)
		}
		if stdout != "" {
			t.Errorf("--events %q printed %q", bad, stdout)
		}
	}

	// No server: the error says so and suggests billclock serve.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nobody := "http://" + ln.Addr().String()
	ln.Close()
	_, _, err = runCLI(t, nil, "listen", "--api-base", nobody, "--api-key", key)
	if err == nil || !strings.Contains(err.Error(), "billclock serve") {
		t.Errorf("no server: err = %v", err)
	}

	// A key the server refuses: Stripe's error.
	_, _, err = runCLI(t, nil, "listen", "--api-base", srv.URL(), "--api-key", "pk_test_nope")
	var apiErr *apiError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized {
		t.Errorf("bad key: err = %v", err)
	}
	noEndpoints(t, testAPI(srv, key), "after failed listens")
}

func TestEventFilter(t *testing.T) {
	tests := []struct {
		in      []string
		want    []string // nil: every type
		wantErr bool
	}{
		{in: []string{"*"}},
		{in: nil},
		{in: []string{"invoice.paid", "*"}},
		{in: []string{"invoice.paid", " customer.created"}, want: []string{"customer.created", "invoice.paid"}},
		{in: []string{"invoice"}, wantErr: true},
		{in: []string{""}, wantErr: true},
		{in: []string{"invoice.*"}, wantErr: true},
	}
	for _, tt := range tests {
		got, err := eventFilter(tt.in)
		if tt.wantErr != (err != nil) {
			t.Errorf("eventFilter(%q) err = %v", tt.in, err)
			continue
		}
		var keys []string
		for k := range got {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, tt.want) || (tt.want == nil) != (got == nil) {
			t.Errorf("eventFilter(%q) = %v, want %v", tt.in, keys, tt.want)
		}
	}
}

func TestVerifySignature(t *testing.T) {
	body := []byte(`{"id":"evt_1","object":"event"}`)
	const secret = "whsec_test"
	good := fmt.Sprintf("t=%d,v1=%x", 1732320000, webhook.ComputeSignature(time.Unix(1732320000, 0), body, secret))
	tests := []struct {
		name, header string
		wantErr      string
	}{
		{name: "good", header: good},
		{name: "good among others", header: "t=1732320000,v1=00ff,v0=abc," + strings.TrimPrefix(good, "t=1732320000,")},
		{name: "missing", header: "", wantErr: "no Stripe-Signature"},
		{name: "no t", header: strings.TrimPrefix(good, "t=1732320000,"), wantErr: "malformed"},
		{name: "no v1", header: "t=1732320000", wantErr: "malformed"},
		{name: "other time", header: strings.Replace(good, "t=1732320000", "t=1732320001", 1), wantErr: "no v1 signature matches"},
		{name: "not hex", header: "t=1732320000,v1=zz", wantErr: "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := verifySignature(tt.header, body, secret)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("verifySignature(%q) = %v, want %q", tt.header, err, tt.wantErr)
			}
		})
	}
	if err := verifySignature(good, body, "whsec_other"); err == nil {
		t.Error("verified with another secret")
	}
	if err := verifySignature(good, append(body, ' '), secret); err == nil {
		t.Error("verified another body")
	}
}

func TestForwardURL(t *testing.T) {
	tests := []struct{ in, want, wantErr string }{
		{in: "", want: ""},
		{in: "localhost:4242/webhook", want: "http://localhost:4242/webhook"},
		{in: "http://localhost:4242/webhook", want: "http://localhost:4242/webhook"},
		{in: "https://example.test/hooks?x=1", want: "https://example.test/hooks?x=1"},
		{in: "ftp://localhost/x", wantErr: "invalid --forward-to"},
		{in: "http:///nohost", wantErr: "invalid --forward-to"},
	}
	for _, tt := range tests {
		got, err := forwardURL(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("forwardURL(%q) = %q, %v; want error %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("forwardURL(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestDecodeWebhookEvent(t *testing.T) {
	good := `{"type":"webhook_event","webhook_id":"we_1","webhook_conversation_id":"wc_1",` +
		`"event_payload":"{\"id\":\"evt_1\",\"type\":\"invoice.paid\"}","http_headers":{"Stripe-Signature":"t=1,v1=00"},"endpoint":{"api_version":null}}`
	ev, err := decodeWebhookEvent([]byte(good))
	if err != nil || ev.id != "evt_1" || ev.typ != "invoice.paid" || ev.msg.WebhookConversationID != "wc_1" ||
		ev.msg.HTTPHeaders["Stripe-Signature"] != "t=1,v1=00" {
		t.Fatalf("decodeWebhookEvent = %+v, %v", ev, err)
	}
	for _, bad := range []string{
		`{"type":"request_log_event"}`,
		`{"type":"webhook_event","event_payload":"{\"id\":\"evt_1\",\"type\":\"x.y\"}"}`,
		`{"type":"webhook_event","webhook_conversation_id":"wc_1","event_payload":"{}"}`,
		`{"type":"webhook_event","webhook_conversation_id":"wc_1","event_payload":"nope"}`,
		`{"type":"webhook_event","webhook_conversation_id":"wc_1","http_headers":{"a":1}}`,
		`[`,
	} {
		if ev, err := decodeWebhookEvent([]byte(bad)); err == nil {
			t.Errorf("decodeWebhookEvent(%s) = %+v, want an error", bad, ev)
		}
	}
}

// FuzzDecodeWebhookEvent: whatever the server (or something pretending to
// be it) sends, listen's decoder returns an event or an error, never
// panics, and an event it returns has the ids listen prints and acks.
func FuzzDecodeWebhookEvent(f *testing.F) {
	f.Add([]byte(`{"type":"webhook_event","webhook_id":"we_1","webhook_conversation_id":"wc_1","event_payload":"{\"id\":\"evt_1\",\"type\":\"invoice.paid\"}","http_headers":{},"endpoint":{"api_version":null}}`))
	f.Add([]byte(`{"type":"webhook_event","webhook_conversation_id":"wc_1","event_payload":"{\"id\":1}"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := decodeWebhookEvent(data)
		if err != nil {
			return
		}
		if ev.id == "" || ev.typ == "" || ev.msg.WebhookConversationID == "" || ev.msg.Type != "webhook_event" {
			t.Fatalf("accepted %+v from %q", ev, data)
		}
	})
}
