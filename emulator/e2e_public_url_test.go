package emulator_test

// Config.PublicURL (serve --public-url): the address the pages are linked
// at when users reach the server by another one than it listens on (a
// container's mapped port, a proxy). The links carry it; the pages are
// still served at the server's own address.

import (
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator"
)

func TestPublicURLLinksThePages(t *testing.T) {
	t.Parallel()
	const public = "https://billing.example.test:8443/billclock"
	b := startBilling(t, emulator.Config{PublicURL: public + "/"})
	ctx := t.Context()
	// atServer is where a page linked at u is served: the path after the
	// public URL, on the server's own address (as a proxy forwards it).
	atServer := func(u string) string {
		t.Helper()
		path, ok := strings.CutPrefix(u, public)
		require.True(t, ok, "%q is not under %s", u, public)
		require.True(t, strings.HasPrefix(path, "/"), u)
		return b.srv.URL() + path
	}

	price := b.price("Seat", 1500, stripe.PriceRecurringIntervalMonth)
	cs := b.subscriptionSession(price.ID, 1, "", nil)
	assert.Equal(t, http.StatusOK, getPage(t, atServer(cs.URL)).Status)
	assert.Contains(t, getPage(t, atServer(cs.URL)).Body, "Seat")

	cust := b.customer("")
	sub := b.subscribe(cust.ID, price.ID, 2, nil)
	inv := b.latestInvoice(sub.ID)
	require.NotEmpty(t, inv.HostedInvoiceURL)
	hosted := getPage(t, atServer(inv.HostedInvoiceURL))
	assert.Equal(t, http.StatusOK, hosted.Status)
	assert.Contains(t, hosted.Body, "$30.00")
	pdf := getPage(t, atServer(inv.InvoicePDF))
	assert.Equal(t, http.StatusOK, pdf.Status)
	assert.Equal(t, "application/pdf", pdf.Header.Get("Content-Type"))

	ps, err := b.sc.V1BillingPortalSessions.Create(ctx, &stripe.BillingPortalSessionCreateParams{Customer: stripe.String(cust.ID)})
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, getPage(t, atServer(ps.URL)).Status)

	// Without it, the links are the server's own address.
	plain := startBilling(t, emulator.Config{})
	cs2 := plain.subscriptionSession(plain.price("Seat", 1500, stripe.PriceRecurringIntervalMonth).ID, 1, "", nil)
	assert.True(t, strings.HasPrefix(cs2.URL, plain.srv.URL()+"/c/pay/"), cs2.URL)
}

// A public URL that is no absolute http(s) URL is refused before the
// server listens or makes its database.
func TestPublicURLMustBeAnAbsoluteHTTPURL(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"billing.example.test", "/billclock", "ftp://billing.example.test",
		"https://", "http://user:secret@billing.example.test", "https://billing.example.test/?a=b",
		"https://billing.example.test/#top", "http//billing.example.test", " https://billing.example.test"} {
		db := filepath.Join(t.TempDir(), "never.db")
		srv, err := emulator.Open(emulator.Config{Addr: "127.0.0.1:0", DBPath: db, PublicURL: bad})
		if srv != nil {
			srv.Close()
		}
		require.Error(t, err, bad)
		assert.Contains(t, err.Error(), "public URL", bad)
		assert.NoFileExists(t, db, bad)
	}
	got, err := emulator.CheckPublicURL("http://localhost:8080/")
	require.NoError(t, err)
	assert.Equal(t, "http://localhost:8080", got, "a trailing slash is dropped")
}

// FuzzCheckPublicURL: whatever the text, CheckPublicURL never panics,
// refuses with a message naming the public URL, or answers an absolute
// http(s) URL with a host and no trailing slash, which it takes back
// unchanged.
func FuzzCheckPublicURL(f *testing.F) {
	for _, s := range []string{"https://billing.example.test:8443/billclock/", "http://127.0.0.1:12800", "http://[::1]:80",
		"localhost:8080", "https://", "http://u:p@h", "https://h/?q#f", "http:///x", "HTTP://H", "https://h//"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := emulator.CheckPublicURL(s)
		if err != nil {
			if !strings.Contains(err.Error(), "public URL") {
				t.Fatalf("CheckPublicURL(%q): unclear error %v", s, err)
			}
			return
		}
		u, perr := url.Parse(got)
		if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || strings.HasSuffix(got, "/") {
			t.Fatalf("CheckPublicURL(%q) = %q: not an absolute http(s) URL without a trailing slash", s, got)
		}
		if again, err := emulator.CheckPublicURL(got); err != nil || again != got {
			t.Fatalf("CheckPublicURL(%q) = %q, %v; want it back", got, again, err)
		}
	})
}
