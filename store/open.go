package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrCorrupt is returned by Open and Check for a damaged database file:
// truncated, a damaged or stale meta page, a damaged page in a tree, or any
// problem bbolt's own consistency check finds. Nothing is written to it.
var ErrCorrupt = errors.New("store: database file is damaged")

// ErrNotBillclock is returned by Open and Check for a file that is not a
// billclock database: empty, not a bbolt file, or a bbolt file without
// billclock's header.
var ErrNotBillclock = errors.New("store: not a billclock database")

// ErrSchemaVersion is returned by Open and Check for a database whose schema
// version this billclock does not know, such as one written by a newer
// billclock.
var ErrSchemaVersion = errors.New("store: unsupported schema version")

// SchemaVersion is the version of the layout this billclock writes, kept in
// every database's header bucket.
const SchemaVersion = 1

var (
	// bucketHeader marks a billclock database and holds its schema version.
	bucketHeader     = []byte("billclock")
	keySchemaVersion = []byte("schema_version")
)

// noFreelistSync keeps bbolt from writing its freelist at every commit; it
// rebuilds it at open instead, walking the tree in a goroutine that a
// damaged page would crash, which is why it runs only after checkStructure.
// Measured (issue 7): a one-record commit writes 9 pages with it and 10
// without, with the same two fsyncs, so create throughput showed no
// difference beyond noise; the rebuild adds about 0.1 s to opening a 180 MB
// file, which the checks walk in full anyway. A freelist on disk would also
// be one more structure to damage.
const noFreelistSync = true

// errLockTimeout is lockFile's timeout, reported as ErrLocked.
var errLockTimeout = errors.New("lock timeout")

// Summary describes a database that passed its checks.
type Summary struct {
	// Size is the file's size in bytes.
	Size int64
	// PageSize is bbolt's page size. Pages is the last commit's high-water
	// mark (pages in use or free); InUse counts those holding data.
	PageSize int
	Pages    uint64
	InUse    int
	// SchemaVersion is the header's schema version; 0 for a database from
	// before billclock wrote a header (Open adds one).
	SchemaVersion int
	// Accounts counts the accounts (API keys) with data.
	Accounts int
}

// Check runs every check Open runs on the database file at path, but opens
// it read-only: it never creates, upgrades or otherwise writes the file. It
// returns ErrLocked while another process serves from the file.
func Check(path string, opts *Options) (Summary, error) {
	if _, err := os.Stat(path); err != nil {
		return Summary{}, fmt.Errorf("store: check %s: %w", path, errors.Unwrap(err))
	}
	b, s, err := openChecked(path, opts, true)
	if err != nil {
		return Summary{}, err
	}
	return s, b.Close()
}

// openBolt opens the existing database at path for writing after checking
// it (see openChecked), and adds the header to a database from before it.
func openBolt(path string, opts *Options) (*bolt.DB, error) {
	b, s, err := openChecked(path, opts, false)
	if err != nil {
		return nil, err
	}
	if s.SchemaVersion == 0 {
		if err := b.Update(writeHeader); err != nil {
			b.Close()
			return nil, fmt.Errorf("store: add header to %s: %w", path, err)
		}
	}
	return b, nil
}

// initialMmapSize is the address space bbolt maps the file in from the
// start: 1 GiB on 64-bit systems (the file grows only as data is written),
// none on Windows, where mapping grows the file, or where address space is
// short. Without it bbolt maps the file anew each time it outgrows the
// mapping (at each doubling of the file), which waits for every read
// transaction under way to end and copies every node the write
// transaction has changed so far: a large advance paid for that in the
// middle of its work, and a slow reader stalled it.
func initialMmapSize() int {
	if runtime.GOOS == "windows" || strconv.IntSize < 64 {
		return 0
	}
	return 1 << 30
}

// openChecked opens path with bbolt, which runs checkStructure on the file
// under bbolt's lock before it maps it, then runs bbolt's consistency check
// and reads the header. A panic on the way (none is known once the
// structure passed) is reported as damage rather than taking the process
// down.
func openChecked(path string, opts *Options, readOnly bool) (b *bolt.DB, s Summary, err error) {
	if opts == nil {
		opts = &Options{}
	}
	timeout := opts.LockTimeout
	if timeout == 0 {
		timeout = time.Second
	}
	o := &checkingOpener{exclusive: !readOnly, timeout: timeout}
	defer func() {
		if r := recover(); r != nil {
			if b != nil {
				b.Close()
			} else if o.file != nil {
				o.file.Close()
			}
			b, err = nil, fileError(path, damaged("bbolt failed reading it: %v", r))
		}
	}()
	b, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout, NoSync: opts.NoSync,
		NoFreelistSync: noFreelistSync, ReadOnly: readOnly, OpenFile: o.open, InitialMmapSize: initialMmapSize()})
	if err != nil {
		return nil, s, fileError(path, err)
	}
	err = b.View(func(tx *bolt.Tx) error {
		if err := consistencyCheck(tx); err != nil {
			return err
		}
		var err error
		s, err = readHeader(tx)
		return err
	})
	if err != nil {
		b.Close()
		return nil, s, fileError(path, err)
	}
	s.Size, s.PageSize, s.Pages, s.InUse = o.layout.size, o.layout.pageSize, o.layout.pages, o.layout.inUse
	return b, s, nil
}

// fileError names path in err, one line, matching the sentinel errors.
func fileError(path string, err error) error {
	var d *damage
	switch {
	case errors.As(err, &d):
		return fmt.Errorf("%w: %s: %s", d.kind, path, oneLine(d.msg))
	case errors.Is(err, errLockTimeout), errors.Is(err, bolt.ErrTimeout):
		return fmt.Errorf("%w: %s (is another billclock serving from it?)", ErrLocked, path)
	}
	return fmt.Errorf("store: open %s: %w", path, err)
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }

// checkingOpener is bbolt's OpenFile: it opens the file (never creating
// it), locks it as bbolt will, and checks its structure, all before bbolt
// reads a byte of it.
type checkingOpener struct {
	exclusive bool
	timeout   time.Duration
	file      *os.File
	layout    fileLayout
}

func (o *checkingOpener) open(name string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := os.OpenFile(name, flag&^os.O_CREATE, perm)
	if err != nil {
		return nil, err
	}
	if err := lockFile(f, o.exclusive, o.timeout); err != nil {
		f.Close()
		return nil, err
	}
	info, err := f.Stat()
	if err == nil {
		o.layout, err = checkStructure(f, info.Size())
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	o.file = f
	return f, nil
}

// consistencyCheck runs bbolt's tx.Check. It runs in a goroutine of bbolt's
// that recovers its own panics, and checkStructure has already ruled out
// the faults (pages past the map) that a recover cannot catch.
func consistencyCheck(tx *bolt.Tx) error {
	var first error
	n := 0
	for err := range tx.Check(bolt.WithKVStringer(redacted{})) {
		if first == nil {
			first = err
		}
		n++
	}
	switch {
	case n == 1:
		return damaged("bbolt's check: %v", first)
	case n > 1:
		return damaged("bbolt's check: %v (and %d more problems)", first, n-1)
	}
	return nil
}

// redacted shows keys and values in bbolt's check errors by length only:
// account keys are API keys, which must never reach a log.
type redacted struct{}

func (redacted) KeyToString(k []byte) string   { return fmt.Sprintf("<%d bytes>", len(k)) }
func (redacted) ValueToString(v []byte) string { return fmt.Sprintf("<%d bytes>", len(v)) }

// topBuckets are the top-level buckets of every billclock database; before
// the header, they were all there was.
var topBuckets = [][]byte{bucketAccounts, bucketQueues, bucketMeta}

// readHeader checks billclock's header and top-level buckets, and counts the
// accounts.
func readHeader(tx *bolt.Tx) (Summary, error) {
	var s Summary
	if h := tx.Bucket(bucketHeader); h != nil {
		raw := h.Get(keySchemaVersion)
		v, err := strconv.Atoi(string(raw))
		switch {
		case err != nil || v < 1:
			return s, damaged("header holds schema version %q", raw)
		case v > SchemaVersion:
			return s, &damage{ErrSchemaVersion, fmt.Sprintf("schema version %d, and this billclock reads version %d at most: use a newer billclock", v, SchemaVersion)}
		}
		s.SchemaVersion = v
		for _, name := range topBuckets {
			if tx.Bucket(name) == nil {
				return s, damaged("bucket %q is missing", name)
			}
		}
	} else if err := legacyLayout(tx); err != nil {
		return s, err
	}
	err := tx.Bucket(bucketAccounts).ForEachBucket(func([]byte) error { s.Accounts++; return nil })
	return s, err
}

// legacyLayout accepts a database without a header only if it is exactly
// what billclock wrote before the header: the top-level buckets and nothing
// else.
func legacyLayout(tx *bolt.Tx) error {
	var names []string
	other := false
	c := tx.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if len(names) < 5 {
			names = append(names, strconv.Quote(string(k)))
		}
		if v != nil || !isTopBucket(k) {
			other = true
		}
	}
	switch {
	case len(names) == 0:
		return foreign("a bbolt file without billclock's header, holding nothing")
	case other || len(names) != len(topBuckets):
		return foreign("a bbolt file without billclock's header, holding %s", strings.Join(names, ", "))
	}
	return nil
}

func isTopBucket(name []byte) bool {
	for _, b := range topBuckets {
		if string(b) == string(name) {
			return true
		}
	}
	return false
}

// writeHeader creates the top-level buckets and the header of the current
// schema version.
func writeHeader(tx *bolt.Tx) error {
	for _, name := range topBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	h, err := tx.CreateBucketIfNotExists(bucketHeader)
	if err != nil {
		return err
	}
	return h.Put(keySchemaVersion, []byte(strconv.Itoa(SchemaVersion)))
}

// create makes a new database at path with its header. It builds the file
// under a temporary name beside path and links it into place only when it
// is complete, so that a crash never leaves an empty or headerless file at
// path, and a file that appeared at path meanwhile is kept.
func create(path string, opts *Options) error {
	dir, base := filepath.Dir(path), filepath.Base(path)
	f, err := os.CreateTemp(dir, "."+base+".new-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	f.Close()
	defer os.Remove(tmp)
	b, err := bolt.Open(tmp, 0o600, &bolt.Options{NoSync: opts.NoSync, NoFreelistSync: noFreelistSync})
	if err != nil {
		return err
	}
	if err := b.Update(writeHeader); err != nil {
		b.Close()
		return err
	}
	if err := b.Close(); err != nil {
		return err
	}
	if err := os.Link(tmp, path); err != nil && !errors.Is(err, fs.ErrExist) {
		// No hard links on this filesystem (FAT, some network mounts):
		// rename, which could replace a file another billclock created in
		// the same instant.
		if _, serr := os.Stat(path); !errors.Is(serr, fs.ErrNotExist) {
			return nil
		}
		if err := os.Rename(tmp, path); err != nil {
			return err
		}
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() // make the new name durable; not every OS can sync a directory
		d.Close()
	}
	return nil
}
