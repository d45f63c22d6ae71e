package emulator_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/billclock/billclock/emulator"
	"github.com/billclock/billclock/emulator/emulatortest"
	"github.com/billclock/billclock/store"
	"github.com/billclock/billclock/store/storetest"
)

// TestOpenBusyPortLeavesNoFile: a server that cannot bind its port fails
// before it creates a database file.
func TestOpenBusyPortLeavesNoFile(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dir := t.TempDir()
	srv, err := emulator.Open(emulator.Config{Addr: ln.Addr().String(), DBPath: filepath.Join(dir, "new.db")})
	if err == nil {
		srv.Close()
		t.Fatal("Open succeeded on a busy port")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("Open left %v behind", entries)
	}
}

// TestOpenDamagedDatabase: the server refuses a damaged file with the
// store's error, and releases its port.
func TestOpenDamagedDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "billclock.db")
	storetest.Populated(t, path)
	_, m := storetest.Newest(t, path)
	if err := os.Truncate(path, int64(m.HighMark)*int64(m.PageSize)/2); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	srv, err := emulator.Open(emulator.Config{Addr: addr, DBPath: path})
	if err == nil {
		srv.Close()
		t.Fatal("Open succeeded")
	}
	if !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), path) {
		t.Errorf("err = %v, want store.ErrCorrupt naming the file", err)
	}
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("the port stayed bound: %v", err)
	}
	ln.Close()
}

// TestSlowBodyIsCutOff: a client that sends its headers and then trickles
// the body is disconnected once the read timeout passes, and its request
// changes nothing.
func TestSlowBodyIsCutOff(t *testing.T) {
	srv := emulatortest.Start(t, emulator.Config{ReadTimeout: 300 * time.Millisecond})
	conn, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := "frozen_time=1732320000&name=" + strings.Repeat("x", 172)
	fmt.Fprintf(conn, "POST /v1/test_helpers/test_clocks HTTP/1.1\r\nHost: billclock\r\n"+
		"Authorization: Bearer sk_test_slow\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
		"Content-Length: %d\r\n\r\n", len(body))

	closed := make(chan struct{})
	var answer []byte
	go func() {
		answer, _ = io.ReadAll(conn) // until the server closes the connection
		close(closed)
	}()
	sent := 0
trickle:
	for ; sent < len(body); sent++ {
		select {
		case <-closed:
			break trickle
		case <-time.After(50 * time.Millisecond):
		}
		if _, err := conn.Write([]byte{body[sent]}); err != nil {
			break
		}
	}
	select {
	case <-closed:
	case <-time.After(2 * time.Second):
		t.Fatalf("the server still held the connection after the whole body (%d bytes, one every 50ms) came in", len(body))
	}
	t.Logf("after %d of %d bytes the server answered %q and closed", sent, len(body), firstLine(answer))
	if sent == len(body) {
		t.Errorf("the server read the whole slow body (%d bytes) before closing", len(body))
	}

	c := emulatortest.NewClient(srv.URL(), "sk_test_slow", 1)
	raw, err := c.Do(http.MethodGet, "/v1/test_helpers/test_clocks", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"data": []`) && !strings.Contains(string(raw), `"data":[]`) {
		t.Errorf("the cut-off request created a clock: %s", raw)
	}
}

// TestIdleKeepAliveIsClosed: a keep-alive connection left idle is closed
// after the idle timeout.
func TestIdleKeepAliveIsClosed(t *testing.T) {
	srv := emulatortest.Start(t, emulator.Config{IdleTimeout: 300 * time.Millisecond})
	conn, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprint(conn, "GET /healthz HTTP/1.1\r\nHost: billclock\r\n\r\n")
	r := bufio.NewReader(conn)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("healthz: %s, close=%v; want a 200 that keeps the connection", resp.Status, resp.Close)
	}

	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := r.Read(make([]byte, 1))
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the server kept an idle keep-alive connection open for 10s")
	}
	if n != 0 || !errors.Is(err, io.EOF) {
		t.Errorf("read on the idle connection: %d bytes, %v; want the server to close it", n, err)
	}
}

func firstLine(b []byte) string {
	line, _, _ := strings.Cut(string(b), "\r\n")
	return line
}
