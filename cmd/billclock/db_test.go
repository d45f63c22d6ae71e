package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/billclock/billclock/store/storetest"
)

func TestDBCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "billclock.db")
	storetest.Populated(t, path)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	stdout, _, err := runCLI(t, nil, "db", "check", path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stdout, "ok: "+path+": ") || strings.Count(stdout, "\n") != 1 {
		t.Errorf("stdout = %q, want one line starting with ok and the file", stdout)
	}
	for _, want := range []string{strconv.FormatInt(info.Size(), 10) + " bytes", "schema version 1", strconv.Itoa(storetest.Accounts) + " accounts"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout = %q, want it to say %q", stdout, want)
		}
	}
}

// TestDBCheckDamaged: db check reports every damage in one line naming the
// file, and prints nothing on stdout.
func TestDBCheckDamaged(t *testing.T) {
	for _, d := range storetest.Damages() {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "billclock.db")
			storetest.Populated(t, path)
			d.Apply(t, path)
			stdout, _, err := runCLI(t, nil, "db", "check", path)
			storetest.CheckRefusal(t, err, d.Want, path)
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
		})
	}
}

func TestDBCheckMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.db")
	_, _, err := runCLI(t, nil, "db", "check", path)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Errorf("err = %v, want one naming %s that matches fs.ErrNotExist", err, path)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Error("db check created the file")
	}
}

func TestDBCheckLegacy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "legacy.db")
	b, err := os.ReadFile("../../testdata/store/legacy-86ffde8.db")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, _, err := runCLI(t, nil, "db", "check", path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "no schema version") || !strings.Contains(stdout, "1 account") {
		t.Errorf("stdout = %q, want it to say the file has no schema version yet and one account", stdout)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(after) != string(b) {
		t.Error("db check changed the file")
	}
}

// checkRefusal is storetest.CheckRefusal, by the name serve_test.go
// calls it.
func checkRefusal(t *testing.T, err, want error, path string) {
	t.Helper()
	storetest.CheckRefusal(t, err, want, path)
}
