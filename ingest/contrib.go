package ingest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/graph"
)

// contribution is what one record adds to a release: the edges it maps
// to (with their evidence), what is known about the record for choosing
// between records of the same scenario, and the record's JSON. A release
// keeps its contributions (the mapped section), so a later ingest --from
// it can rebuild the graph without decoding or mapping its records again.
type contribution struct {
	meta  recordMeta
	edges []contribEdge
	// self counts attempts and candidates that resolved to the record's
	// own service and gave no edge.
	self int
	// raw is the record's JSON as stored ([collector.Encode]).
	raw []byte
}

// contribEdge is one edge from the record's service.
type contribEdge struct {
	to       string
	endpoint bool // to is an endpoint, not a service
	kind     graph.Kind
	ev       []graph.Evidence
}

// recordMeta is what selection and recovery times need of a record.
type recordMeta struct {
	ID, Service, Scenario string
	Kind                  collector.RecordKind
	Release               string
	StartedAt             time.Time
	Recovered             bool
	Duration              time.Duration
	// Digest identifies the record's content: the SHA-256 of its JSON as
	// stored, in hex.
	Digest string
	// Deps summarizes what the record says its service reaches: a digest
	// of its minimal allowlist (minimizations) or its attempted endpoints
	// (runs). Two records of a scenario with different Deps disagree.
	Deps string
	// Origin is where the record came from; every piece of its evidence
	// points at it.
	Origin *graph.Origin
}

// slot is what a release keeps one record of: a scenario's runs, or its
// minimizations.
type slot struct {
	service, scenario string
	kind              collector.RecordKind
}

func (m *recordMeta) slot() slot { return slot{m.Service, m.Scenario, m.Kind} }

// newRecordMeta describes r; the digest is filled in by the caller,
// which has the record's bytes.
func newRecordMeta(r *collector.Record, origin *graph.Origin) recordMeta {
	var deps []string
	if r.Minimization != nil {
		for _, c := range r.Minimization.Minimal {
			deps = append(deps, c.String())
		}
	} else {
		for _, a := range r.Attempts {
			deps = append(deps, a.Endpoint()+" "+string(a.Verdict))
		}
	}
	slices.Sort(deps)
	deps = slices.Compact(deps)
	sum := sha256.Sum256([]byte(strings.Join(deps, "\n")))
	return recordMeta{
		ID:        r.ID,
		Service:   r.Service,
		Scenario:  r.Scenario,
		Kind:      r.Kind,
		Release:   r.Release,
		StartedAt: r.Outcome.StartedAt,
		Recovered: r.Outcome.Recovered,
		Duration:  r.Outcome.Duration.Std(),
		Deps:      hex.EncodeToString(sum[:8]),
		Origin:    origin,
	}
}

// encodeRecord returns r's JSON as a release stores it and its digest.
func encodeRecord(r *collector.Record) ([]byte, string, error) {
	var buf bytes.Buffer
	if err := collector.Encode(&buf, r); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), digestOf(buf.Bytes()), nil
}

// digestOf is the SHA-256 of a record's JSON, in hex.
func digestOf(raw []byte) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

// apply adds the contribution's service and edges to b.
func (c *contribution) apply(b *builder) {
	self := b.intern(c.meta.Service, seenService)
	for _, e := range c.edges {
		seen := seenService
		if e.endpoint {
			seen = seenEndpoint
		}
		b.addEdge(self, b.intern(e.to, seen), e.kind, e.ev...)
	}
}

// originOf returns the origin of a record read from file: the input's
// name, the record's own provenance and the key that signed it.
func originOf(r *collector.Record, file, signer string) *graph.Origin {
	o := &graph.Origin{File: file, Signer: signer}
	if p := r.Provenance; p != nil {
		o.Host, o.Job, o.Shard = p.Host, p.Job, p.Shard
	}
	return o
}
