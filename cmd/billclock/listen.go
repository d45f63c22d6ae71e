package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Listen's limits.
const (
	// forwardTimeout bounds one forward to --forward-to.
	forwardTimeout = 30 * time.Second
	// listenQueue is how many received events may wait to be forwarded;
	// beyond it, billclock is answered 503 and retries later.
	listenQueue = 1024
	// maxEventBytes bounds the body of one delivery.
	maxEventBytes = 32 << 20
	// cleanupTimeout bounds removing the endpoint on the way out.
	cleanupTimeout = 5 * time.Second
)

// listenTimeFormat is how listen prints when it received an event (UTC).
const listenTimeFormat = "2006-01-02 15:04:05"

// listenOptions are listen's settings.
type listenOptions struct {
	clientOptions
	ForwardTo  string
	Events     []string
	ListenAddr string
}

// AddFlags registers listen's flags.
func (o *listenOptions) AddFlags(fs *pflag.FlagSet) {
	o.clientOptions.AddFlags(fs)
	fs.StringVarP(&o.ForwardTo, "forward-to", "f", "", "URL to forward events to (e.g. localhost:4242/webhook); without it events are only printed")
	fs.StringSliceVarP(&o.Events, "events", "e", []string{"*"}, "comma-separated event types to listen for")
	fs.StringVar(&o.ListenAddr, "listen-addr", "127.0.0.1:0", "address of the receiver billclock delivers to; port 0 picks a free port")
}

// newListenCommand is `billclock listen`, the Stripe CLI's listen: a
// temporary webhook endpoint whose deliveries are printed and forwarded.
func newListenCommand(getenv getenvFunc) *cobra.Command {
	var flags listenOptions
	cmd := &cobra.Command{
		Use:   "listen [--forward-to URL] [--events a,b]",
		Short: "Print webhook events as billclock delivers them, and forward them to your handler",
		Long: "Register a temporary webhook endpoint on a running billclock, print its signing secret, then\n" +
			"print one line per event delivered to it: time, type and id. With --forward-to, each event is\n" +
			"POSTed to your handler with billclock's body and Stripe-Signature, so your handler can verify\n" +
			"it with the printed secret, and the line ends with your handler's answer. The endpoint is\n" +
			"removed on exit (^C).",
		Example: "  billclock listen --forward-to localhost:4242/webhook --events invoice.paid,customer.subscription.updated",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o := flags
			o.clientOptions = flags.resolve(cmd.Flags().Changed, getenv)
			return runListen(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	flags.AddFlags(cmd.Flags())
	return cmd
}

// forwardURL completes a --forward-to value: the Stripe CLI accepts
// "localhost:4242/webhook" for "http://localhost:4242/webhook".
func forwardURL(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("invalid --forward-to %q: want an http(s) URL such as http://localhost:4242/webhook", s)
	}
	return u.String(), nil
}

// receiverURL is the URL billclock should deliver to for a listener on
// addr: an unspecified host (0.0.0.0, ::) is reached on loopback.
func receiverURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String() + "/"
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
		if ip.To4() == nil {
			host = "::1"
		}
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}

// runListen registers the endpoint, serves deliveries until ctx ends, then
// removes the endpoint.
func runListen(ctx context.Context, out io.Writer, o listenOptions) error {
	fwd, err := forwardURL(o.ForwardTo)
	if err != nil {
		return err
	}
	events := o.Events
	if len(events) == 0 {
		events = []string{"*"}
	}
	ln, err := net.Listen("tcp", o.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.ListenAddr, err)
	}
	defer ln.Close()

	api := o.client()
	params := url.Values{"url": {receiverURL(ln.Addr())}, "description": {"billclock listen"}}
	for i, e := range events {
		params.Set("enabled_events["+strconv.Itoa(i)+"]", e)
	}
	raw, err := api.do(ctx, http.MethodPost, "/v1/webhook_endpoints", params)
	if err != nil {
		return fmt.Errorf("create webhook endpoint: %w", err)
	}
	var we struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal(raw, &we); err != nil || we.ID == "" || we.Secret == "" {
		// Not the answer itself: it may hold the secret.
		return fmt.Errorf("create webhook endpoint: unexpected answer (%d bytes, no id or secret)", len(raw))
	}
	l := &listener{out: &lineWriter{w: out}, secret: we.Secret, forwardTo: fwd, queue: make(chan received, listenQueue),
		client: &http.Client{Timeout: forwardTimeout, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}}
	fmt.Fprintf(out, "Ready! Your webhook signing secret is %s (^C to quit)\n", we.Secret)

	fwdCtx, stopForwarding := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { l.forwardLoop(fwdCtx) })
	srv := &http.Server{Handler: l, ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
	case err = <-serveErr:
		err = fmt.Errorf("webhook receiver: %w", err)
	}

	// Remove the endpoint first, so that billclock stops delivering, then
	// the receiver. The command's context has ended by now: cleanup runs
	// on contexts of its own.
	stopForwarding()
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if _, derr := api.do(cctx, http.MethodDelete, "/v1/webhook_endpoints/"+url.PathEscape(we.ID), nil); derr != nil && err == nil {
		err = fmt.Errorf("remove webhook endpoint %s: %w", we.ID, derr)
	}
	srv.Shutdown(cctx)
	wg.Wait()
	return err
}

// lineWriter writes whole lines, one Write each, from any goroutine.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (lw *lineWriter) printf(format string, args ...any) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	fmt.Fprintf(lw.w, format+"\n", args...)
}

// received is a delivery accepted by the receiver, waiting to be printed
// and forwarded.
type received struct {
	at      time.Time
	id, typ string
	body    []byte
	header  http.Header
}

// listener receives billclock's deliveries.
type listener struct {
	out       *lineWriter
	secret    string
	forwardTo string
	client    *http.Client
	queue     chan received
}

// forwardedHeaders are the delivery's headers a handler may look at.
var forwardedHeaders = []string{"Stripe-Signature", "Content-Type", "User-Agent"}

// ServeHTTP accepts a delivery: it checks its signature and queues it for
// forwarding. billclock is answered at once, whatever the handler will
// say, as the Stripe CLI does; events are printed and forwarded in the
// order they arrived.
func (l *listener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	at := time.Now().UTC()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEventBytes))
	if err != nil {
		l.out.printf("%s   [ERROR] Failed to read a delivery: %v", at.Format(listenTimeFormat), err)
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	var head struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	}
	json.Unmarshal(body, &head) // checked below, with the signature
	if err := verifySignature(r.Header.Get("Stripe-Signature"), body, l.secret); err != nil {
		l.out.printf("%s   [ERROR] Webhook signature verification failed, not forwarded: %v [%s]",
			at.Format(listenTimeFormat), err, head.ID)
		http.Error(w, "bad signature", http.StatusBadRequest)
		return
	}
	if head.ID == "" || head.Type == "" {
		l.out.printf("%s   [ERROR] Delivery is not an event, not forwarded", at.Format(listenTimeFormat))
		http.Error(w, "not an event", http.StatusBadRequest)
		return
	}
	ev := received{at: at, id: head.ID, typ: head.Type, body: body, header: http.Header{}}
	for _, h := range forwardedHeaders {
		if v := r.Header.Values(h); len(v) > 0 {
			ev.header[h] = v
		}
	}
	select {
	case l.queue <- ev:
		w.WriteHeader(http.StatusOK)
	default:
		// billclock retries a failed delivery later.
		http.Error(w, "too many events waiting", http.StatusServiceUnavailable)
	}
}

// forwardLoop prints and forwards queued events, one at a time, until ctx
// ends.
func (l *listener) forwardLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-l.queue:
			// One line per event: when forwarding, it ends with what the
			// forward target answered.
			line := fmt.Sprintf("%s   --> %s [%s]", ev.at.Format(listenTimeFormat), ev.typ, ev.id)
			if l.forwardTo == "" {
				l.out.printf("%s", line)
				continue
			}
			status, err := l.forward(ctx, ev)
			switch {
			case ctx.Err() != nil:
				return
			case err != nil:
				var uerr *url.Error
				if errors.As(err, &uerr) {
					err = uerr.Err // without the method and URL, printed already
				}
				l.out.printf("%s  <--  [ERROR] POST %s: %v", line, l.forwardTo, err)
			default:
				l.out.printf("%s  <--  [%d] POST %s", line, status, l.forwardTo)
			}
		}
	}
}

// forward POSTs the event, as billclock sent it, to --forward-to and
// returns the answer's status.
func (l *listener) forward(ctx context.Context, ev received) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.forwardTo, bytes.NewReader(ev.body))
	if err != nil {
		return 0, err
	}
	for h, v := range ev.header {
		req.Header[h] = v
	}
	resp, err := l.client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return resp.StatusCode, nil
}

// verifySignature checks a Stripe-Signature header (t=<unix>,v1=<hex>...)
// against body and secret. The timestamp's age is not checked: billclock's
// clock may be simulated, and the delivery came over loopback just now.
func verifySignature(header string, body []byte, secret string) error {
	if header == "" {
		return errors.New("no Stripe-Signature header")
	}
	var t string
	var sigs [][]byte
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			t = v
		case "v1":
			if sig, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, sig)
			}
		}
	}
	if t == "" || len(sigs) == 0 {
		return errors.New("malformed Stripe-Signature header")
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(t + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, sig := range sigs {
		if hmac.Equal(sig, want) {
			return nil
		}
	}
	return errors.New("no v1 signature matches the endpoint's secret")
}
