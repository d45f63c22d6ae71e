package clockwork

import (
	"crypto/rand"
	"time"
)

// IDAlphabet is the alphabet of the ids and secrets billclock makes: base62.
const IDAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// idTimeChars is how many leading characters of an id encode the wall
// time in microseconds (62^9 µs is over 400 years).
const idTimeChars = 9

// NewSecret returns prefix followed by n random base62 characters.
func NewSecret(prefix string, n int) string {
	buf := make([]byte, len(prefix)+n)
	copy(buf, prefix)
	randomChars(buf[len(prefix):])
	return string(buf)
}

func randomChars(r []byte) {
	rand.Read(r)
	for i, b := range r {
		r[i] = IDAlphabet[int(b)%len(IDAlphabet)]
	}
}

// NewID returns prefix followed by n base62 characters: the wall time in
// microseconds, then random ones (at least 5). Like Stripe's, ids made
// together sort together, so the objects of one transaction are stored
// side by side: random keys would dirty one database page per new record
// and make a large clock advance write (and hold in memory) several times
// more pages. Dialects build their id schemes on it.
func NewID(prefix string, n int) string {
	buf := make([]byte, len(prefix)+n)
	copy(buf, prefix)
	r := buf[len(prefix):]
	randomChars(r)
	t := uint64(time.Now().UnixMicro())
	for i := min(idTimeChars, n-5) - 1; i >= 0; i-- {
		r[i] = IDAlphabet[t%uint64(len(IDAlphabet))]
		t /= uint64(len(IDAlphabet))
	}
	return string(buf)
}
