package emulator_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/billclock/billclock/emulator"
	"github.com/billclock/billclock/emulator/emulatortest"
)

// The benchmarks drive a real server (real fsync) over loopback with plain
// net/http and keep-alive connections, as an SDK would. The parallel ones
// run benchClients client goroutines whatever GOMAXPROCS is; client and
// server share the machine's cores.

const (
	benchClients = 32
	benchKey     = "sk_test_bench_0123456789"
	benchFrozen  = 1_700_000_000
	// benchPollTimeout bounds one advance-and-poll round trip.
	benchPollTimeout = 10 * time.Second
)

// benchClient talks to one server.
type benchClient struct {
	*emulatortest.Client
}

// newBenchClient starts a real server (real fsync) for b and returns a
// keep-alive client of it.
func newBenchClient(b *testing.B) *benchClient {
	b.Helper()
	srv := emulatortest.Start(b, emulator.Config{})
	c := emulatortest.NewClient(srv.URL(), benchKey, 128)
	b.Cleanup(c.HTTP.CloseIdleConnections)
	return &benchClient{c}
}

type benchClock struct {
	ID         string `json:"id"`
	FrozenTime int64  `json:"frozen_time"`
	Status     string `json:"status"`
}

func decodeBenchClock(raw []byte) (benchClock, error) {
	var c benchClock
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, fmt.Errorf("decode clock: %w: %s", err, raw)
	}
	return c, nil
}

func (c *benchClient) createClock(idemKey string) (benchClock, error) {
	raw, err := c.Do(http.MethodPost, "/v1/test_helpers/test_clocks",
		url.Values{"frozen_time": {strconv.Itoa(benchFrozen)}, "name": {"bench"}}, idemKey)
	if err != nil {
		return benchClock{}, err
	}
	return decodeBenchClock(raw)
}

// benchIdempotencyKey returns a fresh key in stripe-go's format
// (NewIdempotencyKey): Unix nanoseconds, "_", six random base64 characters.
func benchIdempotencyKey() string {
	b := make([]byte, 4)
	rand.Read(b)
	return strconv.FormatInt(time.Now().UnixNano(), 10) + "_" + base64.URLEncoding.EncodeToString(b)[:6]
}

// benchParallel runs fn from benchClients goroutines until b.N calls are done
// and reports throughput.
func benchParallel(b *testing.B, fn func(pb *testing.PB) error) {
	b.SetParallelism((benchClients + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		if err := fn(pb); err != nil {
			b.Error(err)
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkCreateClock creates clocks with durable commits, with a fresh
// Idempotency-Key on every request as stripe-go sends one, and without.
func BenchmarkCreateClock(b *testing.B) {
	for _, withKey := range []bool{true, false} {
		name := "no_idempotency_key"
		if withKey {
			name = "idempotency_key"
		}
		b.Run(name, func(b *testing.B) {
			c := newBenchClient(b)
			benchParallel(b, func(pb *testing.PB) error {
				for pb.Next() {
					key := ""
					if withKey {
						key = benchIdempotencyKey()
					}
					if _, err := c.createClock(key); err != nil {
						return err
					}
				}
				return nil
			})
		})
	}
}

// BenchmarkRetrieveClock hammers GET of one clock.
func BenchmarkRetrieveClock(b *testing.B) {
	c := newBenchClient(b)
	clock, err := c.createClock("")
	if err != nil {
		b.Fatal(err)
	}
	path := "/v1/test_helpers/test_clocks/" + clock.ID
	benchParallel(b, func(pb *testing.PB) error {
		for pb.Next() {
			if _, err := c.Do(http.MethodGet, path, nil, ""); err != nil {
				return err
			}
		}
		return nil
	})
}

// BenchmarkListClocks100 lists a full page of 100 clocks out of 150.
func BenchmarkListClocks100(b *testing.B) {
	c := newBenchClient(b)
	for range 150 {
		if _, err := c.createClock(""); err != nil {
			b.Fatal(err)
		}
	}
	const path = "/v1/test_helpers/test_clocks?limit=100"
	raw, err := c.Do(http.MethodGet, path, nil, "")
	if err != nil {
		b.Fatal(err)
	}
	var page struct {
		Data []json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(raw, &page); err != nil || len(page.Data) != 100 {
		b.Fatalf("list: %d clocks, err %v", len(page.Data), err)
	}
	benchParallel(b, func(pb *testing.PB) error {
		for pb.Next() {
			if _, err := c.Do(http.MethodGet, path, nil, ""); err != nil {
				return err
			}
		}
		return nil
	})
}

// BenchmarkAdvanceToReady measures one advance-and-poll round trip of a bare
// clock: POST advance by an hour, then GET without sleeping until the clock
// reads ready. ns/op is the round trip; polls/op counts the GETs.
func BenchmarkAdvanceToReady(b *testing.B) {
	c := newBenchClient(b)
	clock, err := c.createClock("")
	if err != nil {
		b.Fatal(err)
	}
	advance := "/v1/test_helpers/test_clocks/" + clock.ID + "/advance"
	get := "/v1/test_helpers/test_clocks/" + clock.ID
	frozen := clock.FrozenTime
	var polls int
	var trips []time.Duration
	for b.Loop() {
		start := time.Now()
		frozen += 3600
		if _, err := c.Do(http.MethodPost, advance, url.Values{"frozen_time": {strconv.FormatInt(frozen, 10)}}, ""); err != nil {
			b.Fatal(err)
		}
		for {
			raw, err := c.Do(http.MethodGet, get, nil, "")
			if err != nil {
				b.Fatal(err)
			}
			polls++
			got, err := decodeBenchClock(raw)
			if err != nil {
				b.Fatal(err)
			}
			if got.Status == "ready" && got.FrozenTime == frozen {
				break
			}
			if got.Status != "advancing" {
				b.Fatalf("clock status %q", got.Status)
			}
			if time.Since(start) > benchPollTimeout {
				b.Fatalf("clock not ready after %v", benchPollTimeout)
			}
		}
		trips = append(trips, time.Since(start))
	}
	b.ReportMetric(float64(polls)/float64(len(trips)), "polls/op")
	slices.Sort(trips)
	b.ReportMetric(float64(trips[len(trips)/2])/1e6, "p50-ms")
}
