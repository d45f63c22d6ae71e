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
	l := &runningListen{out: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	cmd := newRootCommand(envFunc(nil))
	cmd.SetArgs(append([]string{"listen", "--api-base", base, "--api-key", key}, args...))
	cmd.SetOut(l.out)
	cmd.SetErr(io.Discard)
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

// attempt is one of billclock's delivery attempts.
type attempt struct {
	Event, Outcome string
	StatusCode     int `json:"status_code"`
}

// attempts lists billclock's delivery attempts for the account.
func attempts(t *testing.T, api *apiClient) []attempt {
	t.Helper()
	raw, err := api.do(t.Context(), http.MethodGet, "/_billclock/webhook_attempts", url.Values{"limit": {"100"}})
	if err != nil {
		t.Fatal(err)
	}
	var l struct {
		Data []attempt
	}
	if err := json.Unmarshal(raw, &l); err != nil {
		t.Fatal(err)
	}
	return l.Data
}

// waitAttempts waits until billclock has recorded n delivery attempts
// (listen answers before billclock records), and returns them; more than n
// fails the test.
func waitAttempts(t *testing.T, api *apiClient, n int) []attempt {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		atts := attempts(t, api)
		if len(atts) > n || len(atts) < n && time.Now().After(deadline) {
			t.Fatalf("%d delivery attempts, want %d: %+v", len(atts), n, atts)
		}
		if len(atts) == n {
			return atts
		}
		time.Sleep(5 * time.Millisecond)
	}
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

func TestListenPrintsEvents(t *testing.T) {
	t.Parallel()
	srv := emulatortest.Start(t, emulator.Config{NoSync: true})
	const key = "sk_test_listen"
	api := testAPI(srv, key)
	l := startListen(t, srv.URL(), key)

	eps := webhookEndpoints(t, api)
	if len(eps) != 1 || eps[0].Description != "billclock listen" || !strings.HasPrefix(eps[0].URL, "http://127.0.0.1:") {
		t.Fatalf("endpoints while listening: %+v", eps)
	}

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
	// Each event was delivered once, and printed once.
	for _, a := range waitAttempts(t, api, len(want)) {
		if a.Outcome != "succeeded" || a.StatusCode != http.StatusOK {
			t.Errorf("attempt %+v, want a 200", a)
		}
	}
	if err := l.stop(t); err != nil {
		t.Fatalf("listen returned %v after its context ended, want nil", err)
	}
	if got := l.lines()[1:]; len(got) != len(want) {
		t.Errorf("listen printed %d lines for %d events:\n%s", len(got), len(want), l.out)
	}
	if eps := webhookEndpoints(t, api); len(eps) != 0 {
		t.Errorf("endpoints after listen stopped: %+v", eps)
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

	// A delivery that billclock did not sign is reported, not forwarded.
	eps := webhookEndpoints(t, api)
	if len(eps) != 1 {
		t.Fatalf("endpoints: %+v", eps)
	}
	forged, err := http.Post(eps[0].URL, "application/json", strings.NewReader(`{"id":"evt_forged","object":"event","type":"customer.created"}`))
	if err != nil {
		t.Fatal(err)
	}
	forged.Body.Close()
	if forged.StatusCode != http.StatusBadRequest {
		t.Errorf("forged delivery answered %d, want 400", forged.StatusCode)
	}
	line := l.waitLines(t, 1)[0]
	if !strings.Contains(line, "[ERROR] Webhook signature verification failed") || !strings.Contains(line, "[evt_forged]") {
		t.Errorf("forged delivery line: %q", line)
	}

	stdout, _, err := runCLI(t, nil, "--api-base", srv.URL(), "--api-key", key, "trigger", "customer.updated")
	if err != nil {
		t.Fatalf("trigger: %v\n%s", err, stdout)
	}
	want := listEvents(t, api, nil)
	if len(want) != 2 || want[0].Type != "customer.created" || want[1].Type != "customer.updated" {
		t.Fatalf("events: %+v", want)
	}
	lines := l.waitLines(t, 1+len(want))[1:]
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
	if gotIDs := spy.got; !slices.Equal(gotIDs, []string{want[0].ID, want[1].ID}) {
		t.Errorf("handler verified %v, want %s then %s", gotIDs, want[0].ID, want[1].ID)
	}
	spy.mu.Unlock()

	// billclock was answered 200 even for the event the handler failed.
	for _, a := range waitAttempts(t, api, len(want)) {
		if a.Outcome != "succeeded" || a.StatusCode != http.StatusOK {
			t.Errorf("billclock's attempt %+v, want a 200 from listen", a)
		}
	}
	if err := l.stop(t); err != nil {
		t.Fatalf("listen returned %v after its context ended, want nil", err)
	}
	if eps := webhookEndpoints(t, api); len(eps) != 0 {
		t.Errorf("endpoints after listen stopped: %+v", eps)
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
	for _, ev := range listEvents(t, api, nil) {
		if ev.Type == "customer.updated" || ev.Type == "product.created" {
			want = append(want, ev)
		} else if ev.PendingWebhooks != 0 {
			t.Errorf("%s is queued for delivery", ev.Type)
		}
	}
	if len(want) != 2 {
		t.Fatalf("events: %+v", want)
	}
	lines := l.waitLines(t, 2)
	for i, line := range lines {
		if got := parseEventLine(t, line); got.id != want[i].ID || got.typ != want[i].Type {
			t.Errorf("line %q, want %s [%s]", line, want[i].Type, want[i].ID)
		}
	}
	waitAttempts(t, api, 2)
	if err := l.stop(t); err != nil {
		t.Fatal(err)
	}
	if got := l.lines()[1:]; len(got) != 2 {
		t.Errorf("listen printed:\n%s", l.out)
	}
}

func TestListenErrors(t *testing.T) {
	t.Parallel()
	srv := emulatortest.Start(t, emulator.Config{NoSync: true})
	const key = "sk_test_listen_errors"

	// The server's own validation of enabled_events.
	stdout, _, err := runCLI(t, nil, "listen", "--api-base", srv.URL(), "--api-key", key, "--events", "bogus")
	var apiErr *apiError
	if !errors.As(err, &apiErr) || apiErr.Param != "enabled_events" {
		t.Errorf("--events bogus: err = %v", err)
	}
	if stdout != "" {
		t.Errorf("--events bogus printed %q", stdout)
	}

	// An address already taken.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, _, err = runCLI(t, nil, "listen", "--api-base", srv.URL(), "--api-key", key, "--listen-addr", ln.Addr().String())
	if err == nil || !strings.Contains(err.Error(), "listen on "+ln.Addr().String()) {
		t.Errorf("--listen-addr taken: err = %v", err)
	}
	if eps := webhookEndpoints(t, testAPI(srv, key)); len(eps) != 0 {
		t.Errorf("failed listens left endpoints: %+v", eps)
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

func TestReceiverURL(t *testing.T) {
	tests := []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80}, "http://127.0.0.1:80/"},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 81}, "http://127.0.0.1:81/"},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 82}, "http://[::1]:82/"},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 83}, "http://[::1]:83/"},
	}
	for _, tt := range tests {
		if got := receiverURL(tt.addr); got != tt.want {
			t.Errorf("receiverURL(%v) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}

// TestListenServerGone checks that listen says so when it cannot remove its
// endpoint, since billclock would keep delivering to a dead port.
func TestListenServerGone(t *testing.T) {
	t.Parallel()
	srv := emulatortest.Start(t, emulator.Config{NoSync: true})
	l := startListen(t, srv.URL(), "sk_test_gone")
	srv.Stop()
	err := l.stop(t)
	if err == nil || !strings.Contains(err.Error(), "remove webhook endpoint we_") {
		t.Errorf("err = %v, want the failed removal", err)
	}
}
