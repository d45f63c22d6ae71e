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
	return &Client{BaseURL: baseURL, APIKey: apiKey,
		HTTP: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns}, Timeout: time.Minute}}
}

// Call sends one request (form in the body, or the query for GET) and
// decodes a 200 answer; any other status is an error.
func (c *Client) Call(method, path string, form url.Values) (map[string]any, error) {
	body := form.Encode()
	target := c.BaseURL + path
	if method == http.MethodGet && body != "" {
		target, body = target+"?"+body, ""
	}
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.APIKey)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
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
				cus, err := c.Call("POST", "/v1/customers", url.Values{"test_clock": {clockID}})
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
