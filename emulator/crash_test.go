package emulator_test

import (
	"bufio"
	"io"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/emulator/emulatortest"
	"github.com/billclock/billclock/store"
)

// billclockProcess is the real billclock binary serving on a free port.
type billclockProcess struct {
	cmd *exec.Cmd
	url string
}

// buildBinary builds cmd/billclock once per test.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "billclock")
	out, err := exec.Command("go", "build", "-o", bin, "../cmd/billclock").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

var servingLine = regexp.MustCompile(`url=(http://\S+)`)

func startBinary(t *testing.T, bin, db string) *billclockProcess {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--db", db)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	lines := bufio.NewScanner(stderr)
	found := make(chan string, 1)
	go func() {
		for lines.Scan() {
			if m := servingLine.FindStringSubmatch(lines.Text()); m != nil {
				found <- m[1]
				break
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	select {
	case u := <-found:
		return &billclockProcess{cmd: cmd, url: u}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("billclock did not start serving")
	}
	return nil
}

func (p *billclockProcess) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
}

// TestKillDuringAdvance kills the real server with SIGKILL while a clock
// with hundreds of subscriptions advances over two renewals, restarts it on
// the same database, and checks that every renewal invoice exists exactly
// once and is paid.
func TestKillDuringAdvance(t *testing.T) {
	const subscriptions = 600 // more tasks than one advance chunk holds
	bin := buildBinary(t)
	db := filepath.Join(t.TempDir(), "crash.db")
	proc := startBinary(t, bin, db)
	defer func() { proc.kill() }()
	c := emulatortest.NewClient(proc.url, "sk_test_crash", 8)
	must := func(method, path string, form url.Values) map[string]any {
		t.Helper()
		out, err := c.Call(method, path, form)
		require.NoError(t, err)
		return out
	}

	const start = 1735689600 // 2025-01-01
	clock := must("POST", "/v1/test_helpers/test_clocks", url.Values{"frozen_time": {strconv.Itoa(start)}})["id"].(string)
	price := must("POST", "/v1/prices", url.Values{"currency": {"usd"}, "unit_amount": {"1000"},
		"recurring[interval]": {"month"}, "product_data[name]": {"Seats"}})["id"].(string)
	var wg sync.WaitGroup
	subs := make(chan string, subscriptions)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < subscriptions; i += 8 {
				cus, err := c.Call("POST", "/v1/customers", url.Values{"test_clock": {clock}, "payment_method": {"pm_card_visa"}})
				if !assert.NoError(t, err) {
					return
				}
				sub, err := c.Call("POST", "/v1/subscriptions", url.Values{"customer": {cus["id"].(string)},
					"items[0][price]": {price}, "items[0][quantity]": {"2"}})
				if !assert.NoError(t, err) {
					return
				}
				subs <- sub["id"].(string)
			}
		}()
	}
	wg.Wait()
	close(subs)
	require.Len(t, subs, subscriptions)

	// Two monthly renewals, the most one advance may cover.
	target := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC).Unix()
	must("POST", "/v1/test_helpers/test_clocks/"+clock+"/advance", url.Values{"frozen_time": {strconv.FormatInt(target, 10)}})
	time.Sleep(30 * time.Millisecond)
	proc.kill()

	// Prove the kill hit the advance: its job is still queued in the file
	// ("clock_advances" is the advancer's queue). Otherwise the test would
	// not exercise resuming at all.
	pending := 0
	sdb, err := store.Open(db, nil)
	require.NoError(t, err)
	require.NoError(t, sdb.View(func(tx *store.Tx) error {
		q, err := tx.Queue("clock_advances")
		if err != nil {
			return err
		}
		return q.ForEach(func(string, []byte) error { pending++; return nil })
	}))
	require.NoError(t, sdb.Close())
	require.Equal(t, 1, pending, "the advance finished before the kill; the test did not interrupt it")

	proc = startBinary(t, bin, db)
	c.BaseURL = proc.url
	waitReady := func(target int64) {
		deadline := time.Now().Add(60 * time.Second)
		for {
			cl := must("GET", "/v1/test_helpers/test_clocks/"+clock, nil)
			if cl["status"] == "ready" {
				assert.EqualValues(t, target, cl["frozen_time"])
				return
			}
			require.Equal(t, "advancing", cl["status"])
			require.True(t, time.Now().Before(deadline), "clock never became ready after restart")
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitReady(target)
	// The second renewal is still a draft: an hour more finalizes and pays it.
	target += 2 * 3600
	must("POST", "/v1/test_helpers/test_clocks/"+clock+"/advance", url.Values{"frozen_time": {strconv.FormatInt(target, 10)}})
	waitReady(target)

	// Every subscription has its first invoice and exactly one paid renewal
	// per boundary.
	type key struct {
		sub    string
		period float64
	}
	seen := map[key]int{}
	after := ""
	total := 0
	for {
		q := "/v1/invoices?limit=100"
		if after != "" {
			q += "&starting_after=" + after
		}
		page := must("GET", q, nil)
		data := page["data"].([]any)
		for _, d := range data {
			inv := d.(map[string]any)
			total++
			assert.Equal(t, "paid", inv["status"], inv["id"])
			sub := inv["parent"].(map[string]any)["subscription_details"].(map[string]any)["subscription"].(string)
			line := inv["lines"].(map[string]any)["data"].([]any)[0].(map[string]any)
			seen[key{sub, line["period"].(map[string]any)["start"].(float64)}]++
			after = inv["id"].(string)
		}
		if page["has_more"] != true {
			break
		}
	}
	assert.Equal(t, 3*subscriptions, total, "one first invoice and two renewals per subscription")
	for k, n := range seen {
		assert.Equal(t, 1, n, "invoices for %s period starting %v", k.sub, k.period)
	}
	periods := []int64{start, time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC).Unix(), time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC).Unix()}
	for sub := range subs {
		for _, p := range periods {
			assert.Equal(t, 1, seen[key{sub, float64(p)}], "subscription %s period %d", sub, p)
		}
	}
}
