package stripe

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// benchEventCount is the size of the account history the event-list
// benchmark filters.
const benchEventCount = 200_000

// benchEventType is the type of the i-th seeded event: renewals (a
// subscription update and four invoice events) make most of the history,
// with a customer.created every 50 events, a customer.deleted every 1,000
// and 20 trial_will_end events spread over it.
func benchEventType(i int) string {
	switch {
	case i%(benchEventCount/20) == 7:
		return "customer.subscription.trial_will_end"
	case i%1000 == 3:
		return "customer.deleted"
	case i%50 == 1:
		return "customer.created"
	}
	return [...]string{"customer.subscription.updated", "invoice.created", "invoice.finalized", "invoice.paid",
		"invoice.payment_succeeded"}[i%5]
}

// seedBenchEvents stores n events of about 1.5 KB in account, as record
// stores them, in large transactions.
func seedBenchEvents(tb testing.TB, s *Surface, account string, n int, created func(i int) int64) {
	tb.Helper()
	pad := strings.Repeat("x", 1400)
	const batch = 5000
	for start := 0; start < n; start += batch {
		err := s.db.Update(func(tx *store.Tx) error {
			l, err := s.ledger(tx, account, nil)
			if err != nil {
				return err
			}
			for i := start; i < min(start+batch, n); i++ {
				obj, _ := json.Marshal(map[string]any{"id": fmt.Sprintf("obj_%d", i), "object": "invoice", "description": pad})
				e := eventObject{ID: clockwork.NewID("evt_", 24), Object: "event", APIVersion: DefaultAPIVersion, Created: created(i),
					Data: eventData{Object: obj}, Type: benchEventType(i)}
				raw, err := e.encode()
				if err != nil {
					return err
				}
				if err := l.StoreEvent(e.ID, e.Type, e.Created, raw); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkEventListFilters answers filtered event lists over an account
// with 200,000 events and reports each query's median and 90th percentile
// latency over HTTP.
func BenchmarkEventListFilters(b *testing.B) {
	wall := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s, srv := newTestSurface(b, wall.Now)
	const key = "sk_test_bench_events"
	base := wall.t.Unix()
	seedBenchEvents(b, s, key, benchEventCount, func(i int) int64 { return base + int64(i) })
	if err := s.rt.Prepare(); err != nil {
		b.Fatal(err)
	}

	for _, q := range []struct{ name, query string }{
		{"type=no.such.type", "type=no.such.type"},
		{"type=rare", "type=customer.subscription.trial_will_end"},
		{"type=invoice.*", "type=invoice.*"},
		{"types[]=a&types[]=b", "types[]=customer.deleted&types[]=customer.subscription.trial_will_end"},
		{"type=rare&created[lt]", fmt.Sprintf("type=customer.subscription.trial_will_end&created[lt]=%d", base+benchEventCount/2)},
		{"created[lt]=oldest", fmt.Sprintf("created[lt]=%d", base+10)},
	} {
		b.Run(q.name, func(b *testing.B) {
			var took []time.Duration
			for b.Loop() {
				start := time.Now()
				req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/events?"+q.query, nil)
				req.Header.Set("Authorization", "Bearer "+key)
				resp, err := srv.Client().Do(req)
				if err != nil {
					b.Fatal(err)
				}
				var list listObject
				err = json.NewDecoder(resp.Body).Decode(&list)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d, %v", resp.StatusCode, err)
				}
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "ms-median")
			b.ReportMetric(float64(took[len(took)*9/10].Microseconds())/1000, "ms-p90")
		})
	}
}
