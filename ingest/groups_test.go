package ingest

import (
	"bytes"
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/graph"
)

func TestCandidateGroup(t *testing.T) {
	rec := &collector.Record{ID: "min-x"}
	tests := []struct {
		c     collector.Candidate
		group int
		ok    bool
	}{
		{collector.Candidate{Class: collector.Alternative, Group: 2, Trials: []string{"t1", "t2"}}, 2, true},
		{collector.Candidate{Class: collector.Alternative, Group: 17}, 17, true},
		{collector.Candidate{Class: collector.Hard}, 0, false},
		{collector.Candidate{Class: collector.Alternative}, 0, false},
	}
	for _, tt := range tests {
		detail := candidateEvidence(rec, tt.c, nil).Detail
		if n, ok := candidateGroup(detail); n != tt.group || ok != tt.ok {
			t.Errorf("candidateGroup(%q) = %d, %v; want %d, %v", detail, n, ok, tt.group, tt.ok)
		}
	}
}

// groupNames returns a graph's explicit alternative groups as
// "service: member member".
func groupNames(g *graph.Graph) []string {
	var out []string
	for u := range int32(g.Len()) {
		for _, grp := range g.Groups(u) {
			s := g.Name(u) + ":"
			for _, e := range grp {
				v, _ := g.EdgeTarget(e)
				s += " " + g.Name(v)
			}
			out = append(out, s)
		}
	}
	return out
}

func TestAlternativeGroups(t *testing.T) {
	in, err := Files("testdata/fleet")
	if err != nil {
		t.Fatal(err)
	}
	// A second minimization of config, in another scenario, with two
	// groups of its own: groups of different records stay apart.
	second := loadFleetRecord(t, "min-config.json")
	second.ID, second.Scenario, second.Attempts = "min-config-2", "config/warm", nil
	second.Minimization.Candidates = []collector.Candidate{
		{Capability: collector.Capability{Service: "dns"}, Class: collector.Alternative, Group: 1},
		{Capability: collector.Capability{Service: "web"}, Class: collector.Alternative, Group: 1},
		{Capability: collector.Capability{Service: "cdn"}, Class: collector.Alternative, Group: 2},
		{Capability: collector.Capability{Service: "logd"}, Class: collector.Alternative, Group: 2},
	}
	var buf bytes.Buffer
	if err := collector.Encode(&buf, second); err != nil {
		t.Fatal(err)
	}
	in = append(in, data("min-config-2.json", buf.String()))
	snap, err := Parse(context.Background(), in, ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"config: cdn logd",      // min-config-2, group 2
		"config: discovery dns", // min-config, group 1
		"config: dns web",       // min-config-2, group 1
	}
	if d := cmp.Diff(want, groupNames(snap.Graph)); d != "" {
		t.Fatalf("groups after parsing (-want +got):\n%s", d)
	}
	runStoreTest(t, func(t *testing.T, s *Store) {
		if _, err := s.Put(context.Background(), "r1", snap, PutOptions{}); err != nil {
			t.Fatal(err)
		}
		g, err := s.Load("r1")
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, groupNames(g)); d != "" {
			t.Errorf("groups after loading (-want +got):\n%s", d)
		}
	})
}
