package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/graph"
)

// base is a release an ingest starts from ([Options.From]): its
// records as mapped, with their JSON, and its catalog. Nothing of it is
// decoded as JSON or mapped again unless it has to be.
type base struct {
	name     string
	contribs []*contribution // sorted by ID
	catalog  *collector.Catalog
	// decoded holds the records, by ID, of a release stored before
	// releases kept their contributions; they are mapped again.
	decoded map[string]*collector.Record
}

// record returns the decoded record of c, a contribution of the base.
func (b *base) record(c *contribution) (*collector.Record, error) {
	if r, ok := b.decoded[c.meta.ID]; ok {
		return r, nil
	}
	r, err := collector.Decode(c.raw, "record "+c.meta.ID+" of release "+b.name)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return r, nil
}

// loadBase reads release name as the base of an ingest. A release that
// holds edges from edge lists cannot be one: they are not kept apart
// from the records' edges.
func (s *Store) loadBase(name string) (*base, error) {
	b := &base{name: name}
	err := s.db.View(func(txn *badger.Txn) error {
		m, err := getManifest(txn, name)
		if err != nil {
			return err
		}
		recs, err := m.section(txn, secRecords)
		if err != nil {
			return err
		}
		if cb, err := m.section(txn, secCatalog); err != nil {
			return err
		} else if b.catalog, err = decodeCatalog(cb); err != nil {
			return err
		}
		if info, ok := m.Sections[string(secMapped)]; !ok || info.Size == 0 {
			return b.fromRecords(recs, m.Release.Inputs)
		}
		mb, err := m.section(txn, secMapped)
		if err != nil {
			return err
		}
		contribs, edgeLists, err := decodeMapped(mb)
		if err != nil {
			return err
		}
		if edgeLists {
			return fmt.Errorf("release %q holds edges from edge lists, which a release built from it could not tell from its records' edges; ingest all its inputs again instead", name)
		}
		raws, err := splitRecords(recs)
		if err != nil {
			return err
		}
		if len(raws) != len(contribs) {
			return fmt.Errorf("%w: %d records but %d mapped", ErrCorrupt, len(raws), len(contribs))
		}
		for i, c := range contribs {
			c.raw = raws[i]
		}
		b.contribs = contribs
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading release %q to start from: %w", name, err)
	}
	return b, nil
}

// fromRecords fills b from the records of a release stored before
// releases kept their contributions: decoded, to be mapped again.
func (b *base) fromRecords(recs []byte, inputs []string) error {
	for _, in := range inputs {
		if f, ok := walkFormats[filepath.Ext(in)]; ok && f == FormatEdges {
			return fmt.Errorf("release %q was ingested from edge lists (%s) too; ingest all its inputs again instead", b.name, in)
		}
	}
	raws, err := splitRecords(recs)
	if err != nil {
		return err
	}
	b.decoded = map[string]*collector.Record{}
	for _, raw := range raws {
		r, err := collector.Decode(raw, "stored record")
		if err != nil {
			return fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		c := &contribution{meta: newRecordMeta(r, &graph.Origin{File: "release " + b.name}), raw: raw}
		c.meta.Digest = digestOf(raw)
		b.decoded[r.ID] = r
		b.contribs = append(b.contribs, c)
	}
	return nil
}

// splitRecords splits a records section into the records' JSON, without
// decoding it.
func splitRecords(b []byte) ([][]byte, error) {
	d := &decoder{b: b}
	out := make([][]byte, d.count(1))
	for i := range out {
		out[i] = d.bytes(d.count(1))
	}
	if err := d.done("records"); err != nil {
		return nil, err
	}
	return out, nil
}

// sameCatalog reports whether two catalogs are the same document.
func sameCatalog(a, b *collector.Catalog) bool {
	if a == nil || b == nil {
		return a == b
	}
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

// The mapped section: a release's records as mapped (see contribution).
//
//	byte version (1), byte flags (1: edge lists contributed edges)
//	uv count, count × contribution:
//	  strings id, service, scenario, kind, release, startedAt (RFC 3339), digest, deps
//	  byte recovered, uv duration ns
//	  strings origin file, host, job, shard, signer
//	  uv self, uv edges, edges × (string to, byte endpoint, byte kind,
//	  uv n, n × strings source, scenario, process, endpoint, detail)
const mappedVersion = 1

func encodeMapped(e *encoder, snap *Snapshot) {
	e.byte(mappedVersion)
	var flags byte
	if snap.edgeLists {
		flags |= 1
	}
	e.byte(flags)
	e.uvarint(uint64(len(snap.contribs)))
	for _, c := range snap.contribs {
		m := &c.meta
		for _, s := range []string{m.ID, m.Service, m.Scenario, string(m.Kind), m.Release, m.StartedAt.Format(time.RFC3339Nano), m.Digest, m.Deps} {
			e.string(s)
		}
		e.byte(boolByte(m.Recovered))
		e.uvarint(uint64(m.Duration))
		var o graph.Origin
		if m.Origin != nil {
			o = *m.Origin
		}
		for _, s := range []string{o.File, o.Host, o.Job, o.Shard, o.Signer} {
			e.string(s)
		}
		e.uvarint(uint64(c.self))
		e.uvarint(uint64(len(c.edges)))
		for _, ed := range c.edges {
			e.string(ed.to)
			e.byte(boolByte(ed.endpoint))
			e.byte(byte(ed.kind))
			e.uvarint(uint64(len(ed.ev)))
			for _, x := range ed.ev {
				e.string(x.Source)
				e.string(x.Scenario)
				e.string(x.Process)
				e.string(x.Endpoint)
				e.string(x.Detail)
			}
		}
	}
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

func decodeMapped(b []byte) ([]*contribution, bool, error) {
	d := &decoder{b: b}
	if v := d.byte(); v != mappedVersion {
		d.fail("mapped section version %d", v)
		return nil, false, d.done("mapped records")
	}
	edgeLists := d.byte()&1 != 0
	out := make([]*contribution, d.count(20))
	for i := range out {
		c := &contribution{}
		m := &c.meta
		m.ID, m.Service, m.Scenario = d.string(), d.string(), d.string()
		m.Kind, m.Release = collector.RecordKind(d.string()), d.string()
		if t, err := time.Parse(time.RFC3339Nano, d.string()); err == nil {
			m.StartedAt = t
		} else {
			d.fail("record %s: startedAt: %v", m.ID, err)
		}
		m.Digest, m.Deps = d.string(), d.string()
		m.Recovered = d.byte() == 1
		m.Duration = time.Duration(d.uvarint())
		m.Origin = &graph.Origin{File: d.string(), Host: d.string(), Job: d.string(), Shard: d.string(), Signer: d.string()}
		c.self = int(d.uvarint())
		c.edges = make([]contribEdge, d.count(4))
		for j := range c.edges {
			ed := &c.edges[j]
			ed.to = d.string()
			ed.endpoint = d.byte() == 1
			ed.kind = graph.Kind(d.byte())
			ed.ev = make([]graph.Evidence, d.count(5))
			for k := range ed.ev {
				ed.ev[k] = graph.Evidence{Source: d.string(), Scenario: d.string(), Process: d.string(), Endpoint: d.string(), Detail: d.string(), Origin: m.Origin}
			}
		}
		if d.err != nil {
			break
		}
		out[i] = c
	}
	if err := d.done("mapped records"); err != nil {
		return nil, false, err
	}
	return out, edgeLists, nil
}
