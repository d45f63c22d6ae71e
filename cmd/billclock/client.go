package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Defaults for commands that talk to a running server.
const (
	defaultAPIBase = "http://127.0.0.1:12800"
	defaultAPIKey  = "sk_test_billclock"
)

// clientOptions are the settings every client command shares.
type clientOptions struct {
	APIBase string
	APIKey  string
	// baseFrom names where APIBase came from, for error messages.
	baseFrom string
}

// AddFlags registers --api-base and --api-key.
func (o *clientOptions) AddFlags(fs *pflag.FlagSet) {
	o.addAPIBaseFlag(fs)
	fs.StringVar(&o.APIKey, "api-key", defaultAPIKey, "API key to send (env BILLCLOCK_API_KEY)")
}

// addAPIBaseFlag registers --api-base alone, for commands that send no key.
func (o *clientOptions) addAPIBaseFlag(fs *pflag.FlagSet) {
	fs.StringVar(&o.APIBase, "api-base", defaultAPIBase, "billclock server to talk to (env BILLCLOCK_API_BASE)")
}

// resolve applies the environment to settings whose flag was not given.
func (o clientOptions) resolve(changed func(string) bool, getenv getenvFunc) clientOptions {
	o.baseFrom = "--api-base"
	if v := getenv("BILLCLOCK_API_BASE"); v != "" && !changed("api-base") {
		o.APIBase, o.baseFrom = v, "BILLCLOCK_API_BASE"
	}
	if v := getenv("BILLCLOCK_API_KEY"); v != "" && !changed("api-key") {
		o.APIKey = v
	}
	// Paths are appended to the base: drop its trailing slashes (not
	// those of a bare "http://", which checkAPIBase explains).
	scheme, rest, ok := strings.Cut(o.APIBase, "://")
	if ok {
		o.APIBase = scheme + "://" + strings.TrimRight(rest, "/")
	} else {
		o.APIBase = strings.TrimRight(o.APIBase, "/")
	}
	return o
}

// checkAPIBase explains an API base that is not an http(s) URL: a common
// slip is to leave out the scheme (127.0.0.1:12800).
func (o clientOptions) checkAPIBase() error {
	from := o.baseFrom
	if from == "" {
		from = "--api-base"
	}
	u, err := url.Parse(o.APIBase)
	switch {
	case o.APIBase == "":
		return fmt.Errorf("invalid %s %q: give a URL with its scheme, such as %s", from, o.APIBase, defaultAPIBase)
	case err != nil || !strings.Contains(o.APIBase, "://"):
		return fmt.Errorf("invalid %s %q: give a URL with its scheme, such as http://%s", from, o.APIBase, o.APIBase)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("invalid %s %q: want an http:// or https:// URL, such as %s", from, o.APIBase, defaultAPIBase)
	case u.Host == "":
		return fmt.Errorf("invalid %s %q: no host; want a URL such as %s", from, o.APIBase, defaultAPIBase)
	}
	return nil
}

// unreachable explains a request that found no server at base.
func unreachable(base string, err error) error {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("no billclock server at %s (connection refused): start one with `billclock serve`, "+
			"or point --api-base (or BILLCLOCK_API_BASE) at yours", base)
	}
	return err
}

// apiClient calls a billclock server's Stripe API.
type apiClient struct {
	base, key string
	http      *http.Client
	// baseErr, if set, is why base cannot be used: every call returns it.
	baseErr error
}

func (o clientOptions) client() *apiClient {
	return &apiClient{base: o.APIBase, key: o.APIKey, http: &http.Client{Timeout: 30 * time.Second}, baseErr: o.checkAPIBase()}
}

// apiError is an error answer from the server, in Stripe's envelope.
type apiError struct {
	Status  int
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Param   string `json:"param"`
	// PaymentIntent or SetupIntent is the object a card error is about
	// (Stripe keeps it, with the failed charge).
	PaymentIntent objectRef `json:"payment_intent"`
	SetupIntent   objectRef `json:"setup_intent"`
}

// objectRef is an object an error carries, by its id and type.
type objectRef struct {
	ID     string `json:"id"`
	Object string `json:"object"`
}

func (e *apiError) Error() string {
	msg := e.Message
	if e.Param != "" {
		msg += " (param: " + e.Param + ")"
	}
	return fmt.Sprintf("%s [%d %s]", msg, e.Status, e.Type)
}

// do sends one request; params go in the query for GET and DELETE and in
// the form body otherwise. It returns the raw JSON body of a 2xx answer.
func (c *apiClient) do(ctx context.Context, method, path string, params url.Values) ([]byte, error) {
	if c.baseErr != nil {
		return nil, c.baseErr
	}
	u := c.base + path
	var body io.Reader
	if method == http.MethodGet || method == http.MethodDelete {
		if len(params) > 0 {
			u += "?" + params.Encode()
		}
	} else {
		body = strings.NewReader(params.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, unreachable(c.base, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		var env struct {
			Error *apiError `json:"error"`
		}
		if json.Unmarshal(raw, &env) != nil || env.Error == nil {
			return nil, fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(raw))
		}
		env.Error.Status = resp.StatusCode
		return nil, env.Error
	}
	return raw, nil
}

// parseTimestamp accepts Unix seconds or RFC 3339.
func parseTimestamp(s string) (int64, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return 0, fmt.Errorf("invalid timestamp %q: want Unix seconds or RFC 3339 (2025-01-31T00:00:00Z)", s)
	}
	return t.Unix(), nil
}

// setTimestamp sets params[name] to value, Unix seconds or RFC 3339, in
// Unix seconds; an empty value sets nothing.
func setTimestamp(params url.Values, name, value string) error {
	if value == "" {
		return nil
	}
	t, err := parseTimestamp(value)
	if err != nil {
		return err
	}
	params.Set(name, strconv.FormatInt(t, 10))
	return nil
}

// addDataParams merges -d key=value pairs into params.
func addDataParams(params url.Values, data []string) error {
	for _, kv := range data {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return fmt.Errorf("invalid -d %q: want key=value", kv)
		}
		params.Add(k, v)
	}
	return nil
}

// printJSON writes an API answer indented, as the Stripe CLI does.
func printJSON(w io.Writer, raw []byte) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		_, err = w.Write(raw)
		return err
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}

// pageOptions are the flags of a list command: Stripe's pagination and
// -d extra parameters.
type pageOptions struct {
	limit                       int
	startingAfter, endingBefore string
	data                        []string
}

// AddFlags registers --limit, --starting-after, --ending-before and -d;
// noun names what is listed in the help.
func (o *pageOptions) AddFlags(cmd *cobra.Command, noun string) {
	cmd.Flags().IntVar(&o.limit, "limit", 10, "how many "+noun+" to list (1-100)")
	cmd.Flags().StringVar(&o.startingAfter, "starting-after", "", "list "+noun+" older than this id")
	cmd.Flags().StringVar(&o.endingBefore, "ending-before", "", "list "+noun+" newer than this id")
	addDataFlag(cmd, &o.data)
}

// params returns the query for the flags the user gave.
func (o *pageOptions) params(cmd *cobra.Command) (url.Values, error) {
	params := url.Values{}
	if cmd.Flags().Changed("limit") {
		params.Set("limit", strconv.Itoa(o.limit))
	}
	if o.startingAfter != "" {
		params.Set("starting_after", o.startingAfter)
	}
	if o.endingBefore != "" {
		params.Set("ending_before", o.endingBefore)
	}
	return params, addDataParams(params, o.data)
}
