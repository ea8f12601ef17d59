package sandbox

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFindScenarios(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"b.yaml":        "kind: scenario\n",
		"a.yml":         "kind: scenario\n",
		"catalog.yaml":  "kind: catalog\n",
		"broken.yaml":   "kind: [\n",
		"notes.txt":     "kind: scenario\n",
		".hidden.yaml":  "kind: scenario\n",
		"sub/c.YAML":    "kind: scenario\n",
		".git/d.yaml":   "kind: scenario\n",
		"other/e.yaml":  "kind: scenario\n",
		"other/f.yaml":  "kind: scenario\n",
		"weird[1].yaml": "kind: scenario\n",
		"cats/c.yaml":   "kind: catalog\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	in := func(names ...string) []string {
		for i, n := range names {
			names[i] = filepath.Join(dir, n)
		}
		return names
	}
	tests := []struct {
		name string
		args []string
		want []string
		err  string
	}{
		{"a directory: its scenarios and broken YAML, sorted, no dot files",
			in("."), in("a.yml", "b.yaml", "broken.yaml", "other/e.yaml", "other/f.yaml", "sub/c.YAML", "weird[1].yaml"), ""},
		{"a file as it is, whatever it holds",
			in("catalog.yaml", "notes.txt"), in("catalog.yaml", "notes.txt"), ""},
		{"each file once, in argument order",
			in("other/f.yaml", "other", "a.yml", "./a.yml"), in("other/f.yaml", "other/e.yaml", "a.yml"), ""},
		{"a pattern no file is named by is a glob",
			in("other/*.yaml"), in("other/e.yaml", "other/f.yaml"), ""},
		{"a file named like a pattern is that file",
			in("weird[1].yaml"), in("weird[1].yaml"), ""},
		{"a glob matching nothing", in("*.json"), nil, "matches no file"},
		{"a missing file", in("missing.yaml"), nil, "no such file"},
		{"a directory without scenarios", in("cats"), nil, "no scenarios in"},
		{"no scenarios at all", nil, nil, "no scenarios in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FindScenarios(tt.args...)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("FindScenarios = %v, %v; want an error with %q", got, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("FindScenarios mismatch (-want +got):\n%s", d)
			}
		})
	}
	if _, err := FindScenarios(filepath.Join(dir, "[*.yaml")); !errors.Is(err, filepath.ErrBadPattern) {
		t.Errorf("a bad pattern: %v, want filepath.ErrBadPattern", err)
	}
}
