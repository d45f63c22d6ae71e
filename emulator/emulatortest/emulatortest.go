// Package emulatortest starts real billclock servers for tests: on a free
// loopback port, over a bbolt file in the test's temp directory.
package emulatortest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/billclock/billclock/emulator"
)

// Server is a billclock server running for a test.
type Server struct {
	*emulator.Server
	t      testing.TB
	cfg    emulator.Config
	cancel context.CancelFunc
	done   chan error
}

// Start runs a server until the test ends. cfg may leave Addr and DBPath
// empty: they default to 127.0.0.1:0 and a fresh file in t.TempDir().
func Start(t testing.TB, cfg emulator.Config) *Server {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.DBPath == "" {
		cfg.DBPath = filepath.Join(t.TempDir(), "billclock.db")
	}
	s := &Server{t: t, cfg: cfg}
	s.start()
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) start() {
	s.t.Helper()
	srv, err := emulator.Open(s.cfg)
	if err != nil {
		s.t.Fatalf("start billclock: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.Server, s.cancel, s.done = srv, cancel, make(chan error, 1)
	go func() { s.done <- srv.Run(ctx) }()
}

// Stop shuts the server down gracefully and waits for it; it is safe to call
// more than once.
func (s *Server) Stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	if err := <-s.done; err != nil {
		s.t.Errorf("billclock stopped with: %v", err)
	}
	s.cancel = nil
}

// Restart stops the server and starts a new one over the same database and
// address (port 0 picks a new port: read URL again afterwards).
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.start()
}

// DBPath is the server's database file.
func (s *Server) DBPath() string { return s.cfg.DBPath }
