package clockwork

import (
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/billclock/billclock/store"
)

// The dialects' HTTP adapters share what has nothing of a provider in it:
// reads that survive a panicking handler, the log line of an error
// answered as a 500, and the test for a JSON body. Each dialect keeps its
// envelope, headers and wording.

// View runs fn in a read-only transaction of db. A panic in fn becomes an
// error, which the dialect answers as a 500 like any unknown error (writes
// get the same from the store's Batch).
func View(db *store.DB, fn func(*store.Tx) error) error {
	return db.View(func(tx *store.Tx) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
			}
		}()
		return fn(tx)
	})
}

// LogInternal logs err, which the client of request r (requestID, for
// account) sees only as a 500. The account is named by its label, and its
// key is blanked out of the error's text.
func LogInternal(log *slog.Logger, r *http.Request, requestID, account string, err error) {
	text := err.Error()
	attrs := []any{"request_id", requestID, "method", r.Method, "path", r.URL.Path}
	if account != "" {
		text = strings.ReplaceAll(text, account, "[api key]")
		attrs = append(attrs, "account", AccountLabel(account))
	}
	log.Error("internal error", append(attrs, "err", text)...)
}

// IsJSON reports whether a Content-Type header names JSON.
func IsJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}
