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

// A clock run, and the clock showing it, encode exactly as json.Marshal
// encodes them, items included (stored as json.Marshal encoded them).
func TestRunEncodesAsJSONMarshal(t *testing.T) {
	item := func(name string) json.RawMessage {
		it := runItem{Kind: kindBillingCycle, Status: itemCompleted, DueAt: 1893456000, SubscriptionID: "sub_1",
			CustomerName: name, InvoiceNumber: "INV-1-0001", InvoiceID: "inv_1", Outcome: "paid", Detail: "The invoice was paid."}
		raw, err := json.Marshal(it.wire())
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	errText := "The run could not be processed."
	finished := iso(1893459600)
	runs := []*runObject{
		{ID: "tcrun_0", Object: "test_clock_run", Status: runPending, StartedAtTime: iso(1893456000),
			TargetTime: iso(1896134400), Items: []json.RawMessage{}, CreatedAt: iso(1893456000)},
		{ID: "tcrun_1", Object: "test_clock_run", Status: runFailed, Error: &errText, EstimatedDeadlineCount: 3,
			CompletedDeadlineCount: 2, FailedDeadlineCount: 1, CompletedAt: &finished,
			Items: []json.RawMessage{item("Ada <Lovelace> & co"), item("Zoë \"Z\" 日本\u2028"), item(`a","items":[],"createdAt":"x`)}},
	}
	for _, r := range runs {
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.encodeJSON()
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("run %s:\n got %s\nwant %s", r.ID, got, want)
		}
		sim := iso(1893456000)
		for _, c := range []clockWithRun{
			{clockObject: &clockObject{Object: "test_clock", SimulatedTime: &sim, IsActive: true, Now: sim}, LatestRun: r},
			{clockObject: &clockObject{Object: "test_clock", Now: sim}},
		} {
			want, err := json.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.encodeJSON()
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("clock:\n got %s\nwant %s", got, want)
			}
		}
	}
}
