package render

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func fleetMinimize() MinimizeReport {
	return MinimizeReport{
		Scenario: "web-cold-start", Service: "web", Runs: 24, Observe: 1, Search: 11, Confirm: 12, Took: 43900 * time.Millisecond,
		Repeat: 3, Parallel: 1, Algorithm: "adaptive-binary-splitting",
		Confidence: "high (0.9996): 10 candidate sets decided, a removal accepted after 3 consecutive successes",
		Allow:      []string{"service:config", "service:dns  # or service:dns2 (group 1)"},
		Soft:       []string{"service:dns2  # alternative to service:dns (group 1)", "service:pkgstore"},
		Never:      []string{"service:ca"},
		Absent:     []string{"unix:/var/run/nscd/socket"},
		Candidates: []MinimizeCandidate{
			{Class: "hard", Capability: "service:config", Origin: "observed", Evidence: "4 trials, first 71696aed"},
			{Class: "alternative", Group: 1, Capability: "service:dns", Origin: "observed", Evidence: "6 trials, first 4be83b35"},
			{Class: "alternative", Group: 1, Capability: "service:dns2", Origin: "observed", Evidence: "6 trials, first 4be83b35"},
			{Class: "soft", Capability: "service:pkgstore", Origin: "observed", Evidence: "6 trials, first eef2f9a3"},
			{Class: "soft", Capability: "service:ca", Origin: "listed"},
		},
	}
}

func TestMinimize(t *testing.T) {
	// The lists are data, never cut.
	data := func(l string) bool { return strings.HasPrefix(l, "  - ") }
	checkTextWide(t, func(b *bytes.Buffer, term Terminal) error { return Minimize(b, term, fleetMinimize()) }, data)
}

func TestMinimizeInterrupted(t *testing.T) {
	r := fleetMinimize()
	r.Interrupted, r.Soft, r.Never = true, nil, nil
	var b bytes.Buffer
	if err := Minimize(&b, Terminal{}, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# INTERRUPTED: ", "\nsoft: []\n", "\nallow:\n  - service:config\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
}

func fleetBatch() BatchDoc {
	return BatchDoc{
		Verb: "run", Shard: "1/3", Out: "records", Total: 9, Assigned: 4, Skipped: 1,
		Scenarios: []BatchScenario{
			{Path: "scenarios/ca.yaml", Service: "ca", Scenario: "ca-cold-start", Record: "ca+ca-cold-start.run.json", Status: "recovered", RunID: "0badcafe"},
			{Path: "scenarios/web.yaml", Service: "web", Scenario: "web-cold-start", Record: "web+web-cold-start.run.json", Status: "creep", Skipped: true, RunID: "feedf00d"},
			{Path: "scenarios/coord.yaml", Service: "coord", Scenario: "coord-cold-start", Record: "coord+coord-cold-start.run.json", Status: "not-recovered", RunID: "d00dfeed"},
			{Path: "scenarios/broken.yaml", Status: "error", Error: "scenarios/broken.yaml:3: runbook: want a list"},
		},
		Counts: map[string]int{"recovered": 1, "creep": 1, "not-recovered": 1, "error": 1},
	}
}

func TestBatch(t *testing.T) {
	checkText(t, func(b *bytes.Buffer, term Terminal) error { return Batch(b, term, fleetBatch()) })
}

func TestLeftovers(t *testing.T) {
	left := []Leftover{
		{RunID: "0badcafe", Kind: "cgroup", Name: "/sys/fs/cgroup/unified/rgraph/0badcafe"},
		{RunID: "0badcafe", Kind: "netns", Name: "/run/netns/rgraph-0badcafe", Kept: true, Err: "device or resource busy"},
	}
	checkText(t, func(b *bytes.Buffer, term Terminal) error { return Leftovers(b, term, left, false) })
	var b bytes.Buffer
	if err := Leftovers(&b, Terminal{TTY: true}, nil, true); err != nil || b.String() != "nothing to remove\n" {
		t.Errorf("Leftovers(none) = %q, %v", b.String(), err)
	}
	b.Reset()
	if err := Leftovers(&b, Terminal{}, nil, true); err != nil || b.Len() != 0 {
		t.Errorf("Leftovers(none, plain) = %q, %v; want nothing", b.String(), err)
	}
}

func TestSandboxCheck(t *testing.T) {
	drivers := []DriverCheckDoc{
		{Name: "netns", Default: true, Ready: true, Requirements: []RequirementDoc{
			{Name: "cgroup v2", OK: true, Detail: "mounted at /sys/fs/cgroup"},
			{Name: "tracepoints", Optional: true, Detail: "no tracefs", Fix: "mount -t tracefs nodev /sys/kernel/tracing"},
		}},
		{Name: "microvm", Error: "qemu is missing", Requirements: []RequirementDoc{
			{Name: "qemu", Detail: "not found", Fix: "apt-get install qemu-system-x86"},
		}},
	}
	fix := func(l string) bool { return strings.HasPrefix(l, "  netns ") || strings.HasPrefix(l, "  microvm ") }
	checkTextWide(t, func(b *bytes.Buffer, term Terminal) error { return SandboxCheck(b, term, drivers, "netns") }, fix)
}
