package main

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseTimestamp(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{in: "1732320000", want: 1732320000},
		{in: "0", want: 0},
		{in: "-86400", want: -86400},
		{in: "2024-11-23T00:00:00Z", want: 1732320000},
		{in: "2024-11-23T01:00:00+01:00", want: 1732320000},
		{in: "2024-11-23T00:00:00.9Z", want: 1732320000},
		{in: "", wantErr: true},
		{in: "now", wantErr: true},
		{in: "2024-11-23", wantErr: true},
		{in: "2024-11-23 00:00:00", wantErr: true},
		{in: "1732320000.5", wantErr: true},
		{in: "99999999999999999999", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseTimestamp(tt.in)
		if tt.wantErr {
			if err == nil || !strings.Contains(err.Error(), "Unix seconds or RFC 3339") {
				t.Errorf("parseTimestamp(%q) = %d, %v; want a helpful error", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("parseTimestamp(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestAddDataParams(t *testing.T) {
	tests := []struct {
		name    string
		start   url.Values
		data    []string
		want    url.Values
		wantErr string
	}{
		{name: "none", start: url.Values{}, want: url.Values{}},
		{name: "simple", start: url.Values{}, data: []string{"name=x"}, want: url.Values{"name": {"x"}}},
		{name: "value with =", start: url.Values{}, data: []string{"metadata[q]=a=b"},
			want: url.Values{"metadata[q]": {"a=b"}}},
		{name: "empty value clears", start: url.Values{}, data: []string{"description="},
			want: url.Values{"description": {""}}},
		{name: "repeated keys are kept in order", start: url.Values{}, data: []string{"expand[]=a", "expand[]=b"},
			want: url.Values{"expand[]": {"a", "b"}}},
		{name: "adds to flag params", start: url.Values{"frozen_time": {"1"}}, data: []string{"frozen_time=2", "name=n"},
			want: url.Values{"frozen_time": {"1", "2"}, "name": {"n"}}},
		{name: "no =", start: url.Values{}, data: []string{"name"}, wantErr: `invalid -d "name": want key=value`},
		{name: "empty key", start: url.Values{}, data: []string{"=x"}, wantErr: `invalid -d "=x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := addDataParams(tt.start, tt.data)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.start.Encode() != tt.want.Encode() {
				t.Errorf("got %v, want %v", tt.start, tt.want)
			}
		})
	}
}

func TestProgressWriter(t *testing.T) {
	if w := progressWriter(&strings.Builder{}); w != nil {
		t.Errorf("progressWriter(buffer) = %v, want nil", w)
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if w := progressWriter(f); w != nil {
		t.Errorf("progressWriter(regular file) = %v, want nil", w)
	}
	if w := progressWriter(&fakeTerminal{}); w == nil {
		t.Error("progressWriter(terminal) = nil")
	}
}
