package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// commetClient calls the Commet dialect (API version 2026-07-31) over
// loopback HTTP.
type commetClient struct {
	base, key string
	http      *http.Client
}

func newCommetClient(base, key string, conns int) *commetClient {
	tr := &http.Transport{MaxIdleConns: 2 * conns, MaxIdleConnsPerHost: max(64, 2*conns), DisableCompression: true}
	return &commetClient{base: base, key: key, http: &http.Client{Transport: tr, Timeout: time.Minute}}
}

// call sends a JSON request to path (under /api/v1 unless it is a full
// URL) and decodes a 2xx answer.
func (c *commetClient) call(method, path string, body any) (map[string]any, error) {
	var out map[string]any
	return out, c.do(method, path, body, &out)
}

// do sends a JSON request to path (under /api/v1 unless it is a full URL)
// and decodes a 2xx answer into out.
func (c *commetClient) do(method, path string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	target := path
	if path[0] == '/' {
		target = c.base + "/api/v1" + path
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		return err
	}
	req.Header.Set("x-api-key", c.key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("commet-version", "2026-07-31")
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, raw)
	}
	return json.Unmarshal(raw, out)
}

// runView is what the benchmark reads of a clock run: decoding only this,
// not the thousand items of a finished run into maps, keeps the client's
// work out of the time measured.
type runView struct {
	Status                 string `json:"status"`
	Error                  any    `json:"error"`
	CompletedDeadlineCount int    `json:"completedDeadlineCount"`
}

// waitRun polls the clock until its latest run has ended.
func (c *commetClient) waitRun(poll time.Duration) (*runView, error) {
	for {
		var clock struct {
			LatestRun *runView `json:"latestRun"`
		}
		if err := c.do(http.MethodGet, "/test-clock", nil, &clock); err != nil {
			return nil, err
		}
		if r := clock.LatestRun; r != nil && (r.Status == "completed" || r.Status == "failed") {
			if r.Status == "failed" {
				return nil, fmt.Errorf("the run failed: %v", r.Error)
			}
			return r, nil
		}
		time.Sleep(poll)
	}
}

// seed puts the organization's clock at start and subscribes n customers
// to a monthly seats plan ($12 base, 2 seats included, $4 per extra seat)
// holding 3 seats, each checkout paid by card.
func (c *commetClient) seed(start int64, n, clients int) error {
	if _, err := c.call(http.MethodPost, "/test-clock", map[string]any{"frozenTime": time.Unix(start, 0).UTC().Format(time.RFC3339)}); err != nil {
		return err
	}
	if _, err := c.waitRun(5 * time.Millisecond); err != nil {
		return err
	}
	for _, step := range []struct {
		path string
		body map[string]any
	}{
		{"/features", map[string]any{"name": "Seats", "code": "seats", "type": "seats"}},
		{"/plans", map[string]any{"name": "Team", "code": "team"}},
		{"/plans/team/prices", map[string]any{"billingInterval": "monthly", "price": 1200}},
		{"/plans/team/features", map[string]any{"featureId": "seats", "includedAmount": 2,
			"overage": map[string]any{"enabled": true, "unitPrice": 400}}},
	} {
		if _, err := c.call(http.MethodPost, step.path, step.body); err != nil {
			return err
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				id := "cust" + strconv.FormatInt(i, 10)
				_, err := c.call(http.MethodPost, "/customers", map[string]any{"email": id + "@example.test", "id": id})
				var sub map[string]any
				if err == nil {
					sub, err = c.call(http.MethodPost, "/subscriptions", map[string]any{"customerId": id, "planCode": "team",
						"initialSeats": map[string]any{"seats": 3}})
				}
				if err == nil {
					_, err = c.call(http.MethodPost, sub["checkoutUrl"].(string), map[string]any{"cardNumber": "4242424242424242"})
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
	return <-errs
}

// advance starts a run to target and waits for it to end, returning the
// time from the advance call to the run's end and the run.
func (c *commetClient) advance(target int64, poll time.Duration) (time.Duration, *runView, error) {
	began := time.Now()
	if _, err := c.call(http.MethodPost, "/test-clock", map[string]any{"frozenTime": time.Unix(target, 0).UTC().Format(time.RFC3339)}); err != nil {
		return 0, nil, err
	}
	run, err := c.waitRun(poll)
	return time.Since(began), run, err
}

// invoices counts the organization's invoices.
func (c *commetClient) invoices() (int, error) {
	n, cursor := 0, ""
	for {
		path := "/invoices?limit=100"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		page, err := c.call(http.MethodGet, path, nil)
		if err != nil {
			return 0, err
		}
		n += len(page["data"].([]any))
		next, _ := page["nextCursor"].(string)
		if page["hasMore"] != true || next == "" {
			return n, nil
		}
		cursor = next
	}
}

// Commet's clock can only move forward from the wall time: its customers
// start in 2030, and a month is advanced as Commet's dashboard does.
const commetStart = 1893456000 // 2030-01-01T00:00:00Z

// seedCommet makes n seat subscriptions on a Commet organization (API
// version 2026-07-31) and returns the advance of its clock by months, as
// one test_clock_run, and the count of invoices afterwards.
func seedCommet(base string, n, months, clients int) (setup, error) {
	cc := newCommetClient(base, "ck_advancebench", clients)
	if err := cc.seed(commetStart, n, clients); err != nil {
		return setup{}, err
	}
	// Renewals fall on the calendar month; a day more collects them.
	target := time.Unix(commetStart, 0).UTC().AddDate(0, months, 1).Unix()
	return setup{
		advance: func() (time.Duration, error) {
			took, r, err := cc.advance(target, 5*time.Millisecond)
			if err == nil && r.CompletedDeadlineCount != n*months {
				err = fmt.Errorf("the run completed %d deadlines, not %d", r.CompletedDeadlineCount, n*months)
			}
			return took, err
		},
		invoices: cc.invoices,
	}, nil
}
