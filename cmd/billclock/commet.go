package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/spf13/cobra"
)

// defaultCommetKey is the Commet key the commet commands send by default.
const defaultCommetKey = "ck_billclock"

// commetVersion is the Commet API version the commands speak.
const commetVersion = "2026-07-31"

// newCommetCommand is `billclock commet`: the organization's test clock
// and seats on a running billclock, through Commet's API.
func newCommetCommand(getenv getenvFunc) *cobra.Command {
	var flags clientOptions
	cmd := &cobra.Command{
		Use:   "commet",
		Short: "Commet's test clock and seats on a running billclock",
		Long: "Talk to a running billclock's Commet API (/api/v1, API version " + commetVersion + ") as the organization of\n" +
			"--api-key (a ck_ key; env BILLCLOCK_COMMET_API_KEY).",
		RunE: runGroup,
	}
	flags.addAPIBaseFlag(cmd.PersistentFlags())
	cmd.PersistentFlags().StringVar(&flags.APIKey, "api-key", defaultCommetKey, "Commet API key to send (env BILLCLOCK_COMMET_API_KEY)")
	client := func(cmd *cobra.Command) *commetClient {
		o := flags.resolve(func(name string) bool { return cmd.Flags().Changed(name) || name == "api-key" }, getenv)
		if v := getenv("BILLCLOCK_COMMET_API_KEY"); v != "" && !cmd.Flags().Changed("api-key") {
			o.APIKey = v
		}
		return &commetClient{base: o.APIBase, key: o.APIKey, http: &http.Client{Timeout: 30 * time.Second},
			baseErr: o.checkAPIBase()}
	}
	cmd.AddCommand(newCommetTestClockCommand(client), newCommetSeatsCommand(client))
	return cmd
}

// commetClientFunc gives a command its client.
type commetClientFunc func(*cobra.Command) *commetClient

// commetClient calls a billclock server's Commet API.
type commetClient struct {
	base, key string
	http      *http.Client
	baseErr   error
}

// commetError is an error answer in Commet's envelope.
type commetError struct {
	Status  int
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Details []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"details"`
}

func (e *commetError) Error() string {
	msg := e.Message
	for _, d := range e.Details {
		if d.Field != "" && d.Message != e.Message {
			msg += fmt.Sprintf("; %s: %s", d.Field, d.Message)
		}
	}
	return fmt.Sprintf("%s [%d %s]", msg, e.Status, e.Code)
}

// do sends a JSON request to /api/v1 + path and returns the raw body of a
// 2xx answer.
func (c *commetClient) do(ctx context.Context, method, path string, body any) ([]byte, error) {
	if c.baseErr != nil {
		return nil, c.baseErr
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+"/api/v1"+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("x-api-key", c.key)
	req.Header.Set("commet-version", commetVersion)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, unreachable(c.base, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 == 2 {
		return raw, nil
	}
	var env struct {
		Error *commetError `json:"error"`
	}
	if json.Unmarshal(raw, &env) != nil || env.Error == nil {
		return nil, fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	env.Error.Status = resp.StatusCode
	return nil, env.Error
}

// commetCallAndPrint calls and prints the JSON answer.
func commetCallAndPrint(cmd *cobra.Command, c *commetClient, method, path string, body any) error {
	raw, err := c.do(cmd.Context(), method, path, body)
	if err != nil {
		return err
	}
	return printJSON(cmd.OutOrStdout(), raw)
}
