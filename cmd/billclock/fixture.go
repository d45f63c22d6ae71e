package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

// fixtureFile is a scenario in the Stripe CLI's fixture format.
type fixtureFile struct {
	Meta struct {
		TemplateVersion int `json:"template_version"`
	} `json:"_meta"`
	Steps []fixtureStep `json:"fixtures"`
}

// fixtureStep is one API request of a fixture.
type fixtureStep struct {
	Name   string         `json:"name"`
	Path   string         `json:"path"`
	Method string         `json:"method"`
	Params map[string]any `json:"params"`
	// ExpectedErrorType lets a step fail with this API error type (e.g.
	// card_error) without failing the fixture.
	ExpectedErrorType string `json:"expected_error_type"`
}

// supportedFixtureVersion is the highest _meta.template_version we run.
const supportedFixtureVersion = 0

// parseFixture decodes a fixture file. Numbers are kept as written, so
// 1732320000 is sent as such and not as 1.73232e+09.
func parseFixture(raw []byte) (*fixtureFile, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var f fixtureFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("invalid fixture: %w", err)
	}
	if f.Meta.TemplateVersion > supportedFixtureVersion {
		return nil, fmt.Errorf("fixture template_version %d is not supported (at most %d)",
			f.Meta.TemplateVersion, supportedFixtureVersion)
	}
	if len(f.Steps) == 0 {
		return nil, errors.New(`invalid fixture: no steps in "fixtures"`)
	}
	for i, s := range f.Steps {
		if s.Name == "" {
			return nil, fmt.Errorf("invalid fixture: step %d has no name", i+1)
		}
		if !strings.HasPrefix(s.Path, "/") {
			return nil, fmt.Errorf("invalid fixture: step %s: path %q must start with /", s.Name, s.Path)
		}
		switch strings.ToUpper(s.Method) {
		case http.MethodGet, http.MethodPost, http.MethodDelete:
		default:
			return nil, fmt.Errorf("invalid fixture: step %s: method %q is not get, post or delete", s.Name, s.Method)
		}
	}
	return &f, nil
}

// fixtureRunner runs fixtures against a billclock server.
type fixtureRunner struct {
	client *apiClient
	getenv getenvFunc
	out    io.Writer
	// responses holds each step's decoded answer, by step name.
	responses map[string]any
}

// run runs f's steps in order, each after the one before has answered.
// Then, or when a step fails, it lists the objects the steps answered, one
// line each: step name, object type, id.
func (r *fixtureRunner) run(ctx context.Context, f *fixtureFile) error {
	if r.responses == nil {
		r.responses = map[string]any{}
	}
	var made [][]string
	defer func() {
		var b strings.Builder
		writeTable(&b, made)
		io.WriteString(r.out, b.String())
	}()
	for _, s := range f.Steps {
		fmt.Fprintf(r.out, "Setting up fixture for: %s\n", s.Name)
		path, err := r.resolve(s.Path)
		if err != nil {
			return fmt.Errorf("fixture %s: path: %w", s.Name, err)
		}
		params := url.Values{}
		if err := r.encodeParams(params, "", s.Params); err != nil {
			return fmt.Errorf("fixture %s: %w", s.Name, err)
		}
		raw, err := r.client.do(ctx, strings.ToUpper(s.Method), path, params)
		var apiErr *apiError
		if err != nil && s.ExpectedErrorType != "" && errors.As(err, &apiErr) && apiErr.Type == s.ExpectedErrorType {
			r.responses[s.Name] = nil
			for _, kept := range []objectRef{apiErr.PaymentIntent, apiErr.SetupIntent} {
				if kept.ID != "" && kept.Object != "" {
					made = append(made, []string{s.Name, kept.Object, kept.ID}) // a declined payment or setup is kept
				}
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("fixture %s: %w", s.Name, err)
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var resp any
		if err := dec.Decode(&resp); err != nil {
			return fmt.Errorf("fixture %s: decode answer: %w", s.Name, err)
		}
		r.responses[s.Name] = resp
		if obj, ok := resp.(map[string]any); ok {
			id, _ := obj["id"].(string)
			typ, _ := obj["object"].(string)
			if id != "" && typ != "" {
				made = append(made, []string{s.Name, typ, id})
			}
		}
	}
	return nil
}

// encodeParams adds v under key to params in Stripe's form encoding: maps
// as key[sub], arrays as key[0], key[1]... Null leaves are left out.
func (r *fixtureRunner) encodeParams(params url.Values, key string, v any) error {
	switch v := v.(type) {
	case nil:
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			sub := k
			if key != "" {
				sub = key + "[" + k + "]"
			}
			if err := r.encodeParams(params, sub, v[k]); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range v {
			if err := r.encodeParams(params, key+"["+strconv.Itoa(i)+"]", e); err != nil {
				return err
			}
		}
	case string:
		s, err := r.resolve(v)
		if err != nil {
			return fmt.Errorf("param %s: %w", key, err)
		}
		params.Add(key, s)
	case json.Number:
		params.Add(key, v.String())
	case bool:
		params.Add(key, strconv.FormatBool(v))
	default:
		return fmt.Errorf("param %s: unsupported value %v (%T)", key, v, v)
	}
	return nil
}

// fixtureQuery is a reference to an earlier answer: ${name:json.path}, or
// ${name:json.path|default}. ${.env:VAR} reads an environment variable.
var fixtureQuery = regexp.MustCompile(`\$\{([^:|}]+):([^|}]+)(?:\|([^}]*))?\}`)

// resolve replaces every reference in s by its value.
func (r *fixtureRunner) resolve(s string) (string, error) {
	var firstErr error
	out := fixtureQuery.ReplaceAllStringFunc(s, func(m string) string {
		sub := fixtureQuery.FindStringSubmatch(m)
		name, path, def := sub[1], sub[2], sub[3]
		hasDefault := strings.Contains(m, "|")
		v, err := r.lookup(name, path)
		if err != nil {
			if hasDefault {
				return def
			}
			if firstErr == nil {
				firstErr = fmt.Errorf("%s: %w", m, err)
			}
			return m
		}
		return v
	})
	return out, firstErr
}

// lookup reads path (dots and [n] indexes: items.data.0.id or
// items.data[0].id) in the answer of step name.
func (r *fixtureRunner) lookup(name, path string) (string, error) {
	if name == ".env" {
		if v := r.getenv(path); v != "" {
			return v, nil
		}
		return "", fmt.Errorf("environment variable %s is not set", path)
	}
	cur, ok := r.responses[name]
	if !ok {
		return "", fmt.Errorf("no earlier step named %q", name)
	}
	for _, seg := range splitFixturePath(path) {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[seg]
			if !ok {
				return "", fmt.Errorf("%s has no field %q", name, path)
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(c) {
				return "", fmt.Errorf("%s has no element %q in %q", name, seg, path)
			}
			cur = c[i]
		default:
			return "", fmt.Errorf("%s has no field %q", name, path)
		}
	}
	switch v := cur.(type) {
	case string:
		return v, nil
	case json.Number:
		return v.String(), nil
	case bool:
		return strconv.FormatBool(v), nil
	case nil:
		return "", fmt.Errorf("%s.%s is null", name, path)
	default:
		return "", fmt.Errorf("%s.%s is not a single value", name, path)
	}
}

// splitFixturePath turns "items.data[0].id" into [items data 0 id].
func splitFixturePath(path string) []string {
	path = strings.NewReplacer("[", ".", "]", "").Replace(path)
	var segs []string
	for s := range strings.SplitSeq(path, ".") {
		if s != "" {
			segs = append(segs, s)
		}
	}
	return segs
}

// newFixturesCommand is `billclock fixtures FILE`: it runs a fixture file
// (the Stripe CLI's format) against a running billclock.
func newFixturesCommand(getenv getenvFunc) *cobra.Command {
	var flags clientOptions
	cmd := &cobra.Command{
		Use:   "fixtures FILE",
		Short: "Run a fixture file (Stripe CLI format) against a running billclock",
		Long: "Run the API requests of a fixture file in order. Later requests may use the answers\n" +
			"of earlier ones as ${name:json.path}, e.g. ${customer:id} or ${sub:items.data.0.id};\n" +
			"${name:path|default} falls back to default and ${.env:VAR} reads the environment.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			f, err := parseFixture(raw)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			r := &fixtureRunner{client: flags.resolve(cmd.Flags().Changed, getenv).client(), getenv: getenv, out: cmd.OutOrStdout()}
			return r.run(cmd.Context(), f)
		},
	}
	flags.AddFlags(cmd.Flags())
	return cmd
}
