package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFixtureFilesParse checks every scenario file under fixtures/ (the
// triggers have TestTriggerFixturesParse): each is a valid fixture whose
// steps call Stripe's API or billclock's control routes.
func TestFixtureFilesParse(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "fixtures", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"test_clock.json", "pm_card_chargeCustomerFail.json", "dunning.json", "dunning_unpaid.json"} {
		found := false
		for _, f := range files {
			found = found || filepath.Base(f) == want
		}
		if !found {
			t.Errorf("fixtures/%s is missing", want)
		}
	}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parseFixture(raw)
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		for _, s := range f.Steps {
			if !strings.HasPrefix(s.Path, "/v1/") && !strings.HasPrefix(s.Path, "/_billclock/") {
				t.Errorf("%s: step %s calls %s, neither Stripe's API nor a billclock control route", file, s.Name, s.Path)
			}
		}
	}
}
