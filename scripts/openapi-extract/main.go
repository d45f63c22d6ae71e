// Command openapi-extract cuts a small, committed subset out of Stripe's
// OpenAPI specification (spec3.json) for billclock's response-shape
// conformance tests (package emulator/stripe/conformance).
//
// The subset keeps:
//
//   - openapi and info (minus info.description);
//   - every path listed in the paths file, with all of its operations;
//   - components.schemas: the transitive closure of every $ref reachable from
//     the kept paths, plus the "error" schema.
//
// Description annotations are stripped from schemas, operations, parameters
// and request bodies to keep the file small. A schema property that is
// literally named "description" is kept, and so is the description of each
// Response Object, which OpenAPI 3.0 requires. The output is deterministic:
// keys are sorted and the document is indented.
//
// The spec's LICENSE (MIT) is copied next to the output file.
//
// Run from the repository root:
//
//	go run ./scripts/openapi-extract \
//	    -spec ../shared/reference/stripe-openapi/spec3.json \
//	    -paths testdata/openapi/paths.txt \
//	    -out testdata/openapi/stripe-subset.json
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

const schemaRefPrefix = "#/components/schemas/"

// alwaysKeptSchemas are included even if no kept path references them.
var alwaysKeptSchemas = []string{"error"}

// httpMethods are the Path Item keys that hold Operation Objects.
var httpMethods = map[string]bool{
	"get": true, "put": true, "post": true, "delete": true,
	"options": true, "head": true, "patch": true, "trace": true,
}

func main() {
	specPath := flag.String("spec", "../shared/reference/stripe-openapi/spec3.json", "Stripe OpenAPI spec (spec3.json)")
	pathsPath := flag.String("paths", "testdata/openapi/paths.txt", "file listing the path templates to keep, one per line")
	outPath := flag.String("out", "testdata/openapi/stripe-subset.json", "output file for the extracted subset")
	licensePath := flag.String("license", "", "spec license to copy next to -out (default: LICENSE next to -spec)")
	flag.Parse()

	if *licensePath == "" {
		*licensePath = filepath.Join(filepath.Dir(*specPath), "LICENSE")
	}
	if err := run(*specPath, *pathsPath, *outPath, *licensePath); err != nil {
		fmt.Fprintln(os.Stderr, "openapi-extract:", err)
		os.Exit(1)
	}
}

func run(specPath, pathsPath, outPath, licensePath string) error {
	spec, err := readJSON(specPath)
	if err != nil {
		return err
	}
	wanted, err := readPathList(pathsPath)
	if err != nil {
		return err
	}

	out, nSchemas, err := extract(spec, wanted)
	if err != nil {
		return err
	}

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil { // map keys are emitted sorted
		return fmt.Errorf("encode output: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(outPath), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(outPath, buf.Bytes(), 0o644); err != nil {
		return err
	}

	licenseOut := filepath.Join(filepath.Dir(outPath), "LICENSE")
	if err := copyFile(licensePath, licenseOut); err != nil {
		return fmt.Errorf("copy spec license: %w", err)
	}

	fmt.Printf("wrote %s: %d paths, %d schemas, %d bytes (%.2f MB)\n",
		outPath, len(wanted), nSchemas, buf.Len(), float64(buf.Len())/(1<<20))
	fmt.Printf("copied %s to %s\n", licensePath, licenseOut)
	return nil
}

// readJSON decodes a JSON document, keeping numbers as json.Number so they
// are written back exactly as they were read.
func readJSON(path string) (map[string]any, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReader(f))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	return doc, nil
}

// readPathList reads path templates, one per line; blank lines and lines
// starting with '#' are ignored.
func readPathList(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var paths []string
	seen := map[string]bool{}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !strings.HasPrefix(line, "/") {
			return nil, fmt.Errorf("%s:%d: path template must start with '/': %q", path, i+1, line)
		}
		if seen[line] {
			return nil, fmt.Errorf("%s:%d: duplicate path %q", path, i+1, line)
		}
		seen[line] = true
		paths = append(paths, line)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("%s: no paths listed", path)
	}
	return paths, nil
}

// extract builds the subset document and returns it with its schema count.
func extract(spec map[string]any, wanted []string) (map[string]any, int, error) {
	version, _ := spec["openapi"].(string)
	if !strings.HasPrefix(version, "3.0") {
		return nil, 0, fmt.Errorf("unsupported openapi version %q (want 3.0.x)", version)
	}
	info, ok := spec["info"].(map[string]any)
	if !ok {
		return nil, 0, errors.New("spec has no info object")
	}
	specPaths, ok := spec["paths"].(map[string]any)
	if !ok {
		return nil, 0, errors.New("spec has no paths object")
	}
	components, _ := spec["components"].(map[string]any)
	allSchemas, ok := components["schemas"].(map[string]any)
	if !ok {
		return nil, 0, errors.New("spec has no components.schemas object")
	}

	outInfo := map[string]any{}
	for k, v := range info {
		if k != "description" {
			outInfo[k] = v
		}
	}
	outInfo["x-billclock-extract"] = "Subset of Stripe's spec3.json generated by scripts/openapi-extract " +
		"from testdata/openapi/paths.txt; descriptions stripped. Do not edit by hand."

	outPaths := map[string]any{}
	for _, p := range wanted {
		item, ok := specPaths[p].(map[string]any)
		if !ok {
			return nil, 0, fmt.Errorf("path %q is not in the spec", p)
		}
		outPaths[p] = stripPathItem(item)
	}

	// Transitive closure of schema references.
	kept := map[string]any{}
	var queue []string
	enqueue := func(name string) error {
		if _, done := kept[name]; done {
			return nil
		}
		s, ok := allSchemas[name]
		if !ok {
			return fmt.Errorf("reference to unknown schema %q", name)
		}
		kept[name] = stripSchema(s)
		queue = append(queue, name)
		return nil
	}
	var refErr error
	collect := func(v any) {
		walkRefs(v, func(ref string) {
			if refErr != nil {
				return
			}
			name, ok := strings.CutPrefix(ref, schemaRefPrefix)
			if !ok || name == "" || strings.Contains(name, "/") {
				refErr = fmt.Errorf("unsupported $ref %q (only %s<name> is handled)", ref, schemaRefPrefix)
				return
			}
			refErr = enqueue(name)
		})
	}
	collect(outPaths)
	for _, name := range alwaysKeptSchemas {
		if refErr == nil {
			refErr = enqueue(name)
		}
	}
	for len(queue) > 0 && refErr == nil {
		name := queue[0]
		queue = queue[1:]
		collect(kept[name])
	}
	if refErr != nil {
		return nil, 0, refErr
	}

	out := map[string]any{
		"openapi":    spec["openapi"],
		"info":       outInfo,
		"paths":      outPaths,
		"components": map[string]any{"schemas": kept},
	}
	return out, len(kept), nil
}

// walkRefs calls fn for every "$ref" string anywhere in v (including inside
// vendor extensions such as x-expansionResources, so that every reference in
// the output resolves).
func walkRefs(v any, fn func(string)) {
	switch t := v.(type) {
	case map[string]any:
		keys := sortedKeys(t) // deterministic traversal order
		for _, k := range keys {
			if k == "$ref" {
				if s, ok := t[k].(string); ok {
					fn(s)
					continue
				}
			}
			walkRefs(t[k], fn)
		}
	case []any:
		for _, e := range t {
			walkRefs(e, fn)
		}
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// The strip* functions return copies of OpenAPI objects with description
// annotations removed. They know which member of each object holds which
// kind of object, so a schema property named "description" (a key of a
// "properties" map) is never mistaken for the annotation keyword.

// rules say how to rewrite an object: for each key, the function that
// rewrites its value, or nil to drop the key. Other keys are copied.
type rules map[string]func(any) any

func (r rules) apply(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return deepCopy(v) // e.g. additionalProperties: true
	}
	out := map[string]any{}
	for k, val := range m {
		fn, has := r[k]
		switch {
		case !has:
			out[k] = deepCopy(val)
		case fn != nil:
			out[k] = fn(val)
		}
	}
	return out
}

// each returns a rule applying fn to every value of a map, or every
// element of a list.
func each(fn func(any) any) func(any) any {
	return func(v any) any {
		if _, isList := v.([]any); isList {
			return mapList(v, fn)
		}
		return mapValues(v, fn)
	}
}

func stripPathItem(v any) any {
	r := rules{"description": nil, "parameters": each(stripParameter)}
	for method := range httpMethods {
		r[method] = stripOperation
	}
	return r.apply(v)
}

func stripOperation(v any) any {
	return rules{"description": nil, "parameters": each(stripParameter), "requestBody": stripRequestBody,
		"responses": each(stripResponse)}.apply(v)
}

func stripParameter(v any) any {
	return rules{"description": nil, "schema": stripSchema, "content": each(stripMediaType)}.apply(v)
}

func stripRequestBody(v any) any {
	return rules{"description": nil, "content": each(stripMediaType)}.apply(v)
}

// stripResponse keeps the Response Object's own description (required by
// OpenAPI 3.0, and short in Stripe's spec) but strips its schemas.
func stripResponse(v any) any {
	return rules{"content": each(stripMediaType)}.apply(v)
}

func stripMediaType(v any) any {
	return rules{"schema": stripSchema}.apply(v)
}

func stripSchema(v any) any {
	return rules{"description": nil, "properties": each(stripSchema), "items": stripSchema,
		"additionalProperties": stripSchema, "not": stripSchema, "anyOf": each(stripSchema),
		"oneOf": each(stripSchema), "allOf": each(stripSchema),
		"x-expansionResources": stripSchemaContainer}.apply(v)
}

// stripSchemaContainer handles Stripe's x-expansionResources, an object of
// the form {"oneOf": [schema, ...]}.
func stripSchemaContainer(v any) any {
	return rules{"anyOf": each(stripSchema), "oneOf": each(stripSchema), "allOf": each(stripSchema)}.apply(v)
}

func mapValues(v any, fn func(any) any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return deepCopy(v)
	}
	out := make(map[string]any, len(m))
	for k, val := range m {
		out[k] = fn(val)
	}
	return out
}

func mapList(v any, fn func(any) any) any {
	l, ok := v.([]any)
	if !ok {
		return deepCopy(v)
	}
	out := make([]any, len(l))
	for i, val := range l {
		out[i] = fn(val)
	}
	return out
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return mapValues(t, deepCopy)
	case []any:
		return mapList(t, deepCopy)
	default:
		return v
	}
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
