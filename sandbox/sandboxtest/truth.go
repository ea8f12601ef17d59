package sandboxtest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"gopkg.in/yaml.v3"
)

// Truth is testdata/fleet/ground-truth.yaml: what each fleet service needs
// to recover, and the bootstrap cycles that follow.
type Truth struct {
	SchemaVersion int             `yaml:"schemaVersion"`
	Kind          string          `yaml:"kind"`
	Services      map[string]Deps `yaml:"services"`
	Cycles        [][]string      `yaml:"cycles"`
}

// Deps are one service's hard and soft dependencies.
type Deps struct {
	Hard []string `yaml:"hard"`
	Soft []string `yaml:"soft"`
}

// ParseTruth parses a ground-truth document strictly.
func ParseTruth(b []byte) (Truth, error) {
	var gt Truth
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&gt); err != nil {
		return Truth{}, err
	}
	if gt.SchemaVersion != 1 || gt.Kind != "groundTruth" {
		return Truth{}, fmt.Errorf("want schemaVersion 1 and kind groundTruth, got %d and %q", gt.SchemaVersion, gt.Kind)
	}
	return gt, nil
}

// GroundTruth loads the fleet's ground truth, failing t on error.
func GroundTruth(t testing.TB) Truth {
	t.Helper()
	path := filepath.Join(FleetDir(), "ground-truth.yaml")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	gt, err := ParseTruth(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return gt
}

// Edges returns the ground truth as sorted edge-list lines,
// "from\tto\thard" or "from\tto\tsoft", as rgraph export writes them.
func (gt Truth) Edges() []string {
	var out []string
	for svc, d := range gt.Services {
		for _, to := range d.Hard {
			out = append(out, svc+"\t"+to+"\thard")
		}
		for _, to := range d.Soft {
			out = append(out, svc+"\t"+to+"\tsoft")
		}
	}
	sort.Strings(out)
	return out
}
