package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/internal/golden"
	"github.com/rgraph/rgraph/render/site"
	"github.com/rgraph/rgraph/render/site/sitetest"
)

// checkGolden compares got with testdata/<test name>/<name>.golden, or
// rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.CheckFile(t, filepath.Join("testdata", strings.ReplaceAll(t.Name(), "/", "_"), strings.ReplaceAll(name, "/", "_")+".golden"), got)
}

// fleetStore ingests the test fleet of package ingest (records, catalog)
// as release 2026-11 with a runtime graph, and returns its test env.
func fleetStore(t *testing.T) *testEnv {
	t.Helper()
	e := newTestEnv(t, nil)
	if code := e.rgraph("ingest", "--release", "2026-11", "--catalog", "../../ingest/testdata/fleet/catalog.yaml", "../../ingest/testdata/fleet/records"); code != exitOK {
		t.Fatalf("ingest = exit %d: %s", code, e.errOut)
	}
	if code := e.rgraph("runtime", "ingest", "--release", "2026-11", "../../ingest/testdata/runtime/jaeger-fleet.json"); code != exitOK {
		t.Fatalf("runtime ingest = exit %d: %s", code, e.errOut)
	}
	return e
}

// readSite returns the files under dir by slash-separated path.
func readSite(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDocsFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want *docsOptions // nil: a usage error
	}{
		{"all flags", []string{"docs", "--out", "d", "--release", "r1", "--kinds", "hard", "--group-by", "owner"},
			&docsOptions{analysisFlags: analysisFlags{Release: "r1", Kinds: "hard"}, Out: "d", GroupBy: "owner"}},
		{"defaults", []string{"docs", "--out", "d"}, &docsOptions{analysisFlags: analysisFlags{Kinds: "alternative,declared,hard"}, Out: "d", GroupBy: "auto"}},
		{"bad group-by", []string{"docs", "--out", "d", "--group-by", "team"}, nil},
		{"no out", []string{"docs"}, nil},
		{"bad kinds", []string{"docs", "--out", "d", "--kinds", "squishy"}, nil},
		{"argument", []string{"docs", "--out", "d", "extra"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, nil)
			var got *docsOptions
			root := flagRoot(func(g *globalOptions) *cobra.Command {
				return newDocsCmd(e.Env, g, func(_ context.Context, o *docsOptions) error { got = o; return nil })
			})
			root.SetArgs(tt.args)
			err := root.ExecuteContext(context.Background())
			if tt.want == nil {
				if code := exitCode(context.Background(), err); code != exitUsage {
					t.Fatalf("rgraph %v = exit %d (%v), want usage error", tt.args, code, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.Env, got.OpenStore = nil, nil
			if d := cmp.Diff(tt.want, got, cmp.AllowUnexported(docsOptions{})); d != "" {
				t.Errorf("options (-want +got):\n%s", d)
			}
			if !storeDirIsEmpty(t, e) {
				t.Error("parsing flags opened the store")
			}
		})
	}
}

// TestDocsGolden documents the test fleet from the store with a fixed
// clock: the same bytes every time, every link resolving, and the pages
// saying what the records say.
func TestDocsGolden(t *testing.T) {
	e := fleetStore(t)
	dir := filepath.Join(t.TempDir(), "site")
	if code := e.rgraph("docs", "--out", dir); code != exitOK {
		t.Fatalf("docs = exit %d: %s", code, e.errOut)
	}
	if got := e.out.String(); got != "documented release 2026-11 in "+dir+": 7 pages, 6 services (3 with records), 4 recovery dependencies hidden at runtime\n" {
		t.Errorf("docs printed %q", got)
	}
	files := readSite(t, dir)
	paths := slices.Sorted(func(yield func(string) bool) {
		for p := range files {
			if !yield(p) {
				return
			}
		}
	})
	for _, p := range paths {
		checkGolden(t, p, files[p])
	}
	pages := map[string][]byte{}
	for p, b := range files {
		if strings.HasSuffix(p, ".html") {
			pages[p] = b
		}
	}
	problems, checked := sitetest.Links(pages)
	for _, p := range problems {
		t.Error(p)
	}
	if checked < 40 {
		t.Errorf("only %d links checked", checked)
	}
	for page, wants := range map[string][]string{
		// Steps and validation exactly as typed, from the passing run.
		"services/web.html": {"<pre><code>fleetctl start web</code></pre>", "<pre><code>fleetctl check web</code></pre>",
			"last passed 2026-11-20 09:00 UTC (run <code>run-web-1</code>)", "Allowlist (declared)", ">declared<"},
		// The minimization's classes and evidence.
		"services/config.html": {"Minimal allowlist", "(<code>min-config</code>)", ">hard<", ">soft<", ">alternative<",
			"any one of group 1", "process configd[6201]", "reached unix:/run/fleet/logd.sock",
			"last passed 2026-11-20 11:00 UTC (run <code>run-config-1</code>)",
			"Needed to recover but never called while healthy"},
		// A run that did not recover proves nothing.
		"services/ca.html": {"has not passed yet"},
		// No records: from the graph alone, and saying so.
		"services/dns.html": {"No run or minimization record of this service is part of release 2026-11"},
		"index.html":        {"Recovery vs runtime", "4 dependencies only at recovery", "data as of 2026-11-22 12:00 UTC"},
	} {
		for _, want := range wants {
			if !bytes.Contains(files[page], []byte(want)) {
				t.Errorf("%s lacks %q", page, want)
			}
		}
	}

	// Again: byte for byte the same site.
	if code := e.rgraph("docs", "--out", dir); code != exitOK {
		t.Fatalf("second docs = exit %d: %s", code, e.errOut)
	}
	if d := cmp.Diff(files, readSite(t, dir)); d != "" {
		t.Errorf("a second run changed the site:\n%s", d)
	}
}

func TestDocsRegenerate(t *testing.T) {
	e := newTestEnv(t, nil)
	edges := writeFiles(t, map[string]string{
		"r1.tsv": "web\tconfig\thard\nconfig\tdns\thard\nlegacy\tdns\thard\n",
		"r2.tsv": "web\tconfig\thard\nconfig\tdns\thard\n",
	})
	dir := filepath.Join(t.TempDir(), "site")
	for _, r := range []string{"r1", "r2"} {
		if code := e.rgraph("ingest", "--release", r, filepath.Join(edges, r+".tsv")); code != exitOK {
			t.Fatalf("ingest %s = exit %d: %s", r, code, e.errOut)
		}
	}
	if code := e.rgraph("docs", "--release", "r1", "--out", dir); code != exitOK {
		t.Fatalf("docs r1 = exit %d: %s", code, e.errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "services", "legacy.html")); err != nil {
		t.Fatal(err)
	}
	mine := filepath.Join(dir, "README")
	if err := os.WriteFile(mine, []byte("not rgraph's"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := e.rgraph("docs", "--release", "r2", "--out", dir); code != exitOK {
		t.Fatalf("docs r2 = exit %d: %s", code, e.errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "services", "legacy.html")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the page of a service gone from r2 is still there (%v)", err)
	}
	if _, err := os.Stat(mine); err != nil {
		t.Errorf("docs removed a file it did not write: %v", err)
	}

	// A directory rgraph did not write is refused, and left alone.
	foreign := writeFiles(t, map[string]string{"index.html": "mine"})
	if code := e.rgraph("docs", "--out", foreign); code != exitError || !strings.Contains(e.errOut.String(), "rgraph did not write") {
		t.Errorf("docs into a foreign directory = exit %d (%s), want 1 naming the problem", code, e.errOut)
	}
	if b, _ := os.ReadFile(filepath.Join(foreign, "index.html")); string(b) != "mine" {
		t.Error("docs overwrote a file in a foreign directory")
	}
	// No store: a clear error.
	empty := newTestEnv(t, nil)
	if code := empty.rgraph("docs", "--out", t.TempDir()); code != exitError || !strings.Contains(empty.errOut.String(), "no store at") {
		t.Errorf("docs without a store = exit %d (%s)", code, empty.errOut)
	}
}

func TestRefreshDocs(t *testing.T) {
	e := fleetStore(t)
	dir := filepath.Join(t.TempDir(), "site")
	rec := &collector.Record{SchemaVersion: 1, Kind: collector.KindRun, ID: "run-dns-7", Scenario: "dns/recover", Service: "dns",
		Release: "2026-11", FaultMode: collector.FaultReject,
		Outcome: collector.Outcome{Recovered: true, StartedAt: time.Date(2026, 11, 22, 11, 0, 0, 0, time.UTC), Duration: collector.Duration(30 * time.Second),
			Steps:      []collector.StepResult{{Name: "start", Command: "systemctl start unbound && \\\n  unbound-control reload"}},
			Validation: collector.StepResult{Name: "validate", Command: "dig @127.0.0.1 ns.fleet.internal +short"}}}
	open := storeReader(e.Env, &globalOptions{})

	failed := *rec
	failed.Outcome.Recovered = false
	if err := refreshDocs(context.Background(), e.Env, open, dir, &failed); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("refreshDocs wrote a site for a run that did not recover")
	}

	if err := refreshDocs(context.Background(), e.Env, open, dir, rec); err != nil {
		t.Fatal(err)
	}
	dns, err := os.ReadFile(filepath.Join(dir, "services", "dns.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"systemctl start unbound &amp;&amp; \\\n  unbound-control reload", "dig @127.0.0.1 ns.fleet.internal &#43;short",
		"last passed 2026-11-22 11:00 UTC (run <code>run-dns-7</code>)"} {
		if !strings.Contains(string(dns), want) {
			t.Errorf("refreshed dns page lacks %q", want)
		}
	}

	rec.Release = "nope"
	if err := refreshDocs(context.Background(), e.Env, open, dir, rec); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("refreshDocs for an unknown release = %v, want an error naming it", err)
	}
}

func TestSiteServices(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 11, 20, h, 0, 0, 0, time.UTC) }
	run := func(id string, h int, ok bool, steps ...string) *collector.Record {
		r := &collector.Record{Kind: collector.KindRun, ID: id, Scenario: "s/" + id, Service: "svc",
			Allowlist: collector.Allowlist{{Service: "dep-" + id}, {All: true}},
			Outcome:   collector.Outcome{Recovered: ok, StartedAt: at(h), Duration: collector.Duration(time.Minute)}}
		for _, s := range steps {
			r.Outcome.Steps = append(r.Outcome.Steps, collector.StepResult{Command: s})
		}
		return r
	}
	tests := []struct {
		name string
		recs []*collector.Record
		want site.Service
	}{
		{"newest pass, its steps, its allowlist declared",
			[]*collector.Record{run("a", 9, true, "old"), run("b", 10, true, "new"), run("c", 11, false, "broken")},
			site.Service{Name: "svc", Scenario: "s/b", LastRun: "b", LastPassed: at(10).Add(time.Minute),
				Steps: []site.Step{{Command: "new"}}, AllowlistFrom: "b",
				Allowlist: []site.Requirement{{Capability: "service:dep-b", Service: "dep-b", Class: site.Declared}}}},
		{"a pass without steps keeps the last steps typed",
			[]*collector.Record{run("a", 9, true, "typed"), run("b", 10, true)},
			site.Service{Name: "svc", Scenario: "s/b", LastRun: "b", LastPassed: at(10).Add(time.Minute),
				Steps: []site.Step{{Command: "typed"}}, AllowlistFrom: "b",
				Allowlist: []site.Requirement{{Capability: "service:dep-b", Service: "dep-b", Class: site.Declared}}}},
		{"never passed",
			[]*collector.Record{run("a", 9, false, "x")},
			site.Service{Name: "svc", Scenario: "s/a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := siteServices(tt.recs, nil)
			if d := cmp.Diff([]site.Service{tt.want}, got); d != "" {
				t.Errorf("siteServices mismatch (-want +got):\n%s", d)
			}
		})
	}
}

// TestDocsInBrowser loads what rgraph docs wrote in headless Chromium:
// every page loads and every link resolves.
func TestDocsInBrowser(t *testing.T) {
	b := sitetest.RequireBrowser(t)
	e := fleetStore(t)
	dir := t.TempDir()
	if code := e.rgraph("docs", "--out", dir); code != exitOK {
		t.Fatalf("docs = exit %d: %s", code, e.errOut)
	}
	s, err := b.Check(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range s.Problems {
		t.Error(p)
	}
	if len(s.DOMs) != 7 || s.Links < 40 {
		t.Errorf("the browser loaded %d pages and checked %d links", len(s.DOMs), s.Links)
	}
}
