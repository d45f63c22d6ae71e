// Package chargebee is billclock's Chargebee dialect: Chargebee's API v2
// (Product Catalog 2.0) under /api/v2, with its Time Machine, over the
// billing engine and the provider-neutral runtime (emulator/clockwork).
//
// Every API key is a site of its own. A site has one clock, its time
// machine "delorean", and every object of the site lives on it: the site's
// "now" for every call is the machine's destination time. The dialect is
// the usual parts: the codec (form.go), the routes (routes.go), the
// renderers (render.go), the error envelope (errors.go), the ID scheme
// (dialect.go) and the events (events.go), whose content shows objects as
// the request or the renewal left them.
package chargebee

import (
	"log/slog"
	"sync"
	"time"

	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// APIPrefix is where Chargebee's API is served, as its SDKs call it.
const APIPrefix = "/api/v2"

// maxBodyBytes bounds a request body; Chargebee's own requests are far
// smaller.
const maxBodyBytes = 1 << 20

// Options configure the Chargebee dialect; there are none yet.
type Options struct{}

// Surface serves Chargebee's API over a runtime. Create it with New and
// register it with the runtime (clockwork.Runtime.Register).
type Surface struct {
	rt  *clockwork.Runtime
	db  *store.DB
	now func() time.Time
	log *slog.Logger
	// sites remembers the accounts whose site (its time machine) exists,
	// so that reads need not check it again.
	sites sync.Map
}

var _ clockwork.Dialect = (*Surface)(nil)

// New returns the Chargebee dialect over rt.
func New(rt *clockwork.Runtime, _ Options) *Surface {
	return &Surface{rt: rt, db: rt.DB(), now: rt.Now, log: rt.Logger()}
}
