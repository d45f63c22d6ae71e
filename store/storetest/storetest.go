// Package storetest builds billclock database files for tests: intact ones
// with enough records that their trees have branch pages, and the same files
// damaged in the ways disks, crashes and careless copies damage them.
//
// It reads bbolt's on-disk layout itself (page header, then the meta fields)
// rather than through package store, so that tests of store's checks do not
// lean on the code they test.
package storetest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/billclock/billclock/store"
)

// Accounts and RecordsPerAccount describe what Populated writes.
const (
	Accounts          = 3
	RecordsPerAccount = 700
)

// Populated writes a billclock database at path: Accounts accounts, each
// with a "things" collection of RecordsPerAccount records, so that the
// collections' trees are a branch page over leaf pages.
func Populated(t testing.TB, path string) {
	t.Helper()
	db, err := store.Open(path, &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for a := range Accounts {
		err := db.Update(func(tx *store.Tx) error {
			acct, err := tx.Account(fmt.Sprintf("sk_test_account%d", a))
			if err != nil {
				return err
			}
			c, err := acct.Collection("things")
			if err != nil {
				return err
			}
			for i := range RecordsPerAccount {
				id := fmt.Sprintf("thing_%06d", i)
				data := fmt.Sprintf(`{"id":%q,"object":"thing","created":%d,"padding":"%0100d"}`, id, 1_700_000_000+i, i)
				if err := c.Put(id, int64(1_700_000_000+i), []byte(data)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// Meta is what a meta page says (bbolt's layout: a 16-byte page header, then
// these fields; the checksum is FNV-64a of the fields before it).
type Meta struct {
	PageID   uint64
	Flags    uint16
	Magic    uint32
	PageSize uint32
	Root     uint64
	Freelist uint64
	HighMark uint64 // high-water mark: pages [0, HighMark) are in use or free
	TxID     uint64
}

// ReadMeta decodes meta page n (0 or 1) of the file at path, whose pages are
// pageSize bytes (4096 on most machines: use PageSize for the file's own).
func ReadMeta(t testing.TB, path string, n int, pageSize int) Meta {
	t.Helper()
	b := readAt(t, path, int64(n*pageSize), 80)
	return Meta{
		PageID:   binary.LittleEndian.Uint64(b[0:]),
		Flags:    binary.LittleEndian.Uint16(b[8:]),
		Magic:    binary.LittleEndian.Uint32(b[16:]),
		PageSize: binary.LittleEndian.Uint32(b[24:]),
		Root:     binary.LittleEndian.Uint64(b[32:]),
		Freelist: binary.LittleEndian.Uint64(b[48:]),
		HighMark: binary.LittleEndian.Uint64(b[56:]),
		TxID:     binary.LittleEndian.Uint64(b[64:]),
	}
}

// PageSize is the page size meta page 0 of the file at path records.
func PageSize(t testing.TB, path string) int {
	t.Helper()
	return int(binary.LittleEndian.Uint32(readAt(t, path, 24, 4)))
}

// Newest returns the meta page (0 or 1) holding the file's last commit.
func Newest(t testing.TB, path string) (n int, m Meta) {
	t.Helper()
	ps := PageSize(t, path)
	m0, m1 := ReadMeta(t, path, 0, ps), ReadMeta(t, path, 1, ps)
	if m1.TxID > m0.TxID {
		return 1, m1
	}
	return 0, m0
}

// CollectionRoot returns the root page of account a's "things" records
// tree in a Populated file: a branch page whose children are leaves.
func CollectionRoot(t testing.TB, path string) (branch uint64, firstLeaf uint64) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, PreLoadFreelist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("accounts")).Bucket([]byte("sk_test_account1")).Bucket([]byte("things")).Bucket([]byte("records"))
		branch = uint64(b.Root())
		info, err := tx.Page(int(branch))
		if err != nil {
			return err
		}
		if info.Type != "branch" {
			return fmt.Errorf("records root page %d is a %s, want a branch: write more records", branch, info.Type)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A branch element is pos, ksize (uint32 each) and the child's page id.
	ps := PageSize(t, path)
	firstLeaf = binary.LittleEndian.Uint64(readAt(t, path, int64(branch)*int64(ps)+16+8, 8))
	return branch, firstLeaf
}

// Damage is one way a database file gets damaged, and the store error an
// Open or Check of the damaged file must match with errors.Is.
type Damage struct {
	Name  string
	Apply func(t testing.TB, path string)
	Want  error
}

// CheckRefusal asserts that err, a refusal of the file at path, matches
// want and is one line naming path, without a trace of a panic.
func CheckRefusal(t testing.TB, err, want error, path string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v", want)
	}
	if !errors.Is(err, want) {
		t.Errorf("err = %v, want %v", err, want)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") || !strings.Contains(msg, path) {
		t.Errorf("error %q should be one line naming %s", msg, path)
	}
	if strings.Contains(msg, "panic") || strings.Contains(msg, "goroutine") {
		t.Errorf("error %q shows a panic", msg)
	}
}

// Damages are the damages every check of a database file must catch. Apply
// expects a Populated file.
func Damages() []Damage {
	return []Damage{
		{"truncated mid-tree", func(t testing.TB, path string) {
			_, m := Newest(t, path)
			truncate(t, path, int64(m.HighMark)*int64(m.PageSize)/2)
		}, store.ErrCorrupt},
		{"truncated by one page", func(t testing.TB, path string) {
			_, m := Newest(t, path)
			truncate(t, path, int64(m.HighMark-1)*int64(m.PageSize))
		}, store.ErrCorrupt},
		{"truncated inside meta page 1", func(t testing.TB, path string) {
			truncate(t, path, int64(PageSize(t, path))+40)
		}, store.ErrCorrupt},
		{"zero length", func(t testing.TB, path string) { truncate(t, path, 0) }, store.ErrNotBillclock},
		{"meta page 0 zeroed", func(t testing.TB, path string) {
			ps := PageSize(t, path)
			writeAt(t, path, 0, make([]byte, ps))
		}, store.ErrCorrupt},
		{"newest meta page zeroed", func(t testing.TB, path string) {
			n, _ := Newest(t, path)
			ps := PageSize(t, path)
			writeAt(t, path, int64(n*ps), make([]byte, ps))
		}, store.ErrCorrupt},
		{"older meta page checksum flipped", func(t testing.TB, path string) {
			n, _ := Newest(t, path)
			ps := PageSize(t, path)
			flip(t, path, int64((1-n)*ps)+72)
		}, store.ErrCorrupt},
		{"newest meta page's root pointer flipped", func(t testing.TB, path string) {
			n, _ := Newest(t, path)
			ps := PageSize(t, path)
			flip(t, path, int64(n*ps)+32)
		}, store.ErrCorrupt},
		{"branch page header id flipped", func(t testing.TB, path string) {
			branch, _ := CollectionRoot(t, path)
			flip(t, path, int64(branch)*int64(PageSize(t, path)))
		}, store.ErrCorrupt},
		{"branch page type flipped", func(t testing.TB, path string) {
			branch, _ := CollectionRoot(t, path)
			flip(t, path, int64(branch)*int64(PageSize(t, path))+8)
		}, store.ErrCorrupt},
		{"branch child pointer past the end", func(t testing.TB, path string) {
			branch, _ := CollectionRoot(t, path)
			off := int64(branch)*int64(PageSize(t, path)) + 16 + 16 + 8 // element 1's pgid
			writeAt(t, path, off, binary.LittleEndian.AppendUint64(nil, 1<<40))
		}, store.ErrCorrupt},
		{"branch child pointing at its parent", func(t testing.TB, path string) {
			branch, _ := CollectionRoot(t, path)
			off := int64(branch)*int64(PageSize(t, path)) + 16 + 16 + 8
			writeAt(t, path, off, binary.LittleEndian.AppendUint64(nil, branch))
		}, store.ErrCorrupt},
		{"branch element table flipped", func(t testing.TB, path string) {
			branch, _ := CollectionRoot(t, path)
			flipRange(t, path, int64(branch)*int64(PageSize(t, path))+16, 48)
		}, store.ErrCorrupt},
		{"leaf element table flipped", func(t testing.TB, path string) {
			_, leaf := CollectionRoot(t, path)
			flipRange(t, path, int64(leaf)*int64(PageSize(t, path))+16, 48)
		}, store.ErrCorrupt},
		{"leaf element count flipped", func(t testing.TB, path string) {
			_, leaf := CollectionRoot(t, path)
			flip(t, path, int64(leaf)*int64(PageSize(t, path))+11)
		}, store.ErrCorrupt},
		{"leaf keys out of order", func(t testing.TB, path string) {
			_, leaf := CollectionRoot(t, path)
			ps := int64(PageSize(t, path))
			// Element 0's key starts pos bytes after the element.
			elem := readAt(t, path, int64(leaf)*ps+16, 16)
			pos, ksize := binary.LittleEndian.Uint32(elem[4:]), binary.LittleEndian.Uint32(elem[8:])
			key := make([]byte, ksize)
			for i := range key {
				key[i] = 0xff
			}
			writeAt(t, path, int64(leaf)*ps+16+int64(pos), key)
		}, store.ErrCorrupt},
		{"random garbage", func(t testing.TB, path string) {
			b := make([]byte, 64<<10)
			r := rand.New(rand.NewPCG(7, 7))
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			write(t, path, b)
		}, store.ErrNotBillclock},
		{"another program's bbolt file", func(t testing.TB, path string) {
			remove(t, path)
			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			err = db.Update(func(tx *bolt.Tx) error {
				b, err := tx.CreateBucket([]byte("users"))
				if err != nil {
					return err
				}
				return b.Put([]byte("alice"), []byte(`{"admin":true}`))
			})
			if err != nil {
				t.Fatal(err)
			}
		}, store.ErrNotBillclock},
		{"an empty bbolt file", func(t testing.TB, path string) {
			remove(t, path)
			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			db.Close()
		}, store.ErrNotBillclock},
	}
}

// StaleMeta turns a Populated file into one whose newer meta page holds the
// last commit but whose other meta page was restored from an older copy of
// the file: both meta pages are intact, and they are three commits apart.
// It runs the commits itself.
func StaleMeta(t testing.TB, path string) {
	t.Helper()
	ps := PageSize(t, path)
	n, _ := Newest(t, path)
	old := readAt(t, path, int64(n*ps), ps)
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		err := db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket([]byte("meta")).Put([]byte("stale-meta-test"), []byte{byte(i)})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	writeAt(t, path, int64(n*ps), old)
}

// Garbage fills path with size pseudo-random bytes.
func Garbage(t testing.TB, path string, size int, seed uint64) {
	b := make([]byte, size)
	r := rand.New(rand.NewPCG(seed, seed))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	write(t, path, b)
}

func readAt(t testing.TB, path string, off int64, n int) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatalf("read %d bytes at %d of %s: %v", n, off, path, err)
	}
	return b
}

func writeAt(t testing.TB, path string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func flip(t testing.TB, path string, off int64) { flipRange(t, path, off, 1) }

func flipRange(t testing.TB, path string, off int64, n int) {
	t.Helper()
	b := readAt(t, path, off, n)
	for i := range b {
		b[i] ^= 0xff
	}
	writeAt(t, path, off, b)
}

func truncate(t testing.TB, path string, size int64) {
	t.Helper()
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
}

func write(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func remove(t testing.TB, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

// SetSchemaVersion overwrites the schema version in the header of the
// billclock database at path.
func SetSchemaVersion(t testing.TB, path, version string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("billclock")).Put([]byte("schema_version"), []byte(version))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Small writes a small billclock database at path: one account whose
// collection's tree is a branch page over two leaves, and a queue. Fuzz
// tests mutate it.
func Small(t testing.TB, path string) {
	t.Helper()
	db, err := store.Open(path, &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *store.Tx) error {
		acct, err := tx.Account("sk_test_small")
		if err != nil {
			return err
		}
		c, err := acct.Collection("things")
		if err != nil {
			return err
		}
		for i := range 60 {
			id := fmt.Sprintf("thing_%03d", i)
			if err := c.Put(id, int64(1_700_000_000+i), []byte(`{"id":"`+id+`","padding":"0123456789012345678901234567890123456789"}`)); err != nil {
				return err
			}
		}
		q, err := tx.Queue("jobs")
		if err != nil {
			return err
		}
		return q.Put("job", []byte("run"))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// FixMetaChecksums recomputes the checksums of both meta pages of the file
// image b (FNV-64a of the meta fields before the checksum), so that
// changes to the meta fields get past the checksum.
func FixMetaChecksums(b []byte, pageSize int) {
	for _, off := range []int{0, pageSize} {
		if off+80 > len(b) {
			return
		}
		h := fnv.New64a()
		h.Write(b[off+16 : off+72])
		binary.LittleEndian.PutUint64(b[off+72:], h.Sum64())
	}
}
