package ingest

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/dgraph-io/badger/v4"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/graph"
)

// getJSON reads the JSON document under key into a T; found is false
// when there is none. A document that does not decode is [ErrCorrupt].
func getJSON[T any](txn *badger.Txn, key []byte) (v T, found bool, err error) {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return v, false, nil
	} else if err != nil {
		return v, false, err
	}
	if err := item.Value(func(b []byte) error { return json.Unmarshal(b, &v) }); err != nil {
		return v, true, fmt.Errorf("%w: %q: %w", ErrCorrupt, key, err)
	}
	return v, true, nil
}

// scanJSON reads every JSON document under prefix, in key order.
func scanJSON[T any](txn *badger.Txn, prefix []byte) ([]T, error) {
	var out []T
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 64})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		var v T
		if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &v) }); err != nil {
			return nil, fmt.Errorf("%w: %q: %w", ErrCorrupt, it.Item().Key(), err)
		}
		out = append(out, v)
	}
	return out, nil
}

// getManifest reads release name's manifest, or returns an error wrapping
// [ErrNotFound].
func getManifest(txn *badger.Txn, name string) (manifest, error) {
	m, found, err := getJSON[manifest](txn, manifestKey(name))
	if err == nil && !found {
		err = fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	return m, err
}

// newestManifest reads the newest release's manifest (ties by name), or
// returns [ErrNoReleases].
func newestManifest(txn *badger.Txn) (manifest, error) {
	ms, err := scanJSON[manifest](txn, manifestPrefix)
	if err != nil {
		return manifest{}, err
	}
	if len(ms) == 0 {
		return manifest{}, ErrNoReleases
	}
	return slices.MinFunc(ms, func(a, b manifest) int { return newestFirst(a.Release, b.Release) }), nil
}

// newestFirst orders releases newest first, ties by name.
func newestFirst(a, b Release) int {
	if c := b.Created.Compare(a.Created); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}

// Releases lists the stored releases, newest first (ties by name).
func (s *Store) Releases() ([]Release, error) {
	var ms []manifest
	err := s.db.View(func(txn *badger.Txn) (err error) {
		ms, err = scanJSON[manifest](txn, manifestPrefix)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listing releases: %w", err)
	}
	out := make([]Release, len(ms))
	for i, m := range ms {
		out[i] = m.Release
	}
	slices.SortFunc(out, newestFirst)
	return out, nil
}

// Part names a part of a stored release that [Store.View] reads.
type Part uint8

// Parts of a release; combine them with |.
const (
	PartGraph   Part = 1 << iota // the recovery graph
	PartRecords                  // the run and minimization records
	PartCatalog                  // the service catalog
	PartRuntime                  // the runtime dependency graph, if there is one
)

// View is a release as [Store.View] read it, in one transaction: its
// description and the parts asked for; the others are nil.
type View struct {
	Release Release
	// Graph is the recovery graph ([PartGraph]).
	Graph *graph.Graph
	// Records are the run and minimization records, sorted by ID
	// ([PartRecords]).
	Records []*collector.Record
	// Catalog is the service catalog, nil when the release was ingested
	// without one ([PartCatalog]).
	Catalog *collector.Catalog
	// Runtime is the runtime dependency graph, nil when the release has
	// none ([PartRuntime]).
	Runtime *Runtime
}

// View reads release name, or the newest release when name is "" (ties
// by name), with the parts of it asked for, all in one read transaction:
// what a command needs, consistent even beside a writer in this process.
// An unknown release gives an error wrapping [ErrNotFound], an empty
// store [ErrNoReleases], stored data that fails its checks [ErrCorrupt].
func (s *Store) View(name string, parts Part) (*View, error) {
	v := &View{}
	err := s.db.View(func(txn *badger.Txn) error {
		var m manifest
		var err error
		if name == "" {
			m, err = newestManifest(txn)
		} else {
			m, err = getManifest(txn, name)
		}
		if err != nil {
			return err
		}
		v.Release = m.Release
		return v.read(txn, m, parts, s.log)
	})
	if errors.Is(err, ErrNoReleases) {
		return nil, err
	} else if err != nil {
		return nil, fmt.Errorf("reading release: %w", err)
	}
	return v, nil
}

// read reads the parts of the release of manifest m.
func (v *View) read(txn *badger.Txn, m manifest, parts Part, log *slog.Logger) error {
	if parts&PartGraph != 0 {
		g, err := decodeGraph(m.source(txn), m.Release.Services+m.Release.Endpoints, m.Release.Edges)
		if err != nil {
			return err
		}
		if err := rememberSummary(txn, m, g); err != nil {
			// The summary only spares work: without it the analyses
			// compute what it holds.
			log.Warn("ignoring the stored summary of the graph", "release", m.Release.Name, "err", err)
		}
		v.Graph = g
	}
	if parts&PartRecords != 0 {
		b, err := m.section(txn, secRecords)
		if err != nil {
			return err
		}
		if v.Records, err = decodeRecords(b); err != nil {
			return err
		}
	}
	if parts&PartCatalog != 0 {
		b, err := m.section(txn, secCatalog)
		if err != nil {
			return err
		}
		if v.Catalog, err = decodeCatalog(b); err != nil {
			return err
		}
	}
	if parts&PartRuntime != 0 {
		rt, err := readRuntime(txn, m.Release.Name)
		if err != nil && !errors.Is(err, ErrNoRuntime) {
			return err
		}
		v.Runtime = rt
	}
	return nil
}

// rememberSummary hands g the summary stored with it, if there is one of
// this rgraph's [graph.SummaryVersion].
func rememberSummary(txn *badger.Txn, m manifest, g *graph.Graph) error {
	if _, ok := m.Sections[string(secSummary)]; !ok {
		return nil
	}
	sum, err := decodeSummary(m.source(txn), g.Len())
	if err != nil || sum == nil {
		return err
	}
	return g.Remember(sum)
}

// Get returns release name, or an error wrapping [ErrNotFound].
func (s *Store) Get(name string) (Release, error) {
	var m manifest
	err := s.db.View(func(txn *badger.Txn) (err error) {
		m, err = getManifest(txn, name)
		return err
	})
	return m.Release, err
}

// Latest returns the newest release (ties by name), or [ErrNoReleases].
func (s *Store) Latest() (Release, error) {
	var m manifest
	err := s.db.View(func(txn *badger.Txn) (err error) {
		m, err = newestManifest(txn)
		return err
	})
	return m.Release, err
}

// Load reads release name's graph, or returns an error wrapping
// [ErrNotFound] (unknown release) or [ErrCorrupt]; it is View with
// [PartGraph].
func (s *Store) Load(name string) (*graph.Graph, error) {
	v, err := s.view(name, PartGraph)
	if err != nil {
		return nil, err
	}
	return v.Graph, nil
}

// Records returns the run and minimization records stored with release
// name, sorted by ID; it is View with [PartRecords].
func (s *Store) Records(name string) ([]*collector.Record, error) {
	v, err := s.view(name, PartRecords)
	if err != nil {
		return nil, err
	}
	return v.Records, nil
}

// Catalog returns the catalog stored with release name, or nil when it
// was ingested without one; it is View with [PartCatalog].
func (s *Store) Catalog(name string) (*collector.Catalog, error) {
	v, err := s.view(name, PartCatalog)
	if err != nil {
		return nil, err
	}
	return v.Catalog, nil
}

// view is View of a named release.
func (s *Store) view(name string, parts Part) (*View, error) {
	if name == "" {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	return s.View(name, parts)
}

// section reads and checks section sec of the release's snapshot.
func (m manifest) section(txn *badger.Txn, sec byte) ([]byte, error) {
	return m.source(txn).readAll(sec)
}

// source serves the sections of the release's snapshot; a section its
// manifest does not list is [ErrCorrupt].
func (m manifest) source(txn *badger.Txn) sectionSource {
	return func(sec byte) (io.Reader, int64, error) {
		info, ok := m.Sections[string(sec)]
		if !ok {
			return nil, 0, fmt.Errorf("%w: section %q missing", ErrCorrupt, sec)
		}
		return &sectionReader{txn: txn, snap: m.Snapshot, sec: sec, info: info}, info.Size, nil
	}
}

// readSection reads section sec of snapshot snap and checks it against
// info, from its manifest.
func readSection(txn *badger.Txn, snap uint64, sec byte, info sectionInfo) ([]byte, error) {
	return manifest{Snapshot: snap, Sections: map[string]sectionInfo{string(sec): info}}.source(txn).readAll(sec)
}

// sectionReader reads section sec of snapshot snap chunk by chunk, copying
// straight out of Badger, and when it reaches the section's end checks it
// against its manifest entry: a section that is shorter or longer than
// info says, or fails its checksum, reads as [ErrCorrupt], not io.EOF.
type sectionReader struct {
	txn  *badger.Txn
	snap uint64
	sec  byte
	info sectionInfo

	item *badger.Item // the current chunk, nil between chunks
	off  int          // read of the current chunk
	next int          // the next chunk
	read int64
	crc  uint32
}

func (r *sectionReader) Read(p []byte) (int, error) {
	for {
		if r.item == nil {
			if r.next == r.info.Chunks {
				if r.read != r.info.Size || r.crc != r.info.CRC {
					return 0, fmt.Errorf("%w: section %q fails its checksum", ErrCorrupt, r.sec)
				}
				return 0, io.EOF
			}
			item, err := r.txn.Get(chunkKey(r.snap, r.sec, r.next))
			if errors.Is(err, badger.ErrKeyNotFound) {
				return 0, fmt.Errorf("%w: chunk %d of section %q missing", ErrCorrupt, r.next, r.sec)
			} else if err != nil {
				return 0, err
			}
			r.item, r.off = item, 0
			r.next++
		}
		n, end := 0, false
		err := r.item.Value(func(v []byte) error {
			if r.read-int64(r.off)+int64(len(v)) > r.info.Size {
				return fmt.Errorf("%w: section %q longer than its manifest says", ErrCorrupt, r.sec)
			}
			n = copy(p, v[r.off:])
			end = r.off+n == len(v)
			return nil
		})
		if err != nil {
			return 0, err
		}
		r.crc = crc32.Update(r.crc, crcTable, p[:n])
		r.off += n
		r.read += int64(n)
		if end {
			r.item = nil
		}
		if n > 0 || len(p) == 0 {
			return n, nil
		}
	}
}
