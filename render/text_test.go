package render

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rgraph/rgraph/graph"
	"github.com/rgraph/rgraph/internal/golden"
)

var terminals = []struct {
	name string
	t    Terminal
}{
	{"plain", Terminal{}},
	{"tty", Terminal{TTY: true, Width: 100}},
	{"narrow", Terminal{TTY: true, Width: 48}},
	{"color", Terminal{TTY: true, Color: true, Width: 100}},
}

var ansiEscape = regexp.MustCompile("\x1b\\[")

// checkText runs write for every terminal and compares with golden files;
// it also checks the properties each layout promises.
func checkText(t *testing.T, write func(*bytes.Buffer, Terminal) error) {
	t.Helper()
	for _, tt := range terminals {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := write(&buf, tt.t); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			if !tt.t.Color && ansiEscape.MatchString(out) {
				t.Errorf("escape codes without color:\n%q", out)
			}
			if tt.t.Color && !ansiEscape.MatchString(out) {
				t.Errorf("no escape codes with color")
			}
			for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
				if tt.t.Width > 0 && len([]rune(ansiEscapeSeq.ReplaceAllString(l, ""))) > tt.t.Width {
					t.Errorf("line wider than %d: %q", tt.t.Width, l)
				}
			}
			golden.Check(t, buf.Bytes())
		})
	}
}

var ansiEscapeSeq = regexp.MustCompile("\x1b\\[[0-9;]*m")

func TestCycles(t *testing.T) {
	checkText(t, func(b *bytes.Buffer, term Terminal) error { return Cycles(b, term, fleetComponents()) })
}

func TestCyclesNone(t *testing.T) {
	var buf bytes.Buffer
	if err := Cycles(&buf, Terminal{}, nil); err != nil || buf.Len() != 0 {
		t.Errorf("Cycles(plain, none) = %q, %v; want no records", buf.String(), err)
	}
	buf.Reset()
	if err := Cycles(&buf, Terminal{TTY: true}, nil); err != nil || !strings.Contains(buf.String(), "no bootstrap cycles") {
		t.Errorf("Cycles(tty, none) = %q, %v", buf.String(), err)
	}
}

func TestOrder(t *testing.T) {
	checkText(t, func(b *bytes.Buffer, term Terminal) error { return Order(b, term, fleetOrder()) })
}

func TestWhy(t *testing.T) {
	checkText(t, func(b *bytes.Buffer, term Terminal) error { return Why(b, term, "api", "ca", fleetPaths()) })
}

func TestDiff(t *testing.T) {
	checkText(t, func(b *bytes.Buffer, term Terminal) error { return Diff(b, term, fleetDiff()) })
}

func TestDiffClean(t *testing.T) {
	r := DiffReport{Old: "a", New: "b", Delta: graph.Delta{RemovedEdges: []graph.Edge{{From: "x", To: "y", Kind: graph.Soft}}}}
	var buf bytes.Buffer
	if err := Diff(&buf, Terminal{}, r); err != nil {
		t.Fatal(err)
	}
	want := "verdict\tok\tno new cycles, hard dependencies or later waves; 1 edge removed\nedge\tremoved\tx\ty\tsoft\t\n"
	if buf.String() != want {
		t.Errorf("Diff(plain) = %q, want %q", buf.String(), want)
	}
}

func TestPlainFieldsHaveNoTabs(t *testing.T) {
	comps := []graph.Component{{
		ID: "c-1", Members: []string{"a\tb", "c"},
		Witness: graph.Cycle{ID: "c-1", Services: []string{"a\tb", "c"}, Edges: []graph.Edge{
			{From: "a\tb", To: "c", Kind: graph.Hard, Evidence: []graph.Evidence{{Source: "x\ny"}}},
			{From: "c", To: "a\tb", Kind: graph.Soft},
		}},
	}}
	var buf bytes.Buffer
	if err := Cycles(&buf, Terminal{}, comps); err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		fields := strings.Split(l, "\t")
		switch fields[0] {
		case "cycle":
			if len(fields) != 6 {
				t.Errorf("cycle record has %d fields: %q", len(fields), l)
			}
		case "edge":
			if len(fields) != 6 {
				t.Errorf("edge record has %d fields: %q", len(fields), l)
			}
		default:
			t.Errorf("unexpected record %q", l)
		}
	}
}

func TestTable(t *testing.T) {
	header := []string{"RELEASE", "SERVICES", "EDGES", "INGESTED"}
	rows := [][]string{
		{"2024.05", "41", "120", "2024-05-02T10:00:00Z"},
		{"2024.06-with-a-rather-long-name-that-needs-truncating", "44", "131", "2024-06-01T09:30:00Z"},
	}
	checkText(t, func(b *bytes.Buffer, term Terminal) error { return Table(b, term, header, rows) })
}

func TestOrderRunbooks(t *testing.T) {
	o := fleetOrder()
	var runbooks []Runbook
	for i, svc := range o.Waves[0].Services {
		if i == 1 {
			continue // a service without a recorded run
		}
		runbooks = append(runbooks, Runbook{Service: svc, Source: "run 0badcafe", Steps: []string{"mkdir -p state", "fleet serve " + svc + " --state state &"}})
	}
	checkText(t, func(b *bytes.Buffer, term Terminal) error { return Order(b, term, o, runbooks...) })
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, ""},
		{364904882 * time.Nanosecond, "365ms"},
		{12345 * time.Millisecond, "12.3s"},
		{(4*60+29)*time.Second + 600*time.Millisecond, "4m30s"},
	}
	for _, tt := range tests {
		if got := formatDuration(tt.d, false); got != tt.want {
			t.Errorf("formatDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

// TestEvidenceOrigin checks that evidence names where its record came from.
func TestEvidenceOrigin(t *testing.T) {
	ev := graph.Evidence{Source: "4ff26ae1", Scenario: "web-cold-start", Process: "fleet[212]", Endpoint: "10.99.0.20:8080/tcp", Detail: "allowed, count 1",
		Origin: &graph.Origin{File: "out/web+web-cold-start.run.json", Host: "node3", Job: "slurm:4242_1", Shard: "1/3", Signer: "9f2c41d07a3be118"}}
	want := "4ff26ae1 (web-cold-start) [host node3, job slurm:4242_1, shard 1/3, signed by 9f2c41d07a3be118, from out/web+web-cold-start.run.json]: fleet[212] -> 10.99.0.20:8080/tcp, allowed, count 1"
	if got := evidenceText(ev); got != want {
		t.Errorf("evidenceText = %q\nwant            %q", got, want)
	}
	ev.Origin = &graph.Origin{}
	if got := evidenceText(ev); strings.Contains(got, ") [") {
		t.Errorf("evidenceText with an empty origin = %q, want no brackets", got)
	}
}
