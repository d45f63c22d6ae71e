package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildBillclock builds the billclock binary into a temp directory.
func buildBillclock(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "billclock")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// freeAddr is a loopback address with a port nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serverProcess is `billclock serve` running in a process of its own.
type serverProcess struct {
	cmd *exec.Cmd
	log *syncBuffer
}

// startServeProcess runs `bin serve` on addr and db, and waits until it answers.
func startServeProcess(t *testing.T, bin, addr, db string) *serverProcess {
	t.Helper()
	p := &serverProcess{cmd: exec.Command(bin, "serve", "--addr", addr, "--db", db), log: &syncBuffer{}}
	p.cmd.Env = []string{"HOME=" + t.TempDir()}
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.stop(t) })
	deadline := time.Now().Add(waitTimeout)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("billclock serve did not answer: %v\n%s", err, p.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop ends the server with SIGTERM and waits for it; it is safe to call
// more than once.
func (p *serverProcess) stop(t *testing.T) {
	t.Helper()
	if p.cmd.ProcessState != nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Errorf("billclock serve: %v\n%s", err, p.log)
	}
}

// TestListenServerInAnotherProcess runs `billclock serve` and `billclock
// listen` as separate processes, as a server in a container and a
// developer's terminal are: listen connects to the server (nothing
// connects back to it), forwards every event signed with the secret it
// printed, registers no webhook endpoint, and leaves nothing behind when
// killed. A listen that is running when the server restarts connects again
// and goes on.
func TestListenServerInAnotherProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	bin := buildBillclock(t)
	addr := freeAddr(t)
	base := "http://" + addr
	db := filepath.Join(t.TempDir(), "billclock.db")
	server := startServeProcess(t, bin, addr, db)
	const key = "sk_test_processes"
	api := clientOptions{APIBase: base, APIKey: key}.client()

	spy := &handlerSpy{}
	target := httptest.NewServer(spy)
	defer target.Close()
	listen := exec.Command(bin, "listen", "--api-base", base, "--api-key", key, "--forward-to", target.URL+"/webhook")
	listen.Env = []string{"HOME=" + t.TempDir()}
	out, errOut := &syncBuffer{}, &syncBuffer{}
	listen.Stdout, listen.Stderr = out, errOut
	if err := listen.Start(); err != nil {
		t.Fatal(err)
	}
	defer listen.Process.Kill()
	l := &runningListen{out: out, errOut: errOut}
	deadline := time.Now().Add(waitTimeout)
	for len(l.lines()) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("listen printed no Ready line; stderr: %s", errOut)
		}
		time.Sleep(10 * time.Millisecond)
	}
	m := readyLine.FindStringSubmatch(l.lines()[0])
	if m == nil {
		t.Fatalf("first line: %q", l.lines()[0])
	}
	spy.mu.Lock()
	spy.secret = m[1]
	spy.mu.Unlock()

	mustDo(t, api, http.MethodPost, "/v1/customers", url.Values{"name": {"Jenny"}})
	mustDo(t, api, http.MethodPost, "/v1/products", url.Values{"name": {"Seats"}})
	want := listEvents(t, api, nil)
	lines := l.waitLines(t, len(want))
	for i, ev := range want {
		m := forwardLine.FindStringSubmatch(lines[i])
		if m == nil || m[1] != ev.ID || m[2] != "200" {
			t.Errorf("line %q, want %s [%s] forwarded with a 200", lines[i], ev.Type, ev.ID)
		}
	}
	if got := spy.verified(); !slices.Equal(got, []string{want[0].ID, want[1].ID}) {
		t.Errorf("the handler verified %v with the printed secret, want %s and %s", got, want[0].ID, want[1].ID)
	}
	noEndpoints(t, api, "while listening")

	// Killed without a chance to clean up: nothing was left on the server,
	// which goes on serving.
	if err := listen.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	listen.Wait()
	noEndpoints(t, api, "after listen was killed")
	mustDo(t, api, http.MethodPost, "/v1/customers", nil)

	// A listen that outlives a restart of the server.
	running := startListen(t, base, key)
	if running.secret != m[1] {
		t.Error("a new listen prints another secret")
	}
	server.stop(t)
	server = startServeProcess(t, bin, addr, db)
	// Events are streamed from the moment listen has connected again: the
	// server forgot its session (in memory) in the restart.
	deadline = time.Now().Add(waitTimeout)
	for !strings.Contains(running.errOut.String(), "connected again") {
		if time.Now().After(deadline) {
			t.Fatalf("listen did not connect again: %s", running.errOut)
		}
		time.Sleep(10 * time.Millisecond)
	}
	mustDo(t, api, http.MethodPost, "/v1/customers", url.Values{"name": {"after the restart"}})
	after := listEvents(t, api, nil)
	line := running.waitLines(t, 1)[0]
	if got := parseEventLine(t, line); got.id != after[len(after)-1].ID {
		t.Errorf("after the restart listen printed %q, want %s", line, after[len(after)-1].ID)
	}
	if s := running.errOut.String(); !strings.Contains(s, "connect") {
		t.Errorf("listen said nothing of the lost connection on stderr: %q", s)
	}
	if err := running.stop(t); err != nil {
		t.Errorf("listen returned %v", err)
	}
	if got := running.lines(); len(got) != 2 {
		t.Errorf("listen printed:\n%s", running.out)
	}
}
