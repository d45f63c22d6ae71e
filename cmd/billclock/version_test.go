package main

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestFormatVersion(t *testing.T) {
	settings := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	const rev = "5db9cd8c0ffee0123456789abcdef0123456789a"
	tests := []struct {
		name string
		info *debug.BuildInfo
		want string
	}{
		{"no build info", nil, "billclock (devel) (commit unknown)"},
		{"go build in a clean checkout", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261130022500-5db9cd8c0ffe"},
			Settings: settings("vcs", "git", "vcs.revision", rev, "vcs.modified", "false")},
			"billclock v0.0.0-20261130022500-5db9cd8c0ffe (commit " + rev + ")"},
		{"uncommitted changes", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261130022500-5db9cd8c0ffe+dirty"},
			Settings: settings("vcs.revision", rev, "vcs.modified", "true")},
			"billclock v0.0.0-20261130022500-5db9cd8c0ffe+dirty (commit " + rev + ", modified)"},
		{"a release", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}, Settings: settings("vcs.revision", rev)},
			"billclock v1.2.3 (commit " + rev + ")"},
		{"go test, or -buildvcs=false", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "billclock (devel) (commit unknown)"},
		{"no version", &debug.BuildInfo{Settings: settings("vcs.revision", rev)}, "billclock (devel) (commit " + rev + ")"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := formatVersion(tt.info); got != tt.want {
				t.Errorf("formatVersion = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestVersionFlag runs the real root command: --version prints the
// version of the running binary (a test binary has no commit) and exits 0
// without contacting a server.
func TestVersionFlag(t *testing.T) {
	info, _ := debug.ReadBuildInfo()
	want := formatVersion(info) + "\n"
	for _, args := range [][]string{{"--version"}, {"version"}} {
		stdout, stderr, err := runCLI(t, map[string]string{"BILLCLOCK_API_BASE": "http://127.0.0.1:1"}, args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if stdout != want || stderr != "" {
			t.Errorf("%v: stdout %q, stderr %q; want %q", args, stdout, stderr, want)
		}
		if !strings.HasPrefix(stdout, "billclock ") || !strings.Contains(stdout, "(commit ") {
			t.Errorf("%v: %q does not name the version and commit", args, stdout)
		}
	}
}
