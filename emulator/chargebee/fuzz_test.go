package chargebee

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzParseParams: any query and body decode without a panic, or are
// refused with Chargebee's 400; whatever decodes reads through every
// accessor (lists, hashes, filters, sorting, paging) without a panic, and
// each problem is a 400 in Chargebee's envelope.
func FuzzParseParams(f *testing.F) {
	for _, seed := range [][2]string{
		{"", "subscription_items%5Bitem_price_id%5D%5B0%5D=seat&subscription_items%5Bquantity%5D%5B0%5D=5"},
		{"status%5Bin%5D=%5B%22paid%22%2C%22payment_due%22%5D&sort_by%5Bdesc%5D=date&limit=10", ""},
		{"occurred_at%5Bbetween%5D=%5B1%2C2%5D&event_type%5Bin%5D=%5B%22a%22%5D", ""},
		{"", "card%5Bnumber%5D=4111111111111111&card%5Bexpiry_month%5D=12&meta_data=%7B%22a%22%3A1%7D"},
		{"a=%zz", "b[=1&c]=2&d[x][y][z]=3"},
		{"subscription_items[quantity][99999999999999999999]=1", "status[in]=[1,2,{}]"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, query, body string) {
		p, err := parseParams(query, body)
		if err != nil {
			requireClientError(t, err)
			return
		}
		p.list("subscription_items")
		p.hash("card")
		p.jsonObject("meta_data")
		p.strFilter("status", invoiceStatuses)
		p.strFilter("customer_id", nil)
		p.timeFilter("occurred_at")
		p.sortBy("date", "updated_at")
		p.page()
		p.int64("price", 0, 1<<40)
		p.boolean("prorate")
		p.timestamp("destination_time")
		p.enum("period_unit", "day", "month")
		p.text("name", 10)
		_ = p.canonical()
		if err := p.check(); err != nil {
			requireClientError(t, err)
		}
	})
}

// requireClientError checks err is a 400 in Chargebee's envelope.
func requireClientError(t *testing.T, err error) {
	t.Helper()
	e, known := apiError(err)
	require.True(t, known, "%v", err)
	assert.Equal(t, http.StatusBadRequest, e.Status)
	raw, jerr := json.Marshal(e)
	require.NoError(t, jerr)
	for _, field := range []string{`"api_error_code":"`, `"error_code":"`, `"http_status_code":400`} {
		assert.Contains(t, string(raw), field)
	}
}

// FuzzParseJSONArray: the value of an array operator is a JSON array of
// strings or numbers, or a 400; never a panic.
func FuzzParseJSONArray(f *testing.F) {
	for _, seed := range []string{`["paid","payment_due"]`, `[1,2]`, `[]`, `null`, `[{"a":1}]`, `["a"`, `[1e999]`, `"x"`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		vals, err := parseJSONArray("status[in]", v)
		if err != nil {
			requireClientError(t, err)
			return
		}
		assert.LessOrEqual(t, len(vals), maxJSONItems)
	})
}

// FuzzAPIKey: any Authorization header yields a key or none, never a
// panic; a key sent as the username, with or without the colon, is read
// back whole.
func FuzzAPIKey(f *testing.F) {
	for _, seed := range []string{"test_abc", "test_abc:", "live_x:y", "", ":", "a:b:c"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, cred string) {
		apiKey(cred)
		apiKey("Basic " + cred)
		key, ok := apiKey("Basic " + base64.StdEncoding.EncodeToString([]byte(cred)))
		want, _, _ := strings.Cut(cred, ":")
		assert.Equal(t, want != "", ok)
		if ok {
			assert.Equal(t, want, key)
		}
	})
}
