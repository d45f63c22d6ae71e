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
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/billclock/billclock/emulator"
	"github.com/billclock/billclock/emulator/emulatortest"
)

const (
	start = 1735689600 // 2025-01-01T00:00:00Z
	twoMo = 1740787200 // 2025-03-01T00:00:00Z: two monthly renewals
)

func main() {
	sizes := flag.String("n", "1000,10000", "comma-separated customer counts")
	clients := flag.Int("setup-clients", 16, "concurrent clients creating customers")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the advances to this file")
	flag.Parse()
	fmt.Printf("%8s  %10s  %10s  %10s  %14s\n", "N", "setup", "advance", "invoices", "peak heap (MB)")
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintln(os.Stderr, "bad -n:", s)
			os.Exit(2)
		}
		if err := run(n, *clients, *cpuprofile); err != nil {
			fmt.Fprintln(os.Stderr, "advancebench:", err)
			os.Exit(1)
		}
	}
}

func run(n, clients int, profile string) error {
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

	c := emulatortest.NewClient(srv.URL(), "sk_test_advancebench", clients)
	setupStart := time.Now()
	clock, err := c.SeedSeats(start, n, clients)
	if err != nil {
		return err
	}
	setup := time.Since(setupStart)

	runtime.GC()
	var peak atomic.Uint64
	stop, sampled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
			select {
			case <-stop:
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
	advance, err := c.AdvanceAndWait(clock, twoMo, 5*time.Millisecond)
	if profile != "" {
		pprof.StopCPUProfile()
	}
	close(stop)
	<-sampled
	if err != nil {
		return err
	}

	invoices, after := 0, ""
	for {
		q := url.Values{"limit": {"100"}}
		if after != "" {
			q.Set("starting_after", after)
		}
		page, err := c.Call("GET", "/v1/invoices", q)
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
	fmt.Printf("%8d  %10s  %10s  %10d  %14.1f\n", n, setup.Round(time.Millisecond), advance.Round(time.Millisecond),
		invoices, float64(peak.Load())/(1<<20))
	if invoices != 3*n {
		return fmt.Errorf("expected %d invoices (a first one and two renewals each), found %d", 3*n, invoices)
	}
	return nil
}
