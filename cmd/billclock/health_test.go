package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/billclock/billclock/emulator"
	"github.com/billclock/billclock/emulator/emulatortest"
)

func TestHealth(t *testing.T) {
	t.Parallel()
	srv := emulatortest.Start(t, emulator.Config{NoSync: true})

	stdout, _, err := runCLI(t, nil, "health", "--api-base", srv.URL())
	if err != nil || stdout != "ok\n" {
		t.Errorf("health = %q, %v; want \"ok\\n\", nil", stdout, err)
	}
	stdout, _, err = runCLI(t, map[string]string{"BILLCLOCK_API_BASE": srv.URL()}, "health")
	if err != nil || stdout != "ok\n" {
		t.Errorf("health with BILLCLOCK_API_BASE = %q, %v", stdout, err)
	}
}

func TestHealthClosedPort(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ln.Close()

	stdout, _, err := runCLI(t, nil, "health", "--api-base", base)
	if err == nil || !strings.Contains(err.Error(), "not healthy") {
		t.Errorf("err = %v, want not healthy", err)
	}
	if stdout != "" {
		t.Errorf("stdout = %q, want nothing", stdout)
	}
}

func TestHealthBadStatus(t *testing.T) {
	t.Parallel()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "starting", http.StatusServiceUnavailable)
	}))
	defer hs.Close()
	_, _, err := runCLI(t, nil, "health", "--api-base", hs.URL)
	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("err = %v, want one naming the 503", err)
	}
}
