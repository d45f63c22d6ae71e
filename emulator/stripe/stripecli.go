package stripe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// The Stripe CLI's listen protocol (`stripe listen`, and `billclock
// listen`, which speaks it too), as the CLI's source (stripe/stripe-cli,
// pkg/stripeauth and pkg/websocket) expects it:
//
//  1. POST /v1/stripecli/sessions (the API key, form: device_name,
//     websocket_features[]=webhooks, forward_to_url...) answers a
//     CLISession: where to connect (websocket_url), the session's id
//     (websocket_id, the only credential of the websocket) and the secret
//     whsec_ that signs the events.
//  2. The CLI opens the websocket at websocket_url?websocket_feature=webhooks
//     with the header Websocket-Id and the subprotocol
//     stripecli-devproxy-v1. An id billclock does not know (the server
//     restarted, the session expired) is refused with "Unknown WebSocket
//     ID.", and the CLI asks for a new session.
//  3. billclock sends each event the account records from the session's
//     creation on, in order, as a webhook_event message (CLIWebhookEvent):
//     the event as delivered to a webhook endpoint, with its
//     Stripe-Signature, in http_headers. The CLI filters them by --events,
//     forwards them with those headers to --forward-to, and answers each
//     with an event_ack and, once forwarded, a webhook_response
//     (CLIMessage).
//
// The same session route and websocket serve `stripe logs tail`
// (websocket_features[]=request_logs): see requestlogs.go.
//
// The session follows the account's event stream (clockwork's Subscribe),
// so a reader that is slow or gone holds up nothing. At most
// cliWindow events are sent and not yet acknowledged; they are sent again
// (at least once) when the session reconnects, as the CLI does every
// reconnect_delay seconds. A session without a connection for
// cliSessionIdle is forgotten. The CLI pings every 2 seconds; a connection
// silent for cliReadTimeout is closed.

// The protocol's names and billclock's limits.
const (
	// CLISubprotocol is the websocket subprotocol the Stripe CLI asks for.
	CLISubprotocol = "stripecli-devproxy-v1"
	// CLIWebhooksFeature is the websocket feature of `stripe listen`.
	CLIWebhooksFeature = "webhooks"
	// CLIUnknownID is the error message that tells the CLI to ask for a
	// new session.
	CLIUnknownID = "Unknown WebSocket ID."
	// cliReconnectDelay is the CLI's reconnect interval billclock asks
	// for, in seconds: its connections can last, events wait in the
	// stream while it reconnects.
	cliReconnectDelay = 3600
	// cliWindow bounds the events sent and not yet acknowledged.
	cliWindow = 64
	// cliSessionIdle is how long a session waits for a connection.
	cliSessionIdle = 2 * time.Minute
	// cliReadTimeout closes a connection that sent nothing, not even a
	// ping, for this long.
	cliReadTimeout = 90 * time.Second
	// cliWriteTimeout bounds writing one message.
	cliWriteTimeout = 10 * time.Second
	// cliMaxDecoded is the largest client message decoded; larger ones
	// (a webhook_response carries the forwarded event and the handler's
	// answer) are read and dropped.
	cliMaxDecoded = 64 << 10
	// cliSecretSetting is the account setting that keeps the CLI's
	// signing secret, so that it stays the same across sessions and
	// restarts, as at Stripe.
	cliSecretSetting = "stripecli_secret"
)

// CLISession is the answer to POST /v1/stripecli/sessions: the fields the
// Stripe CLI reads (pkg/stripeauth's StripeCLISession).
type CLISession struct {
	DisplayConnectFilterWarning bool   `json:"display_connect_filter_warning"`
	ReconnectDelay              int    `json:"reconnect_delay"`
	Secret                      string `json:"secret"`
	WebSocketAuthorizedFeature  string `json:"websocket_authorized_feature"`
	WebSocketID                 string `json:"websocket_id"`
	WebSocketURL                string `json:"websocket_url"`
	DefaultVersion              string `json:"default_version"`
	LatestVersion               string `json:"latest_version"`
	DeviceToken                 string `json:"device_token"`
}

// CLIWebhookEvent is the message that carries one event to the CLI
// (pkg/websocket's WebhookEvent).
type CLIWebhookEvent struct {
	Type string `json:"type"` // "webhook_event"
	// WebhookID names the session's stand-in endpoint, and
	// WebhookConversationID this sending of the event.
	WebhookID             string `json:"webhook_id"`
	WebhookConversationID string `json:"webhook_conversation_id"`
	// EventPayload is the event as a webhook endpoint receives it.
	EventPayload string `json:"event_payload"`
	// HTTPHeaders are the delivery's headers (Stripe-Signature,
	// Content-Type, User-Agent), which the CLI forwards.
	HTTPHeaders map[string]string `json:"http_headers"`
	// Endpoint's APIVersion is null: the event is in the account's
	// default version (the CLI ignores the others unless --latest).
	Endpoint CLIEndpoint `json:"endpoint"`
}

// CLIEndpoint describes the stand-in endpoint of a CLIWebhookEvent.
type CLIEndpoint struct {
	APIVersion *string `json:"api_version"`
}

// CLIMessage is a message from the CLI: an event_ack when it got an event,
// a webhook_response once it forwarded it (pkg/websocket's EventAck and
// WebhookResponse, of which billclock reads only these fields).
type CLIMessage struct {
	Type                  string `json:"type"`
	WebhookID             string `json:"webhook_id"`
	WebhookConversationID string `json:"webhook_conversation_id"`
	// EventID is the acknowledged event (event_ack) or the forwarded one
	// (webhook_response, as its notification_id).
	EventID string `json:"event_id"`
	// ForwardURL and Status are where a webhook_response forwarded the
	// event and what it answered.
	ForwardURL string `json:"forward_url"`
	Status     int    `json:"status"`
}

// Message types of the protocol.
const (
	CLIWebhookEventType    = "webhook_event"
	CLIEventAckType        = "event_ack"
	CLIWebhookResponseType = "webhook_response"
)

// DecodeCLIMessage reads a message the CLI sent: an event_ack or a
// webhook_response. Other types and malformed messages are errors (the
// connection goes on; the message is ignored).
func DecodeCLIMessage(data []byte) (*CLIMessage, error) {
	var raw struct {
		Type                  string `json:"type"`
		WebhookID             string `json:"webhook_id"`
		WebhookConversationID string `json:"webhook_conversation_id"`
		EventID               string `json:"event_id"`
		NotificationID        string `json:"notification_id"`
		ForwardURL            string `json:"forward_url"`
		Status                int    `json:"status"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("malformed message: %w", err)
	}
	m := &CLIMessage{Type: raw.Type, WebhookID: raw.WebhookID, WebhookConversationID: raw.WebhookConversationID}
	switch raw.Type {
	case CLIEventAckType:
		m.EventID = raw.EventID
	case CLIWebhookResponseType:
		m.EventID = raw.NotificationID
		m.ForwardURL, m.Status = raw.ForwardURL, raw.Status
	default:
		return nil, fmt.Errorf("unknown message type %q", raw.Type)
	}
	if m.WebhookConversationID == "" {
		return nil, fmt.Errorf("%s without webhook_conversation_id", m.Type)
	}
	return m, nil
}

// cliSessions are the open sessions, by websocket id.
type cliSessions struct {
	mu   sync.Mutex
	byID map[string]*cliSession
}

// cliSession is one `stripe listen` session (stream set) or one `stripe
// logs tail` session (tail set).
type cliSession struct {
	id, account, secret, webhookID string
	// feature is the session's websocket feature (CLIWebhooksFeature or
	// CLIRequestLogsFeature).
	feature string
	stream  *clockwork.Stream
	tail    *clockwork.Tail

	mu sync.Mutex
	// conn is the current connection (nil: none), and connDone is closed
	// when its work has ended.
	conn     *websocket.Conn
	connDone chan struct{}
	// inflight are the events sent and not yet acknowledged, oldest
	// first; acked is signalled when one is.
	inflight []cliInflight
	acked    chan struct{}
	idle     *time.Timer
	ended    bool
}

// cliInflight is an event sent and not yet acknowledged.
type cliInflight struct {
	conversation string
	ev           clockwork.StreamEvent
}

func (s *Surface) cliSessions() *cliSessions {
	s.cliOnce.Do(func() { s.cli = &cliSessions{byID: map[string]*cliSession{}} })
	return s.cli
}

// createCLISession serves POST /v1/stripecli/sessions. It goes through the
// one adapter's parts (begin, writeError, writeJSON) but not a store
// transaction of its own: the session lives in memory, and its secret is
// the account's, kept in its settings.
func (s *Surface) createCLISession(w http.ResponseWriter, r *http.Request) {
	c, err := s.begin(w, r)
	if err != nil {
		s.writeError(w, c, err)
		return
	}
	c.p.str("device_name")
	for _, name := range []string{"filters", "forward_to_url", "forward_connect_to_url", "forward_thin_to_url", "forward_thin_connect_to_url"} {
		c.p.str(name)
	}
	features := c.p.strings("websocket_features")
	if err := c.p.check(); err != nil {
		s.writeError(w, c, err)
		return
	}
	if !slices.Contains(features, CLIWebhooksFeature) && slices.Contains(features, CLIRequestLogsFeature) {
		s.createLogSession(w, r, c)
		return
	}
	if !slices.Contains(features, CLIWebhooksFeature) {
		s.writeError(w, c, invalid("websocket_features", "billclock streams webhook events (websocket_features[]=%s) and "+
			"request logs (websocket_features[]=%s) only: thin events (v2_events) are not emulated.", CLIWebhooksFeature, CLIRequestLogsFeature))
		return
	}
	secret, err := s.cliSecret(c)
	if err != nil {
		s.writeError(w, c, err)
		return
	}
	stream, err := s.rt.Subscribe(c.account)
	if errors.Is(err, clockwork.ErrTooManyStreams) {
		s.writeError(w, c, &Error{Status: http.StatusTooManyRequests, Type: typeInvalidRequest, Code: "rate_limit",
			Message: fmt.Sprintf("Too many `stripe listen` sessions are open on this key (billclock allows %d): stop some, "+
				"or wait two minutes for stopped ones to expire.", clockwork.MaxStreamsPerAccount)})
		return
	}
	if err != nil {
		s.writeError(w, c, err)
		return
	}
	sess := &cliSession{id: clockwork.NewSecret("wsid_", 32), account: c.account, secret: secret,
		webhookID: clockwork.NewID("we_", 24), feature: CLIWebhooksFeature, stream: stream, acked: make(chan struct{}, 1)}
	s.openCLISession(w, r, c, sess, &CLISession{Secret: secret})
}

// createLogSession serves POST /v1/stripecli/sessions for `stripe logs
// tail`: the session's tail starts now, with the filters the CLI sent.
func (s *Surface) createLogSession(w http.ResponseWriter, r *http.Request, c *call) {
	raw, _ := c.p.str("filters")
	filters, err := decodeLogFilters(raw)
	if err != nil {
		s.writeError(w, c, err)
		return
	}
	tail, err := s.rt.Tail(c.account, filters.match)
	if errors.Is(err, clockwork.ErrTooManyTails) {
		s.writeError(w, c, &Error{Status: http.StatusTooManyRequests, Type: typeInvalidRequest, Code: "rate_limit",
			Message: fmt.Sprintf("Too many `stripe logs tail` sessions are open on this key (billclock allows %d): stop some, "+
				"or wait two minutes for stopped ones to expire.", clockwork.MaxTailsPerAccount)})
		return
	}
	if err != nil {
		s.writeError(w, c, err)
		return
	}
	sess := &cliSession{id: clockwork.NewSecret("wsid_", 32), account: c.account, feature: CLIRequestLogsFeature, tail: tail}
	s.openCLISession(w, r, c, sess, &CLISession{DisplayConnectFilterWarning: len(filters.Account) > 0})
}

// openCLISession keeps sess until it has gone unconnected for
// cliSessionIdle, and answers where to connect to it.
func (s *Surface) openCLISession(w http.ResponseWriter, r *http.Request, c *call, sess *cliSession, answer *CLISession) {
	sessions := s.cliSessions()
	sess.idle = time.AfterFunc(cliSessionIdle, func() { sessions.end(sess) })
	sessions.mu.Lock()
	sessions.byID[sess.id] = sess
	sessions.mu.Unlock()

	scheme := "ws"
	if r.TLS != nil {
		scheme = "wss"
	}
	answer.ReconnectDelay = cliReconnectDelay
	answer.WebSocketAuthorizedFeature, answer.WebSocketID = sess.feature, sess.id
	answer.WebSocketURL = scheme + "://" + r.Host + "/v1/stripecli/websocket"
	answer.DefaultVersion, answer.LatestVersion = DefaultAPIVersion, DefaultAPIVersion
	body, err := json.Marshal(answer)
	if err != nil {
		s.writeError(w, c, err)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// cliSecret returns the account's CLI signing secret, made at its first
// session.
func (s *Surface) cliSecret(c *call) (string, error) {
	var secret string
	err := s.db.Update(func(tx *store.Tx) error {
		l, err := s.ledger(tx, c.account, c)
		if err != nil {
			return err
		}
		if found, err := l.Setting(cliSecretSetting, &secret); err != nil || found && secret != "" {
			return err
		}
		secret = clockwork.NewSecret("whsec_", 32)
		return l.PutSetting(cliSecretSetting, secret)
	})
	return secret, err
}

// end forgets a session and closes its stream and connection.
func (cs *cliSessions) end(sess *cliSession) {
	cs.mu.Lock()
	delete(cs.byID, sess.id)
	cs.mu.Unlock()
	sess.mu.Lock()
	sess.ended = true
	if sess.idle != nil {
		sess.idle.Stop()
	}
	conn := sess.conn
	sess.mu.Unlock()
	if sess.stream != nil {
		sess.stream.Close()
	}
	if sess.tail != nil {
		sess.tail.Close()
	}
	if conn != nil {
		conn.Close()
	}
}

// cliUpgrader accepts the CLI's websocket. Compression is off (the CLI
// asks for identity), and browsers' cross-origin requests are refused by
// gorilla's default origin check.
var cliUpgrader = websocket.Upgrader{
	Subprotocols:    []string{CLISubprotocol},
	ReadBufferSize:  4 << 10,
	WriteBufferSize: 16 << 10,
}

// cliWebsocket serves the session's websocket: GET
// /v1/stripecli/websocket?websocket_feature=webhooks with Websocket-Id.
func (s *Surface) cliWebsocket(w http.ResponseWriter, r *http.Request) {
	sessions := s.cliSessions()
	id := r.Header.Get("Websocket-Id")
	sessions.mu.Lock()
	sess := sessions.byID[id]
	sessions.mu.Unlock()
	if sess == nil || id == "" || r.URL.Query().Get("websocket_feature") != sess.feature {
		b, _ := json.Marshal(envelope{Error: errorBody{Error: invalid("", CLIUnknownID)}})
		writeJSON(w, http.StatusBadRequest, b)
		return
	}
	conn, err := cliUpgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader answered the client
	}
	done, ok := sess.attach(conn)
	if !ok {
		conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.ClosePolicyViolation, CLIUnknownID),
			time.Now().Add(cliWriteTimeout))
		conn.Close()
		return
	}
	defer close(done)
	if sess.tail != nil {
		err = s.serveLogConn(sess, conn)
	} else {
		err = s.serveCLIConn(sess, conn)
	}
	if errors.Is(err, clockwork.ErrStreamClosed) {
		// The server is stopping (the CLI reconnects to the next one).
		sessions.end(sess)
	}
	sess.detach(conn, func() { sessions.end(sess) })
}

// attach makes conn the session's connection, after the previous one (if
// any) has been closed and its work has ended. It returns the channel to
// close when conn's work ends; ok is false for a session that ended.
func (sess *cliSession) attach(conn *websocket.Conn) (done chan struct{}, ok bool) {
	sess.mu.Lock()
	prev, prevDone := sess.conn, sess.connDone
	sess.mu.Unlock()
	if prev != nil {
		prev.Close()
		<-prevDone
	}
	sess.mu.Lock()
	defer sess.mu.Unlock()
	if sess.ended || sess.conn != nil {
		return nil, false // ended, or another connection came first
	}
	sess.idle.Stop()
	sess.conn, sess.connDone = conn, make(chan struct{})
	return sess.connDone, true
}

// detach forgets conn, if it is still the session's, and starts the wait
// for the next connection.
func (sess *cliSession) detach(conn *websocket.Conn, expire func()) {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	if sess.conn != conn {
		return
	}
	sess.conn = nil
	if !sess.ended {
		sess.idle = time.AfterFunc(cliSessionIdle, expire)
	}
}

// serveCLIConn streams the `stripe listen` session's events on conn until either side
// fails or closes: the events still unacknowledged first, then the new
// ones, never more than cliWindow unacknowledged. An event read from the
// stream is in the window before it is sent, so one that could not be
// sent goes with the next connection.
func (s *Surface) serveCLIConn(sess *cliSession, conn *websocket.Conn) (err error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	readErr := make(chan error, 1)
	go func() {
		defer cancel()
		readErr <- s.readCLIConn(sess, conn)
	}()
	// The reader ends when the connection closes; the handler waits for
	// it so that the next connection of the session starts afresh.
	defer func() {
		if errors.Is(err, clockwork.ErrStreamClosed) {
			conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "billclock is stopping"),
				time.Now().Add(time.Second))
		}
		conn.Close()
		<-ctx.Done()
	}()

	sess.mu.Lock()
	resend := slices.Clone(sess.inflight)
	sess.mu.Unlock()
	for _, in := range resend {
		if err := s.sendCLIEvent(sess, conn, in); err != nil {
			return err
		}
	}
	for {
		sess.mu.Lock()
		room := cliWindow - len(sess.inflight)
		sess.mu.Unlock()
		if room <= 0 {
			select {
			case <-sess.acked:
				continue
			case <-sess.stream.Done():
				return clockwork.ErrStreamClosed
			case <-ctx.Done():
				return <-readErr
			}
		}
		evs, nextErr := sess.stream.Next(ctx, room)
		for _, in := range sess.hold(evs) {
			if err := s.sendCLIEvent(sess, conn, in); err != nil {
				return err
			}
		}
		if ctx.Err() != nil {
			return <-readErr
		}
		if nextErr != nil {
			return nextErr
		}
	}
}

// hold puts events read from the stream in the window, each with the id
// of its sending.
func (sess *cliSession) hold(evs []clockwork.StreamEvent) []cliInflight {
	ins := make([]cliInflight, len(evs))
	for i, ev := range evs {
		ins[i] = cliInflight{conversation: clockwork.NewSecret("wc_", 24), ev: ev}
	}
	sess.mu.Lock()
	sess.inflight = append(sess.inflight, ins...)
	sess.mu.Unlock()
	return ins
}

// sendCLIEvent sends one event of the window as a webhook_event, signed
// with the session's secret now.
func (s *Surface) sendCLIEvent(sess *cliSession, conn *websocket.Conn, in cliInflight) error {
	body, header, err := s.FormatDelivery(&clockwork.Endpoint{Secret: sess.secret, APIVersion: DefaultAPIVersion}, in.ev.Stored, s.now())
	if err != nil {
		return err
	}
	msg := CLIWebhookEvent{Type: CLIWebhookEventType, WebhookID: sess.webhookID,
		WebhookConversationID: in.conversation, EventPayload: string(body), HTTPHeaders: map[string]string{}}
	for k := range header {
		msg.HTTPHeaders[k] = header.Get(k)
	}
	conn.SetWriteDeadline(time.Now().Add(cliWriteTimeout))
	return conn.WriteJSON(&msg)
}

// readCLIConn reads the CLI's messages until the connection fails or
// closes: acknowledgements open the window again; pings (answered by a
// pong) and messages keep the connection alive.
func (s *Surface) readCLIConn(sess *cliSession, conn *websocket.Conn) error {
	alive := keepCLIConnAlive(conn)
	for {
		_, r, err := conn.NextReader()
		if err != nil {
			return err
		}
		alive()
		data, err := io.ReadAll(io.LimitReader(r, cliMaxDecoded+1))
		if err != nil {
			return err
		}
		if len(data) > cliMaxDecoded {
			if _, err := io.Copy(io.Discard, r); err != nil {
				return err
			}
			continue
		}
		m, err := DecodeCLIMessage(data)
		if err != nil {
			s.log.Debug("stripe listen: message ignored", "account", clockwork.AccountLabel(sess.account), "err", err)
			continue
		}
		if m.Type == CLIEventAckType {
			sess.ack(m.WebhookConversationID)
		}
	}
}

// keepCLIConnAlive answers the CLI's pings on conn and closes it after
// cliReadTimeout without a ping or a message; the reader calls alive for
// each message.
func keepCLIConnAlive(conn *websocket.Conn) (alive func()) {
	alive = func() { conn.SetReadDeadline(time.Now().Add(cliReadTimeout)) }
	alive()
	conn.SetPingHandler(func(data string) error {
		alive()
		err := conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(cliWriteTimeout))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		return err
	})
	return alive
}

// ack takes an acknowledged event out of the window.
func (sess *cliSession) ack(conversation string) {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	i := slices.IndexFunc(sess.inflight, func(in cliInflight) bool { return in.conversation == conversation })
	if i < 0 {
		return
	}
	sess.inflight = slices.Delete(sess.inflight, i, i+1)
	select {
	case sess.acked <- struct{}{}:
	default:
	}
}
