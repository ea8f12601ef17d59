package graph

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestBuilderMergesAndSorts(t *testing.T) {
	var b Builder
	b.AddEdge("web", "config", Declared, Evidence{Source: "edges.tsv:1"})
	b.AddEdge("web", "config", Hard, Evidence{Source: "run-1"})
	b.AddEdge("web", "cache", Soft)
	b.AddEdge("config", "coord", Hard)
	b.AddEdge("web", "config", Soft)
	b.AddNode("lonely", NodeInfo{Type: Endpoint})
	g := b.Build()

	if got, want := g.Names(), []string{"cache", "config", "coord", "lonely", "web"}; !cmp.Equal(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
	if g.EdgeCount() != 3 {
		t.Errorf("EdgeCount() = %d, want 3", g.EdgeCount())
	}
	web, _ := g.ID("web")
	var got []Edge
	lo, hi := g.OutRange(web)
	for e := lo; e < hi; e++ {
		got = append(got, g.EdgeOf(web, e))
	}
	want := []Edge{
		{From: "web", To: "cache", Kind: Soft},
		{From: "web", To: "config", Kind: Hard, Evidence: []Evidence{{Source: "edges.tsv:1"}, {Source: "run-1"}}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("out-edges of web (-want +got):\n%s", d)
	}
	coord, _ := g.ID("coord")
	src, _ := g.In(coord)
	if len(src) != 1 || g.Name(src[0]) != "config" {
		t.Errorf("In(coord) = %v, want [config]", src)
	}
	lonely, _ := g.ID("lonely")
	if g.Info(lonely).Type != Endpoint {
		t.Errorf("Info(lonely).Type = %v, want endpoint", g.Info(lonely).Type)
	}
}

func TestParseKinds(t *testing.T) {
	tests := []struct {
		in   string
		want KindSet
		err  bool
	}{
		{"hard", Kinds(Hard), false},
		{"hard,soft", Kinds(Hard, Soft), false},
		{" Declared , hard", Kinds(Declared, Hard), false},
		{"hard,alternative,declared", DefaultKinds, false},
		{"all", AllKindsSet, false},
		{"hard,squishy", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseKinds(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseKinds(%q) = %v, %v; want %v, err=%v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestFromCSR(t *testing.T) {
	var b Builder
	b.AddEdge("a", "b", Hard, Evidence{Source: "x"})
	b.AddEdge("b", "a", Soft)
	g := b.Build()
	c := g.CSR()
	g2, err := FromCSR(CSR{Names: c.Names, Info: c.Info, Off: c.Off, Dst: c.Dst, Kinds: c.Kinds, Evidence: c.Evidence})
	if err != nil {
		t.Fatal(err)
	}
	if g2.EdgeCount() != 2 || g2.Evidence(0)[0].Source != "x" {
		t.Errorf("FromCSR lost data: %d edges, evidence %v", g2.EdgeCount(), g2.Evidence(0))
	}
	bad := []CSR{
		{Names: []string{"a"}, Off: []int32{0}},
		{Names: []string{"b", "a"}, Off: []int32{0, 0, 0}},
		{Names: []string{"a", "b"}, Off: []int32{0, 1, 1}, Dst: []int32{5}, Kinds: []Kind{Hard}},
		{Names: []string{"a", "b"}, Off: []int32{0, 2, 2}, Dst: []int32{1, 1}, Kinds: []Kind{Hard, Hard}},
		{Names: []string{"a", "b"}, Off: []int32{0, 1, 1}, Dst: []int32{1}, Kinds: []Kind{0}},
		{Names: []string{"a", "b", "c"}, Off: []int32{0, 5, 1, 1}, Dst: []int32{1}, Kinds: []Kind{Hard}},
	}
	for i, c := range bad {
		if _, err := FromCSR(c); err == nil {
			t.Errorf("FromCSR(bad[%d]) succeeded", i)
		}
	}
}
