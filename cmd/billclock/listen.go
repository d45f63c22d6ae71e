package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/billclock/billclock/emulator/stripe"
)

// Listen's limits and timings.
const (
	// forwardTimeout bounds one forward to --forward-to.
	forwardTimeout = 30 * time.Second
	// listenQueue is how many received events may wait to be forwarded:
	// more than the server sends without an acknowledgement, so that the
	// reader never waits for the forwarder and keeps answering pings.
	listenQueue = 256
	// listenPing is how often listen pings the server, and listenDead how
	// long a connection may stay silent (no message, no pong) before it
	// is given up and made again.
	listenPing = 10 * time.Second
	listenDead = 35 * time.Second
	// reconnectWait is the first wait before connecting again, doubled
	// after each failure up to reconnectMaxWait.
	reconnectWait    = 500 * time.Millisecond
	reconnectMaxWait = 5 * time.Second
	// maxServerMessage bounds one message from the server (an event).
	maxServerMessage = 32 << 20
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
	fs.StringVar(&o.ListenAddr, "listen-addr", "", "no longer used: listen connects to the server and opens no port")
	fs.MarkDeprecated("listen-addr", "listen now connects to the server and opens no port")
}

// newListenCommand is `billclock listen`, the Stripe CLI's listen: it
// connects to the server's event stream (the Stripe CLI's own protocol),
// prints each event and forwards it.
func newListenCommand(getenv getenvFunc) *cobra.Command {
	var flags listenOptions
	cmd := &cobra.Command{
		Use:   "listen [--forward-to URL] [--events a,b]",
		Short: "Print the account's events as they happen, and forward them to your handler",
		Long: "Connect to a running billclock (as `stripe listen` connects to Stripe), print the signing\n" +
			"secret, then one line per event of the key's account: time, type and id. With --forward-to,\n" +
			"each event is POSTed to your handler with a Stripe-Signature made with the printed secret,\n" +
			"so your handler verifies it as it would Stripe's, and the line ends with your handler's\n" +
			"answer. The server may be in a container or on another host: listen connects to it and\n" +
			"registers no webhook endpoint, so it leaves nothing behind when stopped (^C).",
		Example: "  billclock listen --forward-to localhost:4242/webhook --events invoice.paid,customer.subscription.updated",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o := flags
			o.clientOptions = flags.resolve(cmd.Flags().Changed, getenv)
			return runListen(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
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

// eventFilter checks --events and returns the set of types to print and
// forward (nil: every type).
func eventFilter(events []string) (map[string]bool, error) {
	set := map[string]bool{}
	for _, e := range events {
		e = strings.TrimSpace(e)
		switch {
		case e == "*":
			return nil, nil
		case e == "" || !strings.Contains(e, ".") || strings.ContainsAny(e, " *"):
			return nil, fmt.Errorf("invalid --events value %q: give event types such as invoice.paid, or * for every type", e)
		}
		set[e] = true
	}
	if len(set) == 0 {
		return nil, nil
	}
	return set, nil
}

// session is a listen session of the server (POST /v1/stripecli/sessions).
type session struct {
	url, id, feature, secret string
}

// openSession asks the server for a listen session, as `stripe listen`
// does.
func openSession(ctx context.Context, api *apiClient) (*session, error) {
	raw, err := api.do(ctx, http.MethodPost, "/v1/stripecli/sessions", url.Values{
		"device_name": {"billclock listen"}, "websocket_features[]": {stripe.CLIWebhooksFeature}})
	if err != nil {
		return nil, fmt.Errorf("open a listen session: %w", err)
	}
	var s stripe.CLISession
	if err := json.Unmarshal(raw, &s); err != nil || s.WebSocketURL == "" || s.WebSocketID == "" || s.Secret == "" {
		// Not the answer itself: it holds the secret.
		return nil, fmt.Errorf("open a listen session: unexpected answer (%d bytes)", len(raw))
	}
	return &session{url: s.WebSocketURL, id: s.WebSocketID, feature: s.WebSocketAuthorizedFeature, secret: s.Secret}, nil
}

// errUnknownSession is a session the server does not know (any more).
var errUnknownSession = errors.New("the server does not know the session")

// dial opens the session's websocket.
func (s *session) dial(ctx context.Context) (*websocket.Conn, error) {
	d := &websocket.Dialer{HandshakeTimeout: 10 * time.Second, Subprotocols: []string{stripe.CLISubprotocol}, Proxy: http.ProxyFromEnvironment}
	h := http.Header{}
	h.Set("Websocket-Id", s.id)
	h.Set("User-Agent", "billclock-listen")
	conn, resp, err := d.DialContext(ctx, s.url+"?websocket_feature="+url.QueryEscape(s.feature), h)
	if errors.Is(err, websocket.ErrBadHandshake) && resp != nil {
		var env struct {
			Error struct{ Message string } `json:"error"`
		}
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if json.Unmarshal(raw, &env) == nil && env.Error.Message == stripe.CLIUnknownID {
			return nil, errUnknownSession
		}
		return nil, fmt.Errorf("connect to %s: HTTP %s", s.url, resp.Status)
	}
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", s.url, err)
	}
	conn.SetReadLimit(maxServerMessage)
	return conn, nil
}

// received is an event from the server, waiting to be printed, forwarded
// and acknowledged.
type received struct {
	at      time.Time
	msg     *stripe.CLIWebhookEvent
	id, typ string
}

// decodeWebhookEvent reads a message of the server: an event in a
// webhook_event, whose payload is an event with an id and a type.
func decodeWebhookEvent(data []byte) (*received, error) {
	var msg stripe.CLIWebhookEvent
	if err := json.Unmarshal(data, &msg); err != nil {
		return nil, fmt.Errorf("malformed message: %w", err)
	}
	if msg.Type != stripe.CLIWebhookEventType {
		return nil, fmt.Errorf("unexpected message type %q", msg.Type)
	}
	if msg.WebhookConversationID == "" {
		return nil, errors.New("webhook_event without webhook_conversation_id")
	}
	var head struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	}
	if err := json.Unmarshal([]byte(msg.EventPayload), &head); err != nil || head.ID == "" || head.Type == "" {
		return nil, errors.New("webhook_event whose payload is not an event")
	}
	return &received{msg: &msg, id: head.ID, typ: head.Type}, nil
}

// runListen opens a session, prints its secret, then prints and forwards
// the events it streams until ctx ends, connecting again whenever the
// connection is lost.
func runListen(ctx context.Context, out, errOut io.Writer, o listenOptions) error {
	fwd, err := forwardURL(o.ForwardTo)
	if err != nil {
		return err
	}
	only, err := eventFilter(o.Events)
	if err != nil {
		return err
	}
	api := o.client()
	sess, err := openSession(ctx, api)
	if err != nil {
		return err
	}
	lw := &lineWriter{w: out}
	lw.printf("Ready! Your webhook signing secret is %s (^C to quit)", sess.secret)

	l := &listener{out: lw, only: only, forwardTo: fwd, queue: make(chan *received, listenQueue),
		pending: map[string]bool{}, secret: sess.secret,
		client: &http.Client{Timeout: forwardTimeout, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}}
	var wg sync.WaitGroup
	wg.Go(func() { l.forwardLoop(ctx) })
	defer wg.Wait()

	wait := reconnectWait
	reconnected := false // once connected, every later connection is a reconnection
	for ctx.Err() == nil {
		conn, err := sess.dial(ctx)
		if errors.Is(err, errUnknownSession) {
			// The server restarted: a new session, whose secret is the
			// account's, the same unless the database is new.
			next, serr := openSession(ctx, api)
			if serr == nil {
				if next.secret != sess.secret {
					lw.printf("Ready! Your webhook signing secret is %s (^C to quit)", next.secret)
					l.setSecret(next.secret)
				}
				sess = next
				continue
			}
			err = serr
		}
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			fmt.Fprintf(errOut, "billclock listen: %v; trying again in %v\n", err, wait)
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
			wait = min(2*wait, reconnectMaxWait)
			continue
		}
		if wait != reconnectWait || reconnected {
			fmt.Fprintf(errOut, "billclock listen: connected again\n")
		}
		wait, reconnected = reconnectWait, true
		err = l.serve(ctx, conn)
		if ctx.Err() == nil {
			fmt.Fprintf(errOut, "billclock listen: connection lost (%v); connecting again\n", err)
		}
	}
	return nil
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

// listener prints, forwards and acknowledges the events of a session,
// across its connections.
type listener struct {
	out       *lineWriter
	only      map[string]bool
	forwardTo string
	client    *http.Client
	queue     chan *received

	mu sync.Mutex
	// conn is the current connection, which acknowledgements go to.
	conn   *websocket.Conn
	secret string
	// pending holds the sendings (webhook_conversation_id) queued and not
	// yet acknowledged: the server sends them again after a reconnect,
	// and they are not forwarded twice.
	pending map[string]bool
}

func (l *listener) setSecret(secret string) {
	l.mu.Lock()
	l.secret = secret
	l.mu.Unlock()
}

// serve reads events from conn into the queue until conn fails or ctx
// ends, pinging the server meanwhile; on ctx's end it closes conn
// cleanly.
func (l *listener) serve(ctx context.Context, conn *websocket.Conn) error {
	l.mu.Lock()
	l.conn = conn
	l.mu.Unlock()
	alive := func() { conn.SetReadDeadline(time.Now().Add(listenDead)) }
	alive()
	conn.SetPongHandler(func(string) error { alive(); return nil })
	done := make(chan struct{})
	defer close(done)
	go func() {
		t := time.NewTicker(listenPing)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""),
					time.Now().Add(time.Second))
				conn.Close()
				return
			case <-t.C:
				conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(listenPing))
			}
		}
	}()
	defer conn.Close()
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			return err
		}
		alive()
		ev, err := decodeWebhookEvent(data)
		if err != nil {
			l.out.printf("%s   [ERROR] Ignored a message from billclock: %v", time.Now().UTC().Format(listenTimeFormat), err)
			continue
		}
		ev.at = time.Now().UTC()
		l.mu.Lock()
		dup := l.pending[ev.msg.WebhookConversationID]
		l.pending[ev.msg.WebhookConversationID] = true
		l.mu.Unlock()
		if dup {
			continue // sent again after a reconnect, still in the queue
		}
		select {
		case l.queue <- ev:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// ack tells the server the event is done with, on the current connection.
func (l *listener) ack(ev *received) {
	l.mu.Lock()
	delete(l.pending, ev.msg.WebhookConversationID)
	conn := l.conn
	l.mu.Unlock()
	if conn == nil {
		return
	}
	// Only the forwarder writes messages (pings and closes are control
	// frames, which may be written meanwhile). A failure is the reader's
	// to see, and the server sends the event again on the next
	// connection.
	conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	conn.WriteJSON(map[string]string{"type": stripe.CLIEventAckType, "webhook_conversation_id": ev.msg.WebhookConversationID,
		"webhook_id": ev.msg.WebhookID, "event_id": ev.id})
}

// forwardLoop prints, forwards and acknowledges queued events, one at a
// time, in the order they came, until ctx ends. Events of types --events
// leaves out are acknowledged unseen, as the Stripe CLI does.
func (l *listener) forwardLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-l.queue:
			if l.only != nil && !l.only[ev.typ] {
				l.ack(ev)
				continue
			}
			l.mu.Lock()
			secret := l.secret
			l.mu.Unlock()
			at := ev.at.Format(listenTimeFormat)
			if err := verifySignature(ev.msg.HTTPHeaders["Stripe-Signature"], []byte(ev.msg.EventPayload), secret); err != nil {
				l.out.printf("%s   [ERROR] Webhook signature verification failed, not forwarded: %v [%s]", at, err, ev.id)
				l.ack(ev)
				continue
			}
			// One line per event: when forwarding, it ends with what the
			// forward target answered.
			line := fmt.Sprintf("%s   --> %s [%s]", at, ev.typ, ev.id)
			if l.forwardTo == "" {
				l.out.printf("%s", line)
				l.ack(ev)
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
			l.ack(ev)
		}
	}
}

// forwardedHeaders are the delivery's headers a handler may look at.
var forwardedHeaders = []string{"Stripe-Signature", "Content-Type", "User-Agent"}

// forward POSTs the event, as billclock signed it, to --forward-to and
// returns the answer's status.
func (l *listener) forward(ctx context.Context, ev *received) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.forwardTo, strings.NewReader(ev.msg.EventPayload))
	if err != nil {
		return 0, err
	}
	for _, h := range forwardedHeaders {
		if v, ok := ev.msg.HTTPHeaders[h]; ok {
			req.Header.Set(h, v)
		}
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
// clock may be simulated, and the event was signed as it was sent.
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
