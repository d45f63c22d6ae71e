package commet

import (
	"encoding/json"
	"testing"
)

// encodeData must encode an event's data exactly as json.Marshal does,
// whatever the strings hold (names and emails are the user's).
func TestEncodeDataIsJSONMarshal(t *testing.T) {
	for _, data := range []map[string]any{
		{},
		{"b": "x", "a": nil, "c": int64(-12), "d": 7, "e": true, "f": false},
		{"fullName": `Ada "the" <Countess> & co\`, "email": "ada\u2028@example.test", "note": "tab\there\nnew\x00\x7f"},
		{"name": "Zoë Ünicode 日本", "bad": "\xff\xfe", "emoji": "🙂"},
		{"nested": map[string]any{"z": 1, "a": []int{1, 2}}, "float": 1.5, "big": 1e21},
		{"Key": 1, "key": 2, "kéy": 3, "<k>": 4},
	} {
		want, err := json.Marshal(data)
		if err != nil {
			t.Fatal(err)
		}
		got, err := encodeData(data)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("encodeData(%v)\n got %s\nwant %s", data, got, want)
		}
	}
}
