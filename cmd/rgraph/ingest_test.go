package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"

	"github.com/rgraph/rgraph/ingest"
	"github.com/rgraph/rgraph/render"
)

// writeFiles writes name -> content under a new temporary directory and
// returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const testCatalog = `schemaVersion: 1
kind: catalog
services:
  - name: dns
    endpoints: ["10.99.0.53:53"]
  - name: web
    owner: storefront
`

const testRecord = `{
  "schemaVersion": 1, "kind": "run", "id": "run-web-1", "scenario": "web/recover",
  "service": "web", "faultMode": "reject", "allowlist": [{"service": "dns"}],
  "outcome": {"recovered": true, "startedAt": "2026-11-20T09:00:00Z", "duration": "12s",
    "steps": [], "validation": {"name": "validate", "command": "true", "exitCode": 0, "duration": "1s"}},
  "attempts": [
    {"process": {"pid": 7, "comm": "web"}, "protocol": "udp", "address": "10.99.0.53", "port": 53,
     "verdict": "redirected", "count": 2, "firstSeen": "2026-11-20T09:00:01Z"},
    {"process": {"pid": 7, "comm": "web"}, "protocol": "tcp", "address": "192.0.2.1", "port": 443,
     "verdict": "denied", "failure": "eperm", "count": 1, "firstSeen": "2026-11-20T09:00:02Z"}
  ],
  "collection": {"complete": true, "lost": 0}
}`

// storeDirIsEmpty reports whether nothing was created in the store
// directory: Badger was never opened.
func storeDirIsEmpty(t *testing.T, e *testEnv) bool {
	t.Helper()
	entries, err := os.ReadDir(e.StoreDir(""))
	if os.IsNotExist(err) {
		return true
	}
	if err != nil {
		t.Fatal(err)
	}
	return len(entries) == 0
}

func TestIngestFlags(t *testing.T) {
	tests := []flagCase[ingestOptions]{
		{"all flags", []string{"ingest", "--release", "r1", "--replace", "--catalog", "c.yaml", "-o", "json", "-v", "a", "b"},
			&ingestOptions{Release: "r1", Replace: true, Catalog: "c.yaml", Paths: []string{"a", "b"}, Prefer: "newest", Output: "json", Verbose: true}},
		{"federation flags", []string{"ingest", "--release", "r2", "--from", "r1", "--prefer", "recovered", "--keep-all", "--trusted-keys", "k.pem", "a"},
			&ingestOptions{Release: "r2", From: "r1", Prefer: "recovered", KeepAll: true, TrustedKeys: "k.pem", Paths: []string{"a"}, Output: "text"}},
		{"bad prefer", []string{"ingest", "--release", "r1", "--prefer", "oldest", "dir"}, nil},
		{"defaults", []string{"ingest", "--release", "r1", "dir"}, &ingestOptions{Release: "r1", Paths: []string{"dir"}, Prefer: "newest", Output: "text"}},
		{"catalog only", []string{"ingest", "--release", "r1", "--catalog", "c.yaml"}, &ingestOptions{Release: "r1", Catalog: "c.yaml", Paths: []string{}, Prefer: "newest", Output: "text"}},
		{"quiet is global", []string{"-q", "ingest", "--release", "r1", "x"}, &ingestOptions{Release: "r1", Paths: []string{"x"}, Prefer: "newest", Output: "text", Quiet: true}},
		{"missing release", []string{"ingest", "dir"}, nil},
		{"nothing to ingest", []string{"ingest", "--release", "r1"}, nil},
		{"bad release name", []string{"ingest", "--release", "a b", "dir"}, nil},
		{"bad output", []string{"ingest", "--release", "r1", "-o", "yaml", "dir"}, nil},
		{"unknown flag", []string{"ingest", "--release", "r1", "--nope", "dir"}, nil},
	}
	testFlags(t, tests, newIngestCmd, func(o *ingestOptions) { o.Env, o.OpenStore = nil, nil })
}

// flagRoot is a root command with rgraph's global flags and one verb,
// made by verb from the global options the flags set: for flag tests that
// capture the verb's options through its runF.
func flagRoot(verb func(*globalOptions) *cobra.Command) *cobra.Command {
	g := &globalOptions{}
	root := &cobra.Command{Use: "rgraph", SilenceErrors: true, SilenceUsage: true}
	root.PersistentFlags().StringVar(&g.Store, "store", "", "")
	root.PersistentFlags().BoolVarP(&g.Quiet, "quiet", "q", false, "")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	root.SetOut(io.Discard)
	root.SetErr(io.Discard)
	root.AddCommand(verb(g))
	return root
}

func TestHelpDoesNotOpenStore(t *testing.T) {
	for _, args := range [][]string{
		{"ingest", "--help"}, {"releases", "--help"}, {"ingest", "--bogus"}, {"releases", "-o", "dot"}, {"releases", "extra"},
	} {
		e := newTestEnv(t, nil)
		e.rgraph(args...)
		if !storeDirIsEmpty(t, e) {
			t.Errorf("rgraph %v opened the store", args)
		}
	}
}

func TestIngestAndReleases(t *testing.T) {
	in := writeFiles(t, map[string]string{
		"catalog.yaml":   testCatalog,
		"records/r.json": testRecord,
		"legacy.tsv":     "# old CMDB\nweb\tcdn\tsoft\ncdn\tdns\n",
	})
	e := newTestEnv(t, nil)

	if code := e.rgraph("ingest", "--release", "r1", in); code != exitOK {
		t.Fatalf("ingest = exit %d, stderr %q", code, e.errOut)
	}
	want := "stored release r1: 3 services, 4 edges (soft 2, declared 2), 1 record, 1 unmapped endpoint\n"
	if got := e.out.String(); got != want {
		t.Errorf("ingest output = %q, want %q", got, want)
	}
	if e.errOut.Len() != 0 {
		t.Errorf("ingest wrote to stderr off a terminal: %q", e.errOut)
	}

	// Same name again: refused with a hint, store unchanged.
	if code := e.rgraph("ingest", "--release", "r1", in); code != exitError {
		t.Fatalf("second ingest = exit %d, want %d", code, exitError)
	}
	if got := e.errOut.String(); !strings.Contains(got, `release already exists: "r1"; use --replace to overwrite it`) {
		t.Errorf("second ingest stderr = %q, want the --replace hint", got)
	}

	// Malformed input: error names file and line, store unchanged.
	bad := writeFiles(t, map[string]string{"bad.tsv": "a\tb\nb\tc\tstrong\n"})
	if code := e.rgraph("ingest", "--release", "r1", "--replace", bad); code != exitError {
		t.Fatalf("malformed ingest = exit %d, want %d", code, exitError)
	}
	if got, want := e.errOut.String(), `bad.tsv:2: kind: unknown edge kind "strong"`; !strings.Contains(got, want) {
		t.Errorf("malformed ingest stderr = %q, want it to contain %q", got, want)
	}

	e.Now = func() time.Time { return time.Date(2026, 11, 23, 8, 30, 0, 0, time.UTC) }
	if code := e.rgraph("ingest", "--release", "r2", "-o", "json", filepath.Join(in, "legacy.tsv")); code != exitOK {
		t.Fatalf("ingest r2 = exit %d, stderr %q", code, e.errOut)
	}
	var js map[string]any
	if err := json.Unmarshal(e.out.Bytes(), &js); err != nil {
		t.Fatalf("ingest -o json: %v\n%s", err, e.out)
	}
	if js["schemaVersion"] != 1.0 || js["release"] != "r2" || js["edges"] != 2.0 || js["replaced"] != false {
		t.Errorf("ingest -o json = %s", e.out)
	}

	// Off a terminal: tab-separated, newest first, RFC 3339, no header.
	if code := e.rgraph("releases"); code != exitOK {
		t.Fatalf("releases = exit %d, stderr %q", code, e.errOut)
	}
	wantList := "r2\t2026-11-23T08:30:00Z\t3\t0\t2\t0\n" +
		"r1\t2026-11-22T12:00:00Z\t3\t1\t4\t1\n"
	if d := cmp.Diff(wantList, e.out.String()); d != "" {
		t.Errorf("releases (-want +got):\n%s", d)
	}

	e.OutTTY = true
	if code := e.rgraph("releases"); code != exitOK {
		t.Fatal(code)
	}
	plain := regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(e.out.String(), "")
	if lines := strings.Split(plain, "\n"); !strings.HasPrefix(lines[0], "NAME") || !strings.HasPrefix(lines[1], "r2 ") {
		t.Errorf("releases on a terminal = %q, want a header and aligned columns", e.out)
	}

	if code := e.rgraph("releases", "-o", "json"); code != exitOK {
		t.Fatal(code)
	}
	var rl struct {
		SchemaVersion int    `json:"schemaVersion"`
		Kind          string `json:"kind"`
		render.ReleasesDoc
	}
	if err := json.Unmarshal(e.out.Bytes(), &rl); err != nil {
		t.Fatal(err)
	}
	if rl.SchemaVersion != 1 || rl.Kind != "releases" || len(rl.Releases) != 2 || rl.Releases[0].Name != "r2" || rl.Releases[1].EdgesByKind["soft"] != 2 {
		t.Errorf("releases -o json = %s", e.out)
	}
	if strings.Contains(e.out.String(), "\x1b") {
		t.Error("JSON output contains escape codes on a terminal")
	}

	// --replace swaps the release.
	e.OutTTY = false
	if code := e.rgraph("ingest", "--release", "r1", "--replace", filepath.Join(in, "legacy.tsv")); code != exitOK {
		t.Fatalf("ingest --replace = exit %d, stderr %q", code, e.errOut)
	}
	if got := e.out.String(); !strings.HasPrefix(got, "replaced release r1: 3 services, 2 edges") {
		t.Errorf("ingest --replace output = %q", got)
	}
}

func TestIngestVerboseAndWarnings(t *testing.T) {
	rec := strings.Replace(testRecord, `"service": "web",`, `"service": "web", "release": "other",`, 1)
	in := writeFiles(t, map[string]string{"catalog.yaml": testCatalog, "r.json": rec, "scenario.yaml": "kind: scenario\n"})
	e := newTestEnv(t, nil)
	if code := e.rgraph("ingest", "-v", "--release", "r1", in); code != exitOK {
		t.Fatalf("ingest = exit %d, stderr %q", code, e.errOut)
	}
	stderr := e.errOut.String()
	for _, want := range []string{"rgraph: reading ", "(1/3)", `rgraph: warning: record run-web-1 was made for release "other"`, "scenario.yaml: not a catalog"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr with -v = %q, want it to contain %q", stderr, want)
		}
	}
	e2 := newTestEnv(t, nil)
	if code := e2.rgraph("-q", "ingest", "-v", "--release", "r1", in); code != exitOK || e2.errOut.Len() != 0 {
		t.Errorf("ingest -q = exit %d, stderr %q; want silence", code, e2.errOut)
	}
}

func TestIngestProgressOnTerminal(t *testing.T) {
	in := writeFiles(t, map[string]string{"e.tsv": "a\tb\n"})
	e := newTestEnv(t, nil)
	e.ErrTTY = true
	if code := e.rgraph("ingest", "--release", "r1", in); code != exitOK {
		t.Fatalf("ingest = exit %d, stderr %q", code, e.errOut)
	}
	if got := e.errOut.String(); !strings.Contains(got, "\r\x1b[K") || !strings.HasSuffix(got, "\r\x1b[K") {
		t.Errorf("progress on a terminal = %q, want a rewritten line that is cleared at the end", got)
	}
}

func TestStoreLocked(t *testing.T) {
	ctx := context.Background()
	e := newTestEnv(t, nil)
	in := writeFiles(t, map[string]string{"e.tsv": "a\tb\n"})
	if code := e.rgraph("ingest", "--release", "r1", in); code != exitOK {
		t.Fatalf("ingest = exit %d: %s", code, e.errOut)
	}
	g := &globalOptions{}

	// A writer excludes readers, and the error says who holds the store.
	w, err := storeWriter(e.Env, g)(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if code := e.rgraph("releases"); code != exitError {
		t.Fatalf("releases with the store held by a writer = exit %d, want %d", code, exitError)
	}
	for _, want := range []string{e.StoreDir(""), fmt.Sprintf("in use by pid %d (", os.Getpid()), "--wait"} {
		if !strings.Contains(e.errOut.String(), want) {
			t.Errorf("stderr = %q, want it to contain %q", e.errOut, want)
		}
	}
	w.Close()

	// Readers share the store, and exclude writers.
	r, err := storeReader(e.Env, g)(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if code := e.rgraph("releases"); code != exitOK {
		t.Errorf("releases beside another reader = exit %d: %s", code, e.errOut)
	}
	if code := e.rgraph("ingest", "--release", "r2", in); code != exitError || !strings.Contains(e.errOut.String(), "in use by pid") {
		t.Errorf("ingest beside a reader = exit %d (%s), want 1 naming the reader", code, e.errOut)
	}
	r.Close()

	// --wait waits for the holder to finish; Ctrl-C ends the wait.
	for _, tt := range []struct {
		name   string
		cancel bool
		want   int
	}{{"released", false, exitOK}, {"interrupted", true, exitInterrupted}} {
		t.Run(tt.name, func(t *testing.T) {
			w, err := storeWriter(e.Env, g)(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			errOut := &signalWriter{wrote: make(chan struct{}, 1)}
			env := *e.Env
			env.ErrOut = errOut
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			code := make(chan int)
			go func() { code <- run(ctx, []string{"--wait", "releases"}, &env) }()
			select {
			case <-errOut.wrote:
			case c := <-code:
				t.Fatalf("releases --wait returned %d before waiting: %s", c, errOut)
			case <-time.After(time.Minute):
				t.Fatal("releases --wait said nothing for a minute")
			}
			if tt.cancel {
				cancel()
			} else {
				w.Close()
			}
			if got := <-code; got != tt.want {
				t.Errorf("releases --wait = exit %d, want %d: %s", got, tt.want, errOut)
			}
			if got := errOut.String(); !strings.HasPrefix(got, "rgraph: waiting: store "+e.StoreDir("")+" is in use by pid") {
				t.Errorf("stderr = %q, want one line saying whom it waits for", got)
			}
		})
	}
}

// signalWriter is a buffer safe for concurrent use that signals on wrote
// when it is written to.
type signalWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	wrote chan struct{}
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	select {
	case w.wrote <- struct{}{}:
	default:
	}
	return w.buf.Write(p)
}

func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestReadOnlyVerbsNeedAStore: a verb that only reads never creates a
// store, and says which one is missing.
func TestReadOnlyVerbsNeedAStore(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "typo", "x", "y")
	e := newTestEnv(t, map[string]string{"RGRAPH_STORE": missing})
	for _, args := range [][]string{{"releases"}, {"cycles"}, {"order"}, {"why", "a", "b"}, {"export"}, {"diff", "a", "b"},
		{"render"}, {"docs", "--out", filepath.Join(t.TempDir(), "site")}, {"runtime", "show"}, {"compare"}} {
		code := e.rgraph(args...)
		if code != exitError || !strings.Contains(e.errOut.String(), "no store at "+missing) {
			t.Errorf("%s on a missing store = exit %d (%s), want 1 naming it", args, code, e.errOut)
		}
	}
	if _, err := os.Stat(filepath.Dir(filepath.Dir(missing))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a read-only verb created %s", filepath.Dir(filepath.Dir(missing)))
	}
}

func TestViewRelease(t *testing.T) {
	ctx := context.Background()
	e := newTestEnv(t, nil)
	open := storeWriter(e.Env, &globalOptions{})
	if _, err := viewRelease(ctx, open, "", ingest.PartGraph); err == nil || !strings.Contains(err.Error(), "(store "+e.StoreDir("")+"); ingest one with 'rgraph ingest --release") {
		t.Errorf("viewRelease on an empty store = %v, want the store named and a hint to ingest", err)
	}
	in := writeFiles(t, map[string]string{"e.tsv": "a\tb\thard\n"})
	if code := e.rgraph("ingest", "--release", "r1", in); code != exitOK {
		t.Fatal(code)
	}
	for _, name := range []string{"", "r1"} {
		v, err := viewRelease(ctx, open, name, ingest.PartGraph)
		if err != nil || v.Release.Name != "r1" || v.Graph.EdgeCount() != 1 || v.Records != nil {
			t.Errorf("viewRelease(%q) = %+v, %v; want r1's graph alone", name, v, err)
		}
	}
	if _, err := viewRelease(ctx, open, "nope", ingest.PartGraph); err == nil || !strings.Contains(err.Error(), `no such release: "nope"`) {
		t.Errorf("viewRelease(nope) = %v", err)
	}
}
