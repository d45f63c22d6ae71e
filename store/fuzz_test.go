package store_test

import (
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/billclock/billclock/store"
	"github.com/billclock/billclock/store/storetest"
)

// FuzzCheckFile damages a small real database (a patch of bytes at an
// offset, optionally a truncation, optionally with the meta checksums
// recomputed so that changed meta fields get through) and checks that
// Check and Open never panic or crash the process, and that a file Check
// passes is safe to use: bbolt reads every bucket and key of it, and
// billclock writes to it and leaves it sound.
func FuzzCheckFile(f *testing.F) {
	base := filepath.Join(f.TempDir(), "base.db")
	storetest.Small(f, base)
	image, err := os.ReadFile(base)
	if err != nil {
		f.Fatal(err)
	}
	ps := storetest.PageSize(f, base)
	_, m := storetest.Newest(f, base)

	f.Add(uint32(0), []byte{}, uint32(0), false)
	f.Add(uint32(0), []byte{0}, uint32(0), false)
	f.Add(uint32(ps+64), []byte{9}, uint32(0), true)                          // meta page 1's txid
	f.Add(uint32(32), []byte{byte(m.HighMark)}, uint32(0), true)              // meta page 0's root
	f.Add(uint32(56), []byte{0xff, 0xff}, uint32(0), true)                    // meta page 0's high-water mark
	f.Add(uint32(m.Root)*uint32(ps)+8, []byte{0x01}, uint32(0), false)        // root page's type
	f.Add(uint32(m.Root)*uint32(ps)+16, []byte{0xff, 0x7f}, uint32(0), false) // root page's first element
	f.Add(uint32(0), []byte{}, uint32(m.HighMark-1)*uint32(ps), false)        // truncated
	for id := uint32(2); id < uint32(m.HighMark); id++ {
		f.Add(id*uint32(ps)+24, []byte{0xff, 0xff, 0xff}, uint32(0), false) // a second element's offsets
	}

	f.Fuzz(func(t *testing.T, off uint32, patch []byte, size uint32, fixMeta bool) {
		b := append([]byte(nil), image...)
		if int(off) < len(b) {
			copy(b[off:], patch)
		}
		if size > 0 && int(size) < len(b) {
			b = b[:size]
		}
		if fixMeta {
			storetest.FixMetaChecksums(b, ps)
		}
		path := filepath.Join(t.TempDir(), "fuzz.db")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Check(path, nil); err != nil {
			db, oerr := store.Open(path, nil)
			if oerr == nil {
				db.Close()
				t.Fatalf("Check refused the file (%v) but Open took it", err)
			}
			return
		}
		readAll(t, path)
		db, err := store.Open(path, nil)
		if err != nil {
			t.Fatalf("Check passed the file but Open refused it: %v", err)
		}
		err = db.Update(func(tx *store.Tx) error {
			a, err := tx.Account("sk_test_fuzz")
			if err != nil {
				return err
			}
			c, err := a.Collection("things")
			if err != nil {
				return err
			}
			return c.Put("thing_fuzz", 1, []byte("{}"))
		})
		if err != nil {
			t.Logf("write to a file Check passed: %v", err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Check(path, nil); err != nil {
			t.Fatalf("Check passed the file, and failed it after a write: %v", err)
		}
	})
}

// readAll reads every bucket, key and value of the bbolt file at path.
func readAll(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("bbolt refused a file Check passed: %v", err)
	}
	defer db.Close()
	var walk func(b *bolt.Bucket)
	walk = func(b *bolt.Bucket) {
		b.ForEach(func(k, v []byte) error {
			if v == nil {
				walk(b.Bucket(k))
			}
			return nil
		})
	}
	db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(_ []byte, b *bolt.Bucket) error {
			walk(b)
			return nil
		})
	})
}
