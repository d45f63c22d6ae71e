package store_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/billclock/billclock/store"
	"github.com/billclock/billclock/store/storetest"
)

// TestOpenRefusesDamagedFiles damages a real database in every way
// storetest knows and checks that Open refuses it with one line naming the
// file, never panics, and leaves the file as it found it.
func TestOpenRefusesDamagedFiles(t *testing.T) {
	for _, d := range storetest.Damages() {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "billclock.db")
			storetest.Populated(t, path)
			d.Apply(t, path)
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			db, err := store.Open(path, nil)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded")
			}
			t.Log(err)
			storetest.CheckRefusal(t, err, d.Want, path)
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(before, after) {
				t.Error("Open changed the damaged file")
			}
		})
	}
}

// TestCheckReportsDamagedFiles: Check finds what Open refuses, and writes
// nothing either.
func TestCheckReportsDamagedFiles(t *testing.T) {
	for _, d := range storetest.Damages() {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "billclock.db")
			storetest.Populated(t, path)
			d.Apply(t, path)
			before := readFile(t, path)
			_, err := store.Check(path, nil)
			if err == nil {
				t.Fatal("Check passed")
			}
			storetest.CheckRefusal(t, err, d.Want, path)
			if !bytes.Equal(before, readFile(t, path)) {
				t.Error("Check changed the file")
			}
		})
	}
}

func TestCheckSummary(t *testing.T) {
	path := filepath.Join(t.TempDir(), "billclock.db")
	storetest.Populated(t, path)
	before := readFile(t, path)
	s, err := store.Check(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.SchemaVersion != store.SchemaVersion || s.Accounts != storetest.Accounts || s.Size != int64(len(before)) {
		t.Errorf("summary %+v, want schema version %d, %d accounts, %d bytes", s, store.SchemaVersion, storetest.Accounts, len(before))
	}
	if s.PageSize != storetest.PageSize(t, path) || s.InUse < 10 || uint64(s.InUse) > s.Pages {
		t.Errorf("summary %+v: implausible page counts", s)
	}
	if !bytes.Equal(before, readFile(t, path)) {
		t.Error("Check changed the file")
	}
}

// TestOpenRefusesStaleMetaPage: both meta pages are intact, but one was
// restored from an older copy of the file. bbolt would open the newer one
// without a word; billclock refuses, since it cannot tell which is right.
func TestOpenRefusesStaleMetaPage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "billclock.db")
	storetest.Populated(t, path)
	storetest.StaleMeta(t, path)
	_, err := store.Check(path, nil)
	storetest.CheckRefusal(t, err, store.ErrCorrupt, path)
	if !strings.Contains(err.Error(), "restored from an older copy") {
		t.Errorf("error %q does not say what is wrong", err)
	}
	db, err := store.Open(path, nil)
	if err == nil {
		db.Close()
		t.Fatal("Open succeeded")
	}
	storetest.CheckRefusal(t, err, store.ErrCorrupt, path)
}

// TestNewDatabaseHasHeader: a new file gets the header at once, and no
// temporary file stays behind.
func TestNewDatabaseHasHeader(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "new.db")
	db, err := store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := store.Check(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.SchemaVersion != 1 || s.Accounts != 0 {
		t.Errorf("new database: %+v, want schema version 1 and no accounts", s)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %v, want only new.db", entries)
	}
}

// TestOpenUpgradesLegacyDatabase opens a file written by billclock before
// databases had a header: Check leaves it alone, Open adds the header, and
// the data stays.
func TestOpenUpgradesLegacyDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "legacy.db")
	if err := os.WriteFile(path, readFile(t, "../testdata/store/legacy-86ffde8.db"), 0o600); err != nil {
		t.Fatal(err)
	}
	before := readFile(t, path)
	s, err := store.Check(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.SchemaVersion != 0 || s.Accounts != 1 {
		t.Errorf("legacy database: %+v, want schema version 0 and one account", s)
	}
	if !bytes.Equal(before, readFile(t, path)) {
		t.Fatal("Check changed the file")
	}

	db, err := store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	ids, _, err := list(t, db, "sk_test_legacy", "test_clocks", store.Page{Limit: 10})
	if err != nil || len(ids) != 1 || !strings.Contains(ids[0], `"name":"before the header"`) {
		t.Errorf("legacy clock: %v, %v", ids, err)
	}
	err = db.View(func(tx *store.Tx) error {
		q, err := tx.Queue("clock_advances")
		if err != nil {
			return err
		}
		v, err := q.Get("k")
		if string(v) != "job" {
			t.Errorf("legacy job = %q", v)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = store.Check(path, nil); err != nil || s.SchemaVersion != 1 {
		t.Errorf("after Open: %+v, %v; want schema version 1", s, err)
	}
}

// TestOpenRefusesUnknownSchema: a header with a later schema version (a
// newer billclock's file) or a broken one is refused.
func TestOpenRefusesUnknownSchema(t *testing.T) {
	for _, tt := range []struct {
		version string
		want    error
	}{
		{"2", store.ErrSchemaVersion},
		{"0", store.ErrCorrupt},
		{"one", store.ErrCorrupt},
	} {
		t.Run(tt.version, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "billclock.db")
			storetest.Populated(t, path)
			storetest.SetSchemaVersion(t, path, tt.version)
			_, err := store.Check(path, nil)
			storetest.CheckRefusal(t, err, tt.want, path)
			db, err := store.Open(path, nil)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded")
			}
			storetest.CheckRefusal(t, err, tt.want, path)
		})
	}
}

func TestCheckNeverCreates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.db")
	_, err := store.Check(path, nil)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Errorf("err = %v, want one naming %s that matches fs.ErrNotExist", err, path)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Check created %s", path)
	}
}

// TestCheckWhileServing: Check does not read a file another process (here,
// an open DB) may be writing; it says the file is locked.
func TestCheckWhileServing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "billclock.db")
	db, err := store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = store.Check(path, &store.Options{LockTimeout: 100 * time.Millisecond})
	if !errors.Is(err, store.ErrLocked) {
		t.Errorf("err = %v, want ErrLocked", err)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
