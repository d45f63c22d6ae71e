// Command load measures billclock's throughput and latency over loopback:
// retrieves and creates of test clocks from many keep-alive clients, and
// sequential advance-and-poll round trips of a bare clock.
//
//	go run ./scripts/load [-clients 32] [-duration 5s] [-advances 200] [-runs retrieve,create,advance] [-db path]
//	go run ./scripts/load -url http://127.0.0.1:12800
//
// Without -url it serves an in-process billclock (fsync on) over a temporary
// database, or over -db. The load generator shares the machine's cores with
// the server either way. On Linux each run also shows the CPU this process
// used and what the rest of the machine used meanwhile (with -url, the
// server is among those others), in percent of one core.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/billclock/billclock/emulator"
	"github.com/billclock/billclock/emulator/emulatortest"
)

const (
	apiKey        = "sk_test_load_0123456789"
	frozenTime    = 1_700_000_000
	advanceStep   = 3600
	pollTimeout   = 10 * time.Second
	maxDuration   = 10 * time.Minute
	maxClients    = 1024
	maxAdvances   = 100_000
	clientTimeout = 30 * time.Second
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func run() error {
	clients := flag.Int("clients", 32, "concurrent keep-alive clients")
	duration := flag.Duration("duration", 5*time.Second, "length of the retrieve and create runs")
	advances := flag.Int("advances", 200, "sequential advance-and-poll round trips")
	dbPath := flag.String("db", "", "database of the in-process server (default: a temporary file)")
	target := flag.String("url", "", "base URL of a running billclock on loopback, instead of an in-process one")
	runs := flag.String("runs", "retrieve,create,advance", "comma-separated runs to do")
	flag.Parse()
	do := map[string]bool{}
	for _, r := range strings.Split(*runs, ",") {
		switch r = strings.TrimSpace(r); r {
		case "retrieve", "create", "advance":
			do[r] = true
		default:
			return fmt.Errorf("-runs: unknown run %q: want retrieve, create or advance", r)
		}
	}
	if *clients < 1 || *clients > maxClients {
		return fmt.Errorf("-clients must be in 1..%d", maxClients)
	}
	if *duration <= 0 || *duration > maxDuration {
		return fmt.Errorf("-duration must be in (0, %v]", maxDuration)
	}
	if *advances < 1 || *advances > maxAdvances {
		return fmt.Errorf("-advances must be in 1..%d", maxAdvances)
	}

	base := *target
	where := "url " + base
	if base == "" {
		url, stop, err := startServer(*dbPath)
		if err != nil {
			return err
		}
		defer stop()
		base, where = url, "in-process, fsync on"
	} else if err := checkLoopback(base); err != nil {
		return err
	}

	c := newClient(base, *clients)
	fmt.Printf("billclock load: %s, %d clients, %v per run, GOMAXPROCS=%d, NumCPU=%d (load generator on the same cores)\n",
		where, *clients, *duration, runtime.GOMAXPROCS(0), runtime.NumCPU())

	var table []namedResult
	if do["retrieve"] {
		clock, err := c.createClock("")
		if err != nil {
			return err
		}
		get := "/v1/test_helpers/test_clocks/" + clock.ID
		table = append(table, namedResult{"retrieve", hammer(*clients, *duration, func() error {
			_, err := c.Do(http.MethodGet, get, nil, "")
			return err
		})})
	}
	if do["create"] {
		table = append(table, namedResult{"create", hammer(*clients, *duration, func() error {
			_, err := c.createClock(idempotencyKey())
			return err
		})})
	}
	var adv advanceResult
	var errs []error
	if do["advance"] {
		var err error
		adv, err = advanceAndPoll(c, *advances)
		errs = append(errs, err)
	}

	if len(table) > 0 {
		tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "run\trequests\terrors\treq/s\tp50 ms\tp99 ms\tcpu self\tcpu others\t")
		for _, r := range table {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%.3f\t%.3f\t%s\t\n", r.name, len(r.res.lat), r.res.errors,
				float64(len(r.res.lat))/r.res.elapsed.Seconds(), ms(pct(r.res.lat, 50)), ms(pct(r.res.lat, 99)), r.res.cpu)
			errs = append(errs, r.res.firstErr)
		}
		tw.Flush()
	}
	if len(adv.lat) > 0 {
		slices.Sort(adv.lat)
		tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "advance→ready\ttrips\tpolls/trip\tp50 ms\tp90 ms\tmax ms\tcpu self\tcpu others\t")
		fmt.Fprintf(tw, "bare clock, +1h\t%d\t%.1f\t%.3f\t%.3f\t%.3f\t%s\t\n", len(adv.lat), float64(adv.polls)/float64(len(adv.lat)),
			ms(pct(adv.lat, 50)), ms(pct(adv.lat, 90)), ms(pct(adv.lat, 100)), adv.cpu)
		tw.Flush()
	}
	return errors.Join(errs...)
}

// startServer runs billclock in this process on a free loopback port.
func startServer(dbPath string) (string, func(), error) {
	cleanup := func() {}
	if dbPath == "" {
		dir, err := os.MkdirTemp("", "billclock-load-")
		if err != nil {
			return "", nil, err
		}
		dbPath = filepath.Join(dir, "billclock.db")
		cleanup = func() { os.RemoveAll(dir) }
	}
	srv, err := emulator.Open(emulator.Config{Addr: "127.0.0.1:0", DBPath: dbPath})
	if err != nil {
		cleanup()
		return "", nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	stop := func() {
		cancel()
		if err := <-done; err != nil {
			fmt.Fprintln(os.Stderr, "load: server:", err)
		}
		cleanup()
	}
	return srv.URL(), stop, nil
}

// checkLoopback refuses any target but this machine.
func checkLoopback(base string) error {
	u, err := url.Parse(base)
	if err != nil {
		return fmt.Errorf("-url: %w", err)
	}
	if u.Scheme != "http" {
		return fmt.Errorf("-url: want an http:// URL, got %q", base)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-url: only loopback targets are allowed, got %q", host)
	}
	return nil
}

type client struct {
	*emulatortest.Client
}

func newClient(base string, conns int) *client {
	c := emulatortest.NewClient(base, apiKey, conns)
	c.HTTP.Timeout = clientTimeout
	return &client{c}
}

type clockReply struct {
	ID         string `json:"id"`
	FrozenTime int64  `json:"frozen_time"`
	Status     string `json:"status"`
}

func decodeClock(raw []byte) (clockReply, error) {
	var c clockReply
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, fmt.Errorf("decode clock: %w: %s", err, raw)
	}
	return c, nil
}

func (c *client) createClock(idemKey string) (clockReply, error) {
	raw, err := c.Do(http.MethodPost, "/v1/test_helpers/test_clocks",
		url.Values{"frozen_time": {strconv.Itoa(frozenTime)}, "name": {"load"}}, idemKey)
	if err != nil {
		return clockReply{}, err
	}
	return decodeClock(raw)
}

type namedResult struct {
	name string
	res  result
}

type result struct {
	lat      []time.Duration // of the successful requests
	errors   int
	firstErr error
	elapsed  time.Duration
	cpu      string // cpuUse over the run
}

// hammer runs fn from clients goroutines, back to back, for d.
func hammer(clients int, d time.Duration, fn func() error) result {
	var (
		mu  sync.Mutex
		res result
		wg  sync.WaitGroup
	)
	meter := startCPU()
	start := time.Now()
	deadline := start.Add(d)
	for range clients {
		wg.Go(func() {
			var lat []time.Duration
			var errs int
			var first error
			for {
				t := time.Now()
				if !t.Before(deadline) {
					break
				}
				if err := fn(); err != nil {
					errs++
					if first == nil {
						first = err
					}
					continue
				}
				lat = append(lat, time.Since(t))
			}
			mu.Lock()
			res.lat = append(res.lat, lat...)
			res.errors += errs
			if res.firstErr == nil {
				res.firstErr = first
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.cpu = meter.stop()
	slices.Sort(res.lat)
	return res
}

type advanceResult struct {
	lat   []time.Duration
	polls int
	cpu   string // cpuUse over the run
}

// advanceAndPoll advances a fresh clock by advanceStep n times, each time
// polling it without sleeping until it reads ready at the new time. On error
// it returns the round trips done so far.
func advanceAndPoll(c *client, n int) (res advanceResult, err error) {
	clock, err := c.createClock("")
	if err != nil {
		return res, err
	}
	meter := startCPU()
	defer func() { res.cpu = meter.stop() }()
	advance := "/v1/test_helpers/test_clocks/" + clock.ID + "/advance"
	get := "/v1/test_helpers/test_clocks/" + clock.ID
	frozen := clock.FrozenTime
	for range n {
		start := time.Now()
		frozen += advanceStep
		form := url.Values{"frozen_time": {strconv.FormatInt(frozen, 10)}}
		if _, err := c.Do(http.MethodPost, advance, form, idempotencyKey()); err != nil {
			return res, err
		}
		for {
			raw, err := c.Do(http.MethodGet, get, nil, "")
			if err != nil {
				return res, err
			}
			res.polls++
			got, err := decodeClock(raw)
			if err != nil {
				return res, err
			}
			if got.Status == "ready" && got.FrozenTime == frozen {
				break
			}
			if got.Status != "advancing" {
				return res, fmt.Errorf("clock %s: status %q", clock.ID, got.Status)
			}
			if time.Since(start) > pollTimeout {
				return res, fmt.Errorf("clock %s not ready after %v", clock.ID, pollTimeout)
			}
		}
		res.lat = append(res.lat, time.Since(start))
	}
	return res, nil
}

// pct returns the p-th percentile of sorted durations.
func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[min(max(i-1, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// idempotencyKey returns a fresh key in stripe-go's format
// (NewIdempotencyKey): Unix nanoseconds, "_", six random base64 characters.
func idempotencyKey() string {
	b := make([]byte, 4)
	rand.Read(b)
	return strconv.FormatInt(time.Now().UnixNano(), 10) + "_" + base64.URLEncoding.EncodeToString(b)[:6]
}

// cpuMeter reads, on Linux, how much CPU this process and the rest of the
// machine (other processes, kernel threads) used over a run: on a shared
// machine, "others" explains figures that swing from run to run.
type cpuMeter struct {
	wall time.Time
	self int64 // clock ticks
	busy int64 // machine-wide clock ticks
	ok   bool
}

// clockTick is USER_HZ, the unit of /proc's CPU times, on every Linux port Go
// supports.
const clockTick = 10 * time.Millisecond

func startCPU() cpuMeter {
	m := cpuMeter{wall: time.Now()}
	var ok1, ok2 bool
	m.self, ok1 = selfTicks()
	m.busy, ok2 = machineTicks()
	m.ok = ok1 && ok2
	return m
}

// stop returns "S%\tO%": the CPU used by this process and by everything
// else, in percent of one core, or "-\t-" where /proc is not available.
func (m cpuMeter) stop() string {
	self, ok1 := selfTicks()
	busy, ok2 := machineTicks()
	wall := time.Since(m.wall)
	if !m.ok || !ok1 || !ok2 || wall <= 0 {
		return "-\t-"
	}
	selfPct := 100 * float64(time.Duration(self-m.self)*clockTick) / float64(wall)
	busyPct := 100 * float64(time.Duration(busy-m.busy)*clockTick) / float64(wall)
	return fmt.Sprintf("%.0f%%\t%.0f%%", selfPct, max(busyPct-selfPct, 0))
}

// selfTicks is this process's user and system time (/proc/self/stat).
func selfTicks() (int64, bool) {
	raw, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, false
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	_, rest, ok := strings.Cut(string(raw), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	return utime + stime, err1 == nil && err2 == nil
}

// machineTicks is the busy time of all CPUs together (/proc/stat), kernel
// threads included.
func machineTicks() (busy int64, ok bool) {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, false
	}
	for i, v := range f[1:9] { // user nice system idle iowait irq softirq steal
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, false
		}
		if i != 3 && i != 4 {
			busy += n
		}
	}
	return busy, true
}
