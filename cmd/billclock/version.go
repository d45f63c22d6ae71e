package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// buildVersion is the running binary's version line.
func buildVersion() string {
	info, _ := debug.ReadBuildInfo()
	return formatVersion(info)
}

// formatVersion names the module version and the commit a binary was built
// from, as the Go toolchain recorded them (go build and go install in a git
// checkout record vcs.revision and vcs.modified; go run and go test do not):
// "billclock v1.2.3 (commit 5db9…, modified)", "(devel)" and "commit
// unknown" where nothing was recorded.
func formatVersion(info *debug.BuildInfo) string {
	version, commit, modified := "(devel)", "unknown", false
	if info != nil {
		if info.Main.Version != "" {
			version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if modified {
		commit += ", modified"
	}
	return fmt.Sprintf("billclock %s (commit %s)", version, commit)
}

// newVersionCommand is `billclock version`, the same as --version.
func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print billclock's version and the commit it was built from",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), buildVersion())
			return err
		},
	}
}
