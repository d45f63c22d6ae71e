package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/billclock/billclock/emulator"
	"github.com/billclock/billclock/emulator/emulatortest"
)

// eventsCLI runs `billclock events args...` against srv with key.
func eventsCLI(t *testing.T, srv *emulatortest.Server, key string, args ...string) (string, error) {
	t.Helper()
	stdout, _, err := runCLI(t, nil, append([]string{"events", "--api-base", srv.URL(), "--api-key", key}, args...)...)
	return stdout, err
}

func decodeEvent(t *testing.T, out string) apiEvent {
	t.Helper()
	var ev struct {
		apiEvent
		Object string `json:"object"`
	}
	if err := json.Unmarshal([]byte(out), &ev); err != nil || ev.Object != "event" {
		t.Fatalf("not an event (%v): %s", err, out)
	}
	return ev.apiEvent
}

func TestEventsResend(t *testing.T) {
	t.Parallel()
	srv := emulatortest.Start(t, emulator.Config{NoSync: true})
	const key = "sk_test_resend"
	api := testAPI(srv, key)
	// A webhook endpoint that counts what arrives, by event id.
	var mu sync.Mutex
	arrived := map[string]int{}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct{ ID string }
		json.NewDecoder(r.Body).Decode(&ev)
		mu.Lock()
		arrived[ev.ID]++
		mu.Unlock()
	}))
	defer recv.Close()
	arrivals := func(id string, n int) {
		t.Helper()
		deadline := time.Now().Add(waitTimeout)
		for {
			mu.Lock()
			got := arrived[id]
			mu.Unlock()
			if got == n {
				return
			}
			if got > n || time.Now().After(deadline) {
				t.Fatalf("%s arrived %d times, want %d", id, got, n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	ep := mustDo(t, api, http.MethodPost, "/v1/webhook_endpoints", url.Values{"url": {recv.URL}, "enabled_events[]": {"*"}})
	mustDo(t, api, http.MethodPost, "/v1/customers", nil)
	first := listEvents(t, api, nil)[0]
	arrivals(first.ID, 1)

	out, err := eventsCLI(t, srv, key, "resend", first.ID, "--webhook-endpoint", ep["id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if ev := decodeEvent(t, out); ev.ID != first.ID || ev.Type != "customer.created" {
		t.Errorf("resend printed %+v", ev)
	}
	arrivals(first.ID, 2)
	// Without --webhook-endpoint: every endpoint that wants it.
	if _, err := eventsCLI(t, srv, key, "resend", first.ID); err != nil {
		t.Fatal(err)
	}
	arrivals(first.ID, 3)
	_, err = eventsCLI(t, srv, key, "resend", first.ID, "--webhook-endpoint", "we_nope")
	var apiErr *apiError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusNotFound || apiErr.Param != "webhook_endpoint" {
		t.Errorf("resend to we_nope: err = %v", err)
	}
	_, err = eventsCLI(t, srv, key, "resend", "evt_nope")
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusNotFound {
		t.Errorf("resend evt_nope: err = %v", err)
	}
}

func TestEventsListRetrieve(t *testing.T) {
	t.Parallel()
	srv := emulatortest.Start(t, emulator.Config{NoSync: true})
	const key = "sk_test_events"
	if _, _, err := runCLI(t, nil, "--api-base", srv.URL(), "--api-key", key, "trigger", "customer.updated"); err != nil {
		t.Fatal(err)
	}
	list := func(args ...string) []apiEvent {
		t.Helper()
		out, err := eventsCLI(t, srv, key, append([]string{"list"}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		var l struct {
			Object string
			Data   []apiEvent
		}
		if err := json.Unmarshal([]byte(out), &l); err != nil || l.Object != "list" {
			t.Fatalf("not a list (%v): %s", err, out)
		}
		return l.Data
	}
	all := list()
	if len(all) != 2 || all[0].Type != "customer.updated" || all[1].Type != "customer.created" {
		t.Fatalf("events list: %+v", all)
	}
	if got := list("--type", "customer.created"); len(got) != 1 || got[0].ID != all[1].ID {
		t.Errorf("list --type customer.created: %+v", got)
	}
	if got := list("--type", "customer.*", "--limit", "1"); len(got) != 1 || got[0].ID != all[0].ID {
		t.Errorf("list --type customer.* --limit 1: %+v", got)
	}
	if got := list("--starting-after", all[0].ID); len(got) != 1 || got[0].ID != all[1].ID {
		t.Errorf("list --starting-after: %+v", got)
	}
	out, err := eventsCLI(t, srv, key, "retrieve", all[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	if ev := decodeEvent(t, out); ev.ID != all[1].ID || ev.Type != "customer.created" {
		t.Errorf("retrieve: %+v", ev)
	}
}
