package main

import (
	"encoding/base64"
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

// cbClient calls a server's Chargebee API as its SDKs do.
type cbClient struct {
	base, auth string
	http       *http.Client
}

func (c *cbClient) call(method, path string, form url.Values) (map[string]any, error) {
	target := c.base + path
	var body io.Reader
	if method == http.MethodGet {
		if len(form) > 0 {
			target += "?" + form.Encode()
		}
	} else {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	resp, err := c.http.Do(req)
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
	var out map[string]any
	return out, json.Unmarshal(raw, &out)
}

// travelled polls the time machine until it has succeeded.
func (c *cbClient) travelled() error {
	for {
		m, err := c.call(http.MethodGet, "/api/v2/time_machines/delorean", nil)
		if err != nil {
			return err
		}
		switch st := m["time_machine"].(map[string]any)["time_travel_status"]; st {
		case "succeeded":
			return nil
		case "in_progress":
		default:
			return fmt.Errorf("the time machine ended %v", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// seedChargebee makes a Chargebee site of n customers, each with a card
// and a 3-seat monthly subscription at 12.00, started afresh far enough
// back that a travel of months months stays in the past.
func seedChargebee(base string, n, months, clients int) (setup, error) {
	tr := &http.Transport{MaxIdleConns: 2 * clients, MaxIdleConnsPerHost: max(64, 2*clients), DisableCompression: true}
	c := &cbClient{base: strings.TrimSuffix(base, "/"), http: &http.Client{Transport: tr, Timeout: time.Minute},
		auth: "Basic " + base64.StdEncoding.EncodeToString([]byte("test_advancebench:"))}
	genesis := time.Now().UTC().AddDate(0, -(months + 1), 0).Truncate(time.Hour)
	if _, err := c.call(http.MethodPost, "/api/v2/time_machines/delorean/start_afresh",
		url.Values{"genesis_time": {strconv.FormatInt(genesis.Unix(), 10)}}); err != nil {
		return setup{}, err
	}
	if err := c.travelled(); err != nil {
		return setup{}, err
	}
	for _, step := range []struct {
		path string
		form url.Values
	}{
		{"/api/v2/item_families", url.Values{"id": {"seats"}, "name": {"Seats"}}},
		{"/api/v2/items", url.Values{"id": {"seat"}, "name": {"Seat"}, "type": {"plan"}, "item_family_id": {"seats"}}},
		{"/api/v2/item_prices", url.Values{"id": {"seat-monthly"}, "item_id": {"seat"}, "name": {"Seat monthly"},
			"pricing_model": {"per_unit"}, "price": {"1200"}, "period": {"1"}, "period_unit": {"month"}}},
	} {
		if _, err := c.call(http.MethodPost, step.path, step.form); err != nil {
			return setup{}, err
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				cus, err := c.call(http.MethodPost, "/api/v2/customers", url.Values{"card[number]": {"4111111111111111"},
					"card[expiry_month]": {"12"}, "card[expiry_year]": {"2040"}})
				if err == nil {
					id := cus["customer"].(map[string]any)["id"].(string)
					_, err = c.call(http.MethodPost, "/api/v2/customers/"+id+"/subscription_for_items", url.Values{
						"subscription_items[item_price_id][0]": {"seat-monthly"}, "subscription_items[quantity][0]": {"3"}})
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
	if err := <-errs; err != nil {
		return setup{}, err
	}
	dest := genesis.AddDate(0, months, 0).Unix()
	return setup{
		advance: func() (time.Duration, error) {
			begin := time.Now()
			if _, err := c.call(http.MethodPost, "/api/v2/time_machines/delorean/travel_forward",
				url.Values{"destination_time": {strconv.FormatInt(dest, 10)}}); err != nil {
				return 0, err
			}
			err := c.travelled()
			return time.Since(begin), err
		},
		invoices: func() (int, error) {
			invoices, offset := 0, ""
			for {
				q := url.Values{"limit": {"100"}}
				if offset != "" {
					q.Set("offset", offset)
				}
				page, err := c.call(http.MethodGet, "/api/v2/invoices", q)
				if err != nil {
					return 0, err
				}
				invoices += len(page["list"].([]any))
				next, _ := page["next_offset"].(string)
				if next == "" {
					return invoices, nil
				}
				offset = next
			}
		},
	}, nil
}
