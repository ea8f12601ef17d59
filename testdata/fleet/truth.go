package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"

	"gopkg.in/yaml.v3"
)

// groundTruth is ground-truth.yaml: what each service needs to recover.
type groundTruth struct {
	SchemaVersion int                                      `yaml:"schemaVersion"`
	Kind          string                                   `yaml:"kind"`
	Services      map[string]struct{ Hard, Soft []string } `yaml:"services"`
	Cycles        [][]string                               `yaml:"cycles"`
}

// truth prints the ground truth as an edge list (from, to, hard|soft;
// sorted), the format rgraph ingest reads and rgraph export writes, so
// that a measured release can be compared with it by diff(1).
func truth(args []string, stdout io.Writer) error {
	path := filepath.Join(fleetDir(), "ground-truth.yaml")
	if len(args) > 0 {
		path = args[0]
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var gt groundTruth
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&gt); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if gt.SchemaVersion != 1 || gt.Kind != "groundTruth" {
		return fmt.Errorf("%s: want schemaVersion 1 and kind groundTruth", path)
	}
	var lines []string
	for svc, deps := range gt.Services {
		for _, d := range deps.Hard {
			lines = append(lines, svc+"\t"+d+"\thard")
		}
		for _, d := range deps.Soft {
			lines = append(lines, svc+"\t"+d+"\tsoft")
		}
	}
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Fprintln(stdout, l)
	}
	return nil
}

// fleetDir is the directory of this program's source, testdata/fleet.
func fleetDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}
