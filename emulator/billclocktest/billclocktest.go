// Package billclocktest runs a real billclock server inside a Go test: on
// a free loopback port, over a bbolt file in the test's temporary
// directory, shut down when the test ends.
//
//	func TestRenewal(t *testing.T) {
//		srv := billclocktest.Start(t, billclocktest.AdvanceDelay(50*time.Millisecond))
//		// srv.URL is the Stripe API's base (http://127.0.0.1:port), srv.StripeKey a
//		// test key of an account of this test's own.
//		sc := stripego.Client(srv) // package billclocktest/stripego: a stripe-go client
//		...
//	}
//
// New and Close do the same outside a test, for one server that TestMain
// shares between a package's tests.
//
// Each Server comes with fresh random keys (StripeKey, ChargebeeKey,
// CommetKey), each its own isolated account, so tests in parallel never
// see each other's objects, even on one server; NewStripeKey and friends
// make more. Options set what `billclock serve`'s flags set: advance delay,
// webhook timing, retention, Stripe's limits, accepted keys, and the
// account's dunning settings.
//
// The package depends on the standard library's testing and billclock
// itself, not on stripe-go or any test library: the stripe-go helpers are
// in the sub-package stripego, for tests that use stripe-go anyway.
package billclocktest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/billclock/billclock/emulator"
	"github.com/billclock/billclock/emulator/clockwork"
)

// Server is a billclock server running for a test.
type Server struct {
	// URL is the server's base URL (http://127.0.0.1:port): the Stripe
	// API's base, for stripe-go's BackendConfig.URL or stripe-node's
	// host and port. It changes when Restart picks a new port.
	URL string
	// StripeKey, ChargebeeKey and CommetKey are fresh random test keys
	// (sk_test_..., test_..., ck_...) of three accounts of this Server
	// alone.
	StripeKey    string
	ChargebeeKey string
	CommetKey    string

	cfg emulator.Config
	// tmpDir, if set, is the directory New made for the database, removed
	// by Close.
	tmpDir string
	srv    *emulator.Server
	cancel context.CancelFunc
	done   chan error
}

// Option configures Start.
type Option func(*settings)

// settings are what the options set.
type settings struct {
	cfg     emulator.Config
	dunning *Dunning
}

// AdvanceDelay keeps an advancing clock `advancing` at least d, to test
// code that polls (serve's --advance-delay).
func AdvanceDelay(d time.Duration) Option {
	return func(s *settings) { s.cfg.AdvanceDelay = d }
}

// WebhookRetryDelay is the wait before the first retry of a failed webhook
// delivery, doubling after each failure up to max (serve's
// --webhook-retry-delay and --webhook-max-retry-delay; 0 keeps the default
// of 1s and 30s).
func WebhookRetryDelay(first, max time.Duration) Option {
	return func(s *settings) { s.cfg.Webhooks.RetryDelay, s.cfg.Webhooks.MaxRetryDelay = first, max }
}

// WebhookAttempts is how many times a delivery is tried before it is
// given up (serve's --webhook-attempts; default 5).
func WebhookAttempts(n int) Option {
	return func(s *settings) { s.cfg.Webhooks.Attempts = n }
}

// WebhookTimeout bounds one delivery attempt (serve's --webhook-timeout;
// default 10s).
func WebhookTimeout(d time.Duration) Option {
	return func(s *settings) { s.cfg.Webhooks.Timeout = d }
}

// Retention is how long events, webhook attempts and deleted customers'
// stubs are kept, in wall time (serve's --retention; default 30 days).
func Retention(d time.Duration) Option {
	return func(s *settings) { s.cfg.Retention = d }
}

// StripeLimits enforces Stripe's caps of 3 customers per test clock and 3
// subscriptions per clock customer (serve's --stripe-limits).
func StripeLimits() Option {
	return func(s *settings) { s.cfg.StripeLimits = true }
}

// APIKeys makes the server accept only these keys, and the Server's own
// StripeKey, ChargebeeKey and CommetKey (serve's --api-key): other keys
// get the provider's 401. Keys made later by NewStripeKey and friends are
// refused too.
func APIKeys(keys ...string) Option {
	return func(s *settings) { s.cfg.APIKeys = append(s.cfg.APIKeys, keys...) }
}

// Logger receives the server's logs (none by default).
func Logger(l *slog.Logger) Option {
	return func(s *settings) { s.cfg.Logger = l }
}

// WithDunning sets the dunning settings of the StripeKey's account when
// the server starts (see Server.SetDunning).
func WithDunning(d Dunning) Option {
	return func(s *settings) { s.dunning = &d }
}

// ServerConfig starts the server with cfg, for what no other option
// sets (a wall clock of the test's own in Now, BeforeCommit to inject disk
// errors, NoSync); options after it change it further. Addr and DBPath, if
// empty, are a free loopback port and a file in t.TempDir().
func ServerConfig(cfg emulator.Config) Option {
	return func(s *settings) { s.cfg = cfg }
}

// Dunning is an account's dunning settings, as the control route
// POST /_billclock/settings takes them (Stripe keeps them in its
// Dashboard): what happens when an invoice's payment fails. Zero fields
// are left as they are.
type Dunning struct {
	// RetryDays are the retries of a failed payment, each in days after
	// the attempt before (at most 12, each 1-60). Nil leaves them as they
	// are; an empty, non-nil slice means no retries.
	RetryDays []int
	// SubscriptionAction is what happens to the subscription after the
	// last retry: "cancel", "unpaid" or "past_due".
	SubscriptionAction string
	// InvoiceAction is what happens to the invoice after the last retry:
	// "leave_open" or "mark_uncollectible".
	InvoiceAction string
	// UpcomingInvoiceDays, if not nil, is how many days before a renewal
	// the upcoming-invoice notice comes (0-60, 0 for none).
	UpcomingInvoiceDays *int
}

// Start runs a server until the test ends (t.Cleanup stops it, and fails
// the test if it stopped with an error), its database in t.TempDir(). It
// fails the test at once if the server cannot start.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, st := newServer(opts)
	if s.cfg.DBPath == "" {
		s.cfg.DBPath = filepath.Join(t.TempDir(), "billclock.db")
	}
	if err := s.start(); err != nil {
		t.Fatalf("billclocktest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("billclocktest: %v", err)
		}
	})
	if st.dunning != nil {
		if err := s.SetDunning(s.StripeKey, *st.dunning); err != nil {
			t.Fatalf("billclocktest: dunning settings: %v", err)
		}
	}
	return s
}

// New runs a server outside any one test, such as one TestMain shares
// between every test of a package (each test taking keys of its own from
// NewStripeKey, so that they stay isolated). Its database is in a
// temporary directory of its own, unless ServerConfig names one. Close it
// when done.
func New(opts ...Option) (*Server, error) {
	s, st := newServer(opts)
	if s.cfg.DBPath == "" {
		dir, err := os.MkdirTemp("", "billclocktest")
		if err != nil {
			return nil, err
		}
		s.tmpDir, s.cfg.DBPath = dir, filepath.Join(dir, "billclock.db")
	}
	if err := s.start(); err != nil {
		s.Close()
		return nil, err
	}
	if st.dunning != nil {
		if err := s.SetDunning(s.StripeKey, *st.dunning); err != nil {
			s.Close()
			return nil, fmt.Errorf("dunning settings: %w", err)
		}
	}
	return s, nil
}

// newServer applies the options to a Server not yet started.
func newServer(opts []Option) (*Server, settings) {
	var st settings
	for _, o := range opts {
		o(&st)
	}
	s := &Server{cfg: st.cfg, StripeKey: newKey("sk_test_"), ChargebeeKey: newKey("test_"), CommetKey: newKey("ck_")}
	if s.cfg.Addr == "" {
		s.cfg.Addr = "127.0.0.1:0"
	}
	if len(s.cfg.APIKeys) > 0 {
		s.cfg.APIKeys = append(s.cfg.APIKeys, s.StripeKey, s.ChargebeeKey, s.CommetKey)
	}
	return s, st
}

// newKey is a fresh random key: prefix and 24 base62 characters.
func newKey(prefix string) string { return clockwork.NewSecret(prefix, 24) }

func (s *Server) start() error {
	srv, err := emulator.Open(s.cfg)
	if err != nil {
		return fmt.Errorf("start billclock: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.srv, s.cancel, s.done = srv, cancel, make(chan error, 1)
	s.URL = srv.URL()
	go func() { s.done <- srv.Run(ctx) }()
	return nil
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return strings.TrimPrefix(s.URL, "http://") }

// ChargebeeURL is the base of the Chargebee surface (URL + "/api/v2"),
// for ChargebeeKey's accounts.
func (s *Server) ChargebeeURL() string { return s.URL + "/api/v2" }

// CommetURL is the base of the Commet surface (URL + "/api/v1"), for
// CommetKey's accounts.
func (s *Server) CommetURL() string { return s.URL + "/api/v1" }

// NewStripeKey returns a fresh random Stripe test key: another account,
// empty and isolated from every other.
func (s *Server) NewStripeKey() string { return newKey("sk_test_") }

// NewChargebeeKey returns a fresh random Chargebee key (another account).
func (s *Server) NewChargebeeKey() string { return newKey("test_") }

// NewCommetKey returns a fresh random Commet key (another account).
func (s *Server) NewCommetKey() string { return newKey("ck_") }

// DBPath is the server's database file.
func (s *Server) DBPath() string { return s.cfg.DBPath }

// Stop shuts the server down gracefully and waits for it, returning what
// it stopped with; it is safe to call more than once. Start arranges for it
// at the end of the test.
func (s *Server) Stop() error {
	if s.cancel == nil {
		return nil
	}
	s.cancel()
	s.cancel = nil
	if err := <-s.done; err != nil {
		return fmt.Errorf("billclock stopped with: %w", err)
	}
	return nil
}

// Restart stops the server and starts a new one over the same database, as
// a restarted process would: everything stored is there again. With the
// default address, the new server listens on a new port: URL changes.
func (s *Server) Restart() error {
	if err := s.Stop(); err != nil {
		return err
	}
	return s.start()
}

// Close stops a server made by New and removes its temporary directory.
func (s *Server) Close() error {
	err := s.Stop()
	if s.tmpDir != "" {
		if rerr := os.RemoveAll(s.tmpDir); err == nil {
			err = rerr
		}
	}
	return err
}

// SetDunning changes the dunning settings of key's account through the
// control route POST /_billclock/settings, as `billclock settings set`
// does.
func (s *Server) SetDunning(key string, d Dunning) error {
	form := url.Values{}
	if d.RetryDays != nil {
		days := make([]string, len(d.RetryDays))
		for i, n := range d.RetryDays {
			days[i] = strconv.Itoa(n)
		}
		form.Set("retry_days", strings.Join(days, ","))
	}
	if d.SubscriptionAction != "" {
		form.Set("subscription_action", d.SubscriptionAction)
	}
	if d.InvoiceAction != "" {
		form.Set("invoice_action", d.InvoiceAction)
	}
	if d.UpcomingInvoiceDays != nil {
		form.Set("upcoming_invoice_days", strconv.Itoa(*d.UpcomingInvoiceDays))
	}
	req, err := http.NewRequest(http.MethodPost, s.URL+"/_billclock/settings", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST /_billclock/settings: %s: %s", resp.Status, body)
	}
	return nil
}
