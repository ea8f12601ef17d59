package site

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rgraph/rgraph/graph"
)

// tree lists the files under dir, slash-separated and sorted.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func TestWriteRegenerates(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "site")
	s := exampleSite(t)
	if err := Write(ctx, dir, s); err != nil {
		t.Fatal(err)
	}
	want := []string{ManifestName, "index.html", "services/ca.html", "services/config.html", "services/dns.html", "services/kube_api.html", "services/scheduler.html"}
	if got := tree(t, dir); !slices.Equal(got, want) {
		t.Fatalf("first write: files = %q, want %q", got, want)
	}
	// Someone keeps notes in the directory; rgraph must leave them.
	notes := filepath.Join(dir, "services", "NOTES.txt")
	if err := os.WriteFile(notes, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}

	// kube/api and its edges are gone from the next release.
	b := graph.NewBuilder(0, 0)
	g := s.Graph
	for v := int32(0); v < int32(g.Len()); v++ {
		if g.Name(v) != "kube/api" {
			b.AddNode(g.Name(v), g.Info(v))
		}
		lo, hi := g.OutRange(v)
		for e := lo; e < hi; e++ {
			to, k := g.EdgeTarget(e)
			if g.Name(v) != "kube/api" {
				b.AddEdge(g.Name(v), g.Name(to), k, g.Evidence(e)...)
			}
		}
	}
	s.Graph = b.Build()
	s.Services = s.Services[:1]
	s.Order, _ = graph.RecoveryOrder(s.Graph, graph.OrderOptions{})
	if err := Write(ctx, dir, s); err != nil {
		t.Fatal(err)
	}
	want = []string{ManifestName, "index.html", "services/NOTES.txt", "services/ca.html", "services/config.html", "services/dns.html", "services/scheduler.html"}
	if got := tree(t, dir); !slices.Equal(got, want) {
		t.Errorf("second write: files = %q, want %q", got, want)
	}
	index, _ := os.ReadFile(filepath.Join(dir, "index.html"))
	if strings.Contains(string(index), "kube_api.html") {
		t.Error("the fleet page still links to the removed service")
	}
	m, _ := os.ReadFile(filepath.Join(dir, ManifestName))
	if strings.Contains(string(m), "NOTES") || strings.Contains(string(m), "kube_api") {
		t.Errorf("manifest lists files rgraph did not write or removed:\n%s", m)
	}
}

func TestWriteRefusesForeignDirectories(t *testing.T) {
	ctx := context.Background()
	t.Run("files and no manifest", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("someone else's"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := Write(ctx, dir, exampleSite(t)); !errors.Is(err, ErrNotOwned) {
			t.Fatalf("Write into a foreign directory = %v, want ErrNotOwned", err)
		}
		if got := tree(t, dir); !slices.Equal(got, []string{"index.html"}) {
			t.Errorf("Write changed a foreign directory: %q", got)
		}
	})
	t.Run("unlisted file in the way", func(t *testing.T) {
		dir := t.TempDir()
		if err := Write(ctx, dir, exampleSite(t)); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, ManifestName), []byte(`{"schemaVersion":1,"files":["index.html"]}`), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := Write(ctx, dir, exampleSite(t)); !errors.Is(err, ErrNotOwned) {
			t.Fatalf("Write over unlisted pages = %v, want ErrNotOwned", err)
		}
	})
	t.Run("hostile manifest", func(t *testing.T) {
		root := t.TempDir()
		outside := filepath.Join(root, "precious.txt")
		if err := os.WriteFile(outside, []byte("keep"), 0o644); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(root, "site")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		m := `{"schemaVersion":1,"files":["../precious.txt","/etc/hostname","a/../../precious.txt"]}`
		if err := os.WriteFile(filepath.Join(dir, ManifestName), []byte(m), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := Write(ctx, dir, exampleSite(t)); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(outside); err != nil {
			t.Errorf("a manifest entry outside the site removed a file: %v", err)
		}
	})
	t.Run("corrupt manifest", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, ManifestName), []byte("{"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := Write(ctx, dir, exampleSite(t)); err == nil || !strings.Contains(err.Error(), ManifestName) {
			t.Errorf("Write with a corrupt manifest = %v, want an error naming it", err)
		}
	})
}
