package dashboard

import (
	"encoding/base64"
	"net"
	"net/http"
	"strings"

	"github.com/billclock/billclock/emulator/clockwork"
)

// Who may look: the dashboard is open to requests from a loopback address
// (to a loopback host name, so that a page of another site cannot reach
// it through DNS rebinding), and to any request that carries an API key,
// as Bearer or as the user name of Basic authentication, whatever the
// dialect. A key sees its own account only, even on loopback. The page
// never shows a key: accounts are named by a masked key and their label.

// viewer is who a request shows the dashboard to.
type viewer struct {
	// key is the account the request may see; "" for every account (an
	// unauthenticated request from loopback).
	key string
}

// keyOf reads the API key of r's Authorization header: Bearer, or the user
// name of Basic. given reports whether the header names one at all.
func keyOf(r *http.Request) (key string, given bool) {
	auth := strings.TrimSpace(r.Header.Get("Authorization"))
	if auth == "" {
		return "", false
	}
	scheme, cred, _ := strings.Cut(auth, " ")
	cred = strings.TrimSpace(cred)
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		return cred, true
	case strings.EqualFold(scheme, "Basic"):
		raw, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			return "", true
		}
		key, _, _ := strings.Cut(string(raw), ":")
		return key, true
	}
	return "", true
}

// keyDialect is the dialect that takes key: the one that claims it sent
// as the API's own clients send keys (Bearer, the user name of Basic, or
// x-api-key), or nil for a key no dialect takes.
func (d *Dashboard) keyDialect(key string) clockwork.Dialect {
	if key == "" || !clockwork.KeyCanAuthenticate(key) || !d.rt.KeyAllowed(key) {
		return nil
	}
	bearer, _ := http.NewRequest(http.MethodGet, "/", nil)
	bearer.Header.Set("Authorization", "Bearer "+key)
	basic, _ := http.NewRequest(http.MethodGet, "/", nil)
	basic.SetBasicAuth(key, "")
	header, _ := http.NewRequest(http.MethodGet, "/", nil)
	header.Header.Set("x-api-key", key)
	for _, dl := range d.rt.Dialects() {
		if _, ok := dl.(clockwork.Inspector); !ok {
			continue
		}
		for _, r := range []*http.Request{bearer, basic, header} {
			if dl.Claims(r) {
				return dl
			}
		}
	}
	return nil
}

// loopback reports whether r came from a loopback address to a loopback
// host name.
func loopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return false
	}
	name := r.Host
	if h, _, err := net.SplitHostPort(name); err == nil {
		name = h
	}
	name = strings.TrimSuffix(strings.TrimPrefix(name, "["), "]")
	if strings.EqualFold(name, "localhost") || strings.HasSuffix(strings.ToLower(name), ".localhost") {
		return true
	}
	ip := net.ParseIP(name)
	return ip != nil && ip.IsLoopback()
}

// authorize returns who r shows the dashboard to, or answers 401 (asking
// the browser for the key) and returns false.
func (d *Dashboard) authorize(w http.ResponseWriter, r *http.Request) (viewer, bool) {
	key, given := keyOf(r)
	if given {
		if d.keyDialect(key) != nil {
			return viewer{key: key}, true
		}
	} else if loopback(r) {
		return viewer{}, true
	}
	w.Header().Set("WWW-Authenticate", `Basic realm="billclock dashboard: your API key as the user name", charset="UTF-8"`)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusUnauthorized)
	if given {
		w.Write([]byte("billclock's dashboard takes an API key of one of its providers (Stripe, Chargebee, Commet), as Bearer or as the user name of Basic authentication: this one is not.\n"))
		return viewer{}, false
	}
	w.Write([]byte("billclock's dashboard is open without a key on loopback only: send an API key (Bearer, or the user name of Basic authentication) to see its account.\n"))
	return viewer{}, false
}

// MaskKey names an account by its key without giving the key away: the
// key's prefix (up to its last underscore among the first 12 characters,
// such as sk_test_), an ellipsis, and the last four characters when at
// least twelve follow the prefix.
func MaskKey(key string) string {
	prefix := ""
	if i := strings.LastIndexByte(key[:min(len(key), 12)], '_'); i >= 0 {
		prefix = key[:i+1]
	}
	rest := key[len(prefix):]
	if len(rest) >= 12 {
		return prefix + "…" + rest[len(rest)-4:]
	}
	return prefix + "…"
}
