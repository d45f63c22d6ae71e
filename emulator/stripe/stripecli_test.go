package stripe

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cliMessageFixture reads a message of testdata/stripecli with its
// placeholders filled in.
func cliMessageFixture(t testing.TB, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "stripecli", name))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(strings.NewReplacer("<webhook_conversation_id>", "wc_1", "<webhook_id>", "we_1",
		"<event_id>", "evt_1").Replace(string(raw)))
}

func TestDecodeCLIMessage(t *testing.T) {
	tests := []struct {
		name    string
		data    []byte
		want    *CLIMessage
		wantErr string
	}{
		{name: "event_ack", data: cliMessageFixture(t, "event_ack.json"),
			want: &CLIMessage{Type: "event_ack", WebhookID: "we_1", WebhookConversationID: "wc_1", EventID: "evt_1"}},
		{name: "webhook_response", data: cliMessageFixture(t, "webhook_response.json"),
			want: &CLIMessage{Type: "webhook_response", WebhookID: "we_1", WebhookConversationID: "wc_1", EventID: "evt_1",
				ForwardURL: "http://localhost:4242/webhook", Status: 200}},
		{name: "unknown type", data: []byte(`{"type":"request_log_event","webhook_conversation_id":"wc_1"}`), wantErr: "unknown message type"},
		{name: "no conversation", data: []byte(`{"type":"event_ack","event_id":"evt_1"}`), wantErr: "without webhook_conversation_id"},
		{name: "not JSON", data: []byte(`{"type":`), wantErr: "malformed"},
		{name: "wrong types", data: []byte(`{"type":"webhook_response","status":"200","webhook_conversation_id":"wc_1"}`), wantErr: "malformed"},
		{name: "null", data: []byte(`null`), wantErr: "unknown message type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeCLIMessage(tt.data)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *got != *tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// FuzzDecodeCLIMessage: whatever a websocket client sends, the decoder
// answers a message or an error, never panics, and a message it accepts
// is an ack or a response of a sending it names.
func FuzzDecodeCLIMessage(f *testing.F) {
	f.Add(cliMessageFixture(f, "event_ack.json"))
	f.Add(cliMessageFixture(f, "webhook_response.json"))
	f.Add([]byte(`{"type":"event_ack","webhook_conversation_id":"wc_1","event_id":null}`))
	f.Add([]byte(`{"type":"webhook_response","status":1e400,"webhook_conversation_id":"x"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeCLIMessage(data)
		if err != nil {
			if m != nil {
				t.Fatalf("a message and an error: %+v, %v", m, err)
			}
			return
		}
		if m.Type != CLIEventAckType && m.Type != CLIWebhookResponseType || m.WebhookConversationID == "" {
			t.Fatalf("accepted %+v from %q", m, data)
		}
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
	})
}
