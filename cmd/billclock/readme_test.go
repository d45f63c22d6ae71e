package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func readme(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// TestReadmeKeysAreTheCLIDefault: every API key in the README's examples
// is the one the CLI sends by default, so that what a stripe-go, curl or
// Stripe CLI example makes is what `billclock ... list` shows.
func TestReadmeKeysAreTheCLIDefault(t *testing.T) {
	keys := regexp.MustCompile(`\b[sr]k_(test|live)_[A-Za-z0-9_]+`).FindAllString(readme(t), -1)
	if len(keys) < 5 {
		t.Fatalf("only %d keys found in README.md: %q", len(keys), keys)
	}
	for _, k := range keys {
		if k != defaultAPIKey {
			t.Errorf("README.md uses the key %q; the CLI's default is %q", k, defaultAPIKey)
		}
	}
}

// yamlBlocks returns the README's ```yaml blocks.
func yamlBlocks(t *testing.T) []string {
	t.Helper()
	var blocks []string
	rest := readme(t)
	for {
		_, after, ok := strings.Cut(rest, "```yaml\n")
		if !ok {
			return blocks
		}
		block, after, ok := strings.Cut(after, "```")
		if !ok {
			t.Fatal("a ```yaml block is not closed")
		}
		blocks = append(blocks, block)
		rest = after
	}
}

// TestReadmeContainerExamples parses the README's Compose file and GitHub
// Actions job, and checks what they must say for billclock to be reached
// and its data kept.
func TestReadmeContainerExamples(t *testing.T) {
	blocks := yamlBlocks(t)
	if len(blocks) != 2 {
		t.Fatalf("%d yaml blocks in README.md, want the Compose file and the Actions job", len(blocks))
	}

	var compose struct {
		Services map[string]struct {
			Build       string            `yaml:"build"`
			Image       string            `yaml:"image"`
			Ports       []string          `yaml:"ports"`
			Volumes     []string          `yaml:"volumes"`
			Environment map[string]string `yaml:"environment"`
			DependsOn   map[string]struct {
				Condition string `yaml:"condition"`
			} `yaml:"depends_on"`
		} `yaml:"services"`
		Volumes map[string]any `yaml:"volumes"`
	}
	if err := yaml.Unmarshal([]byte(blocks[0]), &compose); err != nil {
		t.Fatalf("compose file: %v\n%s", err, blocks[0])
	}
	bc, ok := compose.Services["billclock"]
	if !ok {
		t.Fatalf("no billclock service: %+v", compose)
	}
	if !slices.Contains(bc.Ports, "127.0.0.1:12800:12800") || !slices.Contains(bc.Volumes, "billclock-data:/data") || bc.Build == "" {
		t.Errorf("billclock service: %+v", bc)
	}
	if _, ok := compose.Volumes["billclock-data"]; !ok {
		t.Errorf("the volume billclock-data is not declared: %+v", compose.Volumes)
	}
	app := compose.Services["app"]
	if app.DependsOn["billclock"].Condition != "service_healthy" || app.Environment["STRIPE_API_BASE"] != "http://billclock:12800" {
		t.Errorf("app service: %+v", app)
	}

	var actions struct {
		Jobs map[string]struct {
			Services map[string]struct {
				Image string   `yaml:"image"`
				Ports []string `yaml:"ports"`
			} `yaml:"services"`
			Steps []map[string]any `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal([]byte(blocks[1]), &actions); err != nil {
		t.Fatalf("actions job: %v\n%s", err, blocks[1])
	}
	svc := actions.Jobs["test"].Services["billclock"]
	if svc.Image == "" || !slices.Contains(svc.Ports, "12800:12800") || len(actions.Jobs["test"].Steps) == 0 {
		t.Errorf("actions job: %+v", actions)
	}
}
