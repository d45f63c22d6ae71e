package stripe

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func errorsAs(err error, target any) bool { return errors.As(err, target) }

func paramsOf(t *testing.T, raw string) *params {
	t.Helper()
	f, err := ParseForm(raw)
	require.NoError(t, err)
	return newParams(f)
}

// requireAPIError asserts that err renders as the given Stripe error.
func requireAPIError(t *testing.T, err error, status int, code, param, msg string) {
	t.Helper()
	require.Error(t, err)
	e, ok := apiError(err)
	require.True(t, ok, "not an API error: %v", err)
	assert.Equal(t, status, e.Status)
	assert.Equal(t, code, e.Code)
	assert.Equal(t, param, e.Param)
	assert.Equal(t, msg, e.Message)
}

func TestParamsTyped(t *testing.T) {
	p := paramsOf(t, "n=42&b=true&s=hi&e=month&list[]=x&list[]=y&empty=")
	n, ok := p.int64("n")
	assert.True(t, ok)
	assert.EqualValues(t, 42, n)
	b, ok := p.bool("b")
	assert.True(t, ok && b)
	s, _ := p.str("s")
	assert.Equal(t, "hi", s)
	e, ok := p.enum("e", "day", "month")
	assert.True(t, ok)
	assert.Equal(t, "month", e)
	assert.Equal(t, []string{"x", "y"}, p.strings("list"))
	_, ok = p.str("empty")
	assert.False(t, ok, "an empty value reads as unset")
	assert.True(t, p.present("empty"))
	require.NoError(t, p.check())
}

func TestParamsErrors(t *testing.T) {
	cases := []struct {
		name, raw            string
		read                 func(p *params)
		status               int
		code, param, message string
	}{
		{"missing", "", func(p *params) { p.requiredInt64("frozen_time") },
			400, "parameter_missing", "frozen_time", "Missing required param: frozen_time."},
		{"empty is missing", "frozen_time=", func(p *params) { p.requiredInt64("frozen_time") },
			400, "parameter_missing", "frozen_time", "Missing required param: frozen_time."},
		{"unknown wins over invalid", "frozen_time=abc&foo=1", func(p *params) { p.requiredInt64("frozen_time") },
			400, "parameter_unknown", "foo", "Received unknown parameter: foo"},
		{"bad integer", "frozen_time=abc", func(p *params) { p.requiredInt64("frozen_time") },
			400, "parameter_invalid_integer", "frozen_time", "Invalid integer: abc"},
		{"bad boolean", "b=yes", func(p *params) { p.bool("b") },
			400, "", "b", "Invalid boolean: yes"},
		{"bad enum", "interval=fortnight", func(p *params) { p.enum("interval", "day", "week", "month", "year") },
			400, "", "interval", "Invalid interval: must be one of day, week, month, or year"},
		{"hash for a string", "name[a]=1", func(p *params) { p.str("name") },
			400, "", "name", "Invalid name: must be a string, not a hash."},
		{"limit too high", "limit=101", func(p *params) { pageParams(p) },
			400, "parameter_invalid_integer", "limit", "This value must be less than or equal to 100 (it currently is '101')."},
		{"limit too low", "limit=0", func(p *params) { pageParams(p) },
			400, "parameter_invalid_integer", "limit", "This value must be greater than or equal to 1."},
		{"both cursors", "starting_after=a&ending_before=b", func(p *params) { pageParams(p) },
			400, "", "", "You may only specify one of these parameters: ending_before, starting_after."},
		{"bad expand", "expand[]=nope", func(p *params) { p.expand("customer") },
			400, "", "expand", "This property cannot be expanded (nope)."},
		{"bad range bound", "created[gte]=x", func(p *params) { rangeParam(p, "created") },
			400, "parameter_invalid_integer", "created[gte]", "Invalid integer: x"},
		{"unknown range bound", "created[near]=1", func(p *params) { rangeParam(p, "created") },
			400, "parameter_unknown", "created[near]", "Received unknown parameter: created[near]"},
		{"timestamp past int64 range", "frozen_time=9223372036854775807", func(p *params) { p.requiredTimestamp("frozen_time") },
			400, "", "frozen_time", invalidTimestamp},
		{"timestamp before 1970", "frozen_time=-1", func(p *params) { p.requiredTimestamp("frozen_time") },
			400, "", "frozen_time", invalidTimestamp},
		{"timestamp after 2099", "trial_end=4102444800", func(p *params) { p.timestamp("trial_end") },
			400, "", "trial_end", invalidTimestamp},
		{"timestamp not an integer", "cancel_at=soon", func(p *params) { p.timestamp("cancel_at") },
			400, "parameter_invalid_integer", "cancel_at", "Invalid integer: soon"},
		{"range bound out of range", "created[gte]=0&created[lte]=99999999999", func(p *params) { rangeParam(p, "created") },
			400, "", "created[lte]", invalidTimestamp},
		{"range value out of range", "created=-86400", func(p *params) { rangeParam(p, "created") },
			400, "", "created", invalidTimestamp},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := paramsOf(t, tc.raw)
			tc.read(p)
			requireAPIError(t, p.check(), tc.status, tc.code, tc.param, tc.message)
		})
	}
}

const invalidTimestamp = "Invalid timestamp: must be an integer Unix timestamp from 0 (1970-01-01 00:00:00 UTC) " +
	"to 4102444799 (2099-12-31 23:59:59 UTC)."

func TestTimestampBounds(t *testing.T) {
	p := paramsOf(t, "a=0&b=4102444799&c=1732320000&created[gt]=0&created[lte]=4102444799")
	for name, want := range map[string]int64{"a": 0, "b": 4102444799, "c": 1732320000} {
		got, ok := p.timestamp(name)
		assert.True(t, ok, name)
		assert.Equal(t, want, got, name)
	}
	f := rangeParam(p, "created")
	require.NoError(t, p.check())
	assert.True(t, f.match(4102444799))
	assert.False(t, f.match(0))
}

// TestExpansionsNameTheFirstBadPath: with several paths that cannot be
// expanded, the error names the first one sent, every time (it used to
// depend on map order; FuzzParseForm found it).
func TestExpansionsNameTheFirstBadPath(t *testing.T) {
	for range 50 {
		p := paramsOf(t, "expand[]=nope&expand[]=data.customer&expand[]=also_nope&expand[]=nope")
		set, err := p.expansions("customer")
		requireAPIError(t, err, 400, "", "expand", "This property cannot be expanded (nope).")
		assert.Equal(t, map[string]bool{"nope": true, "customer": true, "also_nope": true}, set)
	}
}

func TestPageParams(t *testing.T) {
	p := paramsOf(t, "limit=5&starting_after=clock_1")
	pg := pageParams(p)
	require.NoError(t, p.check())
	assert.Equal(t, 5, pg.Limit)
	assert.Equal(t, "clock_1", pg.StartingAfter)
	p = paramsOf(t, "")
	assert.Equal(t, defaultListLimit, pageParams(p).Limit)
}

func TestRangeFilter(t *testing.T) {
	p := paramsOf(t, "created[gte]=10&created[lt]=20")
	f := rangeParam(p, "created")
	require.NoError(t, p.check())
	assert.False(t, f.match(9))
	assert.True(t, f.match(10))
	assert.True(t, f.match(19))
	assert.False(t, f.match(20))
	p = paramsOf(t, "created=15")
	f = rangeParam(p, "created")
	assert.True(t, f.match(15))
	assert.False(t, f.match(16))
	assert.True(t, rangeFilter{}.match(123))
}

func TestMaskKey(t *testing.T) {
	assert.Equal(t, "sk_test_****abcd", maskKey("sk_test_123456789abcd"))
	assert.Equal(t, "sk_live_****wxyz", maskKey("sk_live_0000wxyz"))
	assert.Equal(t, "****", maskKey("abc"))
	assert.Equal(t, "****oops", maskKey("whoops"))
}

func TestParamsSubHash(t *testing.T) {
	p := paramsOf(t, "recurring[interval]=month&recurring[extra]=1&plain=x")
	rec, ok := p.sub("recurring")
	require.True(t, ok)
	v, _ := rec.enum("recurring[interval]", "day", "month")
	assert.Equal(t, "month", v)
	p.str("plain")
	require.NoError(t, p.check(), "the hash itself counts as read")
	p.fail(rec.check())
	requireAPIError(t, p.check(), 400, "parameter_unknown", "recurring[extra]", "Received unknown parameter: recurring[extra]")

	p = paramsOf(t, "recurring=&name=&desc=")
	_, ok = p.sub("recurring")
	assert.False(t, ok, "an empty hash reads as unset")
	assert.Nil(t, p.clearable("missing"))
	assert.Equal(t, "", *p.clearable("desc"), "sent empty: clear")
	p.cannotUnset("name")
	p.str("name")
	requireAPIError(t, p.check(), 400, "", "name", "You passed an empty string for 'name'. We assume empty values are an attempt "+
		"to unset a parameter; however 'name' cannot be unset. You should remove 'name' from your request or supply a non-empty value.")

	p = paramsOf(t, "recurring=month")
	p.sub("recurring")
	requireAPIError(t, p.check(), 400, "", "recurring", "Invalid recurring: must be a hash.")
}

// TestAuthenticateKeyShape: a key that is not printable ASCII, or is longer
// than 255 bytes, gets Stripe's 401 whichever way it is sent, and the
// message shows no byte of it that is not printable.
func TestAuthenticateKeyShape(t *testing.T) {
	s := &Surface{}
	long := "sk_test_" + strings.Repeat("k", 248) // 256 bytes
	cases := []struct {
		name, key, masked string
	}{
		{"invalid UTF-8", "sk_test_abc\xff\xfe", "sk_test_****"},
		{"valid UTF-8 but not ASCII", "sk_test_clé_secrète", "sk_test_****"},
		{"control character", "sk_test_ab\x01cdef", "sk_test_****cdef"},
		{"space inside", "sk_test_ab cdef", "sk_test_****cdef"},
		{"DEL", "sk_test_abcd\x7f", "sk_test_****"},
		{"too long", long, "sk_test_****kkkk"},
	}
	for _, tc := range cases {
		for _, header := range []string{"Bearer " + tc.key, "Basic " + base64.StdEncoding.EncodeToString([]byte(tc.key+":"))} {
			scheme, _, _ := strings.Cut(header, " ")
			t.Run(tc.name+" "+scheme, func(t *testing.T) {
				r, _ := http.NewRequest(http.MethodGet, "/v1/events", nil)
				r.Header.Set("Authorization", header)
				account, err := s.authenticate(r)
				assert.Empty(t, account)
				requireAPIError(t, err, http.StatusUnauthorized, "", "", "Invalid API Key provided: "+tc.masked)
			})
		}
	}
	r, _ := http.NewRequest(http.MethodGet, "/v1/events", nil)
	r.Header.Set("Authorization", "Bearer "+long[:255])
	account, err := s.authenticate(r)
	require.NoError(t, err, "255 bytes is the limit, not over it")
	assert.Equal(t, long[:255], account)

	// A Basic header that is not base64 is echoed masked, and safely.
	r.Header.Set("Authorization", "Basic !!\x80\x81\x82\x83")
	_, err = s.authenticate(r)
	requireAPIError(t, err, http.StatusUnauthorized, "", "", "Invalid API Key provided: ****")
}

// printableASCII reports whether every byte of s is in 0x20..0x7E.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// FuzzAuthenticate: any Authorization header gives a test-mode account or a
// Stripe error, never a panic or an account for a key of another kind. An
// accepted key is printable ASCII of at most 255 bytes; an error's message
// is printable ASCII whatever the header held.
func FuzzAuthenticate(f *testing.F) {
	for _, h := range []string{"", "Bearer sk_test_123", "Basic c2tfdGVzdF8xMjM6", "Basic !!!", "Bearer sk_live_1",
		"Bearer pk_test_1", "Token x", "Bearer ", "Basic OnBhc3M="} {
		f.Add(h)
	}
	s := &Surface{}
	f.Fuzz(func(t *testing.T, header string) {
		r, _ := http.NewRequest(http.MethodGet, "/v1/events", nil)
		r.Header.Set("Authorization", header)
		account, err := s.authenticate(r)
		if err != nil {
			e, ok := apiError(err)
			if !ok {
				t.Fatalf("authenticate(%q): not an API error: %v", header, err)
			}
			if e.Status != http.StatusUnauthorized && e.Status != http.StatusBadRequest {
				t.Fatalf("authenticate(%q): status %d", header, e.Status)
			}
			if !printableASCII(e.Message) {
				t.Fatalf("authenticate(%q): message %q echoes unprintable bytes", header, e.Message)
			}
			return
		}
		if !strings.HasPrefix(account, "sk_test_") && !strings.HasPrefix(account, "rk_test_") {
			t.Fatalf("authenticate(%q) accepted %q", header, account)
		}
		if len(account) > 255 || !printableASCII(account) || strings.Contains(account, " ") {
			t.Fatalf("authenticate(%q) accepted %q, which is not a key of printable ASCII up to 255 bytes", header, account)
		}
	})
}

// TestNestErrorNamesNestedParams checks that errors of a hash's parameters name them within
// the hash, in param and message, without touching words that merely
// contain the name.
func TestNestErrorNamesNestedParams(t *testing.T) {
	for _, c := range [][3]string{
		{"id", "Invalid integer: id", "Invalid integer: items[0][id]"},
		{"id", "Invalid value", "Invalid value"},
		{"price_data[recurring]", "Missing required param: price_data[recurring].", "Missing required param: items[0][price_data][recurring]."},
		{"quantity", "Received unknown parameter: quantity", "Received unknown parameter: items[0][quantity]"},
		// A name that is not UTF-8 (FuzzAPI found it made a 500).
		{"pr\x80x", "Received unknown parameter: pr\x80x", "Received unknown parameter: items[0][pr\x80x]"},
		// Where a name stands alone is judged in the whole message.
		{"id", "idid id", "idid items[0][id]"},
	} {
		e := nestError("items[0]", invalid(c[0], "%s", c[1])).(*Error)
		if e.Message != c[2] {
			t.Errorf("%q -> %q", c[1], e.Message)
		}
	}
}
