package ingest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/graph"
)

// Prefer says which record of a scenario a release keeps when several
// producers (shards, machines, CI runs, earlier releases) wrote one.
type Prefer string

// Preferences.
const (
	// PreferNewest keeps the record whose run started last (for a
	// minimization, its confirmation run); ties go to the greater ID.
	PreferNewest Prefer = "newest"
	// PreferRecovered keeps a record whose run recovered over one whose
	// run did not, and the newest among those.
	PreferRecovered Prefer = "recovered"
)

// ParsePrefer parses "newest" or "recovered"; "" is [PreferNewest].
func ParsePrefer(s string) (Prefer, error) {
	switch Prefer(s) {
	case "", PreferNewest:
		return PreferNewest, nil
	case PreferRecovered:
		return PreferRecovered, nil
	}
	return "", fmt.Errorf("unknown preference %q (want newest or recovered)", s)
}

// RecordRef names a record in a [Federation] report.
type RecordRef struct {
	ID        string       `json:"id"`
	StartedAt time.Time    `json:"startedAt"`
	Recovered bool         `json:"recovered"`
	Origin    graph.Origin `json:"origin"`
}

func refOf(m *recordMeta) RecordRef {
	r := RecordRef{ID: m.ID, StartedAt: m.StartedAt, Recovered: m.Recovered}
	if m.Origin != nil {
		r.Origin = *m.Origin
	}
	return r
}

// Duplicate is a record that was read more than once: the same ID and
// the same content, from several inputs (or an input and the release an
// ingest --from started from). It counts once.
type Duplicate struct {
	ID string `json:"id"`
	// Files names every input it was read from, in order; the first is
	// the one cited.
	Files []string `json:"files"`
}

// Superseded is a record a release left out because another record of
// the same scenario and kind won (see [Prefer]).
type Superseded struct {
	Record RecordRef `json:"record"`
	// By is the ID of the record kept instead.
	By string `json:"by"`
}

// Conflict is a disagreement between records of one scenario and kind
// made for the same release label: one recovered and another did not, or
// they reached (runs) or need (minimizations) different dependencies.
// The release keeps one record of the scenario all the same (see
// [Prefer]); the conflict names the one the rules prefer among those made
// for that release label, and who disagreed with it.
type Conflict struct {
	Service   string               `json:"service"`
	Scenario  string               `json:"scenario"`
	Kind      collector.RecordKind `json:"kind"`
	Release   string               `json:"release,omitempty"`
	Preferred RecordRef            `json:"preferred"`
	// Others are the records that disagree with Preferred.
	Others []RecordRef `json:"others"`
}

// String describes the conflict on one line.
func (c Conflict) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "scenario %s (service %s, %s records", c.Scenario, c.Service, c.Kind)
	if c.Release != "" {
		fmt.Fprintf(&b, " for release %s", c.Release)
	}
	fmt.Fprintf(&b, "): %s disagrees with", describeRef(c.Preferred))
	for i, o := range c.Others {
		if i > 0 {
			b.WriteString(";")
		}
		b.WriteString(" " + describeRef(o))
	}
	return b.String()
}

func describeRef(r RecordRef) string {
	verdict := "recovered"
	if !r.Recovered {
		verdict = "not recovered"
	}
	s := fmt.Sprintf("%s (%s, %s", r.ID, verdict, r.StartedAt.UTC().Format(time.RFC3339))
	for _, f := range [][2]string{{"host ", r.Origin.Host}, {"job ", r.Origin.Job}, {"", r.Origin.File}} {
		if f[1] != "" {
			s += ", " + f[0] + f[1]
		}
	}
	return s + ")"
}

// Federation reports how records from many producers became one
// release: duplicates read once, records superseded by newer ones, and
// conflicts between records of the same scenario.
type Federation struct {
	Duplicates []Duplicate  `json:"duplicates,omitempty"`
	Superseded []Superseded `json:"superseded,omitempty"`
	Conflicts  []Conflict   `json:"conflicts,omitempty"`
}

// entry is one record a release could keep: read from an input (rec
// set) or carried over from a base release (base set).
type entry struct {
	meta  *recordMeta
	rec   *collector.Record
	file  string
	raw   []byte
	base  *contribution
	files []string // every input it was read from, for Duplicates
	// fromBase is set for records of the base release, remapped or not.
	fromBase bool
}

// choose returns the entries a release keeps, sorted by ID, and reports
// what it left out and which records disagree. entries must have unique
// IDs.
func choose(entries []*entry, prefer Prefer, keepAll bool) ([]*entry, Federation) {
	var fed Federation
	bySlot := map[slot][]*entry{}
	var slots []slot
	for _, e := range entries {
		s := e.meta.slot()
		if _, ok := bySlot[s]; !ok {
			slots = append(slots, s)
		}
		bySlot[s] = append(bySlot[s], e)
	}
	slices.SortFunc(slots, func(a, b slot) int {
		return cmp.Or(cmp.Compare(a.service, b.service), cmp.Compare(a.scenario, b.scenario), cmp.Compare(a.kind, b.kind))
	})
	var kept []*entry
	for _, s := range slots {
		es := bySlot[s]
		slices.SortFunc(es, func(a, b *entry) int { return better(a.meta, b.meta, prefer) })
		win := es[0]
		if keepAll {
			kept = append(kept, es...)
		} else {
			kept = append(kept, win)
			for _, e := range es[1:] {
				fed.Superseded = append(fed.Superseded, Superseded{Record: refOf(e.meta), By: win.meta.ID})
			}
		}
		fed.Conflicts = append(fed.Conflicts, conflicts(s, es)...)
	}
	slices.SortFunc(kept, func(a, b *entry) int { return cmp.Compare(a.meta.ID, b.meta.ID) })
	return kept, fed
}

// better orders records best first: by preference, then the later start,
// then the greater ID.
func better(a, b *recordMeta, prefer Prefer) int {
	if prefer == PreferRecovered && a.Recovered != b.Recovered {
		if a.Recovered {
			return -1
		}
		return 1
	}
	return cmp.Or(b.StartedAt.Compare(a.StartedAt), cmp.Compare(b.ID, a.ID))
}

// conflicts compares every record of a slot (best first) made for the
// same release label with the best of them.
func conflicts(s slot, es []*entry) []Conflict {
	byRelease := map[string][]*entry{}
	var releases []string
	for _, e := range es {
		r := e.meta.Release
		if _, ok := byRelease[r]; !ok {
			releases = append(releases, r)
		}
		byRelease[r] = append(byRelease[r], e)
	}
	slices.Sort(releases)
	var out []Conflict
	for _, r := range releases {
		group := byRelease[r]
		head := group[0].meta
		c := Conflict{Service: s.service, Scenario: s.scenario, Kind: s.kind, Release: r, Preferred: refOf(head)}
		for _, e := range group[1:] {
			if e.meta.Recovered != head.Recovered || e.meta.Deps != head.Deps {
				c.Others = append(c.Others, refOf(e.meta))
			}
		}
		if len(c.Others) > 0 {
			out = append(out, c)
		}
	}
	return out
}
