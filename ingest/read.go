package ingest

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"strings"

	"github.com/dgraph-io/badger/v4"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/graph"
)

func getManifest(txn *badger.Txn, name string) (manifest, error) {
	var m manifest
	item, err := txn.Get(manifestKey(name))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return m, fmt.Errorf("%w: %q", ErrNotFound, name)
	} else if err != nil {
		return m, err
	}
	err = item.Value(func(v []byte) error { return json.Unmarshal(v, &m) })
	if err != nil {
		return m, fmt.Errorf("%w: manifest of release %q: %w", ErrCorrupt, name, err)
	}
	return m, nil
}

func manifests(txn *badger.Txn) ([]manifest, error) {
	var out []manifest
	it := txn.NewIterator(badger.IteratorOptions{Prefix: manifestPrefix, PrefetchValues: true, PrefetchSize: 64})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		var m manifest
		err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &m) })
		if err != nil {
			return nil, fmt.Errorf("%w: manifest %q: %w", ErrCorrupt, it.Item().Key(), err)
		}
		out = append(out, m)
	}
	return out, nil
}

// Releases lists the stored releases, newest first (ties by name).
func (s *Store) Releases() ([]Release, error) {
	var out []Release
	err := s.db.View(func(txn *badger.Txn) error {
		ms, err := manifests(txn)
		for _, m := range ms {
			out = append(out, m.Release)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listing releases: %w", err)
	}
	slices.SortFunc(out, func(a, b Release) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
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

// Latest returns the newest release, or [ErrNoReleases].
func (s *Store) Latest() (Release, error) {
	rs, err := s.Releases()
	if err != nil {
		return Release{}, err
	}
	if len(rs) == 0 {
		return Release{}, ErrNoReleases
	}
	return rs[0], nil
}

// Load reads release name's graph, or returns an error wrapping
// [ErrNotFound] (unknown release) or [ErrCorrupt].
func (s *Store) Load(name string) (*graph.Graph, error) {
	var g *graph.Graph
	err := s.db.View(func(txn *badger.Txn) error {
		m, err := getManifest(txn, name)
		if err != nil {
			return err
		}
		secs := map[byte][]byte{}
		for _, sec := range graphSections {
			if secs[sec], err = readSection(txn, m, sec); err != nil {
				return err
			}
		}
		g, err = decodeGraph(secs, m.Release.Services+m.Release.Endpoints, m.Release.Edges)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("loading release: %w", err)
	}
	return g, nil
}

// Records returns the run and minimization records stored with release
// name, sorted by ID.
func (s *Store) Records(name string) ([]*collector.Record, error) {
	var out []*collector.Record
	err := s.db.View(func(txn *badger.Txn) error {
		m, err := getManifest(txn, name)
		if err != nil {
			return err
		}
		b, err := readSection(txn, m, secRecords)
		if err != nil {
			return err
		}
		out, err = decodeRecords(b)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading records: %w", err)
	}
	return out, nil
}

// Catalog returns the catalog stored with release name, or nil when it
// was ingested without one.
func (s *Store) Catalog(name string) (*collector.Catalog, error) {
	var out *collector.Catalog
	err := s.db.View(func(txn *badger.Txn) error {
		m, err := getManifest(txn, name)
		if err != nil {
			return err
		}
		b, err := readSection(txn, m, secCatalog)
		if err != nil {
			return err
		}
		out, err = decodeCatalog(b)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading catalog: %w", err)
	}
	return out, nil
}

// readSection reads and checks one section of a release's snapshot.
func readSection(txn *badger.Txn, m manifest, sec byte) ([]byte, error) {
	info, ok := m.Sections[string(sec)]
	if !ok {
		return nil, fmt.Errorf("%w: section %q missing", ErrCorrupt, sec)
	}
	buf := make([]byte, 0, info.Size)
	for i := range info.Chunks {
		item, err := txn.Get(chunkKey(m.Snapshot, sec, i))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil, fmt.Errorf("%w: chunk %d of section %q missing", ErrCorrupt, i, sec)
		} else if err != nil {
			return nil, err
		}
		err = item.Value(func(v []byte) error {
			if int64(len(buf)+len(v)) > info.Size {
				return fmt.Errorf("%w: section %q longer than its manifest says", ErrCorrupt, sec)
			}
			buf = append(buf, v...)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if int64(len(buf)) != info.Size || crc32.Checksum(buf, crcTable) != info.CRC {
		return nil, fmt.Errorf("%w: section %q fails its checksum", ErrCorrupt, sec)
	}
	return buf, nil
}
