// Command advancebench measures how long billclock takes to advance one test
// clock carrying N customers, each with a 3-seat monthly subscription, by two
// months (two renewals each): from the advance call until the clock reads
// ready. It starts an in-process server over a temporary bbolt file (fsync
// on), creates the customers over loopback HTTP, then advances and prints the
// time, the invoices created and the peak Go heap during the advance.
//
//	go run ./scripts/advancebench -n 1000,10000
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/billclock/billclock/emulator"
)

const (
	key   = "sk_test_advancebench"
	start = 1735689600 // 2025-01-01T00:00:00Z
	twoMo = 1740787200 // 2025-03-01T00:00:00Z: two monthly renewals
)

func main() {
	sizes := flag.String("n", "1000,10000", "comma-separated customer counts")
	workers := flag.Int("setup-clients", 16, "concurrent clients creating customers")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the advances to this file")
	flag.Parse()
	if *cpuprofile != "" {
		profile = *cpuprofile
	}
	fmt.Printf("%8s  %10s  %10s  %12s  %14s\n", "N", "setup", "advance", "invoices", "peak heap (MB)")
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintln(os.Stderr, "bad -n:", s)
			os.Exit(2)
		}
		if err := run(n, *workers); err != nil {
			fmt.Fprintln(os.Stderr, "advancebench:", err)
			os.Exit(1)
		}
	}
}

type client struct {
	base string
	http *http.Client
}

func (c *client) call(method, path string, form url.Values) (map[string]any, error) {
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	var out map[string]any
	return out, json.Unmarshal(raw, &out)
}

// profile, if set, is where run writes a CPU profile of the advance.
var profile string

func run(n, workers int) error {
	dir, err := os.MkdirTemp("", "advancebench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	srv, err := emulator.Open(emulator.Config{Addr: "127.0.0.1:0", DBPath: filepath.Join(dir, "bench.db")})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() { cancel(); <-done }()

	c := &client{base: srv.URL(), http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}}
	setupStart := time.Now()
	clock, err := c.call("POST", "/v1/test_helpers/test_clocks", url.Values{"frozen_time": {strconv.Itoa(start)}})
	if err != nil {
		return err
	}
	clockID := clock["id"].(string)
	price, err := c.call("POST", "/v1/prices", url.Values{"currency": {"usd"}, "unit_amount": {"1200"},
		"recurring[interval]": {"month"}, "product_data[name]": {"Seats"}})
	if err != nil {
		return err
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				cus, err := c.call("POST", "/v1/customers", url.Values{"test_clock": {clockID}})
				if err == nil {
					_, err = c.call("POST", "/v1/subscriptions", url.Values{"customer": {cus["id"].(string)},
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
	if err := <-errs; err != nil {
		return err
	}
	setup := time.Since(setupStart)

	runtime.GC()
	var peak atomic.Uint64
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
			select {
			case <-stopSampling:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	advStart := time.Now()
	if _, err := c.call("POST", "/v1/test_helpers/test_clocks/"+clockID+"/advance", url.Values{"frozen_time": {strconv.Itoa(twoMo)}}); err != nil {
		return err
	}
	for {
		cl, err := c.call("GET", "/v1/test_helpers/test_clocks/"+clockID, nil)
		if err != nil {
			return err
		}
		if cl["status"] == "ready" {
			break
		}
		if cl["status"] != "advancing" {
			return fmt.Errorf("clock ended %v", cl["status"])
		}
		time.Sleep(5 * time.Millisecond)
	}
	advance := time.Since(advStart)
	if profile != "" {
		pprof.StopCPUProfile()
	}
	close(stopSampling)
	<-sampled

	// Count invoices: N first invoices plus two renewals each.
	invoices := 0
	after := ""
	for {
		q := "/v1/invoices?limit=100"
		if after != "" {
			q += "&starting_after=" + after
		}
		page, err := c.call("GET", q, nil)
		if err != nil {
			return err
		}
		data := page["data"].([]any)
		invoices += len(data)
		if page["has_more"] != true || len(data) == 0 {
			break
		}
		after = data[len(data)-1].(map[string]any)["id"].(string)
	}
	fmt.Printf("%8d  %10s  %10s  %12d  %14.1f\n", n, setup.Round(time.Millisecond), advance.Round(time.Millisecond),
		invoices, float64(peak.Load())/(1<<20))
	if invoices != 3*n {
		return fmt.Errorf("expected %d invoices, found %d", 3*n, invoices)
	}
	return nil
}
