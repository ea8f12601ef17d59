package ingest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/rgraph/rgraph/graph"
	"github.com/rgraph/rgraph/graph/graphtest"
)

// Fleet-scale benchmarks: go test -run '^$' -bench . ./ingest/ -benchtime 1x
// The fleets are graphtest.FleetEdges (seed 1) written as TSV edge lists.
// Each size has sub-benchmarks side by side:
//
//	tsv         TSV file -> store: parse, build, encode, write, publish
//	raw-badger  Badger WriteBatch of the same edges, one key per edge
//	raw-scan    reading those keys back (what "one key per edge" costs a command)
//	load        Store.Load of the release into a graph.Graph
//	open-load   OpenReadOnly + Load + Close, a read-only command's store cost
//	commands    rgraph cycles then rgraph order from the store: each opens
//	            it read-only, loads, closes and runs its analysis
//	tight-tsv   the same answers from the TSV by a tight compact-array
//	            implementation (parse into CSR, SCC + waves): the yardstick
//
// -bench 'Ingest/(10k|100k)' skips the 1M size.
var benchSizes = []struct {
	name            string
	services, edges int
}{
	{"10k", 10_000, 50_000},
	{"100k", 100_000, 500_000},
	{"1M", 1_000_000, 5_000_000},
}

func BenchmarkIngest(b *testing.B) {
	quiet := WithLogger(slog.New(slog.DiscardHandler))
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			fl := fleet(b, sz.services, sz.edges)
			tsv := fl.tsv

			b.Run("tsv", func(b *testing.B) {
				var disk int64
				peak := graphtest.NewPeak()
				for i := 0; i < b.N; i++ {
					dir := b.TempDir()
					peak.Reset()
					s, err := Open(dir, quiet)
					if err != nil {
						b.Fatal(err)
					}
					in, err := Files(tsv)
					if err != nil {
						b.Fatal(err)
					}
					sum, err := s.Ingest(context.Background(), "bench", in, Options{})
					if err != nil {
						b.Fatal(err)
					}
					if err := s.Close(); err != nil {
						b.Fatal(err)
					}
					peak.Sample()
					b.StopTimer()
					if i == 0 {
						b.Logf("%d services, %d edges after merging duplicates, snapshot %d bytes",
							sum.Release.Services, sum.Release.Edges, sum.Release.Size)
					}
					disk = diskUsage(b, dir)
					os.RemoveAll(dir)
					b.StartTimer()
				}
				b.ReportMetric(float64(sz.edges)*float64(b.N)/b.Elapsed().Seconds(), "edges/s")
				b.ReportMetric(float64(disk)/(1<<20), "disk-MB")
				peak.Report(b)
			})

			b.Run("raw-badger", func(b *testing.B) {
				var disk int64
				peak := graphtest.NewPeak()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					dir := b.TempDir()
					peak.Reset()
					rawWrite(b, dir, fl.arrays)
					peak.Sample()
					b.StopTimer()
					disk = diskUsage(b, dir)
					os.RemoveAll(dir)
					b.StartTimer()
				}
				b.ReportMetric(float64(sz.edges)*float64(b.N)/b.Elapsed().Seconds(), "edges/s")
				b.ReportMetric(float64(disk)/(1<<20), "disk-MB")
				peak.Report(b)
			})

			b.Run("raw-scan", func(b *testing.B) {
				dir := b.TempDir()
				rawWrite(b, dir, fl.arrays)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					rawScan(b, dir, sz.edges)
				}
			})

			dir := b.TempDir()
			s, err := Open(dir, quiet)
			if err != nil {
				b.Fatal(err)
			}
			in, _ := Files(tsv)
			if _, err := s.Ingest(context.Background(), "bench", in, Options{}); err != nil {
				b.Fatal(err)
			}
			b.Run("load", func(b *testing.B) {
				peak := graphtest.NewPeak()
				for i := 0; i < b.N; i++ {
					peak.Reset()
					g, err := s.Load("bench")
					if err != nil {
						b.Fatal(err)
					}
					peak.Sample()
					if g.Len() < sz.services/2 {
						b.Fatalf("loaded %d nodes", g.Len())
					}
				}
				peak.Report(b)
			})
			if err := s.Close(); err != nil {
				b.Fatal(err)
			}
			b.Run("open-load", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					s, err := OpenReadOnly(dir, quiet)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := s.Load("bench"); err != nil {
						b.Fatal(err)
					}
					if err := s.Close(); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("commands", func(b *testing.B) {
				peak := graphtest.NewPeak()
				for i := 0; i < b.N; i++ {
					peak.Reset()
					var comps []graph.Component
					var order graph.Order
					for _, analyse := range []func(*graph.Graph) error{
						func(g *graph.Graph) error { comps = graph.Cycles(g, graph.CycleOptions{}); return nil },
						func(g *graph.Graph) (err error) {
							order, err = graph.RecoveryOrder(g, graph.OrderOptions{})
							return err
						},
					} {
						s, err := OpenReadOnly(dir, quiet)
						if err != nil {
							b.Fatal(err)
						}
						g, err := s.Load("bench")
						if err != nil {
							b.Fatal(err)
						}
						if err := analyse(g); err != nil {
							b.Fatal(err)
						}
						if err := s.Close(); err != nil {
							b.Fatal(err)
						}
					}
					peak.Sample()
					if i == 0 {
						b.Logf("%d cyclic components, %d waves", len(comps), len(order.Waves))
					}
				}
				peak.Report(b)
			})
			b.Run("tight-tsv", func(b *testing.B) {
				peak := graphtest.NewPeak()
				for i := 0; i < b.N; i++ {
					peak.Reset()
					off, dst, kinds := tightParseTSV(b, tsv)
					_, _, cyclic, wave := graphtest.TightSCCWaves(off, dst, kinds, graph.DefaultKinds)
					peak.Sample()
					if i == 0 {
						maxWave := int32(0)
						for _, w := range wave {
							maxWave = max(maxWave, w)
						}
						b.Logf("%d cyclic components, %d waves", cyclic, maxWave+1)
					}
				}
				peak.Report(b)
			})
		})
	}
}

// tightParseTSV reads an edge list into CSR arrays with as little work as
// possible: one read, names interned in a map, a counting sort by source.
// It skips validation and duplicate merging; it is the yardstick the
// commands benchmark is measured against, not a parser to ship.
func tightParseTSV(b *testing.B, path string) (off, dst []int32, kinds []graph.Kind) {
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	ids := make(map[string]int32, 1<<16)
	id := func(s []byte) int32 {
		if v, ok := ids[string(s)]; ok {
			return v
		}
		v := int32(len(ids))
		ids[string(s)] = v
		return v
	}
	var src, tgt []int32
	var kd []graph.Kind
	for len(data) > 0 {
		nl := bytes.IndexByte(data, '\n')
		line := data
		if nl >= 0 {
			line, data = data[:nl], data[nl+1:]
		} else {
			data = nil
		}
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		t1 := bytes.IndexByte(line, '\t')
		rest := line[t1+1:]
		to, kind := rest, graph.Declared
		if t2 := bytes.IndexByte(rest, '\t'); t2 >= 0 {
			to = rest[:t2]
			if k, err := graph.ParseKind(string(rest[t2+1:])); err == nil {
				kind = k
			}
		}
		src = append(src, id(line[:t1]))
		tgt = append(tgt, id(to))
		kd = append(kd, kind)
	}
	n := len(ids)
	off = make([]int32, n+1)
	for _, s := range src {
		off[s+1]++
	}
	for i := 0; i < n; i++ {
		off[i+1] += off[i]
	}
	pos := append([]int32(nil), off[:n]...)
	dst = make([]int32, len(src))
	kinds = make([]graph.Kind, len(src))
	for i, s := range src {
		dst[pos[s]], kinds[pos[s]] = tgt[i], kd[i]
		pos[s]++
	}
	return off, dst, kinds
}

// rawWrite writes one Badger key per edge, "e/from\x00to" -> kind, with
// a WriteBatch, as a store without a snapshot encoding would; keys are cut
// from large blocks so allocation does not dominate.
func rawWrite(b *testing.B, dir string, f *graphtest.FleetArrays) {
	db, err := badger.Open(badgerOptions(dir, slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	wb := db.NewWriteBatch()
	var block []byte
	for i := range f.Src {
		from, to := f.Names[f.Src[i]], f.Names[f.Dst[i]]
		if cap(block)-len(block) < len(from)+len(to)+3 {
			block = make([]byte, 0, 1<<20)
		}
		start := len(block)
		block = append(block, "e/"...)
		block = append(block, from...)
		block = append(block, 0)
		block = append(block, to...)
		key := block[start:len(block):len(block)]
		if err := wb.Set(key, []byte{byte(f.Kinds[i])}); err != nil {
			b.Fatal(err)
		}
	}
	if err := wb.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
}

// rawScan opens the raw store and reads every edge key back.
func rawScan(b *testing.B, dir string, edges int) {
	db, err := badger.Open(badgerOptions(dir, slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	err = db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte("e/"), PrefetchValues: true, PrefetchSize: 1000})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := it.Item().Value(func([]byte) error { return nil }); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	db.Close()
	if n != edges {
		b.Fatalf("scanned %d keys for %d edges", n, edges)
	}
}

type fleetData struct {
	arrays *graphtest.FleetArrays
	tsv    string
}

var fleets sync.Map // "services/edges" -> *fleetData

// fleet generates the synthetic fleet of graphtest.FleetEdges (seed 1) and
// writes it as a TSV edge list sorted by source, as an export would list
// it, once for b and its sub-benchmarks; the file goes when b ends.
func fleet(b *testing.B, services, edges int) *fleetData {
	key := fmt.Sprintf("%d/%d", services, edges)
	if f, ok := fleets.Load(key); ok {
		return f.(*fleetData)
	}
	arrays := graphtest.FleetEdges(services, edges, 1)
	dir, err := os.MkdirTemp("", "rgraph-bench-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		fleets.Delete(key)
		os.RemoveAll(dir)
	})
	path := filepath.Join(dir, "fleet.tsv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintf(w, "# synthetic fleet: %d services, %d edges\n", services, edges)
	for i := range arrays.Src {
		w.WriteString(arrays.Names[arrays.Src[i]])
		w.WriteByte('\t')
		w.WriteString(arrays.Names[arrays.Dst[i]])
		w.WriteByte('\t')
		w.WriteString(arrays.Kinds[i].String())
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	fd := &fleetData{&arrays, path}
	fleets.Store(key, fd)
	return fd
}

// diskUsage is the space dir takes on disk (allocated blocks, as du
// counts them: Badger's preallocated files are sparse).
func diskUsage(_ testing.TB, dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				n += st.Blocks * 512
			}
		}
		return nil
	})
	return n
}
