package sandbox

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// FindScenarios turns command-line arguments into scenario files: a file
// as it is, a directory walked for the .yaml and .yml files that are
// scenarios (kind: scenario, or not parsing, so that loading says what is
// wrong), skipping names that start with '.', and a pattern that names no
// file expanded as a glob (for shells that do not, or quoted ones). Each
// file is listed once, in argument order, a directory's sorted. A bad
// pattern's error wraps [filepath.ErrBadPattern].
func FindScenarios(args ...string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		key := p
		if abs, err := filepath.Abs(p); err == nil {
			key = abs
		}
		if !seen[key] {
			seen[key] = true
			out = append(out, p)
		}
	}
	for _, a := range args {
		st, err := os.Stat(a)
		if errors.Is(err, fs.ErrNotExist) && strings.ContainsAny(a, "*?[") {
			matches, gerr := filepath.Glob(a)
			if gerr != nil {
				return nil, fmt.Errorf("scenario pattern %q: %w", a, gerr)
			}
			if len(matches) == 0 {
				return nil, fmt.Errorf("scenario pattern %q matches no file", a)
			}
			for _, m := range matches {
				add(m)
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading scenario: %w", err)
		}
		if !st.IsDir() {
			add(a)
			continue
		}
		var found []string
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if p != a && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if ext := strings.ToLower(filepath.Ext(p)); !d.IsDir() && (ext == ".yaml" || ext == ".yml") && isScenario(p) {
				found = append(found, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("walking %s: %w", a, err)
		}
		slices.Sort(found)
		for _, p := range found {
			add(p)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no scenarios in %s", strings.Join(args, ", "))
	}
	return out, nil
}

// isScenario reports whether a YAML file found in a directory is a
// scenario rather than a catalog or anything else; one that does not
// parse is taken.
func isScenario(path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return true
	}
	var head struct {
		Kind string `yaml:"kind"`
	}
	if yaml.Unmarshal(b, &head) != nil {
		return true
	}
	return head.Kind == ScenarioKind
}
