package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// isTerminal reports whether w is a terminal, where a person reads: tables
// and progress are for people, JSON for pipes, files and programs. A
// writer may say itself whether it is one (as tests' stand-in for a
// screen does); a file is asked its mode.
func isTerminal(w io.Writer) bool {
	if t, ok := w.(interface{ IsTerminal() bool }); ok {
		return t.IsTerminal()
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// column is one column of a list's table: its header and how to show an
// object's value.
type column struct {
	header string
	value  func(obj map[string]any) string
}

// listTable is how a list command shows its objects on a terminal.
type listTable struct {
	// none is said of an empty list: "No test clocks."
	none    string
	columns []column
}

// listOutput is the --json flag of list commands.
type listOutput struct{ json bool }

// AddFlags registers --json.
func (o *listOutput) AddFlags(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&o.json, "json", false, "print the API's JSON, also on a terminal (it is printed when the output is not one)")
}

// print writes a list answer: a table on a terminal, the JSON itself with
// --json or when the output is not a terminal.
func (o listOutput) print(cmd *cobra.Command, raw []byte, table listTable) error {
	out := cmd.OutOrStdout()
	if o.json || !isTerminal(out) {
		return printJSON(out, raw)
	}
	var list struct {
		Data    []map[string]any `json:"data"`
		HasMore bool             `json:"has_more"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return printJSON(out, raw)
	}
	if len(list.Data) == 0 {
		_, err := fmt.Fprintln(out, table.none)
		return err
	}
	rows := [][]string{make([]string, len(table.columns))}
	for i, c := range table.columns {
		rows[0][i] = c.header
	}
	for _, obj := range list.Data {
		row := make([]string, len(table.columns))
		for i, c := range table.columns {
			row[i] = c.value(obj)
		}
		rows = append(rows, row)
	}
	var b strings.Builder
	writeTable(&b, rows)
	if list.HasMore {
		fmt.Fprintf(&b, "(more: --starting-after %s)\n", str(list.Data[len(list.Data)-1], "id"))
	}
	_, err := io.WriteString(out, b.String())
	return err
}

// writeTable writes rows in columns two spaces apart, with no trailing
// spaces. Widths count characters, not bytes.
func writeTable(b *strings.Builder, rows [][]string) {
	var widths []int
	for _, row := range rows {
		for i, cell := range row {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], len([]rune(cell)))
		}
	}
	for _, row := range rows {
		var line strings.Builder
		for i, cell := range row {
			line.WriteString(cell)
			if i < len(row)-1 {
				line.WriteString(strings.Repeat(" ", widths[i]-len([]rune(cell))+2))
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
}

// str is obj's string field key, or "".
func str(obj map[string]any, key string) string {
	s, _ := obj[key].(string)
	return s
}

// unixTime shows obj's Unix time field key in RFC 3339, UTC; "" if absent.
func unixTime(obj map[string]any, key string) string {
	n, ok := obj[key].(float64)
	if !ok {
		return ""
	}
	return time.Unix(int64(n), 0).UTC().Format(time.RFC3339)
}

// field is a column showing obj's string field key.
func field(header, key string) column {
	return column{header, func(obj map[string]any) string { return str(obj, key) }}
}

// timeField is a column showing obj's Unix time field key.
func timeField(header, key string) column {
	return column{header, func(obj map[string]any) string { return unixTime(obj, key) }}
}

// clockTable shows test clocks: the target of an advance under way, and
// the name last since it may be long.
func clockTable() listTable {
	return listTable{none: "No test clocks.", columns: []column{
		field("ID", "id"),
		field("STATUS", "status"),
		timeField("FROZEN TIME", "frozen_time"),
		{"TARGET", func(obj map[string]any) string {
			details, _ := obj["status_details"].(map[string]any)
			advancing, _ := details["advancing"].(map[string]any)
			return unixTime(advancing, "target_frozen_time")
		}},
		field("NAME", "name"),
	}}
}

// eventTable shows events: created is in the clock's time for objects on
// a test clock, OBJECT is the id of the object the event is about.
func eventTable() listTable {
	return listTable{none: "No events.", columns: []column{
		field("ID", "id"),
		timeField("CREATED", "created"),
		field("TYPE", "type"),
		{"OBJECT", func(obj map[string]any) string {
			data, _ := obj["data"].(map[string]any)
			o, _ := data["object"].(map[string]any)
			return str(o, "id")
		}},
	}}
}
