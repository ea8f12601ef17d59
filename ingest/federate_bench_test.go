package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"testing"
)

// BenchmarkIngestFrom measures building a release of 10k scenarios'
// records when 100 of them were run again, two ways:
//
//	full  read, verify, map and store all 10,100 record files again
//	from  ingest --from the previous release: the 100 new files only
//
// go test -run '^$' -bench IngestFrom -benchtime 3x ./ingest/
func BenchmarkIngestFrom(b *testing.B) {
	const scenarios, rerun = 10_000, 100
	ctx := context.Background()
	dir := b.TempDir()
	cat := filepath.Join(dir, "catalog.yaml")
	writeFile(b, cat, genCatalog(b, scenarios))
	rng := rand.New(rand.NewPCG(1, 2))
	gen := func(id string, svc, at int) rec {
		r := rec{id: id, svc: fmt.Sprintf("svc%d", svc), at: at, recovered: true, host: "n1", job: "slurm:1_0"}
		for range 5 {
			r.targets = append(r.targets, rng.IntN(scenarios))
		}
		return r
	}
	for i := range scenarios {
		writeFile(b, filepath.Join(dir, "old", fmt.Sprintf("%05d.json", i)), gen(fmt.Sprintf("old-%05d", i), i, 0).json(b))
	}
	for i := range rerun {
		svc := rng.IntN(scenarios)
		writeFile(b, filepath.Join(dir, "new", fmt.Sprintf("%05d.json", i)), gen(fmt.Sprintf("new-%05d", i), svc, 60).json(b))
	}
	s, err := Open(filepath.Join(dir, "store"), WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	oldIn, err := Files(cat, filepath.Join(dir, "old"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.Ingest(ctx, "base", oldIn, Options{}); err != nil {
		b.Fatal(err)
	}

	b.Run("full", func(b *testing.B) {
		for b.Loop() {
			in, err := Files(cat, filepath.Join(dir, "old"), filepath.Join(dir, "new"))
			if err != nil {
				b.Fatal(err)
			}
			sum, err := s.Ingest(ctx, "full", in, Options{Replace: true})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(sum.Release.Records), "records")
		}
	})
	b.Run("from", func(b *testing.B) {
		for b.Loop() {
			in, err := Files(filepath.Join(dir, "new"))
			if err != nil {
				b.Fatal(err)
			}
			sum, err := s.Ingest(ctx, "from", in, Options{Replace: true, From: "base"})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(sum.Release.Records), "records")
		}
	})
}
