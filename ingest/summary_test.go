package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"hash/crc32"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/rgraph/rgraph/graph"
)

// chain is an edge list of a chain of n services, s00 -> s01 -> ..., plus
// extra lines.
func chain(n int, extra ...string) Input {
	var b strings.Builder
	for i := range n - 1 {
		b.WriteString(svc(i) + "\t" + svc(i+1) + "\thard\n")
	}
	for _, l := range extra {
		b.WriteString(l + "\n")
	}
	return data("chain.tsv", b.String())
}

func svc(i int) string { return "s" + string(rune('a'+i/26)) + string(rune('a'+i%26)) }

// putChains stores r1, a chain of 60 services, and r2, the same with a
// knot at its end and more below its middle.
func putChains(t *testing.T, s *Store) {
	t.Helper()
	for name, in := range map[string]Input{
		"r1": chain(60),
		"r2": chain(60, svc(59)+"\t"+svc(58)+"\thard", svc(30)+"\tx1\thard", "x1\tx2\tdeclared"),
	} {
		snap, err := parseData(t, in)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Put(context.Background(), name, snap, PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// setSection replaces section sec of release name with data, as one
// chunk; without data it removes the section, as an older rgraph stored
// releases.
func setSection(t *testing.T, s *Store, name string, sec byte, data []byte) {
	t.Helper()
	err := s.db.Update(func(txn *badger.Txn) error {
		m, err := getManifest(txn, name)
		if err != nil {
			return err
		}
		for i := range m.Sections[string(sec)].Chunks {
			if err := txn.Delete(chunkKey(m.Snapshot, sec, i)); err != nil {
				return err
			}
		}
		delete(m.Sections, string(sec))
		if data != nil {
			if err := txn.Set(chunkKey(m.Snapshot, sec, 0), data); err != nil {
				return err
			}
			m.Sections[string(sec)] = sectionInfo{Chunks: 1, Size: int64(len(data)), CRC: crc32.Checksum(data, crcTable)}
		}
		return txn.Set(manifestKey(name), mustJSON(t, m))
	})
	if err != nil {
		t.Fatal(err)
	}
}

func mustJSON(t *testing.T, m manifest) []byte {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func encodedSummary(t *testing.T, sum *graph.Summary) []byte {
	t.Helper()
	var b bytes.Buffer
	e := &encoder{w: &b}
	encodeSummary(e, sum)
	if err := e.flush(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestSummaryStored(t *testing.T) {
	runStoreTest(t, func(t *testing.T, s *Store) {
		putChains(t, s)
		var b []byte
		err := s.db.View(func(txn *badger.Txn) (err error) {
			m, err := getManifest(txn, "r2")
			if err == nil {
				b, err = m.section(txn, secSummary)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		g, err := s.Load("r2")
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeSummary(bytesSource(map[byte][]byte{secSummary: b}), g.Len())
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(graph.Summarize(g, graph.DefaultKinds), got); d != "" {
			t.Errorf("stored summary (-Summarize +stored):\n%s", d)
		}
	})
}

// TestSummaryUsed checks that loaded graphs come with their stored
// summaries, that releases without one (stored by an older rgraph) or
// with one that does not fit are analysed from scratch, and that each way
// gives the diff of graphs that never had one.
func TestSummaryUsed(t *testing.T) {
	h := &recordingHandler{level: slog.LevelWarn}
	runStoreTest(t, func(t *testing.T, s *Store) {
		putChains(t, s)
		diff := func() graph.Delta {
			t.Helper()
			old, err := s.Load("r1")
			if err != nil {
				t.Fatal(err)
			}
			new, err := s.Load("r2")
			if err != nil {
				t.Fatal(err)
			}
			return graph.Diff(old, new, graph.DiffOptions{ClosureWork: 1})
		}
		fresh := func(name string) *graph.Graph {
			g, err := s.Load(name)
			if err != nil {
				t.Fatal(err)
			}
			g, err = graph.FromCSR(g.CSR())
			if err != nil {
				t.Fatal(err)
			}
			return g
		}
		want := graph.Diff(fresh("r1"), fresh("r2"), graph.DiffOptions{ClosureWork: 1})
		if !slices.ContainsFunc(want.ClosureGrowth, func(g graph.Growth) bool { return g.Estimated }) {
			t.Fatalf("no estimated closure growth in %+v", want.ClosureGrowth)
		}
		if d := cmp.Diff(want, diff()); d != "" {
			t.Errorf("diff with stored summaries (-scratch +stored):\n%s", d)
		}

		// A summary that fits, with other closure sizes: they are used.
		g := fresh("r2")
		sum := graph.Summarize(g, graph.DefaultKinds)
		for c := range sum.Closure {
			sum.Closure[c] += 1000
		}
		setSection(t, s, "r2", secSummary, encodedSummary(t, sum))
		if got := diff(); !slices.ContainsFunc(got.ClosureGrowth, func(g graph.Growth) bool { return g.New > 1000 }) {
			t.Errorf("closure growth %+v does not come from the stored summary", got.ClosureGrowth)
		}

		// None, as stored by an older rgraph.
		setSection(t, s, "r2", secSummary, nil)
		if d := cmp.Diff(want, diff()); d != "" {
			t.Errorf("diff without a stored summary (-scratch +got):\n%s", d)
		}

		// One that does not fit: ignored, with a warning.
		sum = graph.Summarize(g, graph.DefaultKinds)
		slices.Reverse(sum.Order)
		setSection(t, s, "r2", secSummary, encodedSummary(t, sum))
		if d := cmp.Diff(want, diff()); d != "" {
			t.Errorf("diff with a summary that does not fit (-scratch +got):\n%s", d)
		}
		if len(h.records) == 0 || !strings.Contains(h.records[0].Message, "summary") {
			t.Errorf("no warning about the summary that does not fit, log %v", h.records)
		}
	}, WithLogger(slog.New(h)))
}

// TestDecodeSummaryCorrupt feeds truncated and mangled summaries to the
// decoder: it must return ErrCorrupt or a summary, never panic, and
// Remember must refuse what does not fit.
func TestDecodeSummaryCorrupt(t *testing.T) {
	snap, err := parseData(t, chain(40, "sac\tsaa\thard", "sad\tsad\thard"))
	if err != nil {
		t.Fatal(err)
	}
	g := snap.Graph
	orig := encodedSummary(t, graph.Summarize(g, graph.DefaultKinds))
	for cut := range len(orig) {
		for _, mangle := range []func([]byte) []byte{
			func(b []byte) []byte { return b[:cut] },
			func(b []byte) []byte { c := bytes.Clone(b); c[cut] ^= 0x80; return c },
			func(b []byte) []byte { c := bytes.Clone(b); c[cut] = 0xff; return c },
		} {
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("summary mangled at %d: panic %v", cut, r)
					}
				}()
				sum, err := decodeSummary(bytesSource(map[byte][]byte{secSummary: mangle(orig)}), g.Len())
				if err != nil && !errors.Is(err, ErrCorrupt) {
					t.Errorf("summary mangled at %d: error %v does not wrap ErrCorrupt", cut, err)
				}
				if sum != nil {
					cp, _ := graph.FromCSR(g.CSR())
					if err := cp.Remember(sum); err != nil && !errors.Is(err, graph.ErrInvalidSummary) {
						t.Errorf("summary mangled at %d: Remember error %v", cut, err)
					}
				}
			}()
		}
	}
}
