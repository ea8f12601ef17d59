package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var quietLog = WithLogger(slog.New(slog.DiscardHandler))

// dirState lists the files in dir with their sizes and modification
// times: what a reader must leave as it was.
func dirState(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %d %s", e.Name(), fi.Size(), fi.ModTime()))
	}
	return out
}

func TestOpenReadOnly(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct{ name, dir, want string }{
		{"missing", filepath.Join(dir, "typo", "store"), "no store at " + filepath.Join(dir, "typo", "store")},
		{"empty directory", dir, "no store at " + dir + " (the directory holds no Badger manifest)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := OpenReadOnly(tt.dir, quietLog)
			if !errors.Is(err, ErrNoStore) || err.Error() != tt.want {
				t.Errorf("OpenReadOnly = %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "typo")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("OpenReadOnly of a missing store created it (%v)", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) > 1 {
		t.Errorf("OpenReadOnly of an empty directory wrote %d files", len(ents))
	}

	seed(t, dir)
	before := dirState(t, dir)
	s, err := OpenReadOnly(dir, quietLog)
	if err != nil {
		t.Fatal(err)
	}
	if g, err := s.Load("r1"); err != nil || g.EdgeCount() != 13 {
		t.Errorf("Load(r1) = %v, %v", g, err)
	}
	if rs, err := s.Releases(); err != nil || len(rs) != 1 {
		t.Errorf("Releases() = %v, %v", rs, err)
	}
	ctx := context.Background()
	for name, write := range map[string]func() error{
		"Put":           func() error { _, err := s.Put(ctx, "r2", fleetSnapshot(t), PutOptions{}); return err },
		"Delete":        func() error { return s.Delete("r1") },
		"PutRuntime":    func() error { _, err := s.PutRuntime(ctx, "r1", &Runtime{}, PutOptions{}); return err },
		"DeleteRuntime": func() error { return s.DeleteRuntime("r1") },
	} {
		if err := write(); !errors.Is(err, ErrReadOnly) {
			t.Errorf("%s on a read-only store = %v, want ErrReadOnly", name, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(before, dirState(t, dir)); d != "" {
		t.Errorf("a reader changed the store's files (-before +after):\n%s", d)
	}
}

// TestStoreLocks: readers share a store, a writer excludes everyone, and
// the error names who holds it.
func TestStoreLocks(t *testing.T) {
	dir := t.TempDir()
	seed(t, dir)
	holder := fmt.Sprintf("is in use by pid %d (", os.Getpid())

	r1, err := OpenReadOnly(dir, quietLog)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := OpenReadOnly(dir, quietLog)
	if err != nil {
		t.Fatalf("a second reader: %v", err)
	}
	_, err = Open(dir, quietLog)
	var le *LockedError
	if !errors.Is(err, ErrLocked) || !errors.As(err, &le) || !strings.Contains(err.Error(), holder) {
		t.Fatalf("Open beside readers = %v, want a LockedError naming this process", err)
	}
	if le.Dir != dir || len(le.Holders) != 1 || le.Holders[0].PID != os.Getpid() {
		t.Errorf("LockedError = %+v, want this process as the one holder", le)
	}
	r1.Close()
	r2.Close()

	w := quietOpen(t, dir)
	defer w.Close()
	if _, err := OpenReadOnly(dir, quietLog); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), holder) {
		t.Errorf("OpenReadOnly beside a writer = %v, want a LockedError naming this process", err)
	}
}

// TestReadOnlyAfterCrash: a writer killed mid-ingest leaves a write-ahead
// log Badger will not read without truncating it. OpenReadOnly recovers
// it when it can write, and says what it needs when it cannot.
func TestReadOnlyAfterCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dir := t.TempDir()
	seed(t, dir)
	kill(t, startChild(t, dir, "staged", "reached staged"))

	withFreeSpace(t, 0)
	before := dirState(t, dir)
	_, err := OpenReadOnly(dir, quietLog)
	if !errors.Is(err, ErrNoSpace) || !strings.Contains(err.Error(), "must be recovered by opening it for writing once") {
		t.Errorf("OpenReadOnly after a crash, on a full disk = %v, want an error saying recovery needs space", err)
	}
	if d := cmp.Diff(before, dirState(t, dir)); d != "" {
		t.Errorf("a refused recovery changed the store's files (-before +after):\n%s", d)
	}

	freeSpace = statfsFree
	s, err := OpenReadOnly(dir, quietLog)
	if err != nil {
		t.Fatalf("OpenReadOnly after a crash: %v", err)
	}
	defer s.Close()
	if g, err := s.Load("r1"); err != nil || g.EdgeCount() != 13 {
		t.Errorf("Load(r1) after recovery = %v, %v", g, err)
	}
	if _, err := s.Get("r2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the killed ingest's release: Get = %v, want ErrNotFound", err)
	}
}

// TestReadOnlyDirectory reads a store whose directory the user may not
// write. Root may write anywhere; the privileged TestFullDisk in
// cmd/rgraph reads one on a read-only mount instead.
func TestReadOnlyDirectory(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes read-only directories; cmd/rgraph's TestFullDisk covers a read-only mount")
	}
	dir := t.TempDir()
	seed(t, dir)
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	s, err := OpenReadOnly(dir, quietLog)
	if err != nil {
		t.Fatalf("OpenReadOnly of a read-only directory: %v", err)
	}
	if g, err := s.Load("r1"); err != nil || g.EdgeCount() != 13 {
		t.Errorf("Load(r1) = %v, %v", g, err)
	}
	s.Close()
	if _, err := Open(dir, quietLog); !errors.Is(err, os.ErrPermission) || !strings.Contains(err.Error(), "for writing") {
		t.Errorf("Open for writing = %v, want a permission error", err)
	}
}
