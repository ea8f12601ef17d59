package ingest

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rgraph/rgraph/graph"
)

func TestFormatBytes(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{1023, "1023 B"},
		{1024, "1.0 KiB"},
		{9<<20 + 512<<10, "9.5 MiB"},
		{3 << 30, "3.0 GiB"},
	}
	for _, tt := range tests {
		if got := formatBytes(tt.n); got != tt.want {
			t.Errorf("formatBytes(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

// withFreeSpace makes the store see free bytes free on every file system
// until the test ends.
func withFreeSpace(t *testing.T, free int64) {
	t.Helper()
	old := freeSpace
	freeSpace = func(string) (int64, error) { return free, nil }
	t.Cleanup(func() { freeSpace = old })
}

// TestWritesCheckSpace: a write that would not fit is refused before
// Badger writes anything, with how much is free and needed; the store is
// unchanged and still readable, and reads need no space at all. (The
// privileged TestFullDisk proves the same on a file system that fills.)
func TestWritesCheckSpace(t *testing.T) {
	ctx := context.Background()
	quiet := WithLogger(slog.New(slog.DiscardHandler))
	dir := t.TempDir()
	seed(t, dir)
	s := quietOpen(t, dir)
	before := storeKeys(t, s)
	snap, err := Parse(ctx, []Input{data("big.tsv", bigEdgeList(20000))}, ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}

	withFreeSpace(t, 1<<20)
	_, err = s.Put(ctx, "r2", snap, PutOptions{})
	var se *SpaceError
	if !errors.Is(err, ErrNoSpace) || !errors.As(err, &se) {
		t.Fatalf("Put on a full disk = %v, want a SpaceError", err)
	}
	if se.Free != 1<<20 || se.Data < 20000*10 || se.Need < se.Data+headroom || se.Dir != dir {
		t.Errorf("SpaceError = %+v, want 1 MiB free and the release's size plus headroom needed", *se)
	}
	for _, want := range []string{`writing release "r2": not enough free space in ` + dir, "1.0 MiB free, about", "of data"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if _, err := s.PutRuntime(ctx, "r1", &Runtime{Release: "r1", Edges: []graph.Call{{From: "a", To: "b", Calls: 1}}}, PutOptions{}); !errors.Is(err, ErrNoSpace) {
		t.Errorf("PutRuntime on a full disk = %v, want ErrNoSpace", err)
	}
	if err := s.Delete("r1"); !errors.Is(err, ErrNoSpace) {
		t.Errorf("Delete on a full disk = %v, want ErrNoSpace", err)
	}
	if d := cmp.Diff(before, storeKeys(t, s)); d != "" {
		t.Errorf("refused writes changed the store (-before +after):\n%s", d)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	if _, err := Open(dir, quiet); !errors.Is(err, ErrNoSpace) || !strings.HasPrefix(err.Error(), "opening the store for writing: not enough free space") {
		t.Errorf("Open for writing on a full disk = %v, want ErrNoSpace", err)
	}
	withFreeSpace(t, 0)
	r, err := OpenReadOnly(dir, quiet)
	if err != nil {
		t.Fatalf("OpenReadOnly on a full disk: %v", err)
	}
	defer r.Close()
	if g, err := r.Load("r1"); err != nil || g.EdgeCount() != 13 {
		t.Errorf("Load(r1) on a full disk = %v, %v; want the 13 edges", g, err)
	}
}
