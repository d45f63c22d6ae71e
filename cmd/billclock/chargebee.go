package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// defaultChargebeeKey is the site key Chargebee commands send by default.
const defaultChargebeeKey = "test_billclock"

// chargebeeOptions are the settings of the Chargebee commands: the
// server, and the site's API key (--api-key, else
// BILLCLOCK_CHARGEBEE_API_KEY).
type chargebeeOptions struct {
	base   clientOptions
	APIKey string
}

// AddFlags registers --api-base and --api-key.
func (o *chargebeeOptions) AddFlags(fs *pflag.FlagSet) {
	o.base.addAPIBaseFlag(fs)
	fs.StringVar(&o.APIKey, "api-key", defaultChargebeeKey, "the Chargebee site's API key, test_... (env BILLCLOCK_CHARGEBEE_API_KEY)")
}

// resolve applies the environment to settings whose flag was not given.
func (o chargebeeOptions) resolve(changed func(string) bool, getenv getenvFunc) chargebeeOptions {
	o.base = o.base.resolve(changed, getenv)
	if v := getenv("BILLCLOCK_CHARGEBEE_API_KEY"); v != "" && !changed("api-key") {
		o.APIKey = v
	}
	return o
}

// chargebeeClient calls a billclock server's Chargebee API.
type chargebeeClient struct {
	base, key string
	http      *http.Client
	baseErr   error
}

func (o chargebeeOptions) client() *chargebeeClient {
	return &chargebeeClient{base: o.base.APIBase, key: o.APIKey, http: &http.Client{Timeout: 30 * time.Second},
		baseErr: o.base.checkAPIBase()}
}

// chargebeeError is an error answer in Chargebee's envelope.
type chargebeeError struct {
	Message        string `json:"message"`
	APIErrorCode   string `json:"api_error_code"`
	HTTPStatusCode int    `json:"http_status_code"`
}

func (e *chargebeeError) Error() string {
	return fmt.Sprintf("%s [%d %s]", e.Message, e.HTTPStatusCode, e.APIErrorCode)
}

// do sends one request, as Chargebee's SDKs do (Basic authentication with
// the key as the username, form parameters), and returns the JSON body of
// a 2xx answer.
func (c *chargebeeClient) do(ctx context.Context, method, path string, params url.Values) ([]byte, error) {
	if c.baseErr != nil {
		return nil, c.baseErr
	}
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(params.Encode())
	} else if len(params) > 0 {
		path += "?" + params.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(c.key+":")))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
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
		var e chargebeeError
		if json.Unmarshal(raw, &e) != nil || e.Message == "" {
			return nil, fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(raw))
		}
		e.HTTPStatusCode = resp.StatusCode
		return nil, &e
	}
	return raw, nil
}

// timeMachinePath is the site's one time machine.
const timeMachinePath = "/api/v2/time_machines/delorean"

// newChargebeeCommand is `billclock chargebee`: commands of billclock's
// Chargebee sites.
func newChargebeeCommand(getenv getenvFunc) *cobra.Command {
	var flags chargebeeOptions
	cmd := &cobra.Command{
		Use:   "chargebee",
		Short: "Call a Chargebee site's time machine on a running billclock",
		RunE:  runGroup,
	}
	flags.AddFlags(cmd.PersistentFlags())
	client := func(cmd *cobra.Command) *chargebeeClient {
		return flags.resolve(cmd.Flags().Changed, getenv).client()
	}
	machine := &cobra.Command{Use: "time-machine", Short: "Retrieve, start afresh and travel the site's time machine (delorean)", RunE: runGroup}
	machine.AddCommand(
		newTimeMachineRetrieveCommand(client),
		newTimeMachineStartAfreshCommand(client),
		newTimeMachineTravelForwardCommand(client),
	)
	cmd.AddCommand(machine)
	return cmd
}

// timeMachine is the part of the time machine waiting needs.
type timeMachine struct {
	Status        string `json:"time_travel_status"`
	FailureReason string `json:"failure_reason"`
}

// waitTravelled polls the time machine until it is no longer
// in_progress, and returns it as it then is; a failed travel is an error.
func waitTravelled(ctx context.Context, c *chargebeeClient, timeout time.Duration) ([]byte, error) {
	start := time.Now()
	interval := 25 * time.Millisecond
	for {
		raw, err := c.do(ctx, http.MethodGet, timeMachinePath, nil)
		if err != nil {
			return nil, err
		}
		var answer struct {
			TimeMachine timeMachine `json:"time_machine"`
		}
		if err := json.Unmarshal(raw, &answer); err != nil {
			return nil, fmt.Errorf("decode the time machine: %w", err)
		}
		switch answer.TimeMachine.Status {
		case "in_progress":
		case "failed":
			return raw, fmt.Errorf("the time travel failed: %s", answer.TimeMachine.FailureReason)
		default:
			return raw, nil
		}
		if time.Since(start) > timeout {
			return nil, fmt.Errorf("the time machine is still travelling after %s", timeout)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("stopped waiting for the time machine (still travelling): %w", ctx.Err())
		case <-time.After(interval):
		}
		interval = min(2*interval, 500*time.Millisecond)
	}
}

// runTravel sends a time travel, waits for it with wait, and prints the
// time machine.
func runTravel(cmd *cobra.Command, c *chargebeeClient, path string, params url.Values, wait bool, timeout time.Duration) error {
	raw, err := c.do(cmd.Context(), http.MethodPost, path, params)
	if err != nil {
		return err
	}
	if wait {
		var werr error
		raw, werr = waitTravelled(cmd.Context(), c, timeout)
		if raw != nil {
			if err := printJSON(cmd.OutOrStdout(), raw); err != nil {
				return err
			}
		}
		return werr
	}
	return printJSON(cmd.OutOrStdout(), raw)
}
