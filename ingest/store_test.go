package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/rgraph/rgraph/graph"
)

func fleetSnapshot(t *testing.T) *Snapshot {
	t.Helper()
	in, err := Files("testdata/fleet")
	if err != nil {
		t.Fatal(err)
	}
	snap, err := Parse(context.Background(), in, ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// storeKeys lists every key in the store with its value's size, the
// store's whole observable state.
func storeKeys(t *testing.T, s *Store) []string {
	t.Helper()
	var out []string
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			out = append(out, fmt.Sprintf("%q=%d", it.Item().Key(), it.Item().ValueSize()))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func chunkCount(t *testing.T, s *Store) int {
	t.Helper()
	keys, err := s.keys(chunkPrefix)
	if err != nil {
		t.Fatal(err)
	}
	return len(keys)
}

func TestPutLoadRoundTrip(t *testing.T) {
	for _, size := range []int{1 << 10, DefaultChunkSize} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			runStoreTest(t, func(t *testing.T, s *Store) {
				snap := fleetSnapshot(t)
				rel, err := s.Put(context.Background(), "r1", snap, PutOptions{})
				if err != nil {
					t.Fatal(err)
				}
				g, err := s.Load("r1")
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(snap.Graph.CSR(), g.CSR(), cmpopts.EquateEmpty()); d != "" {
					t.Errorf("loaded graph differs (-put +loaded):\n%s", d)
				}
				recs, err := s.Records("r1")
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(snap.Records, recs, cmpopts.EquateComparable(netipTypes...)); d != "" {
					t.Errorf("records differ (-put +loaded):\n%s", d)
				}
				cat, err := s.Catalog("r1")
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(snap.Catalog.Services, cat.Services, cmpopts.IgnoreUnexported(cat.Services[0])); d != "" {
					t.Errorf("catalog differs (-put +loaded):\n%s", d)
				}
				want := Release{Name: "r1", Created: rel.Created, Services: 7, Endpoints: 1, Edges: 13,
					EdgesByKind: map[graph.Kind]int{graph.Hard: 2, graph.Soft: 5, graph.Declared: 3, graph.Alternative: 2, graph.Observed: 1},
					Records:     4, Inputs: snap.Inputs, Size: rel.Size}
				if d := cmp.Diff(want, rel); d != "" {
					t.Errorf("release (-want +got):\n%s", d)
				}
				if size == 1<<10 && chunkCount(t, s) < 3 {
					t.Errorf("%d chunks with 1 KiB chunks, want several", chunkCount(t, s))
				}
			}, WithChunkSize(size))
		})
	}
}

func TestReleases(t *testing.T) {
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { now = now.Add(time.Hour); return now }
	runStoreTest(t, func(t *testing.T, s *Store) {
		if _, err := s.Latest(); !errors.Is(err, ErrNoReleases) || !errors.Is(err, ErrNotFound) {
			t.Fatalf("Latest on an empty store = %v, want ErrNoReleases (and ErrNotFound)", err)
		}
		snap := fleetSnapshot(t)
		for _, name := range []string{"b", "a", "c"} {
			if _, err := s.Put(context.Background(), name, snap, PutOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		rs, err := s.Releases()
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range rs {
			names = append(names, r.Name)
		}
		if d := cmp.Diff([]string{"c", "a", "b"}, names); d != "" {
			t.Errorf("Releases order (newest first) (-want +got):\n%s", d)
		}
		latest, err := s.Latest()
		if err != nil || latest.Name != "c" {
			t.Errorf("Latest = %v, %v; want c", latest.Name, err)
		}
		if err := s.Delete("c"); err != nil {
			t.Fatal(err)
		}
		if latest, _ := s.Latest(); latest.Name != "a" {
			t.Errorf("Latest after deleting c = %q, want a", latest.Name)
		}
		if n := chunkCount(t, s); n != 2*len(sections) {
			t.Errorf("%d chunks after deleting one of three releases, want %d", n, 2*len(sections))
		}
	}, WithClock(clock))
}

// TestView reads the parts of a release asked for, and only those.
func TestView(t *testing.T) {
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { now = now.Add(time.Hour); return now }
	runStoreTest(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if _, err := s.View("", PartGraph); !errors.Is(err, ErrNoReleases) {
			t.Fatalf("View on an empty store = %v, want ErrNoReleases", err)
		}
		snap := fleetSnapshot(t)
		for _, name := range []string{"old", "new"} {
			if _, err := s.Put(ctx, name, snap, PutOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		calls := []graph.Call{{From: "web", To: "config", Calls: 3}}
		if _, err := s.PutRuntime(ctx, "old", &Runtime{Edges: calls}, PutOptions{}); err != nil {
			t.Fatal(err)
		}
		type got struct{ Release, Graph, Records, Catalog, Runtime bool }
		tests := []struct {
			name  string
			parts Part
			want  got
		}{
			{"new", 0, got{Release: true}},
			{"", PartGraph, got{Release: true, Graph: true}},
			{"old", PartRecords | PartCatalog, got{Release: true, Records: true, Catalog: true}},
			{"old", PartGraph | PartRecords | PartCatalog | PartRuntime, got{true, true, true, true, true}},
			{"new", PartRuntime, got{Release: true}}, // it has none
		}
		for _, tt := range tests {
			v, err := s.View(tt.name, tt.parts)
			if err != nil {
				t.Fatalf("View(%q, %b): %v", tt.name, tt.parts, err)
			}
			g := got{v.Release.Name != "", v.Graph != nil, v.Records != nil, v.Catalog != nil, v.Runtime != nil}
			if g != tt.want {
				t.Errorf("View(%q, %b) filled %+v, want %+v", tt.name, tt.parts, g, tt.want)
			}
			want := tt.name
			if want == "" {
				want = "new"
			}
			if v.Release.Name != want {
				t.Errorf("View(%q) read release %q, want %q", tt.name, v.Release.Name, want)
			}
		}
		v, _ := s.View("old", PartGraph|PartRecords|PartCatalog|PartRuntime)
		if v.Graph.EdgeCount() != 13 || len(v.Records) != len(snap.Records) || len(v.Catalog.Services) != len(snap.Catalog.Services) ||
			!cmp.Equal(v.Runtime.Edges, calls) {
			t.Errorf("View(old) = %d edges, %d records, %d catalog services, runtime %v", v.Graph.EdgeCount(), len(v.Records), len(v.Catalog.Services), v.Runtime.Edges)
		}
		if _, err := s.View("nope", PartGraph); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `no such release: "nope"`) {
			t.Errorf("View(nope) = %v, want ErrNotFound naming it", err)
		}
	}, WithClock(clock))
}

func TestReplace(t *testing.T) {
	runStoreTest(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		snap := fleetSnapshot(t)
		if _, err := s.Put(ctx, "r", snap, PutOptions{}); err != nil {
			t.Fatal(err)
		}
		before := storeKeys(t, s)
		_, err := s.Put(ctx, "r", snap, PutOptions{})
		if !errors.Is(err, ErrReleaseExists) || !strings.Contains(err.Error(), `"r"`) {
			t.Fatalf("second Put = %v, want ErrReleaseExists naming the release", err)
		}
		if d := cmp.Diff(before, storeKeys(t, s)); d != "" {
			t.Errorf("refused Put changed the store:\n%s", d)
		}
		sum, err := s.Ingest(ctx, "r", []Input{data("e.tsv", "x\ty\thard\n")}, Options{Replace: true})
		if err != nil {
			t.Fatal(err)
		}
		if !sum.Replaced || sum.Release.Edges != 1 {
			t.Errorf("Ingest with Replace = %+v, want Replaced and 1 edge", sum)
		}
		g, err := s.Load("r")
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff([]string{"x -> y hard"}, edgeList(g)); d != "" {
			t.Errorf("replaced release (-want +got):\n%s", d)
		}
		if n := chunkCount(t, s); n != len(sections)-1 { // no catalog section
			t.Errorf("%d chunks after replacing, want only the new release's %d", n, len(sections)-1)
		}
	})
}

func TestNotFound(t *testing.T) {
	runStoreTest(t, func(t *testing.T, s *Store) {
		for name, f := range map[string]func() error{
			"Load":    func() error { _, err := s.Load("nope"); return err },
			"Records": func() error { _, err := s.Records("nope"); return err },
			"Catalog": func() error { _, err := s.Catalog("nope"); return err },
			"Get":     func() error { _, err := s.Get("nope"); return err },
			"Delete":  func() error { return s.Delete("nope") },
		} {
			err := f()
			if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `"nope"`) {
				t.Errorf("%s(nope) = %v, want ErrNotFound naming the release", name, err)
			}
		}
	})
}

func TestInvalidReleaseName(t *testing.T) {
	runStoreTest(t, func(t *testing.T, s *Store) {
		for _, name := range []string{"", "a b", "a\tb", "x\x00", strings.Repeat("x", 201), "\xff"} {
			_, err := s.Ingest(context.Background(), name, nil, Options{})
			if !errors.Is(err, ErrInvalidName) {
				t.Errorf("Ingest(%q) = %v, want ErrInvalidName", name, err)
			}
		}
		for _, name := range []string{"v1.2.3", "2026-11-22", "main@abc123", "release/2026.11", "r"} {
			if err := ValidReleaseName(name); err != nil {
				t.Errorf("ValidReleaseName(%q) = %v, want nil", name, err)
			}
		}
	})
}

func TestCorruptChunk(t *testing.T) {
	runStoreTest(t, func(t *testing.T, s *Store) {
		if _, err := s.Put(context.Background(), "r", fleetSnapshot(t), PutOptions{}); err != nil {
			t.Fatal(err)
		}
		var m manifest
		err := s.db.Update(func(txn *badger.Txn) error {
			var err error
			if m, err = getManifest(txn, "r"); err != nil {
				return err
			}
			k := chunkKey(m.Snapshot, secTargets, 0)
			item, err := txn.Get(k)
			if err != nil {
				return err
			}
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			v[0] ^= 0xff
			return txn.Set(k, v)
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Load("r"); !errors.Is(err, ErrCorrupt) {
			t.Errorf("Load of a corrupt release = %v, want ErrCorrupt", err)
		}
	})
}

// TestDecodeCorrupt feeds truncated and mangled sections to the decoder:
// it must return ErrCorrupt, never panic.
func TestDecodeCorrupt(t *testing.T) {
	snap := fleetSnapshot(t)
	secs := map[byte][]byte{}
	for _, sec := range graphSections {
		var b bytes.Buffer
		if err := encodeSection(&b, sec, snap); err != nil {
			t.Fatal(err)
		}
		secs[sec] = b.Bytes()
	}
	n, m := snap.Graph.Len(), snap.Graph.EdgeCount()
	if _, err := decodeGraph(bytesSource(secs), n, m); err != nil {
		t.Fatalf("decoding intact sections: %v", err)
	}
	for _, sec := range graphSections {
		orig := secs[sec]
		for cut := 0; cut < len(orig); cut += 1 + len(orig)/50 {
			for _, mangle := range []func([]byte) []byte{
				func(b []byte) []byte { return b[:cut] },
				func(b []byte) []byte { c := bytes.Clone(b); c[cut] ^= 0x80; return c },
				func(b []byte) []byte { c := bytes.Clone(b); c[cut] = 0xff; return c },
			} {
				secs[sec] = mangle(orig)
				func() {
					defer func() {
						if r := recover(); r != nil {
							t.Fatalf("decodeGraph panicked on mangled section %q at %d: %v", sec, cut, r)
						}
					}()
					if _, err := decodeGraph(bytesSource(secs), n, m); err != nil && !errors.Is(err, ErrCorrupt) {
						t.Errorf("section %q mangled at %d: error %v does not wrap ErrCorrupt", sec, cut, err)
					}
				}()
			}
		}
		secs[sec] = orig
	}
}

func TestOpenLocked(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = Open(dir, WithLogger(slog.New(slog.DiscardHandler)))
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("second Open = %v, want ErrLocked naming %s", err, dir)
	}
}

func TestOpenNewerFormat(t *testing.T) {
	dir := t.TempDir()
	quiet := WithLogger(slog.New(slog.DiscardHandler))
	s, err := Open(dir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(formatKey, []byte("99")) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(dir, quiet); !errors.Is(err, ErrFormat) {
		t.Fatalf("Open of a newer store = %v, want ErrFormat", err)
	}
}

// recordingHandler keeps every slog record it is given.
type recordingHandler struct {
	mu      sync.Mutex
	level   slog.Level
	records []slog.Record
}

func (h *recordingHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }
func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r)
	return nil
}
func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler      { return h }

func TestBadgerLogsAtDebug(t *testing.T) {
	h := &recordingHandler{level: slog.LevelDebug}
	s, err := Open(t.TempDir(), WithLogger(slog.New(h)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if len(h.records) == 0 {
		t.Fatal("Badger logged nothing at debug level; is its logger wired?")
	}
	for _, r := range h.records {
		if r.Level != slog.LevelDebug {
			t.Errorf("log record %q at level %v, want debug", r.Message, r.Level)
		}
	}

	quiet := &recordingHandler{level: slog.LevelInfo}
	s, err = Open(t.TempDir(), WithLogger(slog.New(quiet)))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if len(quiet.records) != 0 {
		t.Errorf("with an info-level logger, %d records reached it, first %q", len(quiet.records), quiet.records[0].Message)
	}
}

// TestLargeChunksOnDisk stores chunks above Badger's value threshold
// (1 MiB), which live in the value log rather than the LSM tree, on disk,
// and reads them back after reopening.
func TestLargeChunksOnDisk(t *testing.T) {
	dir := t.TempDir()
	quiet := WithLogger(slog.New(slog.DiscardHandler))
	s, err := Open(dir, quiet, WithChunkSize(2<<20))
	if err != nil {
		t.Fatal(err)
	}
	snap, err := parseData(t, data("big.tsv", bigEdgeList(300_000)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(context.Background(), "big", snap, PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	g, err := s.Load("big")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(snap.Graph.CSR(), g.CSR()) { // cmp.Diff is slow on 300k-element arrays
		t.Errorf("graph read back from the value log differs:\n%s", cmp.Diff(snap.Graph.CSR(), g.CSR(), cmpopts.EquateEmpty()))
	}
}

// TestOpenAfterEmptyFiles reopens a store in which a killed process left
// an empty memtable or value-log file (dgraph-io/badger#2207), as
// TestCrashAnywhere once did.
func TestOpenAfterEmptyFiles(t *testing.T) {
	for _, name := range []string{"00099.mem", "000099.vlog"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			seed(t, dir)
			if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			s := quietOpen(t, dir)
			defer s.Close()
			if _, err := s.Load("r1"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestReplaceReclaimsSpace replaces a release again and again over
// several sessions: the store must not keep growing with the replaced
// snapshots (Badger reclaims value-log space only with discard statistics,
// which deleting with DropPrefix provides).
func TestReplaceReclaimsSpace(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a few hundred megabytes")
	}
	dir := t.TempDir()
	in := []Input{data("big.tsv", bigEdgeList(100_000))}
	var usage []int64
	for range 4 {
		s := quietOpen(t, dir)
		for range 3 {
			if _, err := s.Ingest(context.Background(), "r", in, Options{Replace: true}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		usage = append(usage, diskUsage(t, dir))
	}
	if last, first := usage[len(usage)-1], usage[1]; float64(last) > 1.2*float64(first) {
		t.Errorf("store grew from %d to %d bytes over sessions of replacing one release (%v)", first, last, usage)
	}
}

// TestSectionMismatch checks that a section whose chunks do not match its
// manifest entry reads as corrupt, whichever section it is.
func TestSectionMismatch(t *testing.T) {
	tests := []struct {
		name   string
		change func(txn *badger.Txn, m *manifest, sec byte) error
	}{
		{"chunk missing", func(txn *badger.Txn, m *manifest, sec byte) error {
			return txn.Delete(chunkKey(m.Snapshot, sec, 0))
		}},
		{"shorter", func(_ *badger.Txn, m *manifest, sec byte) error {
			info := m.Sections[string(sec)]
			info.Size++
			m.Sections[string(sec)] = info
			return nil
		}},
		{"longer", func(_ *badger.Txn, m *manifest, sec byte) error {
			info := m.Sections[string(sec)]
			info.Size--
			m.Sections[string(sec)] = info
			return nil
		}},
		{"checksum", func(_ *badger.Txn, m *manifest, sec byte) error {
			info := m.Sections[string(sec)]
			info.CRC ^= 1
			m.Sections[string(sec)] = info
			return nil
		}},
		{"one more chunk", func(_ *badger.Txn, m *manifest, sec byte) error {
			info := m.Sections[string(sec)]
			info.Chunks++
			m.Sections[string(sec)] = info
			return nil
		}},
	}
	for _, sec := range []byte{secNames, secInfo, secTargets, secKinds, secEvidence} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%c/%s", sec, tt.name), func(t *testing.T) {
				runStoreTest(t, func(t *testing.T, s *Store) {
					if _, err := s.Put(context.Background(), "r", fleetSnapshot(t), PutOptions{}); err != nil {
						t.Fatal(err)
					}
					err := s.db.Update(func(txn *badger.Txn) error {
						m, err := getManifest(txn, "r")
						if err != nil {
							return err
						}
						if err := tt.change(txn, &m, sec); err != nil {
							return err
						}
						b, err := json.Marshal(m)
						if err != nil {
							return err
						}
						return txn.Set(manifestKey("r"), b)
					})
					if err != nil {
						t.Fatal(err)
					}
					if _, err := s.Load("r"); !errors.Is(err, ErrCorrupt) {
						t.Errorf("Load = %v, want ErrCorrupt", err)
					}
				}, WithChunkSize(1<<10))
			})
		}
	}
}
