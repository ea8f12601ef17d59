package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// testEnv is an Env writing to buffers, with a fixed clock and an
// environment given by vars.
type testEnv struct {
	*Env
	out, errOut *bytes.Buffer
}

func newTestEnv(t *testing.T, vars map[string]string) *testEnv {
	t.Helper()
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	if vars == nil {
		vars = map[string]string{}
	}
	if _, ok := vars["RGRAPH_STORE"]; !ok {
		vars["RGRAPH_STORE"] = t.TempDir()
	}
	return &testEnv{
		Env: &Env{
			In:     strings.NewReader(""),
			Out:    out,
			ErrOut: errOut,
			Getenv: func(k string) string { return vars[k] },
			Now:    func() time.Time { return time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC) },
		},
		out:    out,
		errOut: errOut,
	}
}

// rgraph runs the CLI in-process and returns its exit code.
func (e *testEnv) rgraph(args ...string) int {
	e.out.Reset()
	e.errOut.Reset()
	return run(context.Background(), args, e.Env)
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"version", []string{"version"}, exitOK},
		{"unknown command", []string{"bogus"}, exitUsage},
		{"unknown flag", []string{"version", "--nope"}, exitUsage},
		{"extra argument", []string{"version", "x"}, exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, nil)
			if got := e.rgraph(tt.args...); got != tt.want {
				t.Errorf("rgraph %v = exit %d, want %d (stderr %q)", tt.args, got, tt.want, e.errOut)
			}
		})
	}
}

func TestAnalysisExitCodes(t *testing.T) {
	store := t.TempDir()
	e := newTestEnv(t, map[string]string{"RGRAPH_STORE": store})
	edges := t.TempDir() + "/e.tsv"
	if err := os.WriteFile(edges, []byte("a\tb\thard\nb\ta\thard\nc\ta\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := e.rgraph("ingest", "--release", "r1", edges); code != exitOK {
		t.Fatalf("ingest = exit %d: %s", code, e.errOut)
	}
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"cycles", []string{"cycles"}, exitOK},
		{"cycles exit-code with a cycle", []string{"cycles", "--exit-code"}, exitFindings},
		{"cycles bad kinds", []string{"cycles", "--kinds", "hard,squishy"}, exitUsage},
		{"cycles bad output", []string{"cycles", "-o", "yaml"}, exitUsage},
		{"cycles unknown release", []string{"cycles", "--release", "nope"}, exitError},
		{"order unknown target", []string{"order", "--target", "zz"}, exitError},
		{"order negative width", []string{"order", "--max-parallel", "-1"}, exitUsage},
		{"why one argument", []string{"why", "a"}, exitUsage},
		{"why no path is an answer", []string{"why", "a", "c"}, exitNoPath},
		{"why unknown service", []string{"why", "a", "zz"}, exitError},
		{"order markdown", []string{"order", "-o", "md"}, exitOK},
		{"order scale without png", []string{"order", "--scale", "2"}, exitUsage},
		{"render scale out of range", []string{"render", "-o", "png", "--scale", "0"}, exitUsage},
		{"diff same release", []string{"diff", "r1", "r1", "--fail-on", "all"}, exitOK},
		{"diff bad category", []string{"diff", "r1", "r1", "--fail-on", "everything"}, exitUsage},
		{"diff missing baseline", []string{"diff", "r1", "r1", "--baseline", "/nonexistent.yaml"}, exitError},
		{"render png", []string{"render", "-o", "png", "--out", t.TempDir() + "/g.png"}, exitOK},
		{"render png at scale 2", []string{"render", "-o", "png", "--scale", "2", "--out", t.TempDir() + "/g.png"}, exitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := e.rgraph(tt.args...); got != tt.want {
				t.Errorf("rgraph %v = exit %d, want %d (stderr %q)", tt.args, got, tt.want, e.errOut)
			}
		})
	}
}

func TestPlainOutputHasNoEscapes(t *testing.T) {
	e := newTestEnv(t, map[string]string{"TERM": "xterm-256color"})
	edges := t.TempDir() + "/e.tsv"
	if err := os.WriteFile(edges, []byte("a\tb\thard\nb\ta\thard\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.rgraph("ingest", "--release", "r1", edges)
	for _, args := range [][]string{{"cycles"}, {"order"}, {"why", "a", "b"}, {"releases"}} {
		if code := e.rgraph(args...); code != exitOK {
			t.Fatalf("rgraph %v = exit %d: %s", args, code, e.errOut)
		}
		if strings.Contains(e.out.String(), "\x1b[") {
			t.Errorf("rgraph %v wrote escape codes off a terminal: %q", args, e.out)
		}
	}
}

// A mistyped command, release or service is answered with what was likely
// meant, or with the known names.
func TestDidYouMean(t *testing.T) {
	e := newTestEnv(t, map[string]string{"RGRAPH_STORE": t.TempDir()})
	edges := t.TempDir() + "/e.tsv"
	if err := os.WriteFile(edges, []byte("web\tdb\thard\ndb\tdns\thard\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{"2026-10", "2026-11"} {
		if code := e.rgraph("ingest", "--release", rel, edges); code != exitOK {
			t.Fatalf("ingest = exit %d: %s", code, e.errOut)
		}
	}
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"ordr"}, exitUsage, `unknown command "ordr" for "rgraph"; did you mean "order"?`},
		{[]string{"sandbox", "chek"}, exitUsage, `unknown command "chek" for "rgraph sandbox"; did you mean "check"?`},
		{[]string{"cycles", "extra-arg"}, exitUsage, `rgraph cycles takes no arguments, got "extra-arg"`},
		{[]string{"order", "--release", "2026-1"}, exitError, `no such release: "2026-1"; did you mean "2026-10" or "2026-11"?`},
		{[]string{"diff", "2026-10", "2026-12"}, exitError, `no such release: "2026-12"; did you mean "2026-1`},
		{[]string{"cycles", "--release", "zzzzzz"}, exitError, `no such release: "zzzzzz"; known releases: "2026-10", "2026-11"`},
		{[]string{"why", "web", "Web"}, exitError, `unknown service "Web"; did you mean "web"?`},
		{[]string{"order", "--target", "wbe"}, exitError, `unknown service "wbe"; did you mean "web"?`},
	}
	for _, tt := range tests {
		if code := e.rgraph(tt.args...); code != tt.code || !strings.Contains(e.errOut.String(), tt.want) {
			t.Errorf("rgraph %v = exit %d, stderr %q; want exit %d and %q", tt.args, code, e.errOut, tt.code, tt.want)
		}
		if strings.Contains(e.errOut.String(), "unknown command") && tt.args[0] == "cycles" {
			t.Errorf("rgraph %v calls an argument an unknown command: %q", tt.args, e.errOut)
		}
	}
}

func TestReleasesDelete(t *testing.T) {
	e := newTestEnv(t, nil)
	edges := t.TempDir() + "/e.tsv"
	if err := os.WriteFile(edges, []byte("web\tdb\thard\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{"a", "b"} {
		if code := e.rgraph("ingest", "--release", rel, edges); code != exitOK {
			t.Fatalf("ingest = exit %d: %s", code, e.errOut)
		}
	}
	steps := []struct {
		args       []string
		code       int
		stderr     string
		releasesTo string
	}{
		{[]string{"releases", "delete", "b"}, exitUsage, "pass --yes", "a\nb\n"},
		{[]string{"releases", "delete", "--yes", "c"}, exitError, `no such release: "c"`, "a\nb\n"},
		{[]string{"releases", "delete", "--yes", "b"}, exitOK, "deleted release b\ncommands without --release now read a, the newest release\n", "a\n"},
		{[]string{"releases", "delete", "-y", "a"}, exitOK, "has no releases left", ""},
	}
	for _, st := range steps {
		if code := e.rgraph(st.args...); code != st.code || !strings.Contains(e.errOut.String(), st.stderr) {
			t.Errorf("rgraph %v = exit %d, stderr %q; want exit %d and %q", st.args, code, e.errOut, st.code, st.stderr)
		}
		e.rgraph("releases")
		var names strings.Builder
		for _, line := range strings.Split(strings.TrimSpace(e.out.String()), "\n") {
			if name, _, ok := strings.Cut(line, "\t"); ok {
				names.WriteString(name + "\n")
			}
		}
		if names.String() != st.releasesTo {
			t.Errorf("after rgraph %v the releases are %q, want %q", st.args, names.String(), st.releasesTo)
		}
	}
}

// rgraph --version prints what rgraph version does, and -o png is refused
// on a terminal.
func TestVersionAndPNGOnTerminal(t *testing.T) {
	e := newTestEnv(t, nil)
	e.rgraph("version")
	want := e.out.String()
	if code := e.rgraph("--version"); code != exitOK || e.out.String() != want {
		t.Errorf("rgraph --version = exit %d, %q; want %q like rgraph version", code, e.out, want)
	}
	edges := t.TempDir() + "/e.tsv"
	if err := os.WriteFile(edges, []byte("web\tdb\thard\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.rgraph("ingest", "--release", "r1", edges)
	e.OutTTY = true
	for _, args := range [][]string{{"render", "-o", "png"}, {"order", "-o", "png"}, {"cycles", "-o", "png"}} {
		if code := e.rgraph(args...); code != exitUsage || e.out.Len() != 0 || !strings.Contains(e.errOut.String(), "not for a terminal") {
			t.Errorf("rgraph %v on a terminal = exit %d, %d bytes, stderr %q; want a usage error and nothing written", args, code, e.out.Len(), e.errOut)
		}
	}
	if code := e.rgraph("render", "-o", "png", "--out", t.TempDir()+"/g.png"); code != exitOK {
		t.Errorf("rgraph render -o png --out FILE on a terminal = exit %d: %s", code, e.errOut)
	}
}

// Human reports name their release, and whether it is the newest one that
// commands without --release read; replacing a release says it is now
// the one they read.
func TestReleaseIsVisible(t *testing.T) {
	store := t.TempDir()
	e := newTestEnv(t, map[string]string{"RGRAPH_STORE": store})
	edges := t.TempDir() + "/e.tsv"
	if err := os.WriteFile(edges, []byte("web\tdb\thard\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tick := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	e.Now = func() time.Time { tick = tick.Add(time.Minute); return tick }
	for _, rel := range []string{"r1", "r2"} {
		if code := e.rgraph("ingest", "--release", rel, edges); code != exitOK || e.errOut.Len() != 0 {
			t.Fatalf("ingest %s = exit %d, stderr %q; want nothing said", rel, code, e.errOut)
		}
	}
	e.OutTTY = true
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"order"}, "release r2 (newest; --release for another) · store " + store},
		{[]string{"cycles", "--release", "r1"}, "release r1 · store " + store},
		{[]string{"why", "web", "db"}, "release r2 (newest"},
		{[]string{"releases"}, "r2 (newest)"},
	} {
		if code := e.rgraph(tt.args...); code != exitOK || !strings.Contains(e.out.String(), tt.want) {
			t.Errorf("rgraph %v on a terminal = exit %d:\n%s\nwant it to name the release: %q", tt.args, code, e.out, tt.want)
		}
	}
	e.OutTTY = false
	if code := e.rgraph("ingest", "--release", "r1", "--replace", edges); code != exitOK ||
		!strings.Contains(e.errOut.String(), "r1 is now the newest release, which commands without --release read (it was r2)") {
		t.Errorf("ingest --replace of an older release = exit %d, stderr %q; want it to say r1 is now read", code, e.errOut)
	}
	if code := e.rgraph("order"); code != exitOK || strings.Contains(e.out.String(), "release") {
		t.Errorf("order off a terminal = exit %d:\n%s\nwant the records only", code, e.out)
	}
}

// The shell completes release and service names from the store, and a
// missing store is neither created nor an error.
func TestCompleteNames(t *testing.T) {
	store := t.TempDir() + "/store"
	e := newTestEnv(t, map[string]string{"RGRAPH_STORE": store})
	if code := e.rgraph("__complete", "order", "--release", ""); code != exitOK || strings.Contains(e.out.String(), "r1") {
		t.Errorf("completing with no store = exit %d, %q", code, e.out)
	}
	if _, err := os.Stat(store); !os.IsNotExist(err) {
		t.Errorf("completion created the store (%v)", err)
	}
	edges := t.TempDir() + "/e.tsv"
	if err := os.WriteFile(edges, []byte("web\tdb\thard\ndb\tdns\thard\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tick := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	e.Now = func() time.Time { tick = tick.Add(time.Minute); return tick }
	e.rgraph("ingest", "--release", "r1", edges)
	if err := os.WriteFile(edges, []byte("api\tdb\thard\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.rgraph("ingest", "--release", "r2", edges)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"order", "--release", ""}, "r2\nr1\n"},
		{[]string{"diff", "r1", ""}, "r2\nr1\n"},
		{[]string{"diff", "r1", "r2", ""}, ""},
		{[]string{"releases", "delete", "r"}, "r2\nr1\n"},
		{[]string{"why", "a"}, "api\n"},
		{[]string{"why", "--release", "r1", "d"}, "db\ndns\n"},
		{[]string{"order", "--release", "r1", "--down", "web,d"}, "web,db\nweb,dns\n"},
		{[]string{"render", "--target", "a"}, "api\n"},
		{[]string{"compare", "--release", "r1", "--service", "w"}, "web\n"},
	} {
		if code := e.rgraph(append([]string{"__complete"}, tt.args...)...); code != exitOK {
			t.Errorf("__complete %v = exit %d: %s", tt.args, code, e.errOut)
		}
		got, _, _ := strings.Cut(e.out.String(), ":")
		if got != tt.want {
			t.Errorf("__complete %v = %q, want %q", tt.args, got, tt.want)
		}
	}
}
