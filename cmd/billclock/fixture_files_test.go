package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/billclock/billclock/emulator"
	"github.com/billclock/billclock/emulator/emulatortest"
)

// fixtureDir is the repository's fixtures/, from this package.
var fixtureDir = filepath.Join("..", "..", "fixtures")

// fixtureFiles returns every fixture file under fixtures/, subdirectories
// included, as paths from this package.
func fixtureFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(fixtureDir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".json") {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestFixtureFilesParse checks every file under fixtures/: each is a
// valid fixture whose steps call Stripe's API or billclock's control
// routes.
func TestFixtureFilesParse(t *testing.T) {
	files := fixtureFiles(t)
	for _, want := range []string{"test_clock.json", "pm_card_chargeCustomerFail.json", "dunning.json", "dunning_unpaid.json",
		filepath.Join("billclock", "invoice.paid.json")} {
		if !slices.Contains(files, filepath.Join(fixtureDir, want)) {
			t.Errorf("fixtures/%s is missing", want)
		}
	}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parseFixture(raw)
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		for _, s := range f.Steps {
			if !strings.HasPrefix(s.Path, "/v1/") && !strings.HasPrefix(s.Path, "/_billclock/") {
				t.Errorf("%s: step %s calls %s, neither Stripe's API nor a billclock control route", file, s.Name, s.Path)
			}
		}
	}
}

// TestFixturesNotShadowedByStripeCLI: the Stripe CLI's `stripe fixtures
// FILE` runs its own built-in trigger instead of FILE when FILE is spelled
// like one of them (triggers/<event>.json), so no fixture of billclock may
// sit in a directory called triggers.
func TestFixturesNotShadowedByStripeCLI(t *testing.T) {
	for _, file := range fixtureFiles(t) {
		rel, err := filepath.Rel(fixtureDir, file)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(strings.Split(filepath.ToSlash(rel), "/"), "triggers") {
			t.Errorf("fixtures/%s is in a directory called triggers, which `stripe fixtures` may replace by its built-in", rel)
		}
	}
}

// TestEveryFixtureRuns runs every file under fixtures/ through the
// billclock CLI's `fixtures` command, each as its own account (some change
// the account's settings): every step runs and the command succeeds.
func TestEveryFixtureRuns(t *testing.T) {
	t.Parallel()
	srv := emulatortest.Start(t, emulator.Config{NoSync: true})
	for _, file := range fixtureFiles(t) {
		rel, err := filepath.Rel(fixtureDir, file)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.ToSlash(rel), func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			f, err := parseFixture(raw)
			if err != nil {
				t.Fatal(err)
			}
			key := "sk_test_every_fixture_" + strings.NewReplacer("/", "_", ".", "_").Replace(filepath.ToSlash(rel))
			stdout, _, err := runCLI(t, nil, "fixtures", file, "--api-base", srv.URL(), "--api-key", key)
			if err != nil {
				t.Fatalf("fixtures %s: %v\n%s", rel, err, stdout)
			}
			if n := strings.Count(stdout, "Setting up fixture for: "); n != len(f.Steps) {
				t.Errorf("fixtures %s ran %d steps of %d:\n%s", rel, n, len(f.Steps), stdout)
			}
		})
	}
}
