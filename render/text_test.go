package render

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

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
	checkTextWide(t, write, nil)
}

// checkTextWide is checkText where lines for which wide is true may be
// wider than the terminal (runbook steps, which are never cut).
func checkTextWide(t *testing.T, write func(*bytes.Buffer, Terminal) error, wide func(line string) bool) {
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
				if tt.t.Width > 0 && len([]rune(ansiEscapeSeq.ReplaceAllString(l, ""))) > tt.t.Width && (wide == nil || !wide(l)) {
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

// trickySteps are runbook steps that only survive when copied byte for
// byte: command substitution across lines, a backslash continuation, a
// heredoc indented with tabs, backticks, trailing spaces, a final line
// break, and a step longer than any terminal.
var trickySteps = []string{
	"PGBIN=$(pg_config --bindir)\nmkdir -p /var/lib/pg && \"$PGBIN/initdb\" -D /var/lib/pg \\\n  --auth=trust",
	"cat <<-EOF > /etc/pg.conf\n\tlisten_addresses = '*'\n\tport = 5432\nEOF\n",
	"echo `hostname` ``` done   ",
	"fleet serve pg --state /var/lib/fleet/state/pg --listen 10.99.0.40:5432 --peers 10.99.0.41:5432,10.99.0.42:5432 --log-level debug &",
}

// fullOrder is fleetOrder with alternatives, unowned endpoints and
// runbooks, some of them tricky.
func fullOrder() (graph.Order, []Runbook) {
	o := fleetOrder()
	o.Alternatives = []graph.Choice{
		{Service: "api", AnyOf: []string{"discovery", "config"}, Chosen: "config", Reason: graph.ChoiceName},
		{Service: "pkgstore", AnyOf: []string{"dns", "10.99.0.54"}, Chosen: "dns", Reason: graph.ChoiceEarliestWave},
	}
	o.Unowned = []graph.Unowned{{Endpoint: "unix:/var/run/nscd/socket", NeededBy: []string{"pkgstore", "api"}, Records: []string{"run-0015", "run-0007"}}}
	var runbooks []Runbook
	for i, svc := range o.Waves[0].Services {
		if i == 1 {
			continue // a service without a recorded run
		}
		runbooks = append(runbooks, Runbook{Service: svc, Source: "run 0badcafe", Steps: []string{"mkdir -p state", "fleet serve " + svc + " --state state &"}})
	}
	runbooks = append(runbooks, Runbook{Service: "pkgstore", Source: "run 0ddba11 (pkgstore-boot)", Steps: trickySteps})
	return o, runbooks
}

func TestOrderRunbooks(t *testing.T) {
	o, runbooks := fullOrder()
	inStep := func(l string) bool {
		for _, st := range trickySteps {
			for _, sl := range strings.Split(st, "\n") {
				if strings.HasSuffix(l, sl) {
					return true
				}
			}
		}
		return false
	}
	checkTextWide(t, func(b *bytes.Buffer, term Terminal) error { return Order(b, term, o, runbooks...) }, inStep)
}

func TestOrderMarkdown(t *testing.T) {
	o, runbooks := fullOrder()
	var buf bytes.Buffer
	if err := OrderMarkdown(&buf, "2024.06", o, runbooks...); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, buf.Bytes())
}

// TestRunbookStepsVerbatim checks every output of order for the promise
// that a runbook step is reproduced byte for byte, or marked as
// abbreviated with a pointer to the full text.
func TestRunbookStepsVerbatim(t *testing.T) {
	o, runbooks := fullOrder()
	want := trickySteps

	var js bytes.Buffer
	if err := OrderJSON(&js, o, runbooks...); err != nil {
		t.Fatal(err)
	}
	var doc OrderDoc
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, rb := range doc.Runbooks {
		if rb.Service == "pkgstore" && !slices.Equal(rb.Steps, want) {
			t.Errorf("JSON steps = %q, want %q", rb.Steps, want)
		}
	}

	var md bytes.Buffer
	if err := OrderMarkdown(&md, "r", o, runbooks...); err != nil {
		t.Fatal(err)
	}
	var blocks []string
	lines := strings.SplitAfter(md.String(), "\n")
	for i := 0; i < len(lines); i++ {
		fence := strings.TrimRight(lines[i], "\n")
		if !strings.HasPrefix(fence, "```") || !strings.HasSuffix(fence, "sh") {
			continue
		}
		fence = strings.TrimSuffix(fence, "sh")
		var b strings.Builder
		for i++; strings.TrimRight(lines[i], "\n") != fence; i++ {
			b.WriteString(lines[i])
		}
		blocks = append(blocks, b.String())
	}
	var mdWant []string
	for _, rb := range runbooks {
		for _, st := range rb.Steps {
			if !strings.HasSuffix(st, "\n") {
				st += "\n" // a code block's content ends with a line break
			}
			mdWant = append(mdWant, st)
		}
	}
	if d := cmp.Diff(mdWant, blocks); d != "" {
		t.Errorf("Markdown code blocks (-want +got):\n%s", d)
	}

	for _, term := range []Terminal{{TTY: true, Width: 40}, {TTY: true, Color: true, Width: 40}} {
		var tty bytes.Buffer
		if err := Order(&tty, term, o, runbooks...); err != nil {
			t.Fatal(err)
		}
		for _, st := range want {
			if !strings.Contains(tty.String(), "      $ "+strings.TrimSuffix(st, "\n")+"\n") {
				t.Errorf("terminal (color %v) lacks step %q as typed:\n%s", term.Color, st, tty.String())
			}
		}
	}

	var plain bytes.Buffer
	if err := Order(&plain, Terminal{}, o, runbooks...); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSuffix(plain.String(), "\n"), "\n") {
		f := strings.Split(l, "\t")
		if f[0] != "step" || f[2] != "pkgstore" {
			continue
		}
		if len(f) != 7 {
			t.Fatalf("step record with %d fields: %q", len(f), l)
		}
		got = append(got, f[4])
		st := want[len(got)-1]
		full := strings.TrimSuffix(st, "\n")
		switch {
		case f[4] == full && f[6] == "":
		case f[6] != "" && strings.Contains(f[6], "abbreviated") && strings.Contains(f[6], "-o json") &&
			strings.HasPrefix(full, strings.TrimSuffix(strings.ReplaceAll(f[4], " …", ""), " ")):
		default:
			t.Errorf("plain step %q for %q: neither as typed nor marked abbreviated (note %q)", f[4], st, f[6])
		}
	}
	if len(got) != len(want) {
		t.Errorf("plain output has %d pkgstore steps, want %d", len(got), len(want))
	}
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

func TestWhyAlternative(t *testing.T) {
	paths := []graph.Path{{Edges: []graph.Edge{{From: "standby", To: "ns1", Kind: graph.Alternative, AnyOf: [][]string{{"ns1", "ns2"}}}}}}
	for _, tt := range []struct {
		term Terminal
		want string
	}{
		{Terminal{}, "anyof\t1\tstandby\tns1\tns1,ns2\n"},
		{Terminal{TTY: true}, "alternative: any one of {ns1, ns2}"},
	} {
		var buf bytes.Buffer
		if err := Why(&buf, tt.term, "standby", "ns1", paths); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), tt.want) {
			t.Errorf("Why(TTY %v) = %q, want it to contain %q", tt.term.TTY, buf.String(), tt.want)
		}
	}
	var buf bytes.Buffer
	if err := Why(&buf, Terminal{}, "ns1", "standby", nil); err != nil || buf.String() != "nopath\tns1\tstandby\n" {
		t.Errorf("Why(no path) = %q, %v; want a nopath record", buf.String(), err)
	}
}

func TestAboutLine(t *testing.T) {
	tests := []struct {
		t    Terminal
		a    About
		want string
	}{
		{Terminal{TTY: true}, About{Release: "r2", Newest: true}, "release r2 (newest; --release for another)\n"},
		{Terminal{TTY: true}, About{Release: "r1", Store: "/srv/rg"}, "release r1 · store /srv/rg\n"},
		{Terminal{}, About{Release: "r1", Newest: true}, ""},
	}
	for _, tt := range tests {
		var b strings.Builder
		if err := AboutLine(&b, tt.t, tt.a); err != nil || b.String() != tt.want {
			t.Errorf("AboutLine(%+v, %+v) = %q, %v; want %q", tt.t, tt.a, b.String(), err, tt.want)
		}
	}
}
