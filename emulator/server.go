// Package emulator is billclock's server: it owns the store, the HTTP
// listener, the runtime (emulator/clockwork) and the provider dialects over
// it, and runs them until told to stop.
package emulator

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/billclock/billclock/emulator/chargebee"
	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/emulator/commet"
	"github.com/billclock/billclock/emulator/dashboard"
	"github.com/billclock/billclock/emulator/stripe"
	"github.com/billclock/billclock/store"
)

// Config configures a Server.
type Config struct {
	// Addr is the address to listen on; port 0 picks a free port.
	Addr string
	// DBPath is the bbolt file to persist to.
	DBPath string
	// AdvanceDelay keeps a clock advancing at least this long.
	AdvanceDelay time.Duration
	// APIKeys, when not empty, restricts the API to these keys.
	APIKeys []string
	// Logger receives server logs; nil discards them.
	Logger *slog.Logger
	// Now is the wall clock; nil means time.Now.
	Now func() time.Time
	// NoSync skips fsync (throwaway databases only).
	NoSync bool
	// BeforeCommit, if set, runs before every write transaction commits;
	// an error aborts the commit like a failed disk write. A test seam for
	// injecting storage faults (see store.Options).
	BeforeCommit func() error
	// StripeLimits enforces Stripe's per-clock caps (3 customers per clock,
	// 3 subscriptions per customer); billclock lifts them by default.
	StripeLimits bool
	// Webhooks configure webhook delivery (retries, timeouts).
	Webhooks clockwork.WebhookOptions
	// ReadTimeout bounds reading one request, headers and body, so that a
	// client trickling its body cannot hold a connection; zero means
	// DefaultReadTimeout.
	ReadTimeout time.Duration
	// IdleTimeout closes a keep-alive connection that has waited this long
	// for its next request; zero means DefaultIdleTimeout.
	IdleTimeout time.Duration
	// Retention is how long events, webhook attempts and the deleted
	// stubs of customers are kept after they were recorded, in wall time;
	// zero means clockwork.DefaultRetention (30 days).
	Retention time.Duration
	// PublicURL is the address the server's pages are linked at (a
	// Checkout Session's url, a portal session's url, an invoice's
	// hosted_invoice_url and invoice_pdf) when users reach the server by
	// another address than the one it listens on: a container's mapped
	// port, a proxy. It is an absolute http or https URL (see
	// CheckPublicURL); a path in it prefixes the pages' paths, for a proxy
	// to strip. Empty means the listening address.
	PublicURL string
}

// CheckPublicURL checks a PublicURL: an absolute http:// or https:// URL
// with a host, and no credentials, query, fragment or spaces. It returns it
// without a trailing slash.
func CheckPublicURL(s string) (string, error) {
	u, err := url.Parse(s)
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("public URL %q: %s; want an absolute http:// or https:// URL such as https://billclock.example.com", s, why)
	}
	switch {
	case err != nil:
		return bad("it does not parse")
	case strings.ContainsAny(s, " \t"):
		return bad("it must not contain spaces")
	case u.Scheme != "http" && u.Scheme != "https":
		return bad("the scheme must be http or https")
	case u.Opaque != "" || u.Host == "" || u.Hostname() == "":
		return bad("it names no host")
	case u.User != nil:
		return bad("it must not carry credentials")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(s, "#"):
		return bad("it must have no query or fragment")
	}
	return strings.TrimRight(s, "/"), nil
}

// ShutdownTimeout bounds how long a stopping server waits for requests in
// flight.
const ShutdownTimeout = 10 * time.Second

// Connection timeouts. Bodies are at most 1 MiB, so a request that takes
// longer than DefaultReadTimeout to arrive is a stuck or hostile client.
// DefaultIdleTimeout outlasts the idle pools of the Stripe SDKs' HTTP
// clients (Go's closes idle connections after 90s), so that clients close
// first and rarely reuse a connection the server is closing.
const (
	DefaultReadTimeout = 30 * time.Second
	DefaultIdleTimeout = 2 * time.Minute
	readHeaderTimeout  = 10 * time.Second
)

// Server is a running billclock.
type Server struct {
	log  *slog.Logger
	db   *store.DB
	ln   net.Listener
	http *http.Server
	rt   *clockwork.Runtime
	// public is the address the pages are linked at.
	public string

	closeOnce sync.Once
	closeErr  error
}

// Open starts listening and then opens the database, so that Addr is known
// before Run serves and a server that cannot bind its port leaves no new
// database file behind.
func Open(cfg Config) (*Server, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var public string
	if cfg.PublicURL != "" {
		var err error
		if public, err = CheckPublicURL(cfg.PublicURL); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	if public == "" {
		public = publicURL(ln.Addr())
	}
	db, err := store.Open(cfg.DBPath, &store.Options{NoSync: cfg.NoSync, BeforeCommit: cfg.BeforeCommit})
	if err != nil {
		ln.Close()
		return nil, err
	}
	s := &Server{log: log, db: db, ln: ln, public: public}
	s.rt = clockwork.New(clockwork.Options{DB: db, Now: cfg.Now, APIKeys: cfg.APIKeys, AdvanceDelay: cfg.AdvanceDelay,
		Logger: log, Webhooks: cfg.Webhooks, Retention: cfg.Retention})
	// The dialects, the first being the one that answers requests no
	// dialect claims. Another provider is one more Register.
	s.rt.Register(stripe.New(s.rt, stripe.Options{StripeLimits: cfg.StripeLimits, PublicURL: public}))
	s.rt.Register(chargebee.New(s.rt, chargebee.Options{}))
	s.rt.Register(commet.New(s.rt))
	if err := s.rt.Prepare(); err != nil {
		db.Close()
		ln.Close()
		return nil, fmt.Errorf("prepare %s: %w", cfg.DBPath, err)
	}
	s.http = &http.Server{Handler: s.handler(), ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout: orDefault(cfg.ReadTimeout, DefaultReadTimeout), IdleTimeout: orDefault(cfg.IdleTimeout, DefaultIdleTimeout),
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError)}
	return s, nil
}

// publicURL is the address the server's pages are linked at when
// Config.PublicURL does not say: its listening address, with a wildcard host (0.0.0.0, ::, as in a container)
// named 127.0.0.1, where a browser on the same machine reaches it.
func publicURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// handler builds the whole HTTP surface.
func (s *Server) handler() http.Handler {
	r := mux.NewRouter()
	r.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ok"}` + "\n"))
	}).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/", serveIndex).Methods(http.MethodGet, http.MethodHead)
	// billclock's dashboard, GET /_billclock/: open on loopback, or with
	// an API key.
	dashboard.New(s.rt).Routes(r)
	// Every dialect's routes and the control routes. Any other path or
	// method gets the JSON 404 of the dialect of the request's key
	// (Stripe's without one), not Go's plain text.
	s.rt.Routes(r)
	if s.log.Enabled(context.Background(), slog.LevelDebug) {
		return logRequests(s.log, r)
	}
	return r
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// PublicURL is the address the server's pages are linked at:
// Config.PublicURL, or the listening address.
func (s *Server) PublicURL() string { return s.public }

// URL is the server's base URL.
func (s *Server) URL() string { return "http://" + s.Addr() }

// Run serves until ctx ends, then shuts down gracefully: requests in flight
// finish and their writes commit before the database closes.
func (s *Server) Run(ctx context.Context) error {
	bgCtx, stopBg := context.WithCancel(context.Background())
	bgDone := make(chan error, 1)
	go func() { bgDone <- s.rt.Run(bgCtx) }()

	serveErr := make(chan error, 1)
	go func() { serveErr <- s.http.Serve(s.ln) }()

	var err error
	select {
	case <-ctx.Done():
		shutCtx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
		err = s.http.Shutdown(shutCtx)
		cancel()
	case err = <-serveErr:
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	stopBg()
	if bgErr := <-bgDone; err == nil {
		err = bgErr
	}
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	return err
}

// Close closes the listener and the database. Run calls it on its way out;
// call it directly only for a server that was opened but never run.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.http.Close()
		s.ln.Close()
		s.closeErr = s.db.Close()
	})
	return s.closeErr
}

// statusRecorder captures the status a handler wrote, for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Hijack lets a websocket (the Stripe CLI's listen) through the request
// log.
func (r *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	r.status = http.StatusSwitchingProtocols
	return http.NewResponseController(r.ResponseWriter).Hijack()
}

// logRequests logs one line per request. It never logs headers, so API keys
// stay out of the log.
func logRequests(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", rec.status,
			"duration", time.Since(start).Round(time.Microsecond), "request_id", w.Header().Get("Request-Id"))
	})
}
