package ingest

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/collector/sign"
	"github.com/rgraph/rgraph/graph"
)

// rec is a run record of the generated fleet: service svc, scenario
// svc/recover, reaching each target service svcN at 10.1.N/24's .1
// (the catalog of genCatalog owns them).
type rec struct {
	id, svc   string
	at        int // minutes after 10:00
	recovered bool
	host, job string
	targets   []int
}

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func (r rec) record() *collector.Record {
	out := &collector.Record{
		SchemaVersion: collector.SchemaVersion, Kind: collector.KindRun, ID: r.id, Scenario: r.svc + "/recover",
		Service: r.svc, Release: "v1", Driver: "netns", FaultMode: collector.FaultReject,
		Allowlist: collector.Allowlist{},
		Outcome: collector.Outcome{Recovered: r.recovered, StartedAt: t0.Add(time.Duration(r.at) * time.Minute),
			Duration: collector.Duration(time.Duration(len(r.id)) * time.Second)},
		Collection: collector.Collection{Complete: true},
	}
	if r.host != "" || r.job != "" {
		out.Provenance = &collector.Provenance{Host: r.host, Job: r.job}
	}
	for _, n := range r.targets {
		out.Attempts = append(out.Attempts, collector.Attempt{
			Process: collector.Process{PID: 100, Comm: r.svc}, Protocol: collector.TCP,
			Address: netip.AddrFrom4([4]byte{10, 1, byte(n >> 8), byte(n)}), Port: 443,
			Verdict: collector.Allowed, Count: 1, FirstSeen: out.Outcome.StartedAt,
		})
	}
	return out
}

func (r rec) json(t testing.TB) []byte {
	t.Helper()
	b, _, err := encodeRecord(r.record())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// genCatalog is a catalog of services svc0 .. svc(n-1), svcN owning
// 10.1.N.N:443/tcp (two bytes of N).
func genCatalog(t testing.TB, n int) []byte {
	t.Helper()
	var b strings.Builder
	b.WriteString("schemaVersion: 1\nkind: catalog\nservices:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - name: svc%d\n    endpoints: [\"10.1.%d.%d:443/tcp\"]\n", i, i>>8, i&0xff)
	}
	return []byte(b.String())
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeTarGz writes files (member name -> content) as a gzipped tarball.
func writeTarGz(t testing.TB, path string, files map[string][]byte, order ...string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	tw := tar.NewWriter(zw)
	for _, name := range order {
		b := files[name]
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []interface{ Close() error }{tw, zw, f} {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFederation builds releases from records that three producers wrote:
// two shards' output directories and a CI artifact tarball that repeats
// one of the shards' records.
func TestFederation(t *testing.T) {
	dir := t.TempDir()
	cat := filepath.Join(dir, "catalog.yaml")
	writeFile(t, cat, genCatalog(t, 8))
	recs := map[string]rec{
		"r1": {id: "r1", svc: "svc1", at: 0, recovered: true, host: "n1", job: "slurm:7_0", targets: []int{2}},
		"r2": {id: "r2", svc: "svc1", at: 60, recovered: true, host: "n2", job: "slurm:7_1", targets: []int{2}},
		"r3": {id: "r3", svc: "svc3", at: 0, recovered: true, host: "n2", job: "slurm:7_1", targets: []int{4, 5}},
		"r4": {id: "r4", svc: "svc3", at: -60, recovered: false, host: "ci", job: "github:org/repo/9/1", targets: []int{4, 5}},
		"r5": {id: "r5", svc: "svc3", at: 120, recovered: false, host: "ci", job: "github:org/repo/10/1", targets: []int{4, 6}},
	}
	writeFile(t, filepath.Join(dir, "shard-0", "svc1+svc1.run.json"), recs["r1"].json(t))
	writeFile(t, filepath.Join(dir, "shard-1", "svc1+svc1.run.json"), recs["r2"].json(t))
	writeFile(t, filepath.Join(dir, "shard-1", "svc3+svc3.run.json"), recs["r3"].json(t))
	art := filepath.Join(dir, "ci.tar.gz")
	writeTarGz(t, art, map[string][]byte{
		"records/r4.json":   recs["r4"].json(t),
		"records/r5.json":   recs["r5"].json(t),
		"records/copy.json": recs["r1"].json(t), // a duplicate of shard-0's
		"records/.hidden":   []byte("not read"),
	}, "records/r4.json", "records/r5.json", "records/copy.json", "records/.hidden")

	ref := func(id, file string) RecordRef {
		r := recs[id]
		return RecordRef{ID: id, StartedAt: t0.Add(time.Duration(r.at) * time.Minute), Recovered: r.recovered,
			Origin: graph.Origin{File: file, Host: r.host, Job: r.job}}
	}
	files := map[string]string{
		"r1": filepath.Join(dir, "shard-0", "svc1+svc1.run.json"),
		"r2": filepath.Join(dir, "shard-1", "svc1+svc1.run.json"),
		"r3": filepath.Join(dir, "shard-1", "svc3+svc3.run.json"),
		"r4": art + ":records/r4.json",
		"r5": art + ":records/r5.json",
	}
	dups := []Duplicate{{ID: "r1", Files: []string{files["r1"], art + ":records/copy.json"}}}
	tests := []struct {
		name    string
		opts    ParseOptions
		kept    []string
		fed     Federation
		svc3Has string // svc3's edge kept
	}{
		{"newest", ParseOptions{}, []string{"r2", "r5"}, Federation{
			Duplicates: dups,
			Superseded: []Superseded{{ref("r1", files["r1"]), "r2"}, {ref("r3", files["r3"]), "r5"}, {ref("r4", files["r4"]), "r5"}},
			Conflicts:  []Conflict{{Service: "svc3", Scenario: "svc3/recover", Kind: collector.KindRun, Release: "v1", Preferred: ref("r5", files["r5"]), Others: []RecordRef{ref("r3", files["r3"]), ref("r4", files["r4"])}}},
		}, "svc3 -> svc6 observed"},
		{"recovered", ParseOptions{Prefer: PreferRecovered}, []string{"r2", "r3"}, Federation{
			Duplicates: dups,
			Superseded: []Superseded{{ref("r1", files["r1"]), "r2"}, {ref("r5", files["r5"]), "r3"}, {ref("r4", files["r4"]), "r3"}},
			Conflicts:  []Conflict{{Service: "svc3", Scenario: "svc3/recover", Kind: collector.KindRun, Release: "v1", Preferred: ref("r3", files["r3"]), Others: []RecordRef{ref("r5", files["r5"]), ref("r4", files["r4"])}}},
		}, "svc3 -> svc5 observed"},
		{"keep all", ParseOptions{KeepAll: true}, []string{"r1", "r2", "r3", "r4", "r5"}, Federation{
			Duplicates: dups,
			Conflicts:  []Conflict{{Service: "svc3", Scenario: "svc3/recover", Kind: collector.KindRun, Release: "v1", Preferred: ref("r5", files["r5"]), Others: []RecordRef{ref("r3", files["r3"]), ref("r4", files["r4"])}}},
		}, "svc3 -> svc5 observed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := Files(cat, filepath.Join(dir, "shard-0"), filepath.Join(dir, "shard-1"), art)
			if err != nil {
				t.Fatal(err)
			}
			snap, err := Parse(context.Background(), in, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			var kept []string
			for _, c := range snap.contribs {
				kept = append(kept, c.meta.ID)
			}
			if d := cmp.Diff(tt.kept, kept); d != "" {
				t.Errorf("kept records (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.fed, snap.Federation); d != "" {
				t.Errorf("federation (-want +got):\n%s", d)
			}
			edges := edgeList(snap.Graph)
			found := false
			for _, e := range edges {
				found = found || e == tt.svc3Has
			}
			if !found {
				t.Errorf("edges %v lack %q", edges, tt.svc3Has)
			}
			checkProvenance(t, snap.Graph, files)
		})
	}
}

// checkProvenance checks that every edge's evidence names the record's
// input, host and job.
func checkProvenance(t *testing.T, g *graph.Graph, files map[string]string) {
	t.Helper()
	for u := range int32(g.Len()) {
		lo, hi := g.OutRange(u)
		for e := lo; e < hi; e++ {
			ev := g.Evidence(e)
			if len(ev) == 0 {
				t.Errorf("edge %d of %s has no evidence", e, g.Name(u))
			}
			for _, x := range ev {
				if o := x.Origin; o == nil || o.Host == "" || o.Job == "" || o.File != files[x.Source] {
					t.Errorf("evidence %+v: origin %+v, want host, job and file %s", x, o, files[x.Source])
				}
			}
		}
	}
}

// TestIngestFrom checks that a release built from another plus new
// records equals the release a full ingest of every record builds.
func TestIngestFrom(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "catalog.yaml"), genCatalog(t, 8))
	old := []rec{
		{id: "a1", svc: "svc1", at: 0, recovered: true, host: "n1", job: "j1", targets: []int{2, 3}},
		{id: "a2", svc: "svc2", at: 0, recovered: true, host: "n1", job: "j1", targets: []int{3}},
		{id: "a3", svc: "svc3", at: 0, recovered: false, host: "n2", job: "j1", targets: []int{1}},
	}
	newer := []rec{
		{id: "b1", svc: "svc1", at: 30, recovered: true, host: "n3", job: "j2", targets: []int{2}}, // supersedes a1
		{id: "b4", svc: "svc4", at: 30, recovered: true, host: "n3", job: "j2", targets: []int{1, 2}},
	}
	for _, r := range old {
		writeFile(t, filepath.Join(dir, "old", r.id+".json"), r.json(t))
	}
	for _, r := range newer {
		writeFile(t, filepath.Join(dir, "new", r.id+".json"), r.json(t))
	}
	writeFile(t, filepath.Join(dir, "new", "a2-again.json"), old[1].json(t))
	ctx := context.Background()
	files := func(t *testing.T, paths ...string) []Input {
		in, err := Files(paths...)
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	cat := filepath.Join(dir, "catalog.yaml")

	runStoreTest(t, func(t *testing.T, s *Store) {
		if _, err := s.Ingest(ctx, "r1", files(t, cat, filepath.Join(dir, "old")), Options{}); err != nil {
			t.Fatal(err)
		}
		sum, err := s.Ingest(ctx, "r2", files(t, filepath.Join(dir, "new")), Options{From: "r1"})
		if err != nil {
			t.Fatal(err)
		}
		a1 := RecordRef{ID: "a1", StartedAt: t0, Recovered: true, Origin: graph.Origin{File: filepath.Join(dir, "old", "a1.json"), Host: "n1", Job: "j1"}}
		b1 := RecordRef{ID: "b1", StartedAt: t0.Add(30 * time.Minute), Recovered: true, Origin: graph.Origin{File: filepath.Join(dir, "new", "b1.json"), Host: "n3", Job: "j2"}}
		wantFed := Federation{
			Duplicates: []Duplicate{{ID: "a2", Files: []string{"release r1", filepath.Join(dir, "new", "a2-again.json")}}},
			Superseded: []Superseded{{Record: a1, By: "b1"}},
			// b1 no longer reaches svc3: for the same release label, a
			// disagreement.
			Conflicts: []Conflict{{Service: "svc1", Scenario: "svc1/recover", Kind: collector.KindRun, Release: "v1", Preferred: b1, Others: []RecordRef{a1}}},
		}
		if d := cmp.Diff(wantFed, sum.Federation); d != "" {
			t.Errorf("federation (-want +got):\n%s", d)
		}
		if _, err := s.Ingest(ctx, "full", files(t, cat, filepath.Join(dir, "old"), filepath.Join(dir, "new")), Options{}); err != nil {
			t.Fatal(err)
		}
		sameRelease(t, s, "full", "r2")

		// A changed catalog maps the old records again.
		cat2 := filepath.Join(dir, "catalog2.yaml")
		writeFile(t, cat2, genCatalog(t, 4)) // svc4 .. svc7 unknown: endpoints
		sum, err = s.Ingest(ctx, "r3", files(t, cat2, filepath.Join(dir, "new")), Options{From: "r1"})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(strings.Join(sum.Warnings, "\n"), "the catalog differs from release r1's: its 3 records are mapped again") {
			t.Errorf("warnings %q lack the remapping", sum.Warnings)
		}
		if _, err := s.Ingest(ctx, "full3", files(t, cat2, filepath.Join(dir, "old"), filepath.Join(dir, "new")), Options{}); err != nil {
			t.Fatal(err)
		}
		sameRelease(t, s, "full3", "r3")

		// A release with edge lists cannot be a base.
		writeFile(t, filepath.Join(dir, "e.tsv"), []byte("x\ty\n"))
		if _, err := s.Ingest(ctx, "edges", files(t, cat, filepath.Join(dir, "old"), filepath.Join(dir, "e.tsv")), Options{}); err != nil {
			t.Fatal(err)
		}
		_, err = s.Ingest(ctx, "r4", files(t, filepath.Join(dir, "new")), Options{From: "edges"})
		if err == nil || !strings.Contains(err.Error(), "edge lists") {
			t.Errorf("Ingest --from a release with edge lists = %v, want an error about them", err)
		}
		if _, err := s.Ingest(ctx, "r5", nil, Options{From: "nope"}); !errors.Is(err, ErrNotFound) {
			t.Errorf("Ingest --from an unknown release = %v, want ErrNotFound", err)
		}
	})
}

// TestIngestFromOldRelease starts from a release stored without its
// records as mapped (as releases were before store format 3).
func TestIngestFromOldRelease(t *testing.T) {
	ctx := context.Background()
	cat, err := collector.ParseCatalog(genCatalog(t, 8), "catalog.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a := rec{id: "a1", svc: "svc1", recovered: true, host: "n1", job: "j1", targets: []int{2}}
	b := rec{id: "b1", svc: "svc2", recovered: true, host: "n1", job: "j1", targets: []int{3}}
	runStoreTest(t, func(t *testing.T, s *Store) {
		snap, err := Parse(ctx, []Input{{Name: "a1.json", Data: a.json(t)}}, ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		snap.Catalog = cat
		snap.contribs = nil // as stored before: no mapped section
		if _, err := s.Put(ctx, "old", snap, PutOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Ingest(ctx, "new", []Input{{Name: "b1.json", Data: b.json(t)}}, Options{From: "old"}); err != nil {
			t.Fatal(err)
		}
		g, err := s.Load("new")
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"svc1 -> svc2 observed", "svc2 -> svc3 observed"}
		if d := cmp.Diff(want, edgeList(g)); d != "" {
			t.Errorf("edges (-want +got):\n%s", d)
		}
	})
}

// sameRelease checks that two releases hold the same graph (evidence and
// origins included), records and catalog.
func sameRelease(t *testing.T, s *Store, a, b string) {
	t.Helper()
	ga, err := s.Load(a)
	if err != nil {
		t.Fatal(err)
	}
	gb, err := s.Load(b)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(ga.CSR(), gb.CSR(), cmpopts.EquateEmpty()); d != "" {
		t.Errorf("graph of %s differs from %s's (-%s +%s):\n%s", b, a, a, b, d)
	}
	ra, _ := s.Records(a)
	rb, _ := s.Records(b)
	if d := cmp.Diff(ra, rb, cmpopts.EquateComparable(netipTypes...)); d != "" {
		t.Errorf("records of %s differ from %s's:\n%s", b, a, d)
	}
	relA, _ := s.Get(a)
	relB, _ := s.Get(b)
	if relA.Records != relB.Records || relA.Edges != relB.Edges || relA.Services != relB.Services {
		t.Errorf("release %s = %+v, want the counts of %s = %+v", b, relB, a, relA)
	}
}

// TestSignedRecords checks ingest with trusted keys: signed records
// verify and name their signer, and a tampered, unsigned or foreign one is
// refused with an error naming its file.
func TestSignedRecords(t *testing.T) {
	key, err := sign.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	stranger, _ := sign.GenerateKey()
	kr := sign.NewKeyring(key.Public().(ed25519.PublicKey))
	id := sign.KeyID(key.Public().(ed25519.PublicKey))
	r1 := rec{id: "s1", svc: "svc1", recovered: true, host: "n1", job: "j1", targets: []int{2}}
	r2 := rec{id: "s2", svc: "svc2", recovered: true, host: "n1", job: "j1", targets: []int{1}}
	signed := func(dir string, r rec, k ed25519.PrivateKey) string {
		p := filepath.Join(dir, r.id+".json")
		b := r.json(t)
		writeFile(t, p, b)
		writeFile(t, p+sign.Ext, sign.Sign(k, b))
		return p
	}

	base := t.TempDir()
	cat := filepath.Join(base, "catalog.yaml")
	writeFile(t, cat, genCatalog(t, 4))
	good := filepath.Join(base, "good")
	signed(good, r1, key)
	signed(good, r2, key)
	art := filepath.Join(base, "ci.tar.gz")
	writeTarGz(t, art, map[string][]byte{"s1.json": r1.json(t), "s1.json.sig": sign.Sign(key, r1.json(t))}, "s1.json", "s1.json.sig")

	tampered := filepath.Join(base, "tampered")
	p := signed(tampered, r1, key)
	b, _ := os.ReadFile(p)
	writeFile(t, p, []byte(strings.Replace(string(b), `"host": "n1"`, `"host": "n9"`, 1)))
	unsigned := filepath.Join(base, "unsigned")
	writeFile(t, filepath.Join(unsigned, "s1.json"), r1.json(t))
	foreign := filepath.Join(base, "foreign")
	signed(foreign, r1, stranger)
	badArt := filepath.Join(base, "bad.tar.gz")
	writeTarGz(t, badArt, map[string][]byte{"s1.json": r2.json(t), "s1.json.sig": sign.Sign(key, r1.json(t))}, "s1.json", "s1.json.sig")
	edges := filepath.Join(base, "edges")
	signed(edges, r1, key)
	writeFile(t, filepath.Join(edges, "more.tsv"), []byte("a\tb\n"))
	withCat := filepath.Join(base, "with-catalog")
	signed(withCat, r1, key)
	writeFile(t, filepath.Join(withCat, "catalog.yaml"), genCatalog(t, 4))

	tests := []struct {
		name    string
		paths   []string
		want    error
		wantMsg string
	}{
		{"signed", []string{cat, good, art}, nil, ""},
		{"tampered", []string{cat, tampered}, sign.ErrBadSignature, p + ": sign: signature does not match"},
		{"unsigned", []string{cat, unsigned}, sign.ErrUnsigned, filepath.Join(unsigned, "s1.json") + ": sign: no signature (no " + filepath.Join(unsigned, "s1.json") + ".sig)"},
		{"foreign key", []string{cat, foreign}, sign.ErrUnknownKey, filepath.Join(foreign, "s1.json") + ": sign: signed by a key that is not trusted"},
		{"signature of another record", []string{cat, badArt}, sign.ErrBadSignature, badArt + ":s1.json: sign: signature does not match"},
		{"edge list", []string{cat, edges}, ErrInvalidInput, "more.tsv: an edge list cannot be signed"},
		{"catalog in a directory", []string{withCat}, ErrInvalidInput, "catalog.yaml: with trusted keys, only signed records"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := Files(tt.paths...)
			if err != nil {
				t.Fatal(err)
			}
			if tt.paths[0] == cat {
				in[0].Optional = false // named outright, as --catalog does
			}
			snap, err := Parse(context.Background(), in, ParseOptions{TrustedKeys: kr})
			if !errors.Is(err, tt.want) || (err != nil && !strings.Contains(err.Error(), tt.wantMsg)) {
				t.Fatalf("Parse = %v, want %v containing %q", err, tt.want, tt.wantMsg)
			}
			if err != nil {
				if !errors.Is(err, ErrInvalidInput) {
					t.Errorf("error %v does not wrap ErrInvalidInput", err)
				}
				return
			}
			for u := range int32(snap.Graph.Len()) {
				lo, hi := snap.Graph.OutRange(u)
				for e := lo; e < hi; e++ {
					for _, x := range snap.Graph.Evidence(e) {
						if x.Origin == nil || x.Origin.Signer != id {
							t.Errorf("evidence %+v: signer %v, want %s", x, x.Origin, id)
						}
					}
				}
			}
		})
	}
}
