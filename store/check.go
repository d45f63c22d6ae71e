package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"math/bits"
)

// This file reads a bbolt file with plain, bounds-checked Go, before bbolt
// maps it. bbolt trusts its file: a damaged page makes it index past its
// mmap, follow a cycle, or trip an assertion, and since v1.5.0 rebuilds the
// freelist (NoFreelistSync) and runs tx.Check in goroutines of its own, those
// panics and faults cannot be recovered: they kill the process. So
// everything bbolt will read is checked here first: both meta pages, the file
// size against the high-water mark, every page reachable from the root
// bucket (header, type, bounds, element table, keys in order, each page used
// once), every bucket header, and a persisted freelist.
//
// The layout is bbolt's (go.etcd.io/bbolt v1.5.0, internal/common), all
// little-endian on the machines billclock runs on:
//
//	page header (16 bytes): id uint64, flags uint16, count uint16, overflow uint32
//	meta (after the header): magic uint32, version uint32, pageSize uint32,
//	  flags uint32, root bucket {root pgid, sequence uint64}, freelist pgid,
//	  high-water pgid, txid, checksum (FNV-64a of the meta before it)
//	branch element (16 bytes): pos uint32, ksize uint32, child pgid
//	leaf element (16 bytes): flags uint32, pos uint32, ksize uint32, vsize uint32
//	  (pos counts from the element itself; flags 1 marks a bucket, whose
//	  value is {root pgid, sequence} followed, when root is 0, by an inline page)
//	freelist: count page ids after the header; count 0xFFFF means the first
//	  uint64 holds the real count.
const (
	pageHeaderSize   = 16
	elementSize      = 16
	metaEnd          = pageHeaderSize + 64 // end of the meta fields
	checksumOffset   = pageHeaderSize + 56
	bucketHeaderSize = 16

	flagBranch   = 0x01
	flagLeaf     = 0x02
	flagMeta     = 0x04
	flagFreelist = 0x10

	leafFlagBucket = 0x01

	boltMagic   = 0xED0CDAED
	boltVersion = 2
	noFreelist  = ^uint64(0)

	minPageSize = 1 << 10
	maxPageSize = 1 << 16
	// maxTreeDepth bounds a bucket's B+tree: each branch page holds at least
	// two children, so a real tree never comes near.
	maxTreeDepth = 64
	// maxBucketDepth bounds buckets nested in buckets (billclock nests four).
	maxBucketDepth = 256
)

// damage is a problem found in a database file: Kind is ErrCorrupt or
// ErrNotBillclock.
type damage struct {
	kind error
	msg  string
}

func (d *damage) Error() string { return d.msg }

func damaged(format string, args ...any) *damage {
	return &damage{ErrCorrupt, fmt.Sprintf(format, args...)}
}

func foreign(format string, args ...any) *damage {
	return &damage{ErrNotBillclock, fmt.Sprintf(format, args...)}
}

// meta is one decoded meta page.
type meta struct {
	pageID   uint64
	flags    uint16
	magic    uint32
	version  uint32
	pageSize uint32
	root     uint64
	freelist uint64
	hwm      uint64
	txid     uint64
	checksum uint64
	sum      uint64 // the checksum the fields call for
}

func decodeMeta(b []byte) meta {
	le := binary.LittleEndian
	h := fnv.New64a()
	h.Write(b[pageHeaderSize:checksumOffset])
	return meta{
		pageID:   le.Uint64(b[0:]),
		flags:    le.Uint16(b[8:]),
		magic:    le.Uint32(b[16:]),
		version:  le.Uint32(b[20:]),
		pageSize: le.Uint32(b[24:]),
		root:     le.Uint64(b[32:]),
		freelist: le.Uint64(b[48:]),
		hwm:      le.Uint64(b[56:]),
		txid:     le.Uint64(b[64:]),
		checksum: le.Uint64(b[72:]),
		sum:      h.Sum64(),
	}
}

// intact reports whether m is a meta page bbolt would accept, and why not.
func (m meta) intact() (bool, string) {
	switch {
	case m.magic != boltMagic:
		return false, "no bbolt magic number"
	case m.version != boltVersion:
		return false, fmt.Sprintf("bbolt format version %d, want %d", m.version, boltVersion)
	case m.checksum != m.sum:
		return false, "checksum mismatch"
	}
	return true, ""
}

// problem returns what is wrong with meta page n (0 or 1), or "".
func (m meta) problem(n uint64) string {
	if ok, why := m.intact(); !ok {
		return why
	}
	switch {
	case m.pageID != n || m.flags != flagMeta:
		return fmt.Sprintf("page header says page %d of type %#x", m.pageID, m.flags)
	case m.txid%2 != n:
		// bbolt writes transaction t's meta to page t%2.
		return fmt.Sprintf("transaction %d on the wrong meta page", m.txid)
	case !validPageSize(m.pageSize):
		return fmt.Sprintf("page size %d", m.pageSize)
	case m.root < 2 || m.root >= m.hwm:
		return fmt.Sprintf("root page %d outside the %d pages in use", m.root, m.hwm)
	case m.freelist != noFreelist && (m.freelist < 2 || m.freelist >= m.hwm):
		return fmt.Sprintf("freelist page %d outside the %d pages in use", m.freelist, m.hwm)
	}
	return ""
}

func validPageSize(n uint32) bool {
	return n >= minPageSize && n <= maxPageSize && bits.OnesCount32(n) == 1
}

// fileLayout is what a sound file's structure check found.
type fileLayout struct {
	size     int64
	pageSize int
	pages    uint64 // high-water mark of the last commit
	inUse    int    // pages reachable from the root bucket
	txid     uint64
}

// checkStructure checks the bbolt file of the given size read through r.
// It returns a *damage for a damaged or foreign file, another error when
// reading fails.
func checkStructure(r io.ReaderAt, size int64) (fileLayout, error) {
	c := &checker{r: r, size: size}
	m, err := c.metas()
	if err != nil {
		return fileLayout{}, err
	}
	if err := c.tree(m); err != nil {
		return fileLayout{}, err
	}
	return fileLayout{size: size, pageSize: int(c.ps), pages: c.hwm, inUse: c.inUse, txid: m.txid}, nil
}

// checker walks one file.
type checker struct {
	r     io.ReaderAt
	size  int64
	ps    uint64
	hwm   uint64
	seen  bitset // pages reachable from the root (or holding the freelist)
	inUse int
}

func (c *checker) read(off uint64, n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := c.r.ReadAt(b, int64(off)); err != nil {
		if err == io.EOF {
			return nil, damaged("truncated: %d bytes, cut off before byte %d", c.size, off+uint64(n))
		}
		return nil, err
	}
	return b, nil
}

// metas checks both meta pages and the file size, and returns the meta of
// the last commit. bbolt falls back silently to the other meta page when the
// newer one is damaged, losing the last commit; and it cannot tell a meta
// page restored from an old copy. billclock refuses both: the two meta
// pages must be intact, hold consecutive transactions, and agree.
func (c *checker) metas() (meta, error) {
	if c.size == 0 {
		return meta{}, foreign("empty file (0 bytes)")
	}
	if c.size < metaEnd {
		return meta{}, foreign("%d bytes, too short for a database", c.size)
	}
	b, err := c.read(0, metaEnd)
	if err != nil {
		return meta{}, err
	}
	m0 := decodeMeta(b)
	if ok, _ := m0.intact(); ok && validPageSize(m0.pageSize) {
		c.ps = uint64(m0.pageSize)
	} else {
		// Page 0 is unreadable: find page 1 where bbolt would, at the page
		// sizes it could have been written with.
		sawMagic := m0.magic == boltMagic
		for ps := uint64(minPageSize); ps <= maxPageSize && int64(ps+metaEnd) <= c.size; ps *= 2 {
			b, err := c.read(ps, metaEnd)
			if err != nil {
				return meta{}, err
			}
			m1 := decodeMeta(b)
			sawMagic = sawMagic || m1.magic == boltMagic
			if ok, _ := m1.intact(); ok && uint64(m1.pageSize) == ps {
				c.ps = ps
				break
			}
		}
		if c.ps == 0 {
			if sawMagic {
				return meta{}, damaged("both meta pages are damaged")
			}
			return meta{}, foreign("not a bbolt database (no meta page)")
		}
	}
	if uint64(c.size) < 2*c.ps {
		return meta{}, damaged("truncated: %d bytes, shorter than its two meta pages of %d bytes", c.size, c.ps)
	}
	if b, err = c.read(c.ps, metaEnd); err != nil {
		return meta{}, err
	}
	m1 := decodeMeta(b)

	p0, p1 := m0.problem(0), m1.problem(1)
	switch {
	case p0 != "" && p1 != "":
		return meta{}, damaged("both meta pages are damaged (page 0: %s; page 1: %s)", p0, p1)
	case p0 != "":
		return meta{}, damaged("meta page 0 is damaged (%s): it may have held the last commit, which opening from meta page 1 (transaction %d) would silently lose", p0, m1.txid)
	case p1 != "":
		return meta{}, damaged("meta page 1 is damaged (%s): it may have held the last commit, which opening from meta page 0 (transaction %d) would silently lose", p1, m0.txid)
	}
	newer, older := m0, m1
	if m1.txid > m0.txid {
		newer, older = m1, m0
	}
	switch {
	case m0.pageSize != m1.pageSize:
		return meta{}, damaged("the meta pages disagree on the page size (%d and %d)", m0.pageSize, m1.pageSize)
	case newer.txid-older.txid != 1:
		return meta{}, damaged("the meta pages hold transactions %d and %d, where bbolt keeps the last two: one of them was damaged or restored from an older copy", older.txid, newer.txid)
	case older.hwm > newer.hwm:
		return meta{}, damaged("the meta pages disagree: transaction %d uses %d pages, the later transaction %d only %d", older.txid, older.hwm, newer.txid, newer.hwm)
	}
	c.hwm = newer.hwm
	if c.hwm > uint64(c.size)/c.ps {
		return meta{}, damaged("truncated: %d bytes, but the last commit uses %d pages of %d bytes", c.size, c.hwm, c.ps)
	}
	return newer, nil
}

// tree checks the freelist and every page reachable from the root bucket.
func (c *checker) tree(m meta) error {
	c.seen = newBitset(c.hwm)
	c.seen.set(0)
	c.seen.set(1)
	var freed bitset
	if m.freelist != noFreelist {
		var err error
		if freed, err = c.freelist(m.freelist); err != nil {
			return err
		}
	}
	if err := c.page(m.root, nil, nil, 0, 0); err != nil {
		return err
	}
	if freed == nil {
		return nil
	}
	// With the freelist on disk, bbolt's own check wants every page below
	// the high-water mark either in use or free.
	for id := uint64(2); id < c.hwm; id++ {
		switch {
		case c.seen.has(id) && freed.has(id):
			return damaged("page %d is both in use and on the freelist", id)
		case !c.seen.has(id) && !freed.has(id):
			return damaged("page %d is neither in use nor on the freelist", id)
		}
	}
	return nil
}

// freelist checks the freelist page and returns the pages it frees.
func (c *checker) freelist(id uint64) (bitset, error) {
	buf, err := c.pageBytes(id, "the freelist")
	if err != nil {
		return nil, err
	}
	if flags := binary.LittleEndian.Uint16(buf[8:]); flags != flagFreelist {
		return nil, damaged("page %d: type %#x where the freelist belongs", id, flags)
	}
	idx, count := uint64(0), uint64(binary.LittleEndian.Uint16(buf[10:]))
	if count == 0xFFFF {
		idx, count = 1, binary.LittleEndian.Uint64(buf[pageHeaderSize:])
	}
	if room := uint64(len(buf)-pageHeaderSize) / 8; count > room-idx {
		return nil, damaged("page %d: freelist of %d pages overruns its page", id, count)
	}
	freed := newBitset(c.hwm)
	for i := idx; i < idx+count; i++ {
		f := binary.LittleEndian.Uint64(buf[pageHeaderSize+8*i:])
		switch {
		case f < 2 || f >= c.hwm:
			return nil, damaged("page %d: freelist names page %d, outside the %d pages in use", id, f, c.hwm)
		case freed.has(f):
			return nil, damaged("page %d: freelist names page %d twice", id, f)
		}
		freed.set(f)
	}
	return freed, nil
}

// pageBytes reads page id with its overflow pages, after checking that they
// lie below the high-water mark, carry the right id and are used once.
func (c *checker) pageBytes(id uint64, what string) ([]byte, error) {
	if id < 2 || id >= c.hwm {
		return nil, damaged("%s points at page %d, outside the %d pages in use", what, id, c.hwm)
	}
	buf, err := c.read(id*c.ps, int(c.ps))
	if err != nil {
		return nil, err
	}
	if got := binary.LittleEndian.Uint64(buf); got != id {
		return nil, damaged("page %d: header says page %d", id, got)
	}
	overflow := uint64(binary.LittleEndian.Uint32(buf[12:]))
	if overflow >= c.hwm-id {
		return nil, damaged("page %d: %d overflow pages run past the %d pages in use", id, overflow, c.hwm)
	}
	for p := id; p <= id+overflow; p++ {
		if c.seen.has(p) {
			return nil, damaged("page %d: used twice (reached again from page %d)", p, id)
		}
		c.seen.set(p)
		c.inUse++
	}
	if overflow > 0 {
		rest, err := c.read((id+1)*c.ps, int(overflow*c.ps))
		if err != nil {
			return nil, err
		}
		buf = append(buf, rest...)
	}
	return buf, nil
}

// page checks the subtree at page id; its keys must lie in [lo, hi) (nil:
// unbounded).
func (c *checker) page(id uint64, lo, hi []byte, depth, bucketDepth int) error {
	if depth > maxTreeDepth {
		return damaged("page %d: a tree deeper than %d levels", id, maxTreeDepth)
	}
	buf, err := c.pageBytes(id, "a tree")
	if err != nil {
		return err
	}
	switch flags := binary.LittleEndian.Uint16(buf[8:]); flags {
	case flagLeaf:
		return c.leaf(buf, id, "", lo, hi, bucketDepth)
	case flagBranch:
	default:
		return damaged("page %d: type %#x where a branch or leaf page belongs", id, flags)
	}
	n := int(binary.LittleEndian.Uint16(buf[10:]))
	if n == 0 {
		return damaged("page %d: branch page without children", id)
	}
	keys := make([][]byte, n)
	children := make([]uint64, n)
	for i := range n {
		e, err := element(buf, i, false)
		if err != nil {
			return damaged("page %d: %v", id, err)
		}
		if err := inOrder(e.key, i, keys, lo, hi); err != "" {
			return damaged("page %d: branch key %d %s", id, i, err)
		}
		keys[i], children[i] = e.key, e.child
	}
	for i, child := range children {
		next := hi
		if i+1 < n {
			next = keys[i+1]
		}
		if err := c.page(child, keys[i], next, depth+1, bucketDepth); err != nil {
			return err
		}
	}
	return nil
}

// leaf checks a leaf page and the buckets it holds: page id, or, when
// inline is not empty, the inline page of a bucket it names in page id.
func (c *checker) leaf(buf []byte, id uint64, inline string, lo, hi []byte, bucketDepth int) error {
	where := func() string { return fmt.Sprintf("page %d%s", id, inline) }
	n := int(binary.LittleEndian.Uint16(buf[10:]))
	keys := make([][]byte, n)
	for i := range n {
		e, err := element(buf, i, true)
		if err != nil {
			return damaged("%s: %v", where(), err)
		}
		if err := inOrder(e.key, i, keys, lo, hi); err != "" {
			return damaged("%s: key %d %s", where(), i, err)
		}
		keys[i] = e.key
		switch e.flags {
		case 0:
			continue
		case leafFlagBucket:
		default:
			return damaged("%s: element %d has flags %#x", where(), i, e.flags)
		}
		if bucketDepth >= maxBucketDepth {
			return damaged("%s: buckets nested deeper than %d", where(), maxBucketDepth)
		}
		if len(e.value) < bucketHeaderSize {
			return damaged("%s: bucket %d has a %d-byte header", where(), i, len(e.value))
		}
		if root := binary.LittleEndian.Uint64(e.value); root != 0 {
			if err := c.page(root, nil, nil, 0, bucketDepth+1); err != nil {
				return err
			}
			continue
		}
		ipage := e.value[bucketHeaderSize:]
		if len(ipage) < pageHeaderSize {
			return damaged("%s: inline bucket %d is %d bytes", where(), i, len(e.value))
		}
		if flags := binary.LittleEndian.Uint16(ipage[8:]); flags != flagLeaf {
			return damaged("%s: inline bucket %d has page type %#x", where(), i, flags)
		}
		if err := c.leaf(ipage, id, fmt.Sprintf("%s: inline bucket %d", inline, i), nil, nil, bucketDepth+1); err != nil {
			return err
		}
	}
	return nil
}

// elem is a decoded branch or leaf element.
type elem struct {
	flags uint32
	key   []byte
	value []byte
	child uint64
}

// element decodes element i of the page in buf, checking that it and its
// key and value lie inside the page.
func element(buf []byte, i int, leaf bool) (elem, error) {
	off := pageHeaderSize + i*elementSize
	if off+elementSize > len(buf) {
		return elem{}, fmt.Errorf("element %d lies past the end of the page", i)
	}
	le := binary.LittleEndian
	e := buf[off : off+elementSize]
	var pos, ksize, vsize uint64
	var out elem
	if leaf {
		out.flags = le.Uint32(e[0:])
		pos, ksize, vsize = uint64(le.Uint32(e[4:])), uint64(le.Uint32(e[8:])), uint64(le.Uint32(e[12:]))
	} else {
		pos, ksize, out.child = uint64(le.Uint32(e[0:])), uint64(le.Uint32(e[4:])), le.Uint64(e[8:])
	}
	start := uint64(off) + pos
	if start+ksize+vsize > uint64(len(buf)) {
		return elem{}, fmt.Errorf("element %d's key and value lie past the end of the page", i)
	}
	if ksize == 0 {
		return elem{}, fmt.Errorf("element %d has an empty key", i)
	}
	out.key = buf[start : start+ksize]
	out.value = buf[start+ksize : start+ksize+vsize]
	return out, nil
}

// inOrder checks key i of a page against the keys before it and the
// page's range [lo, hi); it says what is wrong, or "".
func inOrder(key []byte, i int, keys [][]byte, lo, hi []byte) string {
	switch {
	case i > 0 && bytes.Compare(keys[i-1], key) >= 0:
		return "is not after the key before it"
	case i == 0 && lo != nil && bytes.Compare(key, lo) < 0:
		return "sorts before its parent's key"
	case hi != nil && bytes.Compare(key, hi) >= 0:
		return "sorts after its parent's next key"
	}
	return ""
}

// bitset is a set of page ids.
type bitset []uint64

func newBitset(n uint64) bitset { return make(bitset, (n+63)/64) }

func (b bitset) set(i uint64)      { b[i/64] |= 1 << (i % 64) }
func (b bitset) has(i uint64) bool { return b[i/64]&(1<<(i%64)) != 0 }
