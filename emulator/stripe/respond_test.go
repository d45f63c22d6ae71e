package stripe

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/mux"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// lockedBuffer is a log destination safe for concurrent writers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestReadPanicIsA500: a panic while serving a read answers Stripe's 500
// envelope and is logged without the API key.
func TestReadPanicIsA500(t *testing.T) {
	const key = "sk_test_readPanicSecret"
	db, err := store.Open(t.TempDir()+"/t.db", &store.Options{NoSync: true})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	var logs lockedBuffer
	s, _ := newSurface(t, clockwork.Options{DB: db, Logger: slog.New(slog.NewTextHandler(&logs, nil))}, Options{})
	r := mux.NewRouter()
	r.HandleFunc("/v1/boom", s.read(func(c *call, _ *store.Tx) (any, error) {
		panic("a bug met " + c.account)
	}))
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)

	req, err := http.NewRequest(http.MethodGet, srv.URL+"/v1/boom", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	var body bytes.Buffer
	body.ReadFrom(resp.Body)
	assert.Contains(t, body.String(), `"type":"api_error"`)
	log := logs.String()
	assert.Contains(t, log, `msg="internal error"`)
	assert.Contains(t, log, "a bug met [api key]")
	assert.Contains(t, log, "account="+clockwork.AccountLabel(key))
	assert.False(t, strings.Contains(log, key), "the log holds the key:\n%s", log)
}
