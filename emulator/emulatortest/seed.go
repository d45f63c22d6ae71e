package emulatortest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Client calls a billclock server's Stripe API over plain HTTP, for
// benchmarks and load tools that want no client library in the way.
type Client struct {
	BaseURL string
	APIKey  string
	HTTP    *http.Client
}

// NewClient returns a Client with a keep-alive pool for conns connections.
func NewClient(baseURL, apiKey string, conns int) *Client {
	tr := &http.Transport{MaxIdleConns: 2 * conns, MaxIdleConnsPerHost: max(64, 2*conns), DisableCompression: true}
	return &Client{BaseURL: strings.TrimSuffix(baseURL, "/"), APIKey: apiKey,
		HTTP: &http.Client{Transport: tr, Timeout: time.Minute}}
}

// Do sends one request (form in the body; for GET, in the query) with an
// Idempotency-Key if idemKey is set, and returns the body of a 200 answer;
// any other status is an error. The body is always read to the end, so the
// connection is reused. Do is safe for concurrent use.
func (c *Client) Do(method, path string, form url.Values, idemKey string) ([]byte, error) {
	target := c.BaseURL + path
	var body io.Reader
	if len(form) > 0 {
		if method == http.MethodGet {
			target += "?" + form.Encode()
		} else {
			body = strings.NewReader(form.Encode())
		}
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.APIKey)
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if idemKey != "" {
		req.Header.Set("Idempotency-Key", idemKey)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, raw)
	}
	return raw, nil
}

// Call is Do without an idempotency key, decoding the answer.
func (c *Client) Call(method, path string, form url.Values) (map[string]any, error) {
	raw, err := c.Do(method, path, form, "")
	if err != nil {
		return nil, err
	}
	var out map[string]any
	return out, json.Unmarshal(raw, &out)
}

// SeedSeats creates a clock frozen at start with n customers, each with a
// monthly subscription of 3 seats at 12.00, using clients concurrent
// connections. It returns the clock's id.
func (c *Client) SeedSeats(start int64, n, clients int) (string, error) {
	clock, err := c.Call("POST", "/v1/test_helpers/test_clocks", url.Values{"frozen_time": {strconv.FormatInt(start, 10)}})
	if err != nil {
		return "", err
	}
	clockID := clock["id"].(string)
	price, err := c.Call("POST", "/v1/prices", url.Values{"currency": {"usd"}, "unit_amount": {"1200"},
		"recurring[interval]": {"month"}, "product_data[name]": {"Seats"}})
	if err != nil {
		return "", err
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				cus, err := c.Call("POST", "/v1/customers", url.Values{"test_clock": {clockID}, "payment_method": {"pm_card_visa"}})
				if err == nil {
					_, err = c.Call("POST", "/v1/subscriptions", url.Values{"customer": {cus["id"].(string)},
						"items[0][price]": {price["id"].(string)}, "items[0][quantity]": {"3"}})
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return clockID, <-errs
}

// AdvanceAndWait advances clock to target and polls until it is ready,
// returning the time from the advance call to ready.
func (c *Client) AdvanceAndWait(clock string, target int64, poll time.Duration) (time.Duration, error) {
	start := time.Now()
	path := "/v1/test_helpers/test_clocks/" + clock
	if _, err := c.Call("POST", path+"/advance", url.Values{"frozen_time": {strconv.FormatInt(target, 10)}}); err != nil {
		return 0, err
	}
	for {
		cl, err := c.Call("GET", path, nil)
		if err != nil {
			return 0, err
		}
		switch cl["status"] {
		case "ready":
			return time.Since(start), nil
		case "advancing":
		default:
			return 0, fmt.Errorf("clock %s ended %v", clock, cl["status"])
		}
		if poll > 0 {
			time.Sleep(poll)
		}
	}
}
