package probe

import (
	"strings"
	"testing"

	"github.com/rgraph/rgraph/collector"
)

// TestLossIsCountedNeverSilent floods a probe with tiny tables and checks
// the accounting: every attempt is in a dedup map, in the overflow the
// ring buffer carried, or counted as lost; never nowhere.
func TestLossIsCountedNeverSilent(t *testing.T) {
	e := newTestEnv(t, func(string) Spec { return Spec{} }, loadOptions{inetEntries: 64, unixEntries: 16, ringBytes: 4096})
	p := e.probe

	const n = 50000
	if out := e.run("flood", "flood", "50000", "0"); !strings.HasPrefix(out, "sent 50000") {
		t.Fatalf("flood: %s", out)
	}
	rec, err := p.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	st, err := p.Stats()
	if err != nil {
		t.Fatal(err)
	}
	var counted uint64
	for _, a := range rec.Attempts {
		if a.Process.Comm != "flood" {
			continue
		}
		if b := a.Address.As16(); a.Protocol != collector.UDP || a.Verdict != collector.Denied || b[12] != 127 || b[13] != 1 {
			t.Errorf("unexpected attempt %+v", a)
		}
		counted += a.Count
	}
	t.Logf("%d attempts: %d recorded (%d distinct), stats %+v", n, counted, len(rec.Attempts), st)
	if counted+rec.Collection.Lost != n {
		t.Errorf("recorded %d + lost %d = %d, want %d", counted, rec.Collection.Lost, counted+rec.Collection.Lost, n)
	}
	if st.MapFull == 0 {
		t.Error("a 64-entry map took 50000 distinct attempts without filling up")
	}
	if rec.Collection.Lost != st.Lost {
		t.Errorf("Collection.Lost = %d, Stats.Lost = %d", rec.Collection.Lost, st.Lost)
	}
	if rec.Collection.Complete != (st.Lost == 0) {
		t.Errorf("Complete = %v with %d lost", rec.Collection.Complete, st.Lost)
	}
	// Counters only increase: a second snapshot reports at least as much.
	rec2, _ := p.Snapshot()
	if rec2.Collection.Lost < rec.Collection.Lost {
		t.Errorf("Lost went down from %d to %d", rec.Collection.Lost, rec2.Collection.Lost)
	}
}
