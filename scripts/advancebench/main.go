// Command advancebench measures how long billclock takes to advance one test
// clock carrying N customers, each with a 3-seat monthly subscription, by two
// months (two renewals each; -renewals 1 for one): from the advance call until
// the clock reads ready. It starts an in-process server over a temporary bbolt
// file (fsync on), creates the customers over loopback HTTP, then advances and
// prints the time, the invoices created and the peak Go heap during the
// advance.
//
// -dialect commet does the same on Commet's organization clock (API version
// 2026-07-31): N customers on a seats plan (2 seats included, 3 held), each
// checkout paid, then a clock run through the renewals, timed from the
// advance call until the run has completed.
//
//	go run ./scripts/advancebench -n 1000,10000
//	go run ./scripts/advancebench -n 1000 -renewals 1 -dialect stripe,commet
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
	oneMo = 1738454400 // 2025-02-02T00:00:00Z: one monthly renewal, collected
	twoMo = 1740787200 // 2025-03-01T00:00:00Z: two monthly renewals
	// Commet's clock can only move forward from the wall time: its
	// customers start in 2030.
	commetStart = 1893456000 // 2030-01-01T00:00:00Z
	commetOneMo = 1896134400 // 2030-02-02T00:00:00Z
	commetTwoMo = 1898726400 // 2030-03-04T00:00:00Z
)

func main() {
	sizes := flag.String("n", "1000,10000", "comma-separated customer counts")
	clients := flag.Int("setup-clients", 16, "concurrent clients creating customers")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the advances to this file")
	renewals := flag.Int("renewals", 2, "monthly renewals the advance goes through: 1 or 2")
	dialects := flag.String("dialect", "stripe", "comma-separated dialects: stripe, commet")
	flag.Parse()
	if *renewals != 1 && *renewals != 2 {
		fmt.Fprintln(os.Stderr, "bad -renewals:", *renewals)
		os.Exit(2)
	}
	fmt.Printf("%-8s %8s  %10s  %10s  %10s  %14s\n", "dialect", "N", "setup", "advance", "invoices", "peak heap (MB)")
	for _, d := range strings.Split(*dialects, ",") {
		for _, s := range strings.Split(*sizes, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || n < 1 {
				fmt.Fprintln(os.Stderr, "bad -n:", s)
				os.Exit(2)
			}
			if err := run(strings.TrimSpace(d), n, *renewals, *clients, *cpuprofile); err != nil {
				fmt.Fprintln(os.Stderr, "advancebench:", err)
				os.Exit(1)
			}
		}
	}
}

func run(dialect string, n, renewals, clients int, profile string) error {
	if dialect != "stripe" && dialect != "commet" {
		return fmt.Errorf("unknown dialect %q", dialect)
	}
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
	cc := newCommetClient(srv.URL(), "ck_advancebench", clients)
	setupStart := time.Now()
	var clock string
	if dialect == "commet" {
		err = cc.seed(commetStart, n, clients)
	} else {
		clock, err = c.SeedSeats(start, n, clients)
	}
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
	var advance time.Duration
	switch {
	case dialect == "commet":
		target := map[int]int64{1: commetOneMo, 2: commetTwoMo}[renewals]
		var run map[string]any
		if advance, run, err = cc.advance(target, 5*time.Millisecond); err == nil && run["completedDeadlineCount"].(float64) != float64(n*renewals) {
			err = fmt.Errorf("the run completed %v deadlines, not %d", run["completedDeadlineCount"], n*renewals)
		}
	default:
		advance, err = c.AdvanceAndWait(clock, map[int]int64{1: oneMo, 2: twoMo}[renewals], 5*time.Millisecond)
	}
	if profile != "" {
		pprof.StopCPUProfile()
	}
	close(stop)
	<-sampled
	if err != nil {
		return err
	}

	invoices, after := 0, ""
	for dialect == "stripe" {
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
	if dialect == "commet" {
		if invoices, err = cc.invoices(); err != nil {
			return err
		}
	}
	fmt.Printf("%-8s %8d  %10s  %10s  %10d  %14.1f\n", dialect, n, setup.Round(time.Millisecond), advance.Round(time.Millisecond),
		invoices, float64(peak.Load())/(1<<20))
	if want := (1 + renewals) * n; invoices != want {
		return fmt.Errorf("expected %d invoices (a first one and %d renewals each), found %d", want, renewals, invoices)
	}
	return nil
}
