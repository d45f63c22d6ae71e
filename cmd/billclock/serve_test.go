package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
	"github.com/billclock/billclock/store/storetest"
)

func TestResolveServeOptions(t *testing.T) {
	defaults := serveOptions{Addr: defaultAddr, DB: defaultDB, LogLevel: defaultLogLevel}
	allEnv := map[string]string{
		"BILLCLOCK_ADDR":          "0.0.0.0:9000",
		"BILLCLOCK_DB":            "/data/env.db",
		"BILLCLOCK_ADVANCE_DELAY": "2s",
		"BILLCLOCK_API_KEYS":      "sk_test_a, sk_test_b,,sk_test_c ",
		"BILLCLOCK_LOG_LEVEL":     "debug",
	}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    serveOptions
		wantErr string
	}{
		{name: "defaults", want: defaults},
		{
			name: "environment beats defaults",
			env:  allEnv,
			want: serveOptions{Addr: "0.0.0.0:9000", DB: "/data/env.db", AdvanceDelay: 2 * time.Second,
				APIKeys: []string{"sk_test_a", "sk_test_b", "sk_test_c"}, LogLevel: "debug"},
		},
		{
			name: "flags beat environment",
			args: []string{"--addr", "127.0.0.1:7000", "--db", "flag.db", "--advance-delay", "150ms",
				"--api-key", "sk_test_x", "--api-key", "sk_test_y", "--log-level", "warn"},
			env: allEnv,
			want: serveOptions{Addr: "127.0.0.1:7000", DB: "flag.db", AdvanceDelay: 150 * time.Millisecond,
				APIKeys: []string{"sk_test_x", "sk_test_y"}, LogLevel: "warn"},
		},
		{
			name: "a flag set to its default still beats the environment",
			args: []string{"--addr", defaultAddr, "--advance-delay", "0s", "--log-level", "info"},
			env:  allEnv,
			want: serveOptions{Addr: defaultAddr, DB: "/data/env.db", AdvanceDelay: 0,
				APIKeys: []string{"sk_test_a", "sk_test_b", "sk_test_c"}, LogLevel: "info"},
		},
		{
			name: "flags and environment mix per setting",
			args: []string{"--db", "flag.db"},
			env:  map[string]string{"BILLCLOCK_ADDR": ":1234", "BILLCLOCK_API_KEYS": "sk_test_only"},
			want: serveOptions{Addr: ":1234", DB: "flag.db", APIKeys: []string{"sk_test_only"}, LogLevel: "info"},
		},
		{
			name: "empty environment values count as unset",
			env:  map[string]string{"BILLCLOCK_ADDR": "", "BILLCLOCK_DB": "", "BILLCLOCK_ADVANCE_DELAY": "", "BILLCLOCK_LOG_LEVEL": ""},
			want: defaults,
		},
		{
			name:    "invalid environment duration",
			env:     map[string]string{"BILLCLOCK_ADVANCE_DELAY": "soon"},
			wantErr: "BILLCLOCK_ADVANCE_DELAY",
		},
		{
			name: "an invalid environment duration is ignored when the flag is given",
			args: []string{"--advance-delay", "1s"},
			env:  map[string]string{"BILLCLOCK_ADVANCE_DELAY": "soon"},
			want: serveOptions{Addr: defaultAddr, DB: defaultDB, AdvanceDelay: time.Second, LogLevel: "info"},
		},
		{
			name:    "an API key no request could carry",
			args:    []string{"--api-key", "sk_test_ok", "--api-key", "sk_test_with space"},
			wantErr: "--api-key #2 can never authenticate",
		},
		{
			name:    "an over-long API key in the environment",
			env:     map[string]string{"BILLCLOCK_API_KEYS": "sk_test_" + strings.Repeat("k", 250)},
			wantErr: "BILLCLOCK_API_KEYS #1 can never authenticate",
		},
		{
			name:    "negative delay",
			args:    []string{"--advance-delay", "-1s"},
			wantErr: "must not be negative",
		},
		{
			name:    "invalid log level flag",
			args:    []string{"--log-level", "loud"},
			wantErr: `invalid log level "loud"`,
		},
		{
			name:    "invalid log level in the environment",
			env:     map[string]string{"BILLCLOCK_LOG_LEVEL": "verbose"},
			wantErr: `invalid log level "verbose"`,
		},
		{
			name: "webhook settings from the environment, flags first",
			args: []string{"--webhook-attempts", "3"},
			env: map[string]string{"BILLCLOCK_WEBHOOK_ATTEMPTS": "9", "BILLCLOCK_WEBHOOK_RETRY_DELAY": "200ms",
				"BILLCLOCK_WEBHOOK_MAX_RETRY_DELAY": "2s", "BILLCLOCK_WEBHOOK_TIMEOUT": "500ms"},
			want: serveOptions{Addr: defaultAddr, DB: defaultDB, LogLevel: defaultLogLevel,
				Webhooks: clockwork.WebhookOptions{Attempts: 3, RetryDelay: 200 * time.Millisecond, MaxRetryDelay: 2 * time.Second, Timeout: 500 * time.Millisecond}},
		},
		{name: "zero webhook attempts", args: []string{"--webhook-attempts", "0"}, wantErr: "--webhook-attempts must be at least 1"},
		{name: "bad webhook timeout", env: map[string]string{"BILLCLOCK_WEBHOOK_TIMEOUT": "soon"}, wantErr: "BILLCLOCK_WEBHOOK_TIMEOUT"},
		{name: "retention from the environment", env: map[string]string{"BILLCLOCK_RETENTION": "48h"},
			want: serveOptions{Addr: defaultAddr, DB: defaultDB, LogLevel: defaultLogLevel, Retention: 48 * time.Hour}},
		{name: "retention flag beats the environment", args: []string{"--retention", "1h30m"}, env: map[string]string{"BILLCLOCK_RETENTION": "48h"},
			want: serveOptions{Addr: defaultAddr, DB: defaultDB, LogLevel: defaultLogLevel, Retention: 90 * time.Minute}},
		{name: "bad retention in the environment", env: map[string]string{"BILLCLOCK_RETENTION": "a month"}, wantErr: "BILLCLOCK_RETENTION"},
		{name: "zero retention", args: []string{"--retention", "0s"}, wantErr: "--retention must be positive"},
		{name: "negative retention", env: map[string]string{"BILLCLOCK_RETENTION": "-1h"}, wantErr: "--retention must be positive"},
		{name: "public URL from the environment", env: map[string]string{"BILLCLOCK_PUBLIC_URL": "https://billing.example.test/"},
			want: serveOptions{Addr: defaultAddr, DB: defaultDB, LogLevel: defaultLogLevel, PublicURL: "https://billing.example.test"}},
		{name: "public URL flag beats the environment", args: []string{"--public-url", "http://localhost:8080"},
			env:  map[string]string{"BILLCLOCK_PUBLIC_URL": "not a url"},
			want: serveOptions{Addr: defaultAddr, DB: defaultDB, LogLevel: defaultLogLevel, PublicURL: "http://localhost:8080"}},
		{name: "public URL without a scheme", args: []string{"--public-url", "localhost:8080"},
			wantErr: `--public-url: public URL "localhost:8080": the scheme must be http or https`},
		{name: "bad public URL in the environment", env: map[string]string{"BILLCLOCK_PUBLIC_URL": "ftp://billing.example.test"},
			wantErr: `BILLCLOCK_PUBLIC_URL: public URL "ftp://billing.example.test"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var flags serveOptions
			fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
			flags.AddFlags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			got, err := resolveServeOptions(flags, fs.Changed, envFunc(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.want.Webhooks == (clockwork.WebhookOptions{}) {
				tt.want.Webhooks = defaultWebhookOptions()
			}
			if tt.want.Retention == 0 {
				tt.want.Retention = 720 * time.Hour
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestClientOptionsResolve(t *testing.T) {
	env := map[string]string{"BILLCLOCK_API_BASE": "http://127.0.0.1:9999/", "BILLCLOCK_API_KEY": "sk_test_env"}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want clientOptions
	}{
		// baseFrom names where the base came from, for error messages.
		{name: "defaults", want: clientOptions{APIBase: defaultAPIBase, APIKey: defaultAPIKey, baseFrom: "--api-base"}},
		{name: "environment beats defaults", env: env,
			want: clientOptions{APIBase: "http://127.0.0.1:9999", APIKey: "sk_test_env", baseFrom: "BILLCLOCK_API_BASE"}},
		{name: "flags beat environment", env: env,
			args: []string{"--api-base", "http://127.0.0.1:1111", "--api-key", "sk_test_flag"},
			want: clientOptions{APIBase: "http://127.0.0.1:1111", APIKey: "sk_test_flag", baseFrom: "--api-base"}},
		{name: "a flag set to its default still beats the environment", env: env,
			args: []string{"--api-key", defaultAPIKey},
			want: clientOptions{APIBase: "http://127.0.0.1:9999", APIKey: defaultAPIKey, baseFrom: "BILLCLOCK_API_BASE"}},
		{name: "trailing slashes are trimmed",
			args: []string{"--api-base", "http://127.0.0.1:1111//"},
			want: clientOptions{APIBase: "http://127.0.0.1:1111", APIKey: defaultAPIKey, baseFrom: "--api-base"}},
		{name: "a bare scheme keeps its slashes, for checkAPIBase to explain",
			args: []string{"--api-base", "http://"},
			want: clientOptions{APIBase: "http://", APIKey: defaultAPIKey, baseFrom: "--api-base"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var flags clientOptions
			fs := pflag.NewFlagSet("client", pflag.ContinueOnError)
			flags.AddFlags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			if got := flags.resolve(fs.Changed, envFunc(tt.env)); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// runningServe is a `billclock serve` running through the root command.
type runningServe struct {
	url    string
	stderr *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

var servingURL = regexp.MustCompile(`msg="billclock serving" url=(http://\S+)`)

// startServe runs `billclock serve args...` until stop is called or the test
// ends, and waits for it to answer /healthz. It reads the port serve chose
// from its "billclock serving" log line, so --addr 127.0.0.1:0 works.
func startServe(t *testing.T, env map[string]string, args ...string) *runningServe {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &runningServe{stderr: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	cmd := newRootCommand(envFunc(env))
	cmd.SetArgs(append([]string{"serve"}, args...))
	cmd.SetOut(&syncBuffer{})
	cmd.SetErr(s.stderr)
	go func() { s.done <- cmd.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-s.done
	})

	deadline := time.Now().Add(5 * time.Second)
	for s.url == "" {
		if m := servingURL.FindStringSubmatch(s.stderr.String()); m != nil {
			s.url = m[1]
			break
		}
		select {
		case err := <-s.done:
			s.done <- err // for Cleanup
			t.Fatalf("serve returned early: %v\n%s", err, s.stderr)
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve logged no URL:\n%s", s.stderr)
		}
	}
	for {
		resp, err := http.Get(s.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve never became healthy: %v\n%s", err, s.stderr)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// stop cancels serve's context, as SIGINT does, and returns what it returned.
func (s *runningServe) stop(t *testing.T) error {
	t.Helper()
	s.cancel()
	select {
	case err := <-s.done:
		s.done <- err // for Cleanup
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not stop within 5s of its context ending")
		return nil
	}
}

func TestServe(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "serve.db")
	srv := startServe(t, nil, "--addr", "127.0.0.1:0", "--db", db)

	stdout, _, err := runCLI(t, nil, "--api-base", srv.url, "test_helpers", "test_clocks", "create",
		"--frozen-time", "1732320000", "--name", "persisted")
	if err != nil {
		t.Fatal(err)
	}
	created := decodeClock(t, stdout)
	if err := srv.stop(t); err != nil {
		t.Fatalf("serve returned %v after its context ended, want nil", err)
	}
	if !strings.Contains(srv.stderr.String(), `msg="billclock stopped"`) {
		t.Errorf("no stop line in log:\n%s", srv.stderr)
	}
	if _, err := os.Stat(db); err != nil {
		t.Fatalf("--db file: %v", err)
	}

	// The clock survives a restart over the same --db, given through the
	// environment this time.
	srv = startServe(t, map[string]string{"BILLCLOCK_DB": db, "BILLCLOCK_ADDR": "127.0.0.1:0"})
	stdout, _, err = runCLI(t, map[string]string{"BILLCLOCK_API_BASE": srv.url},
		"test_helpers", "test_clocks", "retrieve", created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := decodeClock(t, stdout); got.Name != "persisted" || got.FrozenTime != 1732320000 {
		t.Errorf("after restart: %+v", got)
	}
	if err := srv.stop(t); err != nil {
		t.Fatal(err)
	}
}

// TestServePublicURL: serve --public-url links the pages there, while
// serving them at its own address; a bad one stops serve before it
// listens or makes its database.
func TestServePublicURL(t *testing.T) {
	t.Parallel()
	const public = "https://billing.example.test:8443"
	srv := startServe(t, nil, "--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "public.db"), "--public-url", public+"/")
	if !strings.Contains(srv.stderr.String(), `public_url=`+public) {
		t.Errorf("the serving line does not name the public URL:\n%s", srv.stderr)
	}
	post := func(path string, form url.Values) map[string]any {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, srv.url+path, strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth("sk_test_billclock", "")
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("POST %s: %d %v %v", path, resp.StatusCode, m, err)
		}
		return m
	}
	price := post("/v1/prices", url.Values{"currency": {"usd"}, "unit_amount": {"900"}, "product_data[name]": {"Poster"}})
	cs := post("/v1/checkout/sessions", url.Values{"mode": {"payment"}, "line_items[0][price]": {price["id"].(string)},
		"line_items[0][quantity]": {"1"}})
	link, _ := cs["url"].(string)
	path, ok := strings.CutPrefix(link, public+"/c/pay/")
	if !ok {
		t.Fatalf("checkout url %q is not under %s", link, public)
	}
	resp, err := http.Get(srv.url + "/c/pay/" + path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the Checkout page at the server's own address: %d", resp.StatusCode)
	}

	db := filepath.Join(t.TempDir(), "never.db")
	_, _, err = runCLI(t, nil, "serve", "--addr", "127.0.0.1:0", "--db", db, "--public-url", "billing.example.test")
	if err == nil || !strings.Contains(err.Error(), `--public-url: public URL "billing.example.test"`) ||
		!strings.Contains(err.Error(), "http:// or https://") {
		t.Fatalf("err = %v, want it to name --public-url and say what is wanted", err)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("serve made its database despite the bad public URL: %v", err)
	}
}

func TestServeLockedDB(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "locked.db")
	startServe(t, nil, "--addr", "127.0.0.1:0", "--db", db)

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	start := time.Now()
	_, _, err := runCLIContext(ctx, nil, "serve", "--addr", "127.0.0.1:0", "--db", db)
	if took := time.Since(start); took > 2500*time.Millisecond {
		t.Errorf("second serve took %s to fail, want about the 1s lock timeout", took)
	}
	if !errors.Is(err, store.ErrLocked) {
		t.Fatalf("err = %v, want store.ErrLocked", err)
	}
	if !strings.Contains(err.Error(), "locked") || !strings.Contains(err.Error(), db) {
		t.Errorf("error %q should say the db is locked and name it", err)
	}
}

// TestServeRequestLog checks the request log of a healthy server. The error
// paths (full disk, failing endpoints, internal errors, a corrupt database)
// are checked in emulator's TestErrorPathsNeverLogTheKey, which can inject
// storage faults.
func TestServeRequestLog(t *testing.T) {
	t.Parallel()
	const key = "sk_test_s3cr3tKeyThatMustNotBeLogged"
	const wrongKey = "sk_test_wrongKeyThatMustNotBeLogged"
	for _, tt := range []struct {
		level     string
		wantLines int
	}{
		{"debug", 4},
		{"info", 0},
	} {
		t.Run(tt.level, func(t *testing.T) {
			t.Parallel()
			srv := startServe(t, map[string]string{"BILLCLOCK_API_KEYS": key},
				"--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "log.db"), "--log-level", tt.level)
			// startServe's /healthz polls are requests too: count from here.
			before := strings.Count(srv.stderr.String(), "msg=request")

			env := map[string]string{"BILLCLOCK_API_BASE": srv.url, "BILLCLOCK_API_KEY": key}
			stdout, _, err := runCLI(t, env, "test_helpers", "test_clocks", "create", "--frozen-time", "1732320000")
			if err != nil {
				t.Fatal(err)
			}
			id := decodeClock(t, stdout).ID
			if _, _, err := runCLI(t, env, "test_helpers", "test_clocks", "retrieve", id); err != nil {
				t.Fatal(err)
			}
			if _, _, err := runCLI(t, env, "test_helpers", "test_clocks", "list", "-d", "api_key="+key); err == nil {
				t.Fatal("list with an unknown parameter succeeded")
			}
			_, _, err = runCLI(t, env, "--api-key", wrongKey, "test_helpers", "test_clocks", "retrieve", id)
			var apiErr *apiError
			if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized {
				t.Fatalf("wrong key: err = %v, want a 401", err)
			}
			if err := srv.stop(t); err != nil {
				t.Fatal(err)
			}

			log := srv.stderr.String()
			if got := strings.Count(log, "msg=request") - before; got != tt.wantLines {
				t.Errorf("%d request lines, want %d:\n%s", got, tt.wantLines, log)
			}
			if tt.wantLines > 0 {
				for _, want := range []string{
					"method=POST path=/v1/test_helpers/test_clocks status=200",
					"method=GET path=/v1/test_helpers/test_clocks/" + id + " status=200",
					"method=GET path=/v1/test_helpers/test_clocks status=400",
					"method=GET path=/v1/test_helpers/test_clocks/" + id + " status=401",
				} {
					if !strings.Contains(log, want) {
						t.Errorf("log lacks %q:\n%s", want, log)
					}
				}
			}
			for _, secret := range []string{"s3cr3t", "wrongKey"} {
				if strings.Contains(log, secret) {
					t.Errorf("log contains the API key:\n%s", log)
				}
			}
		})
	}
}

// clock is the part of a printed test clock the tests look at.
type clock struct {
	ID            string `json:"id"`
	Object        string `json:"object"`
	FrozenTime    int64  `json:"frozen_time"`
	Name          string `json:"name"`
	Status        string `json:"status"`
	Livemode      bool   `json:"livemode"`
	Deleted       bool   `json:"deleted"`
	StatusDetails struct {
		Advancing *struct {
			TargetFrozenTime int64 `json:"target_frozen_time"`
		} `json:"advancing"`
	} `json:"status_details"`
}

func decodeClock(t *testing.T, out string) clock {
	t.Helper()
	var c clock
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatalf("decode %q: %v", out, err)
	}
	if c.Object != "test_helpers.test_clock" || !strings.HasPrefix(c.ID, "clock_") {
		t.Fatalf("not a test clock: %s", out)
	}
	return c
}

// TestServeRefusesDamagedDB: serve through the real root command refuses
// every damaged file with one line naming it, before it logs anything.
func TestServeRefusesDamagedDB(t *testing.T) {
	for _, d := range storetest.Damages() {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "billclock.db")
			storetest.Populated(t, path)
			d.Apply(t, path)
			_, stderr, err := runCLI(t, nil, "serve", "--addr", "127.0.0.1:0", "--db", path)
			checkRefusal(t, err, d.Want, path)
			if stderr != "" {
				t.Errorf("stderr = %q, want nothing (main prints the error)", stderr)
			}
		})
	}
}
