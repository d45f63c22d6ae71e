package clockwork

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// drain returns the records waiting in t's buffer.
func drain(t *Tail) []RequestRecord {
	var out []RequestRecord
	for {
		select {
		case r := <-t.Records():
			out = append(out, r)
		default:
			return out
		}
	}
}

// TestTailFanOut: a request goes to every matching tail of its account,
// and to no other account's.
func TestTailFanOut(t *testing.T) {
	rt := newTestRuntime(t, Options{})
	assert.False(t, rt.Tailed("tk_a"))
	all, err := rt.Tail("tk_a", nil)
	require.NoError(t, err)
	defer all.Close()
	posts, err := rt.Tail("tk_a", func(r *RequestRecord) bool { return r.Method == "POST" })
	require.NoError(t, err)
	defer posts.Close()
	other, err := rt.Tail("tk_b", nil)
	require.NoError(t, err)
	defer other.Close()
	assert.True(t, rt.Tailed("tk_a"))
	assert.False(t, rt.Tailed("tk_c"))

	rt.PublishRequest("tk_a", RequestRecord{Method: "GET", Path: "/v1/customers", Status: 200, RequestID: "req_1"})
	rt.PublishRequest("tk_a", RequestRecord{Method: "POST", Path: "/v1/customers", Status: 200, RequestID: "req_2"})
	rt.PublishRequest("tk_c", RequestRecord{Method: "POST", Path: "/v1/customers", Status: 200, RequestID: "req_3"})

	ids := func(rs []RequestRecord) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.RequestID)
		}
		return out
	}
	assert.Equal(t, []string{"req_1", "req_2"}, ids(drain(all)))
	assert.Equal(t, []string{"req_2"}, ids(drain(posts)))
	assert.Empty(t, drain(other), "another account's requests")
}

// TestTailDropsWhenFull: a tail nobody reads keeps TailBuffer records and
// drops the rest; publishing never waits for it.
func TestTailDropsWhenFull(t *testing.T) {
	rt := newTestRuntime(t, Options{})
	stuck, err := rt.Tail("tk_a", nil)
	require.NoError(t, err)
	defer stuck.Close()
	for range TailBuffer + 100 {
		rt.PublishRequest("tk_a", RequestRecord{Method: "GET", Status: 200})
	}
	assert.Equal(t, int64(100), stuck.Dropped())
	assert.Len(t, drain(stuck), TailBuffer)
}

func TestTailLimitsAndClose(t *testing.T) {
	rt := newTestRuntime(t, Options{})
	var open []*Tail
	for range MaxTailsPerAccount {
		tl, err := rt.Tail("tk_many", nil)
		require.NoError(t, err)
		open = append(open, tl)
	}
	_, err := rt.Tail("tk_many", nil)
	assert.ErrorIs(t, err, ErrTooManyTails)
	open[0].Close()
	open[0].Close() // twice is fine
	select {
	case <-open[0].Done():
	default:
		t.Error("Done is not closed after Close")
	}
	tl, err := rt.Tail("tk_many", nil)
	require.NoError(t, err, "a closed tail frees its place")
	open[0] = tl

	// When the runtime stops, its tails end and no new one opens.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	cancel()
	require.NoError(t, <-done)
	for _, tl := range open {
		select {
		case <-tl.Done():
		default:
			t.Fatal("a tail outlived the runtime")
		}
	}
	assert.False(t, rt.Tailed("tk_many"))
	_, err = rt.Tail("tk_many", nil)
	assert.ErrorIs(t, err, ErrStreamClosed)
}
