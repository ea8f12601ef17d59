package ingest

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"testing"

	"github.com/rgraph/rgraph/graph"
)

// runStoreTest runs f on a fresh in-memory store that is closed when the
// test ends.
func runStoreTest(t *testing.T, f func(t *testing.T, s *Store), opts ...Option) {
	t.Helper()
	s, err := OpenInMemory(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	f(t, s)
}

// edgeList returns g's edges as sorted "from -> to kind" lines.
func edgeList(g *graph.Graph) []string {
	var out []string
	for u := range int32(g.Len()) {
		lo, hi := g.OutRange(u)
		for e := lo; e < hi; e++ {
			v, k := g.EdgeTarget(e)
			out = append(out, fmt.Sprintf("%s -> %s %s", g.Name(u), g.Name(v), k))
		}
	}
	sort.Strings(out)
	return out
}

// parseData parses inputs given as name -> content.
func parseData(t *testing.T, files ...Input) (*Snapshot, error) {
	t.Helper()
	return Parse(context.Background(), files, ParseOptions{})
}

func data(name, content string) Input { return Input{Name: name, Path: name, Data: []byte(content)} }

var netipTypes = []any{netip.Addr{}, netip.Prefix{}}
