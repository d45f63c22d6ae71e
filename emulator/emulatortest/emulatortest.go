// Package emulatortest starts real billclock servers for billclock's own
// tests: a thin layer over the public billclocktest, taking the whole
// server configuration (emulator.Config) as those tests do.
package emulatortest

import (
	"testing"

	"github.com/billclock/billclock/emulator"
	"github.com/billclock/billclock/emulator/billclocktest"
)

// Server is a billclock server running for a test.
type Server struct {
	t  testing.TB
	bt *billclocktest.Server
}

// Start runs a server until the test ends. cfg may leave Addr and DBPath
// empty: they default to 127.0.0.1:0 and a fresh file in t.TempDir().
func Start(t testing.TB, cfg emulator.Config) *Server {
	t.Helper()
	return &Server{t: t, bt: billclocktest.Start(t, billclocktest.ServerConfig(cfg))}
}

// URL is the server's base URL.
func (s *Server) URL() string { return s.bt.URL }

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.bt.Addr() }

// Stop shuts the server down gracefully and waits for it; it is safe to call
// more than once.
func (s *Server) Stop() {
	if err := s.bt.Stop(); err != nil {
		s.t.Errorf("%v", err)
	}
}

// Restart stops the server and starts a new one over the same database and
// address (port 0 picks a new port: read URL again afterwards).
func (s *Server) Restart() {
	s.t.Helper()
	if err := s.bt.Restart(); err != nil {
		s.t.Fatalf("restart billclock: %v", err)
	}
}

// DBPath is the server's database file.
func (s *Server) DBPath() string { return s.bt.DBPath() }
