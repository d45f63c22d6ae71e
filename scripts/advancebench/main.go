// Command advancebench measures how long billclock takes to advance one test
// clock carrying N customers, each with a 3-seat monthly subscription, by two
// months (two renewals each): from the advance call until the clock reads
// ready. It starts an in-process server over a temporary bbolt file (fsync
// on), creates the customers over loopback HTTP, then advances and prints the
// time, the invoices created and the peak Go heap during the advance.
//
// -provider chargebee does the same on a Chargebee site: start afresh in
// the past, N customers with a card and a 3-seat subscription, then a
// travel_forward of -months months, timed from the call until the time
// machine has succeeded. -provider commet makes N seat subscriptions on a
// Commet organization and times a clock run (API version 2026-07-31) of
// -months months. -provider both runs Stripe, then Chargebee; all runs the
// three.
//
// -stripe-collect advances the Stripe clock an hour further, past the hour
// its renewal invoices stay drafts: they are then finalized and paid, as
// Chargebee's and Commet's are at the renewal itself.
//
// -repeat K runs every provider K times, interleaved (Stripe, Chargebee,
// Commet, Stripe, ...) so that a noisy machine weighs on each alike, and
// ends with each provider's median advance. With -cpuprofile and more than
// one run, each run writes its own profile, named after the provider and
// the run (cpu.prof: cpu.stripe.1.prof, ...); go tool pprof merges them.
// -memprofile records every allocation (which slows everything down) and
// writes, named the same way, the allocations profile as each advance ends
// and, with ".base" before the extension, as it began, so that
//
//	go tool pprof -sample_index=alloc_space -diff_base mem.stripe.1.base.prof mem.stripe.1.prof
//
// shows the advance's own.
//
//	go run ./scripts/advancebench -n 1000,10000
//	go run ./scripts/advancebench -n 1000 -months 1 -provider all -repeat 7
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
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/billclock/billclock/emulator"
	"github.com/billclock/billclock/emulator/emulatortest"
)

const start = 1735689600 // 2025-01-01T00:00:00Z

func main() {
	sizes := flag.String("n", "1000,10000", "comma-separated customer counts")
	clients := flag.Int("setup-clients", 16, "concurrent clients creating customers")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the advances to this file")
	memprofile := flag.String("memprofile", "", "write heap profiles (every allocation) as the advances begin and end")
	provider := flag.String("provider", "stripe", "stripe, chargebee, commet, both (stripe and chargebee) or all")
	months := flag.Int("months", 2, "months to advance (monthly renewals per subscription)")
	repeat := flag.Int("repeat", 1, "runs of each provider, interleaved; more than one prints the medians")
	collect := flag.Bool("stripe-collect", false, "advance the Stripe clock an hour past the last renewal, so that its invoices are finalized and paid as Chargebee's and Commet's are at the renewal")
	flag.Parse()
	if *memprofile != "" {
		// Every allocation, from the start: the advances are slower, and
		// their allocations exact.
		runtime.MemProfileRate = 1
	}
	var providers []string
	switch *provider {
	case "stripe", "chargebee", "commet":
		providers = []string{*provider}
	case "both":
		providers = []string{"stripe", "chargebee"}
	case "all":
		providers = []string{"stripe", "chargebee", "commet"}
	default:
		fmt.Fprintln(os.Stderr, "bad -provider:", *provider)
		os.Exit(2)
	}
	if *months < 1 || *months > 12 {
		fmt.Fprintln(os.Stderr, "bad -months:", *months)
		os.Exit(2)
	}
	if *repeat < 1 {
		fmt.Fprintln(os.Stderr, "bad -repeat:", *repeat)
		os.Exit(2)
	}
	fmt.Printf("%-9s  %8s  %6s  %10s  %10s  %10s  %14s\n", "provider", "N", "months", "setup", "advance", "invoices", "peak heap (MB)")
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintln(os.Stderr, "bad -n:", s)
			os.Exit(2)
		}
		took := map[string][]time.Duration{}
		for rep := 1; rep <= *repeat; rep++ {
			for _, p := range providers {
				name := func(profile string) string {
					if profile != "" && (*repeat > 1 || len(providers) > 1) {
						ext := filepath.Ext(profile)
						profile = fmt.Sprintf("%s.%s.%d%s", strings.TrimSuffix(profile, ext), p, rep, ext)
					}
					return profile
				}
				d, err := run(p, n, *months, *clients, *collect, name(*cpuprofile), name(*memprofile))
				if err != nil {
					fmt.Fprintln(os.Stderr, "advancebench:", err)
					os.Exit(1)
				}
				took[p] = append(took[p], d)
			}
		}
		if *repeat > 1 {
			fmt.Printf("\nmedian advance of %d runs, N=%d, %d month(s):\n", *repeat, n, *months)
			for _, p := range providers {
				fmt.Printf("%-9s  %10s   (min %s, max %s)\n", p, median(took[p]).Round(time.Millisecond),
					slices.Min(took[p]).Round(time.Millisecond), slices.Max(took[p]).Round(time.Millisecond))
			}
			fmt.Println()
		}
	}
}

// median is the middle of ds (the mean of the two middle ones for an even
// count).
func median(ds []time.Duration) time.Duration {
	s := slices.Sorted(slices.Values(ds))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// setup makes the provider's N subscriptions and returns the advance to
// time and the count of invoices afterwards.
type setup struct {
	advance  func() (time.Duration, error)
	invoices func() (int, error)
}

// run measures one provider's advance of n subscriptions and returns how
// long it took.
func run(provider string, n, months, clients int, collect bool, profile, memprofile string) (time.Duration, error) {
	dir, err := os.MkdirTemp("", "advancebench")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	srv, err := emulator.Open(emulator.Config{Addr: "127.0.0.1:0", DBPath: filepath.Join(dir, "bench.db")})
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() { cancel(); <-done }()

	setupStart := time.Now()
	var su setup
	switch provider {
	case "chargebee":
		su, err = seedChargebee(srv.URL(), n, months, clients)
	case "commet":
		su, err = seedCommet(srv.URL(), n, months, clients)
	default:
		su, err = seedStripe(srv.URL(), n, months, clients, collect)
	}
	if err != nil {
		return 0, err
	}
	setupTook := time.Since(setupStart)

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
			return 0, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return 0, err
		}
	}
	if memprofile != "" {
		ext := filepath.Ext(memprofile)
		if err := writeHeap(strings.TrimSuffix(memprofile, ext) + ".base" + ext); err != nil {
			return 0, err
		}
	}
	advance, err := su.advance()
	if profile != "" {
		pprof.StopCPUProfile()
	}
	if memprofile != "" {
		if err := writeHeap(memprofile); err != nil {
			return 0, err
		}
	}
	close(stop)
	<-sampled
	if err != nil {
		return 0, err
	}

	invoices, err := su.invoices()
	if err != nil {
		return 0, err
	}
	fmt.Printf("%-9s  %8d  %6d  %10s  %10s  %10d  %14.1f\n", provider, n, months, setupTook.Round(time.Millisecond),
		advance.Round(time.Millisecond), invoices, float64(peak.Load())/(1<<20))
	if want := (months + 1) * n; invoices != want {
		return 0, fmt.Errorf("expected %d invoices (a first one and %d renewals each), found %d", want, months, invoices)
	}
	return advance, nil
}

// writeHeap writes the profile of the allocations made so far to path.
func writeHeap(path string) error {
	runtime.GC()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// seedStripe makes a test clock of n subscriptions. Its advance ends at
// the last renewal, whose invoices stay drafts for an hour as at Stripe,
// or with collect an hour later, when they are finalized and paid.
func seedStripe(base string, n, months, clients int, collect bool) (setup, error) {
	c := emulatortest.NewClient(base, "sk_test_advancebench", clients)
	clock, err := c.SeedSeats(start, n, clients)
	if err != nil {
		return setup{}, err
	}
	target := time.Unix(start, 0).UTC().AddDate(0, months, 0).Unix()
	if collect {
		target += 3600
	}
	return setup{
		advance: func() (time.Duration, error) { return c.AdvanceAndWait(clock, target, 5*time.Millisecond) },
		invoices: func() (int, error) {
			invoices, after := 0, ""
			for {
				q := url.Values{"limit": {"100"}}
				if after != "" {
					q.Set("starting_after", after)
				}
				page, err := c.Call("GET", "/v1/invoices", q)
				if err != nil {
					return 0, err
				}
				data := page["data"].([]any)
				invoices += len(data)
				if page["has_more"] != true || len(data) == 0 {
					return invoices, nil
				}
				after = data[len(data)-1].(map[string]any)["id"].(string)
			}
		},
	}, nil
}
