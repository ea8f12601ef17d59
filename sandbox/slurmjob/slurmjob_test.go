package slurmjob

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rgraph/rgraph/internal/golden"
)

// TestWrite writes a fleet's job array (golden), then runs the script
// with a stand-in rgraph that prints its arguments, one a line: sh must
// hand over each argument whole, however it is quoted.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "fake rgraph")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\nfor a; do echo \"$a\"; done\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	spec := Spec{Name: "rgraph-fleet", Shards: 8, Parallelism: 3, Verb: "minimize", Out: "/shared/records",
		Rgraph: fake, Partition: "batch", Time: "02:00:00", Logs: "/shared/logs/",
		Scenarios: []string{"/shared/scenarios", "/shared/more/*.yaml"},
		Args:      []string{"--check", "--upstream-netns", "prod ns", "--note", "it's"}}
	var buf bytes.Buffer
	if err := Write(&buf, spec); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, bytes.ReplaceAll(buf.Bytes(), []byte(shellQuote(fake)), []byte("RGRAPH")))

	out, err := exec.Command("sh", "-c", buf.String()).Output()
	if err != nil {
		t.Fatalf("running the script: %v", err)
	}
	want := []string{"minimize", "--out", "/shared/records", "--shard", "auto", "--check", "--upstream-netns", "prod ns",
		"--note", "it's", "--", "/shared/scenarios", "/shared/more/*.yaml"}
	if got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n"); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("rgraph got\n%q\nwant\n%q", got, want)
	}
}

func TestWriteChecks(t *testing.T) {
	ok := Spec{Name: "j", Shards: 2, Out: "o", Scenarios: []string{"s"}}
	tests := []struct {
		name   string
		change func(*Spec)
		want   string
	}{
		{"no name", func(s *Spec) { s.Name = "" }, "a name is required"},
		{"no shards", func(s *Spec) { s.Shards = 0 }, "shards: 0"},
		{"parallelism above shards", func(s *Spec) { s.Parallelism = 3 }, "parallelism: 3, want 0 to 2"},
		{"unknown verb", func(s *Spec) { s.Verb = "ingest" }, `verb "ingest"`},
		{"no records directory", func(s *Spec) { s.Out = "" }, "a records directory is required"},
		{"no scenarios", func(s *Spec) { s.Scenarios = nil }, "scenarios are required"},
	}
	if err := Write(&bytes.Buffer{}, ok); err != nil {
		t.Fatalf("a valid spec: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ok
			tt.change(&s)
			var buf bytes.Buffer
			err := Write(&buf, s)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Write = %v, want an error with %q", err, tt.want)
			}
			if buf.Len() != 0 {
				t.Errorf("Write wrote %q for an invalid spec", buf.String())
			}
		})
	}
}
