package graph_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rgraph/rgraph/graph"
	goldenfile "github.com/rgraph/rgraph/internal/golden"
)

// golden compares got with testdata/<TestName>/<name>.golden, or rewrites
// it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.CheckFile(t, filepath.Join("testdata", strings.Split(t.Name(), "/")[0], name+".golden"), got)
}

// loadTSV reads an edge list "from<TAB>to<TAB>kind" with # comments.
func loadTSV(t *testing.T, path string) *graph.Graph {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b graph.Builder
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		parts := strings.Split(text, "\t")
		if len(parts) != 3 {
			t.Fatalf("%s:%d: want from<TAB>to<TAB>kind", path, line)
		}
		k, err := graph.ParseKind(parts[2])
		if err != nil {
			t.Fatalf("%s:%d: %v", path, line, err)
		}
		b.AddEdge(parts[0], parts[1], k, graph.Evidence{Source: filepath.Base(path) + ":" + itoa(line)})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return b.Build()
}

func itoa(i int) string { return strconv.Itoa(i) }

func marshal(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestGolden pins the outputs of the analyses on real and synthetic
// fixtures: any change in ordering, IDs, witnesses, cuts or waves shows as
// a diff.
func TestGolden(t *testing.T) {
	deb := loadTSV(t, "testdata/debian-subset.tsv")
	fleet := loadTSV(t, "testdata/fleet.tsv")
	golden(t, "debian-cycles", marshal(t, graph.Cycles(deb, graph.CycleOptions{MaxLen: 4, Limit: 10})))
	order, err := graph.RecoveryOrder(deb, graph.OrderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "debian-order", marshal(t, order))
	order, err = graph.RecoveryOrder(deb, graph.OrderOptions{Targets: []string{"apt"}, MaxParallel: 8})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "debian-order-apt-w8", marshal(t, order))
	paths, err := graph.Why(deb, "systemd", "libc6", graph.WhyOptions{All: true, Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "debian-why", marshal(t, paths))

	golden(t, "fleet-cycles", marshal(t, graph.Cycles(fleet, graph.CycleOptions{Kinds: graph.AllKindsSet})))
	order, err = graph.RecoveryOrder(fleet, graph.OrderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "fleet-order", marshal(t, order))
	next := loadTSV(t, "testdata/fleet-next.tsv")
	d := graph.Diff(fleet, next, graph.DiffOptions{})
	golden(t, "fleet-diff", marshal(t, d))
	golden(t, "fleet-findings", marshal(t, graph.Findings(d)))
}
