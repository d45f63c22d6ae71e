package stripe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/billclock/billclock/emulator/clockwork"
)

// `stripe logs tail` over the same protocol as `stripe listen` (see
// stripecli.go), as the CLI's source (pkg/logtailing, pkg/cmd/logs)
// expects it: the session is asked for with websocket_features[]=
// request_logs and the filters as one JSON object in the form field
// filters; the websocket carries a request_log_event message for each API
// request made with the session's key once it is answered, which the CLI
// acknowledges (an event_ack billclock reads and drops: request logs are
// sent at most once).
//
// Requests are fed to sessions through clockwork's tails, so a session
// that is slow or gone holds up no request: past clockwork.TailBuffer
// waiting records, its new ones are dropped.

// The protocol's names for request logs.
const (
	// CLIRequestLogsFeature is the websocket feature of `stripe logs tail`.
	CLIRequestLogsFeature = "request_logs"
	// CLIRequestLogEventType is the message that carries a request log.
	CLIRequestLogEventType = "request_log_event"
	// tailErrorBytes bounds the error body read for a failed request's
	// summary (an error with a rendered PaymentIntent is a few KiB).
	tailErrorBytes = 64 << 10
)

// CLIRequestLogEvent is the message that carries one request to the CLI
// (pkg/websocket's RequestLogEvent).
type CLIRequestLogEvent struct {
	Type string `json:"type"` // "request_log_event"
	// EventPayload is a RequestLogPayload, encoded.
	EventPayload string `json:"event_payload"`
	// RequestLogID names this log (resp_), which the CLI acknowledges.
	RequestLogID string `json:"request_log_id"`
}

// RequestLogPayload is what the CLI shows of a request (pkg/logtailing's
// EventPayload).
type RequestLogPayload struct {
	CreatedAt int64  `json:"created_at"`
	Livemode  bool   `json:"livemode"`
	Method    string `json:"method"`
	RequestID string `json:"request_id"`
	Status    int    `json:"status"`
	// URL is the request's path, without its query.
	URL string `json:"url"`
	// Error summarizes a failed request's error; its fields are empty for
	// a request that succeeded.
	Error RequestLogError `json:"error"`
}

// RequestLogError is a failed request's error, as the CLI shows it
// (pkg/logtailing's RedactedError). billclock has no error insights.
type RequestLogError struct {
	Type         string `json:"type"`
	Charge       string `json:"charge"`
	Code         string `json:"code"`
	DeclineCode  string `json:"decline_code"`
	Message      string `json:"message"`
	Param        string `json:"param"`
	ErrorInsight string `json:"error_insight"`
}

// logFilters are the CLI's --filter-* flags, as it sends them in the
// session's filters (pkg/logtailing's LogFilters). Each non-empty list
// keeps the requests matching one of its values; all lists must keep a
// request for it to be sent.
type logFilters struct {
	// Account is for Connect, which billclock does not emulate: it is not
	// applied, and the session says so (display_connect_filter_warning),
	// as Stripe does for an account that is no Connect platform.
	Account    []string `json:"filter_account"`
	IPAddress  []string `json:"filter_ip_address"`
	HTTPMethod []string `json:"filter_http_method"`
	// RequestPath values are whole paths (/v1/customers).
	RequestPath []string `json:"filter_request_path"`
	// RequestStatus is SUCCEEDED (a 2xx) or FAILED.
	RequestStatus []string `json:"filter_request_status"`
	// Source is API or DASHBOARD; every request billclock logs came
	// through the API.
	Source     []string `json:"filter_source"`
	StatusCode []string `json:"filter_status_code"`
	// StatusCodeType is the start of a range: 200, 400, 500 (the CLI
	// turns --filter-status-code-type 4XX into 400).
	StatusCodeType []string `json:"filter_status_code_type"`
}

// decodeLogFilters reads the session's filters field: empty or null is no
// filter.
func decodeLogFilters(raw string) (*logFilters, error) {
	f := &logFilters{}
	if strings.TrimSpace(raw) == "" {
		return f, nil
	}
	if err := json.Unmarshal([]byte(raw), &f); err != nil {
		return nil, invalid("filters", "Invalid filters: expected a JSON object of lists of strings, as `stripe logs tail` sends.")
	}
	if f == nil {
		f = &logFilters{}
	}
	return f, nil
}

// match reports whether the filters keep rec.
func (f *logFilters) match(rec *clockwork.RequestRecord) bool {
	status := strconv.Itoa(rec.Status)
	return anyOf(f.IPAddress, func(v string) bool { return v == rec.RemoteIP }) &&
		anyOf(f.HTTPMethod, func(v string) bool { return strings.EqualFold(v, rec.Method) }) &&
		anyOf(f.RequestPath, func(v string) bool { return v == rec.Path }) &&
		anyOf(f.RequestStatus, func(v string) bool {
			ok := rec.Status >= 200 && rec.Status < 300
			return strings.EqualFold(v, "SUCCEEDED") && ok || strings.EqualFold(v, "FAILED") && !ok
		}) &&
		anyOf(f.Source, func(v string) bool { return strings.EqualFold(v, "API") }) &&
		anyOf(f.StatusCode, func(v string) bool { return v == status }) &&
		anyOf(f.StatusCodeType, func(v string) bool { return v != "" && v[0] == status[0] })
}

// anyOf reports whether some value satisfies ok, or there is none.
func anyOf(values []string, ok func(string) bool) bool {
	if len(values) == 0 {
		return true
	}
	for _, v := range values {
		if ok(v) {
			return true
		}
	}
	return false
}

// tailRequests publishes each /v1 request made with a key to the key's
// tails once it is answered. The Stripe CLI's own routes are not
// published (the CLI hides its session requests anyway).
func (s *Surface) tailRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1/stripecli/") {
			next.ServeHTTP(w, r)
			return
		}
		account, err := s.authenticate(r)
		if err != nil || !s.rt.Tailed(account) {
			next.ServeHTTP(w, r)
			return
		}
		started := s.now()
		rec := &tailRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		ip, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			ip = r.RemoteAddr
		}
		var summary RequestLogError
		if rec.status >= 400 {
			summary = errorSummary(rec.errBody, account)
		}
		s.rt.PublishRequest(account, clockwork.RequestRecord{Method: r.Method, Path: r.URL.Path, Status: rec.status,
			RequestID: w.Header().Get("Request-Id"), Time: started, RemoteIP: ip, Detail: summary})
	})
}

// tailRecorder notes a response's status and the start of an error's
// body.
type tailRecorder struct {
	http.ResponseWriter
	status  int
	errBody []byte
}

func (w *tailRecorder) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *tailRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.status >= 400 && len(w.errBody) < tailErrorBytes {
		w.errBody = append(w.errBody, b[:min(len(b), tailErrorBytes-len(w.errBody))]...)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *tailRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// errorSummary reads an error response's envelope into what the CLI
// shows, with the account's key blanked out of its message (billclock's
// messages do not quote the key; this keeps it so).
func errorSummary(body []byte, account string) RequestLogError {
	var env struct {
		Error struct {
			Type, Code, Message, Param, Charge string
			DeclineCode                        string `json:"decline_code"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &env) != nil {
		return RequestLogError{}
	}
	e := env.Error
	return RequestLogError{Type: e.Type, Charge: e.Charge, Code: e.Code, DeclineCode: e.DeclineCode,
		Message: strings.ReplaceAll(e.Message, account, "[api key]"), Param: e.Param}
}

// serveLogConn sends the session's request logs on conn until either side
// fails or closes, or the tail ends.
func (s *Surface) serveLogConn(sess *cliSession, conn *websocket.Conn) (err error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	readErr := make(chan error, 1)
	go func() {
		defer cancel()
		readErr <- readLogConn(conn)
	}()
	defer func() {
		if errors.Is(err, clockwork.ErrStreamClosed) {
			conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "billclock is stopping"),
				time.Now().Add(time.Second))
		}
		conn.Close()
		<-ctx.Done()
	}()
	for {
		select {
		case rec := <-sess.tail.Records():
			if err := sendRequestLog(conn, &rec); err != nil {
				return err
			}
		case <-sess.tail.Done():
			return clockwork.ErrStreamClosed
		case <-ctx.Done():
			return <-readErr
		}
	}
}

// sendRequestLog sends one request as a request_log_event.
func sendRequestLog(conn *websocket.Conn, rec *clockwork.RequestRecord) error {
	payload := RequestLogPayload{CreatedAt: rec.Time.Unix(), Method: rec.Method, RequestID: rec.RequestID,
		Status: rec.Status, URL: rec.Path}
	if e, ok := rec.Detail.(RequestLogError); ok {
		payload.Error = e
	}
	body, err := json.Marshal(&payload)
	if err != nil {
		return fmt.Errorf("request log: %w", err)
	}
	conn.SetWriteDeadline(time.Now().Add(cliWriteTimeout))
	return conn.WriteJSON(&CLIRequestLogEvent{Type: CLIRequestLogEventType, EventPayload: string(body),
		RequestLogID: clockwork.NewID("resp_", 24)})
}

// readLogConn reads the CLI's messages until the connection fails or
// closes: they are acknowledgements, which keep the connection alive and
// ask for nothing; pings are answered.
func readLogConn(conn *websocket.Conn) error {
	alive := keepCLIConnAlive(conn)
	for {
		_, r, err := conn.NextReader()
		if err != nil {
			return err
		}
		alive()
		if _, err := io.Copy(io.Discard, r); err != nil {
			return err
		}
	}
}
