package stripe

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/store"
)

// benchSearchCustomers is how many customers the search benchmark's
// account holds.
const benchSearchCustomers = 10_000

// seedBenchCustomers stores n customers in account as the API makes them:
// an email, a name, a description, two metadata keys and an invoice
// prefix each, one created per second.
func seedBenchCustomers(tb testing.TB, s *Surface, account string, n int, base int64) {
	tb.Helper()
	const batch = 5000
	for start := 0; start < n; start += batch {
		err := s.db.Update(func(tx *store.Tx) error {
			l, err := s.ledger(tx, account, nil)
			if err != nil {
				return err
			}
			for i := start; i < min(start+batch, n); i++ {
				c := &billing.Customer{ID: fmt.Sprintf("cus_bench%09d", i), Created: base + int64(i),
					Email: fmt.Sprintf("user%d@example%d.com", i, i%7), Name: fmt.Sprintf("Customer Number %d", i),
					Description: "a customer of the search benchmark", InvoicePrefix: fmt.Sprintf("B%07d", i),
					Metadata: map[string]string{"plan": []string{"free", "pro", "team"}[i%3], "user_id": fmt.Sprint(i)}}
				if err := l.PutCustomer(c); err != nil {
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

// BenchmarkCustomerSearch answers customer searches over an account with
// 10,000 customers and reports each query's median and 90th percentile
// latency over HTTP. The target is a median under 50 ms.
func BenchmarkCustomerSearch(b *testing.B) {
	wall := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s, srv := newTestSurface(b, wall.Now)
	const key = "sk_test_bench_search"
	base := wall.t.Unix() - benchSearchCustomers
	seedBenchCustomers(b, s, key, benchSearchCustomers, base)

	for _, q := range []struct {
		name, query string
		extra       string // more parameters
		found       int    // results on the first page, to check the query did what it says
	}{
		// One match, the oldest: every customer is tested.
		{"email exact, one match", "email:'user0@example0.com'", "", 1},
		{"no match", "email:'nobody@example.com'", "", 0},
		{"email substring", "email~'user9999@'", "", 1},
		{"name substring, rare", "name~'number 4242'", "", 1},
		{"metadata, one match", "metadata['user_id']:'17'", "", 1},
		{"negated, no match", "-email~'example' AND -name:null", "", 0},
		{"created range, oldest 5", fmt.Sprintf("created<%d", base+5), "", 5},
		{"OR of three, rare", "email:'user1@example1.com' OR metadata['user_id']:'2' OR name:'Customer Number 3'", "", 3},
		// Many matches: the first page is found at once.
		{"metadata, a third", "metadata['plan']:'pro'", "", 10},
		{"total_count of a third", "metadata['plan']:'pro'", "&expand[]=total_count", 10},
	} {
		b.Run(q.name, func(b *testing.B) {
			var took []time.Duration
			for b.Loop() {
				start := time.Now()
				req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/customers/search?query="+url.QueryEscape(q.query)+q.extra, nil)
				req.Header.Set("Authorization", "Bearer "+key)
				resp, err := srv.Client().Do(req)
				if err != nil {
					b.Fatal(err)
				}
				var res searchResult
				err = json.NewDecoder(resp.Body).Decode(&res)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d, %v", resp.StatusCode, err)
				}
				if len(res.Data) != q.found {
					b.Fatalf("%s: %d results, want %d", q.query, len(res.Data), q.found)
				}
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "ms-median")
			b.ReportMetric(float64(took[len(took)*9/10].Microseconds())/1000, "ms-p90")
		})
	}
}
