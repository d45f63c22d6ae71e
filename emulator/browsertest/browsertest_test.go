package browsertest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

var browser = New(Options{})

func TestMain(m *testing.M) { os.Exit(browser.Run(m)) }

const page = `<!doctype html><title>harness</title>
<button id="go" onclick="document.getElementById('out').textContent = 'clicked ' + (++window.n)">go</button>
<p id="out">not yet</p><script>window.n = 0</script>`

// TestTab drives a page in the shared browser: click, read back, and a
// screenshot that is a PNG in the test's artifact directory.
func TestTab(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page)
	}))
	defer srv.Close()

	ctx := browser.Tab(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL), chromedp.Click(chromedp.CSS("#go")), chromedp.Click(chromedp.CSS("#go"))); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#out")))
	if err != nil {
		t.Fatal(err)
	}
	if got != "clicked 2" {
		t.Fatalf("after two clicks the page says %q, want %q", got, "clicked 2")
	}
	png := Screenshot(t, ctx, "harness")
	if kept, err := os.ReadFile(filepath.Join(t.ArtifactDir(), "harness.png")); err != nil || len(kept) != len(png) {
		t.Fatalf("screenshot not kept in the artifact directory: %v", err)
	}
	view := ViewportScreenshot(t, ctx, "harness-viewport")
	if w, h := pngSize(view); w != ViewportWidth || h != ViewportHeight {
		t.Fatalf("the viewport's screenshot is %dx%d, want %dx%d", w, h, ViewportWidth, ViewportHeight)
	}
}

// pngSize reads a PNG's width and height from its header.
func pngSize(png []byte) (w, h int) {
	if len(png) < 24 {
		return 0, 0
	}
	be := func(b []byte) int { return int(b[0])<<24 | int(b[1])<<16 | int(b[2])<<8 | int(b[3]) }
	return be(png[16:20]), be(png[20:24])
}

// TestTabsInParallel gives each parallel test its own tab of one browser.
func TestTabsInParallel(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "<title>%s</title>", strings.TrimPrefix(r.URL.Path, "/"))
	}))
	t.Cleanup(srv.Close)
	for _, name := range []string{"one", "two", "three"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := browser.Tab(t)
			if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/"+name)); err != nil {
				t.Fatal(err)
			}
			title, err := chromedp.Run(ctx, chromedp.Title())
			if err != nil || title != name {
				t.Fatalf("title %q (%v), want %q", title, err, name)
			}
		})
	}
}

// recorder is a testing.TB that records failures, skips and cleanups
// instead of acting on them, so that a test can check how the harness
// treats a failing test.
type recorder struct {
	testing.TB
	fatal, errors, skipped []string
	cleanups               []func()
}

func (r *recorder) Helper()           {}
func (r *recorder) Fatal(args ...any) { r.fatal = append(r.fatal, fmt.Sprint(args...)) }
func (r *recorder) Fatalf(f string, args ...any) {
	r.fatal = append(r.fatal, fmt.Sprintf(f, args...))
}
func (r *recorder) Errorf(f string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(f, args...))
}
func (r *recorder) Failed() bool     { return len(r.fatal)+len(r.errors) > 0 }
func (r *recorder) Skip(args ...any) { r.skipped = append(r.skipped, fmt.Sprint(args...)) }
func (r *recorder) Skipf(f string, args ...any) {
	r.skipped = append(r.skipped, fmt.Sprintf(f, args...))
}
func (r *recorder) SkipNow()            { r.skipped = append(r.skipped, "SkipNow") }
func (r *recorder) Cleanup(fn func())   { r.cleanups = append(r.cleanups, fn) }
func (r *recorder) ArtifactDir() string { return r.TB.TempDir() }

// finish runs the cleanups, last first, as the testing package does.
func (r *recorder) finish() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

// TestMissingChromiumFails: without Chromium a browser test fails, naming
// the script that installs it; it is never skipped.
func TestMissingChromiumFails(t *testing.T) {
	b := New(Options{ExecPath: filepath.Join(t.TempDir(), "no-chromium-here")})
	defer b.Close()
	rec := &recorder{TB: t}
	if ctx := b.Tab(rec); ctx != nil {
		t.Fatal("Tab gave a context without a browser")
	}
	if len(rec.skipped) != 0 {
		t.Fatalf("skipped: %q", rec.skipped)
	}
	if len(rec.fatal) != 1 || !strings.Contains(rec.fatal[0], "scripts/ensure-chromium.sh") {
		t.Fatalf("failures %q, want one naming scripts/ensure-chromium.sh", rec.fatal)
	}
}

// TestUncaughtExceptionFails: a page that throws fails its test.
func TestUncaughtExceptionFails(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<title>t</title><script>console.log("hello", 42); throw new Error("boom")</script>`)
	}))
	defer srv.Close()
	rec := &recorder{TB: t}
	ctx := browser.Tab(rec)
	if ctx == nil {
		t.Fatalf("no tab: %q", rec.fatal)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	rec.finish()
	if len(rec.errors) != 1 || !strings.Contains(rec.errors[0], "boom") {
		t.Fatalf("errors %q, want the page's uncaught exception", rec.errors)
	}
}
