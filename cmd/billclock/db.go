package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/billclock/billclock/store"
)

// newDBCommand is `billclock db`: work on a database file directly, while
// no server uses it.
func newDBCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Check a billclock database file",
		RunE:  runGroup,
	}
	cmd.AddCommand(newDBCheckCommand())
	return cmd
}

// newDBCheckCommand is `billclock db check FILE`: the checks serve runs on
// its database, without serving and without writing to the file.
func newDBCheckCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "check FILE",
		Short: "Check a database file as serve would, without serving or changing it",
		Long: "Check a database file as serve does before it serves: bbolt's meta pages, the file size,\n" +
			"every page in use, bbolt's own consistency check and billclock's header. Prints ok and a\n" +
			"summary, or the problem (exit status 1). It never creates or writes the file, and fails\n" +
			"while a server holds it.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			s, err := store.Check(path, nil)
			if err != nil {
				return err
			}
			version := fmt.Sprintf("schema version %d", s.SchemaVersion)
			if s.SchemaVersion == 0 {
				version = "no schema version yet (written before billclock kept one; serve adds it)"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ok: %s: %d bytes, %d pages of %d bytes (%d in use), %s, %s\n",
				path, s.Size, s.Pages, s.PageSize, s.InUse, version, plural(s.Accounts, "account"))
			return nil
		},
	}
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
