package clockwork

import (
	"errors"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/store"
)

// TestViewTurnsAPanicIntoAnError: a reader that panics gets an error
// naming the panic, and the database stays usable.
func TestViewTurnsAPanicIntoAnError(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "t.db"), &store.Options{NoSync: true})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })

	err = View(db, func(*store.Tx) error { panic("a reader's bug") })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "panic: a reader's bug")

	want := errors.New("not found")
	assert.Equal(t, want, View(db, func(*store.Tx) error { return want }))
	assert.NoError(t, View(db, func(*store.Tx) error { return nil }))
}

// TestLogInternalHidesTheKey: the log line names the request and the
// account's label, never the key, even where the error's text holds it.
func TestLogInternalHidesTheKey(t *testing.T) {
	const key = "sk_test_logInternalSecret"
	var logs lockedBuffer
	r := httptest.NewRequest("POST", "/v1/things", nil)
	LogInternal(slog.New(slog.NewTextHandler(&logs, nil)), r, "req_1", key, errors.New("store of "+key+" failed"))
	log := logs.String()
	for _, want := range []string{`msg="internal error"`, "request_id=req_1", "method=POST", "path=/v1/things",
		"account=" + AccountLabel(key), `err="store of [api key] failed"`} {
		assert.Contains(t, log, want)
	}
	assert.False(t, strings.Contains(log, key), "the log holds the key:\n%s", log)
}

// TestIsJSON: JSON media types with or without parameters, nothing else.
func TestIsJSON(t *testing.T) {
	for ct, want := range map[string]bool{
		"application/json": true, "application/json; charset=utf-8": true, "Application/JSON": true,
		"application/x-www-form-urlencoded": false, "": false, "application/json;;": false, "text/json": false,
	} {
		assert.Equal(t, want, IsJSON(ct), ct)
	}
}
