package netns

import (
	"net/netip"
	"testing"

	"github.com/rgraph/rgraph/collector"
)

func TestMergeRecordings(t *testing.T) {
	a := collector.Attempt{Protocol: collector.TCP, Address: netip.MustParseAddr("10.0.0.5"), Port: 5432, Verdict: collector.Allowed, Count: 1, Process: collector.Process{Comm: "x"}}
	got := mergeRecordings(
		collector.Recording{Attempts: []collector.Attempt{a}, Collection: collector.Collection{Complete: true}},
		collector.Recording{Attempts: []collector.Attempt{a}, Collection: collector.Collection{Complete: false, Lost: 3, NotRecorded: []string{"x"}}},
	)
	if len(got.Attempts) != 1 || got.Attempts[0].Count != 2 || got.Collection.Complete || got.Collection.Lost != 3 || len(got.Collection.NotRecorded) != 1 {
		t.Errorf("mergeRecordings = %+v", got)
	}
}
