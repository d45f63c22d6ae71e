package stripe

import (
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// This file is what the pages billclock serves for Stripe keys have in
// common: Checkout (/c/pay/...), the Billing Portal (/p/session/...) and
// hosted invoices (/i/... and their PDF, /invoice/.../pdf). They are
// server-rendered HTML with a little script, their templates and assets
// embedded in the binary (pages/), and they work without an API key: each
// address carries an unguessable token, as Stripe's do.
//
// A token is "test_" and the base64url of "acct:id:mac": the account's id
// (accountID, a digest of its key), the object's id, and an HMAC-SHA256
// keyed with the account's API key over the page's kind and the object's
// id. Nothing is stored for it, so an invoice rendered anywhere (an event
// of a background renewal too) gets its address, always the same one; and
// no one without the key can make one. The page finds the account among
// the database's accounts by its id and checks the mac in constant time.

//go:embed pages
var pageFiles embed.FS

// pageTemplates are the pages' templates, parsed once (read-only after).
var pageTemplates = template.Must(template.New("").Funcs(template.FuncMap{
	"money": formatMoney,
	"date":  formatDate,
}).ParseFS(pageFiles, "pages/*.html"))

// Kinds of pages, as their tokens name them.
const (
	pageCheckout = "checkout"
	pagePortal   = "portal"
	pageInvoice  = "invoice"
)

// Paths of the pages (the token follows; the invoice's take the account's
// id first, as Stripe's do).
const (
	checkoutPagePath = "/c/pay/"
	portalPagePath   = "/p/session/"
	invoicePagePath  = "/i/"
	invoicePDFPath   = "/invoice/"
	pageAssetsPath   = "/_billclock/pages/assets/"
)

// pageMAC is the mac of page kind for object id of the account of key.
func pageMAC(key, kind, id string) string {
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte("billclock page\x00" + kind + "\x00" + id))
	return hex.EncodeToString(mac.Sum(nil)[:20])
}

// pageToken is the token of page kind for object id of the account of key.
func pageToken(key, kind, id string) string {
	raw := accountID(key) + ":" + id + ":" + pageMAC(key, kind, id)
	return "test_" + base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// pageURL is the address of page kind for object id of the account of
// key, on base (the server's address).
func pageURL(base, key, kind, id string) string {
	tok := pageToken(key, kind, id)
	switch kind {
	case pageCheckout:
		return base + checkoutPagePath + tok
	case pagePortal:
		return base + portalPagePath + tok
	}
	return base + invoicePagePath + accountID(key) + "/" + tok
}

// errPageNotFound is what a page answers for a token that names nothing,
// or whose mac is wrong: the same answer, so that a guess learns nothing.
var errPageNotFound = errors.New("no such page")

// openPage finds the account and the object id that token names for a
// page of kind, in tx. acct, when not empty, is the account id the path
// names, which must be the token's.
func (s *Surface) openPage(tx *store.Tx, token, kind, acct string) (key, id string, err error) {
	rest, ok := strings.CutPrefix(token, "test_")
	if !ok {
		return "", "", errPageNotFound
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return "", "", errPageNotFound
	}
	parts := strings.Split(string(raw), ":")
	if len(parts) != 3 || acct != "" && parts[0] != acct {
		return "", "", errPageNotFound
	}
	err = tx.Accounts(func(k string) error {
		if key == "" && accountID(k) == parts[0] {
			key = k
		}
		return nil
	})
	if err != nil {
		return "", "", err
	}
	if key == "" || !s.rt.KeyAllowed(key) ||
		!hmac.Equal([]byte(pageMAC(key, kind, parts[1])), []byte(parts[2])) {
		return "", "", errPageNotFound
	}
	return key, parts[1], nil
}

// pageLedger is the ledger of the page's account, for a page action
// (req nil: events it causes name no API request, as Stripe's caused by
// its own pages do) or a view.
func (s *Surface) pageLedger(tx *store.Tx, key string) (*ledger, error) {
	l, err := s.rt.Ledger(tx, s, key, nil)
	if errors.Is(err, clockwork.ErrOtherDialect) {
		return nil, errPageNotFound
	}
	if err != nil {
		return nil, err
	}
	return s.wrap(l), nil
}

// wrap gives a runtime ledger the Stripe dialect's lookups.
func (s *Surface) wrap(l *clockwork.Ledger) *ledger { return &ledger{Ledger: l, base: s.base} }

// errorPage is what a page shows when it cannot be served.
type errorPage struct {
	Title, Message string
}

// writePage renders template name with v as an HTML page with status.
func (s *Surface) writePage(w http.ResponseWriter, status int, name string, v any) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	if err := pageTemplates.ExecuteTemplate(w, name, v); err != nil {
		s.log.Error("page", "template", name, "err", err.Error())
	}
}

// pageError answers err on a page: not found, a refusal in Stripe's words
// (its message), or an internal error, logged and not shown.
func (s *Surface) pageError(w http.ResponseWriter, err error) {
	if errors.Is(err, errPageNotFound) || isMissing(err) {
		s.writePage(w, http.StatusNotFound, "error.html", errorPage{Title: "Page not found",
			Message: "This link is not valid. It may have been mistyped, or the page it led to no longer exists."})
		return
	}
	var busy *clockwork.ClockBusyError
	if errors.As(err, &busy) {
		s.writePage(w, http.StatusConflict, "error.html", errorPage{Title: "Try again in a moment",
			Message: "The test clock of this page is advancing. Reload the page once it is ready."})
		return
	}
	if e, known := apiError(err); known {
		s.writePage(w, e.Status, "error.html", errorPage{Title: "Something went wrong", Message: e.Message})
		return
	}
	s.log.Error("page", "err", err.Error())
	s.writePage(w, http.StatusInternalServerError, "error.html", errorPage{Title: "Something went wrong",
		Message: "billclock could not serve this page. Its log says why."})
}

// serveAsset serves one of the pages' embedded assets (their style sheet
// and script), the same for every account.
func serveAsset(w http.ResponseWriter, r *http.Request) {
	name := mux.Vars(r)["file"]
	if strings.ContainsAny(name, "/\\") || strings.HasPrefix(name, ".") {
		http.NotFound(w, r)
		return
	}
	if _, err := fs.Stat(pageFiles, "pages/assets/"+name); err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	http.ServeFileFS(w, r, pageFiles, "pages/assets/"+name)
}

// pageRoutes adds the pages, their forms and their embedded assets to r.
func (s *Surface) pageRoutes(r *mux.Router) {
	r.HandleFunc(pageAssetsPath+"{file}", serveAsset).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(checkoutPagePath+"{token}", s.checkoutPage).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(checkoutPagePath+"{token}", s.checkoutSubmit).Methods(http.MethodPost)
	r.HandleFunc(portalPagePath+"{token}", s.portalPage).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(portalPagePath+"{token}", s.portalSubmit).Methods(http.MethodPost)
	r.HandleFunc(invoicePagePath+"{acct}/{token}", s.invoicePage).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(invoicePagePath+"{acct}/{token}", s.invoiceSubmit).Methods(http.MethodPost)
	r.HandleFunc(invoicePDFPath+"{acct}/{token}/pdf", s.invoicePDF).Methods(http.MethodGet, http.MethodHead)
}
