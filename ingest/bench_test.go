package ingest

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/rgraph/rgraph/graph"
)

// Fleet-scale benchmarks: go test -run '^$' -bench . ./ingest/ -benchtime 1x
// Each size has sub-benchmarks side by side:
//
//	tsv         TSV file -> store: parse, build, encode, write, publish
//	raw-badger  Badger WriteBatch of the same edges, one key per edge
//	raw-scan    reading those keys back (what "one key per edge" costs a command)
//	load        Store.Load of the release into a graph.Graph
//	open-load   Open + Load + Close, a read-only command's store cost
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
			tsv := fleetFile(b, sz.services, sz.edges)

			b.Run("tsv", func(b *testing.B) {
				var disk int64
				peak := peakMeter(b)
				for i := 0; i < b.N; i++ {
					dir := b.TempDir()
					peak.reset()
					s, err := Open(dir, quiet)
					if err != nil {
						b.Fatal(err)
					}
					in, err := Files(tsv)
					if err != nil {
						b.Fatal(err)
					}
					sum, err := s.Ingest(context.Background(), "bench", in, IngestOptions{})
					if err != nil {
						b.Fatal(err)
					}
					if err := s.Close(); err != nil {
						b.Fatal(err)
					}
					peak.sample()
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
				peak.report(b)
			})

			b.Run("raw-badger", func(b *testing.B) {
				src, dst := fleetEdges(sz.services, sz.edges)
				var disk int64
				peak := peakMeter(b)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					dir := b.TempDir()
					peak.reset()
					rawWrite(b, dir, src, dst)
					peak.sample()
					b.StopTimer()
					disk = diskUsage(b, dir)
					if i == b.N-1 {
						b.StopTimer()
						rawScan(b, dir, sz.edges) // warm once, then timed below
					}
					os.RemoveAll(dir)
					b.StartTimer()
				}
				b.ReportMetric(float64(sz.edges)*float64(b.N)/b.Elapsed().Seconds(), "edges/s")
				b.ReportMetric(float64(disk)/(1<<20), "disk-MB")
				peak.report(b)
			})

			b.Run("raw-scan", func(b *testing.B) {
				dir := b.TempDir()
				src, dst := fleetEdges(sz.services, sz.edges)
				rawWrite(b, dir, src, dst)
				src, dst = nil, nil
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
			if _, err := s.Ingest(context.Background(), "bench", in, IngestOptions{}); err != nil {
				b.Fatal(err)
			}
			b.Run("load", func(b *testing.B) {
				peak := peakMeter(b)
				for i := 0; i < b.N; i++ {
					peak.reset()
					g, err := s.Load("bench")
					if err != nil {
						b.Fatal(err)
					}
					peak.sample()
					if g.Len() < sz.services/2 {
						b.Fatalf("loaded %d nodes", g.Len())
					}
				}
				peak.report(b)
			})
			if err := s.Close(); err != nil {
				b.Fatal(err)
			}
			b.Run("open-load", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					s, err := Open(dir, quiet)
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
		})
	}
}

// rawWrite writes one Badger key per edge, "from\x00to" -> kind, with a
// WriteBatch, as a store without a snapshot encoding would; keys are cut
// from large blocks so allocation does not dominate.
func rawWrite(b *testing.B, dir string, src, dst []int32) {
	db, err := badger.Open(badgerOptions(dir, slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	wb := db.NewWriteBatch()
	var block []byte
	for i := range src {
		if cap(block)-len(block) < 64 {
			block = make([]byte, 0, 1<<20)
		}
		start := len(block)
		block = append(block, "e/"...)
		block = appendName(block, src[i])
		block = append(block, 0)
		block = appendName(block, dst[i])
		key := block[start:len(block):len(block)]
		if err := wb.Set(key, kindValues[i%len(kindValues):][:1]); err != nil {
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

var kindValues = []byte{byte(graph.Hard), byte(graph.Declared), byte(graph.Soft)}

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
	if n < edges/2 {
		b.Fatalf("scanned %d keys for %d edges", n, edges)
	}
}

func appendName(b []byte, v int32) []byte {
	b = append(b, "svc-"...)
	s := strconv.Itoa(int(v))
	for range 7 - len(s) {
		b = append(b, '0')
	}
	return append(b, s...)
}

// fleetEdges generates a synthetic fleet deterministically: services in
// ten tiers, each needing services of lower tiers, with one edge in a
// hundred pointing anywhere (which makes bootstrap cycles).
func fleetEdges(services, edges int) (src, dst []int32) {
	r := rand.New(rand.NewPCG(uint64(services), uint64(edges)))
	src, dst = make([]int32, edges), make([]int32, edges)
	tier := services / 10
	for i := range edges {
		u := r.IntN(services)
		var v int
		if u < tier || r.IntN(100) == 0 {
			v = r.IntN(services)
		} else {
			v = r.IntN(u / tier * tier) // a lower tier
		}
		src[i], dst[i] = int32(u), int32(v)
	}
	return src, dst
}

var kindNames = []string{"hard", "hard", "hard", "hard", "declared", "declared", "declared", "soft", "soft", "observed", "alternative"}

var fleetFiles sync.Map // "services/edges" -> path

// fleetFile writes the fleet as a TSV edge list, sorted by source as an
// export would be, once per process.
func fleetFile(b *testing.B, services, edges int) string {
	key := fmt.Sprintf("%d/%d", services, edges)
	if p, ok := fleetFiles.Load(key); ok {
		return p.(string)
	}
	dir, err := os.MkdirTemp("", "rgraph-bench-")
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, "fleet.tsv")
	src, dst := fleetEdges(services, edges)
	// Group by source with a counting sort, as an export would list them.
	off := make([]int32, services+1)
	for _, s := range src {
		off[s+1]++
	}
	for i := range services {
		off[i+1] += off[i]
	}
	pos := append([]int32(nil), off[:services]...)
	sorted := make([]int32, edges)
	kinds := make([]uint8, edges)
	for i, s := range src {
		sorted[pos[s]] = dst[i]
		kinds[pos[s]] = uint8(i % len(kindNames))
		pos[s]++
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintf(w, "# synthetic fleet: %d services, %d edges\n", services, edges)
	var line []byte
	for u := range services {
		for e := off[u]; e < off[u+1]; e++ {
			line = appendName(line[:0], int32(u))
			line = append(line, '\t')
			line = appendName(line, sorted[e])
			line = append(line, '\t')
			line = append(line, kindNames[kinds[e]]...)
			line = append(line, '\n')
			w.Write(line)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	fleetFiles.Store(key, path)
	return path
}

// diskUsage is the space dir takes on disk (allocated blocks, as du
// counts them: Badger's preallocated files are sparse).
func diskUsage(b *testing.B, dir string) int64 {
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

// peak measures the process's peak resident set size (VmHWM) around an
// operation, resetting it through /proc/self/clear_refs first. On systems
// without those files it reports nothing.
type peak struct {
	max int64
	ok  bool
}

func peakMeter(b *testing.B) *peak {
	_, err := os.Stat("/proc/self/clear_refs")
	return &peak{ok: err == nil}
}

func (p *peak) reset() {
	if !p.ok {
		return
	}
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		p.ok = false
	}
}

func (p *peak) sample() {
	if !p.ok {
		return
	}
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			p.max = max(p.max, kb<<10)
		}
	}
}

func (p *peak) report(b *testing.B) {
	if p.ok && p.max > 0 {
		b.ReportMetric(float64(p.max)/(1<<20), "peak-RSS-MB")
	}
}
