// Package browsertest drives billclock's pages in a real headless Chromium
// for tests, with chromedp: one browser per test binary, a tab per test
// with a timeout, and screenshots.
//
// Chromium is Debian's (/usr/bin/chromium, or BILLCLOCK_CHROMIUM), which
// scripts/ensure-chromium.sh installs when it is missing; `make test` runs
// that script before the tests. A test that needs the browser FAILS when
// Chromium is missing or cannot start: the browser tests are part of
// `make test` and are never skipped.
//
// A package with browser tests keeps one Browser for its test binary:
//
//	var browser = browsertest.New(browsertest.Options{})
//
//	func TestMain(m *testing.M) { os.Exit(browser.Run(m)) }
//
//	func TestPage(t *testing.T) {
//		ctx := browser.Tab(t)
//		if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
//			t.Fatal(err)
//		}
//		browsertest.Screenshot(t, ctx, "page")
//	}
//
// The browser starts at the first Tab, so a run that selects no browser
// test (go test -run) starts none.
package browsertest

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// DefaultChromium is where Debian's chromium package puts the browser.
const DefaultChromium = "/usr/bin/chromium"

// DefaultTabTimeout bounds a test's tab: generous, for a loaded machine
// running every package's tests with the race detector.
const DefaultTabTimeout = 90 * time.Second

// Viewport is the size of each tab's page, and so of ViewportScreenshot.
const (
	ViewportWidth  = 1280
	ViewportHeight = 900
)

// Options configure a Browser.
type Options struct {
	// ExecPath is the Chromium executable; empty means the environment's
	// BILLCLOCK_CHROMIUM, else DefaultChromium.
	ExecPath string
	// TabTimeout bounds each tab; zero means DefaultTabTimeout.
	TabTimeout time.Duration
}

// Browser is one headless Chromium, started at the first Tab and shared
// by the tests of a test binary, each in its own tab.
type Browser struct {
	opts Options

	once   sync.Once
	err    error
	ctx    context.Context // the browser's chromedp context
	cancel func()          // stops the browser and removes its profile
}

// New returns a Browser that starts at its first Tab.
func New(opts Options) *Browser {
	if opts.ExecPath == "" {
		opts.ExecPath = os.Getenv("BILLCLOCK_CHROMIUM")
	}
	if opts.ExecPath == "" {
		opts.ExecPath = DefaultChromium
	}
	if opts.TabTimeout <= 0 {
		opts.TabTimeout = DefaultTabTimeout
	}
	return &Browser{opts: opts}
}

// Run runs the tests of m, then stops the browser, and returns the exit
// code for os.Exit; call it from TestMain. It defines the -update flag
// (rewrite the screenshots under testdata/screenshots) unless the package
// defined one already for its own golden files.
func (b *Browser) Run(m *testing.M) int {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files and the screenshots under testdata/screenshots")
	}
	defer b.Close()
	return m.Run()
}

// Close stops the browser, if it started, and removes its profile.
func (b *Browser) Close() {
	b.once.Do(func() { b.err = errors.New("browsertest: the browser was closed") })
	if b.cancel != nil {
		b.cancel()
	}
}

// start launches Chromium with a fresh profile, once.
func (b *Browser) start() error {
	b.once.Do(func() {
		if _, err := os.Stat(b.opts.ExecPath); err != nil {
			b.err = fmt.Errorf("browsertest: Chromium is not installed at %s (%v): run scripts/ensure-chromium.sh, "+
				"which `make test` runs, or apt-get install chromium", b.opts.ExecPath, err)
			return
		}
		profile, err := os.MkdirTemp("", "billclock-chromium-")
		if err != nil {
			b.err = fmt.Errorf("browsertest: a profile directory for Chromium: %w", err)
			return
		}
		allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
			chromedp.ExecPath(b.opts.ExecPath),
			chromedp.Headless,
			chromedp.NoSandbox,
			chromedp.DisableGPU,
			chromedp.NoFirstRun,
			chromedp.NoDefaultBrowserCheck,
			chromedp.Flag("disable-quic", true),
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("disable-dev-shm-usage", true),
			chromedp.Flag("disable-extensions", true),
			chromedp.Flag("hide-scrollbars", true),
			chromedp.Flag("force-color-profile", "srgb"),
			chromedp.UserDataDir(profile),
			chromedp.WindowSize(ViewportWidth, ViewportHeight),
		)
		ctx, cancelBrowser := chromedp.NewContext(allocCtx)
		b.cancel = func() {
			cancelBrowser()
			cancelAlloc()
			os.RemoveAll(profile)
		}
		// The first Do starts the browser and binds it to ctx, which has no
		// deadline: tabs have theirs.
		if err := chromedp.Do(ctx); err != nil {
			b.cancel()
			b.err = fmt.Errorf("browsertest: starting Chromium (%s): %w", b.opts.ExecPath, err)
			return
		}
		b.ctx = ctx
	})
	return b.err
}

// Tab opens a new tab for t and returns its context, which ends after the
// Browser's TabTimeout or when t ends (the tab is closed then). It fails t
// (never skips it) if Chromium cannot start. An exception the page leaves
// uncaught fails t; the page's console messages are logged. If t failed,
// the tab's last screen is kept as failure.png in t.ArtifactDir (see go
// test -artifacts).
func (b *Browser) Tab(t testing.TB) context.Context {
	t.Helper()
	if err := b.start(); err != nil {
		t.Fatal(err)
		return nil
	}
	tab, closeTab := chromedp.NewContext(b.ctx)
	// Opening the tab, with no deadline; the window's size is not quite
	// the page's, so the viewport is set.
	if err := chromedp.Do(tab, chromedp.EmulateViewport(ViewportWidth, ViewportHeight)); err != nil {
		closeTab()
		t.Fatalf("browsertest: opening a tab: %v", err)
		return nil
	}
	ctx, cancel := context.WithTimeout(tab, b.opts.TabTimeout)

	var mu sync.Mutex
	var exceptions []string
	ended := false // t ended: log nothing more
	// Listen sees each event before the reply to any later command, so
	// the round trip in the cleanup below finds every exception thrown
	// until then.
	if err := chromedp.Listen(tab, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		if ended {
			return
		}
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			text := d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				text += " " + d.Exception.Description
			}
			exceptions = append(exceptions, fmt.Sprintf("%s:%d: %s", d.URL, d.LineNumber+1, text))
		case *runtime.EventConsoleAPICalled:
			var args []string
			for _, a := range ev.Args {
				if a.Description != "" {
					args = append(args, a.Description)
				} else {
					args = append(args, string(a.Value))
				}
			}
			t.Logf("browser console.%s: %s", ev.Type, strings.Join(args, " "))
		}
	}); err != nil {
		cancel()
		closeTab()
		t.Fatalf("browsertest: listening to the tab: %v", err)
		return nil
	}

	t.Cleanup(func() {
		if ctx.Err() == nil {
			if t.Failed() {
				if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
					path := filepath.Join(artifactDir(t), "failure.png")
					if os.WriteFile(path, png, 0o644) == nil {
						t.Logf("browsertest: the tab's last screen: %s", path)
					}
				}
			}
			chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void]("0"))
		}
		cancel()
		closeTab()
		mu.Lock()
		defer mu.Unlock()
		ended = true
		for _, e := range exceptions {
			t.Errorf("browsertest: uncaught exception in the page: %s", e)
		}
	})
	return ctx
}

// artifactDir is t's artifact directory, where a testing.TB offers one.
func artifactDir(t testing.TB) string {
	if a, ok := t.(interface{ ArtifactDir() string }); ok {
		return a.ArtifactDir()
	}
	return t.TempDir()
}

// Screenshot takes a screenshot of the whole page in the tab ctx and
// returns it (PNG). It is written to t's artifact directory as name.png
// and, when the tests run with -update, to testdata/screenshots/name.png at
// the repository's top level, which the README shows; a normal run leaves
// the tree as it is.
func Screenshot(t testing.TB, ctx context.Context, name string) []byte {
	t.Helper()
	return keep(t, ctx, name, chromedp.FullScreenshot(100))
}

// ViewportScreenshot is Screenshot of what the window shows (ViewportWidth
// by ViewportHeight), as a person sees the page without scrolling.
func ViewportScreenshot(t testing.TB, ctx context.Context, name string) []byte {
	t.Helper()
	return keep(t, ctx, name, chromedp.CaptureScreenshot())
}

// keep takes a screenshot with shot and keeps it (see Screenshot).
func keep(t testing.TB, ctx context.Context, name string, shot chromedp.Action[[]byte]) []byte {
	t.Helper()
	png, err := chromedp.Run(ctx, shot)
	if err != nil {
		t.Fatalf("browsertest: screenshot %s: %v", name, err)
		return nil
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("browsertest: screenshot %s is not a PNG", name)
		return nil
	}
	if err := os.WriteFile(filepath.Join(artifactDir(t), name+".png"), png, 0o644); err != nil {
		t.Fatalf("browsertest: %v", err)
	}
	if Updating() {
		dir, err := ScreenshotDir()
		if err != nil {
			t.Fatal(err)
			return nil
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name+".png")
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("browsertest: wrote %s", path)
	}
	return png
}

// Updating reports whether the tests run with -update.
func Updating() bool {
	f := flag.Lookup("update")
	if f == nil {
		return false
	}
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return false
	}
	on, _ := g.Get().(bool)
	return on
}

// ScreenshotDir is testdata/screenshots at the top of the repository (the
// nearest directory above the working directory with a go.mod).
func ScreenshotDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "testdata", "screenshots"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("browsertest: no go.mod above the working directory")
		}
		dir = parent
	}
}
