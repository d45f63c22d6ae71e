package main

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/billclock/billclock/emulator"
	"github.com/billclock/billclock/emulator/clockwork"
)

// Defaults for serve.
const (
	defaultAddr     = "127.0.0.1:12800"
	defaultDB       = "billclock.db"
	defaultLogLevel = "info"
)

// serveOptions are serve's settings, from flags, environment and defaults.
type serveOptions struct {
	Addr         string
	DB           string
	AdvanceDelay time.Duration
	APIKeys      []string
	LogLevel     string
	StripeLimits bool
	Webhooks     clockwork.WebhookOptions
	Retention    time.Duration
	// PublicURL is where the pages are linked, checked and without a
	// trailing slash once resolved; "" for the listening address.
	PublicURL string
}

// AddFlags registers serve's flags, with the built-in defaults.
func (o *serveOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Addr, "addr", defaultAddr, "address to listen on (env BILLCLOCK_ADDR)")
	fs.StringVar(&o.DB, "db", defaultDB, "bbolt database file (env BILLCLOCK_DB)")
	fs.DurationVar(&o.AdvanceDelay, "advance-delay", 0, "keep an advancing clock advancing at least this long (env BILLCLOCK_ADVANCE_DELAY)")
	fs.StringArrayVar(&o.APIKeys, "api-key", nil, "accept only this API key; repeatable (env BILLCLOCK_API_KEYS, comma-separated)")
	fs.BoolVar(&o.StripeLimits, "stripe-limits", false, "enforce Stripe's caps: 3 customers per test clock, 3 subscriptions per customer (env BILLCLOCK_STRIPE_LIMITS)")
	def := defaultWebhookOptions()
	fs.IntVar(&o.Webhooks.Attempts, "webhook-attempts", def.Attempts, "attempts per event and endpoint before a delivery is given up (env BILLCLOCK_WEBHOOK_ATTEMPTS)")
	fs.DurationVar(&o.Webhooks.RetryDelay, "webhook-retry-delay", def.RetryDelay, "wait before the first webhook retry; doubles after each failure (env BILLCLOCK_WEBHOOK_RETRY_DELAY)")
	fs.DurationVar(&o.Webhooks.MaxRetryDelay, "webhook-max-retry-delay", def.MaxRetryDelay, "cap on the wait between webhook retries (env BILLCLOCK_WEBHOOK_MAX_RETRY_DELAY)")
	fs.DurationVar(&o.Webhooks.Timeout, "webhook-timeout", def.Timeout, "time limit of one webhook attempt (env BILLCLOCK_WEBHOOK_TIMEOUT)")
	fs.DurationVar(&o.Retention, "retention", clockwork.DefaultRetention, "keep events, webhook attempts and deleted customers' stubs this long after they were recorded, in wall time (env BILLCLOCK_RETENTION)")
	fs.StringVar(&o.PublicURL, "public-url", "", "address the pages (Checkout, portal, hosted invoices, invoice PDFs) are linked at, when users reach the server by another than --addr: a mapped port, a proxy; an absolute http(s) URL (env BILLCLOCK_PUBLIC_URL)")
	fs.StringVar(&o.LogLevel, "log-level", defaultLogLevel, "debug, info, warn or error; debug logs every request (env BILLCLOCK_LOG_LEVEL)")
}

// defaultWebhookOptions suit tests: a first retry within 2 s, backoff capped
// at 30 s, 5 attempts.
func defaultWebhookOptions() clockwork.WebhookOptions {
	return clockwork.WebhookOptions{Attempts: 5, RetryDelay: time.Second, MaxRetryDelay: 30 * time.Second, Timeout: 10 * time.Second}
}

// resolveServeOptions applies the environment to every setting whose flag
// was not given: flags beat environment beat defaults.
func resolveServeOptions(flags serveOptions, changed func(flag string) bool, getenv getenvFunc) (serveOptions, error) {
	o := flags
	if v := getenv("BILLCLOCK_ADDR"); v != "" && !changed("addr") {
		o.Addr = v
	}
	if v := getenv("BILLCLOCK_DB"); v != "" && !changed("db") {
		o.DB = v
	}
	if v := getenv("BILLCLOCK_ADVANCE_DELAY"); v != "" && !changed("advance-delay") {
		d, err := time.ParseDuration(v)
		if err != nil {
			return o, fmt.Errorf("BILLCLOCK_ADVANCE_DELAY: %w", err)
		}
		o.AdvanceDelay = d
	}
	if v := getenv("BILLCLOCK_API_KEYS"); v != "" && !changed("api-key") {
		o.APIKeys = nil
		for _, k := range strings.Split(v, ",") {
			if k = strings.TrimSpace(k); k != "" {
				o.APIKeys = append(o.APIKeys, k)
			}
		}
	}
	source := "--api-key"
	if !changed("api-key") {
		source = "BILLCLOCK_API_KEYS"
	}
	for i, k := range o.APIKeys {
		// Name the key by its place, never by its value: keys stay out of
		// messages and logs.
		if !clockwork.KeyCanAuthenticate(k) {
			return o, fmt.Errorf("%s #%d can never authenticate: API keys are printable ASCII without spaces, at most 255 bytes", source, i+1)
		}
	}
	if v := getenv("BILLCLOCK_STRIPE_LIMITS"); v != "" && !changed("stripe-limits") {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return o, fmt.Errorf("BILLCLOCK_STRIPE_LIMITS: want true or false, got %q", v)
		}
		o.StripeLimits = b
	}
	for _, d := range []struct {
		flag, env string
		dst       *time.Duration
	}{
		{"webhook-retry-delay", "BILLCLOCK_WEBHOOK_RETRY_DELAY", &o.Webhooks.RetryDelay},
		{"webhook-max-retry-delay", "BILLCLOCK_WEBHOOK_MAX_RETRY_DELAY", &o.Webhooks.MaxRetryDelay},
		{"webhook-timeout", "BILLCLOCK_WEBHOOK_TIMEOUT", &o.Webhooks.Timeout},
		{"retention", "BILLCLOCK_RETENTION", &o.Retention},
	} {
		if v := getenv(d.env); v != "" && !changed(d.flag) {
			parsed, err := time.ParseDuration(v)
			if err != nil {
				return o, fmt.Errorf("%s: %w", d.env, err)
			}
			*d.dst = parsed
		}
		if *d.dst <= 0 {
			return o, fmt.Errorf("--%s must be positive", d.flag)
		}
	}
	if v := getenv("BILLCLOCK_WEBHOOK_ATTEMPTS"); v != "" && !changed("webhook-attempts") {
		n, err := strconv.Atoi(v)
		if err != nil {
			return o, fmt.Errorf("BILLCLOCK_WEBHOOK_ATTEMPTS: %w", err)
		}
		o.Webhooks.Attempts = n
	}
	if o.Webhooks.Attempts < 1 {
		return o, fmt.Errorf("--webhook-attempts must be at least 1")
	}
	publicSource := "--public-url"
	if v := getenv("BILLCLOCK_PUBLIC_URL"); v != "" && !changed("public-url") {
		o.PublicURL, publicSource = v, "BILLCLOCK_PUBLIC_URL"
	}
	if o.PublicURL != "" {
		u, err := emulator.CheckPublicURL(o.PublicURL)
		if err != nil {
			return o, fmt.Errorf("%s: %w", publicSource, err)
		}
		o.PublicURL = u
	}
	if v := getenv("BILLCLOCK_LOG_LEVEL"); v != "" && !changed("log-level") {
		o.LogLevel = v
	}
	if o.AdvanceDelay < 0 {
		return o, fmt.Errorf("--advance-delay must not be negative")
	}
	if _, err := parseLogLevel(o.LogLevel); err != nil {
		return o, err
	}
	return o, nil
}

func parseLogLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("invalid log level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

func newServeCommand(getenv getenvFunc) *cobra.Command {
	var flags serveOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the emulator",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o, err := resolveServeOptions(flags, cmd.Flags().Changed, getenv)
			if err != nil {
				return err
			}
			level, _ := parseLogLevel(o.LogLevel)
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
			srv, err := emulator.Open(emulator.Config{Addr: o.Addr, DBPath: o.DB, AdvanceDelay: o.AdvanceDelay,
				APIKeys: o.APIKeys, Logger: log, StripeLimits: o.StripeLimits, Webhooks: o.Webhooks, Retention: o.Retention,
				PublicURL: o.PublicURL})
			if err != nil {
				return err
			}
			attrs := []any{"url", srv.URL(), "db", o.DB}
			if o.PublicURL != "" {
				attrs = append(attrs, "public_url", srv.PublicURL())
			}
			log.Info("billclock serving", attrs...)
			err = srv.Run(cmd.Context())
			log.Info("billclock stopped")
			return err
		},
	}
	flags.AddFlags(cmd.Flags())
	return cmd
}
