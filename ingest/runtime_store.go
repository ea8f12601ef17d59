package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/rgraph/rgraph/graph"
)

// A release's runtime graph is kept beside its recovery graph, under its
// own key, so that replacing the release with a new ingest keeps it and
// importing a new one leaves the recovery graph alone:
//
//	u/NAME                    the runtime graph's manifest (JSON)
//	c/SNAP(8) 'U' INDEX(4)    its chunks, under a snapshot ID of its own
//
// It is published as releases are: chunks first, then one transaction
// that writes the manifest (and checks that the release exists).
var runtimePrefix = []byte("u/")

// secRuntime is the section of a runtime graph's chunks:
//
//	uv names, names × (uv len, bytes)
//	uv edges, edges × (uv from, uv to, uv calls)    indices into names
const secRuntime byte = 'U'

var (
	// ErrNoRuntime is wrapped by the error [Store.Runtime] returns for a
	// release without a runtime graph; the message names the release.
	ErrNoRuntime = errors.New("no runtime graph")
	// ErrRuntimeExists is wrapped by the error [Store.PutRuntime] returns
	// when the release has a runtime graph and Replace was not asked for.
	ErrRuntimeExists = errors.New("runtime graph already exists")
)

// runtimeManifest is the value of a runtime graph's key.
type runtimeManifest struct {
	Info     RuntimeInfo `json:"info"`
	Snapshot uint64      `json:"snapshot"`
	Section  sectionInfo `json:"section"`
}

// RuntimeInfo describes a stored runtime graph.
type RuntimeInfo struct {
	Release  string    `json:"release"`
	Created  time.Time `json:"created"`
	Inputs   []string  `json:"inputs"`
	Edges    int       `json:"edges"`
	Services int       `json:"services"`
	Size     int64     `json:"size"`
}

func runtimeKey(name string) []byte { return append(slices.Clip(runtimePrefix), name...) }

// PutRuntime stores rt as the runtime graph of release name, atomically
// (as [Store.Put] stores releases). The release must exist: otherwise the
// error wraps [ErrNotFound]. A release that has a runtime graph gives an
// error wrapping [ErrRuntimeExists] unless opts.Replace is set.
// opts.Progress is not called.
func (s *Store) PutRuntime(ctx context.Context, name string, rt *Runtime, opts PutOptions) (RuntimeInfo, error) {
	if err := s.writable(); err != nil {
		return RuntimeInfo{}, err
	}
	if err := ValidReleaseName(name); err != nil {
		return RuntimeInfo{}, err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if _, err := s.Get(name); err != nil {
		return RuntimeInfo{}, err
	}
	if !opts.Replace {
		if _, err := s.RuntimeInfo(name); err == nil {
			return RuntimeInfo{}, fmt.Errorf("%w: release %q", ErrRuntimeExists, name)
		} else if !errors.Is(err, ErrNoRuntime) {
			return RuntimeInfo{}, err
		}
	}
	if err := s.collectGarbage(); err != nil {
		return RuntimeInfo{}, err
	}
	id, err := s.newSnapshotID()
	if err != nil {
		return RuntimeInfo{}, err
	}
	m := runtimeManifest{Snapshot: id, Info: RuntimeInfo{
		Release: name, Created: s.now().UTC(), Inputs: rt.Inputs, Edges: len(rt.Edges), Services: rt.Services(),
	}}
	published := false
	defer func() {
		if !published {
			if err := s.deleteSnapshot(id); err != nil {
				s.log.Debug("deleting staged runtime graph", "snapshot", id, "err", err)
			}
		}
	}()
	if m.Section, err = s.writeRuntime(ctx, id, rt); err != nil {
		return RuntimeInfo{}, fmt.Errorf("writing runtime graph of %q: %w", name, err)
	}
	m.Info.Size = m.Section.Size
	if err := s.callHook("staged"); err != nil {
		return RuntimeInfo{}, err
	}
	val, err := json.Marshal(&m)
	if err != nil {
		return RuntimeInfo{}, fmt.Errorf("encoding runtime manifest: %w", err)
	}
	var old uint64
	err = s.db.Update(func(txn *badger.Txn) error {
		if _, err := getManifest(txn, name); err != nil {
			return err // deleted meanwhile
		}
		prev, err := getRuntimeManifest(txn, name)
		switch {
		case err == nil && !opts.Replace:
			return fmt.Errorf("%w: release %q", ErrRuntimeExists, name)
		case err == nil:
			old = prev.Snapshot
		case !errors.Is(err, ErrNoRuntime):
			return err
		}
		return txn.Set(runtimeKey(name), val)
	})
	if err != nil {
		if errors.Is(err, ErrRuntimeExists) || errors.Is(err, ErrNotFound) {
			return RuntimeInfo{}, err
		}
		return RuntimeInfo{}, fmt.Errorf("publishing runtime graph of %q: %w", name, err)
	}
	published = true
	if err := s.db.Sync(); err != nil {
		return RuntimeInfo{}, fmt.Errorf("publishing runtime graph of %q: %w", name, err)
	}
	if err := s.callHook("published"); err != nil {
		return RuntimeInfo{}, err
	}
	if old != 0 {
		if err := s.deleteSnapshot(old); err != nil {
			s.log.Debug("deleting replaced runtime graph", "snapshot", old, "err", err)
		}
		s.reclaim()
	}
	return m.Info, nil
}

// writeRuntime writes rt's section as chunks of snapshot id and makes
// them durable.
func (s *Store) writeRuntime(ctx context.Context, id uint64, rt *Runtime) (sectionInfo, error) {
	st := &staging{ctx: ctx, snap: id, sec: secRuntime, size: s.chunkSize}
	if err := encodeRuntime(st, rt); err != nil {
		return sectionInfo{}, err
	}
	info, err := st.endSection()
	if err != nil {
		return sectionInfo{}, err
	}
	return info, s.writeChunks(ctx, st)
}

func encodeRuntime(w io.Writer, rt *Runtime) error {
	e := &encoder{w: w}
	idx := map[string]uint64{}
	var names []string
	for _, c := range rt.Edges {
		for _, n := range []string{c.From, c.To} {
			if _, ok := idx[n]; !ok {
				idx[n] = uint64(len(names))
				names = append(names, n)
			}
		}
	}
	e.uvarint(uint64(len(names)))
	for _, n := range names {
		e.string(n)
	}
	e.uvarint(uint64(len(rt.Edges)))
	for _, c := range rt.Edges {
		e.uvarint(idx[c.From])
		e.uvarint(idx[c.To])
		e.uvarint(c.Calls)
	}
	return e.flush()
}

func decodeRuntime(b []byte) ([]graph.Call, error) {
	d := &decoder{b: b}
	names := make([]string, d.count(1))
	for i := range names {
		names[i] = d.string()
	}
	edges := make([]graph.Call, d.count(3))
	name := func() string {
		i := d.uvarint()
		if i >= uint64(len(names)) {
			d.fail("name %d of %d", i, len(names))
			return ""
		}
		return names[i]
	}
	for i := range edges {
		edges[i] = graph.Call{From: name(), To: name(), Calls: d.uvarint()}
	}
	if err := d.done("runtime graph"); err != nil {
		return nil, err
	}
	return edges, nil
}

func getRuntimeManifest(txn *badger.Txn, name string) (runtimeManifest, error) {
	var m runtimeManifest
	item, err := txn.Get(runtimeKey(name))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return m, fmt.Errorf("%w for release %q", ErrNoRuntime, name)
	} else if err != nil {
		return m, err
	}
	err = item.Value(func(v []byte) error { return json.Unmarshal(v, &m) })
	if err != nil {
		return m, fmt.Errorf("%w: runtime manifest of release %q: %w", ErrCorrupt, name, err)
	}
	return m, nil
}

// runtimeManifests lists every runtime manifest.
func runtimeManifests(txn *badger.Txn) ([]runtimeManifest, error) {
	var out []runtimeManifest
	it := txn.NewIterator(badger.IteratorOptions{Prefix: runtimePrefix, PrefetchValues: true, PrefetchSize: 64})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		var m runtimeManifest
		err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &m) })
		if err != nil {
			return nil, fmt.Errorf("%w: runtime manifest %q: %w", ErrCorrupt, it.Item().Key(), err)
		}
		out = append(out, m)
	}
	return out, nil
}

// RuntimeInfo describes release name's runtime graph, or returns an error
// wrapping [ErrNoRuntime] (none stored) or [ErrNotFound] (no such release).
func (s *Store) RuntimeInfo(name string) (RuntimeInfo, error) {
	var m runtimeManifest
	err := s.db.View(func(txn *badger.Txn) (err error) {
		if _, err := getManifest(txn, name); err != nil {
			return err
		}
		m, err = getRuntimeManifest(txn, name)
		return err
	})
	return m.Info, err
}

// Runtime reads release name's runtime graph, or returns an error
// wrapping [ErrNoRuntime], [ErrNotFound] or [ErrCorrupt].
func (s *Store) Runtime(name string) (*Runtime, error) {
	var rt *Runtime
	err := s.db.View(func(txn *badger.Txn) error {
		if _, err := getManifest(txn, name); err != nil {
			return err
		}
		m, err := getRuntimeManifest(txn, name)
		if err != nil {
			return err
		}
		b, err := readSection(txn, manifest{Snapshot: m.Snapshot, Sections: map[string]sectionInfo{string(secRuntime): m.Section}}, secRuntime)
		if err != nil {
			return err
		}
		edges, err := decodeRuntime(b)
		if err != nil {
			return err
		}
		rt = &Runtime{Release: m.Info.Release, Created: m.Info.Created, Inputs: m.Info.Inputs, Edges: edges}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading runtime graph: %w", err)
	}
	return rt, nil
}

// DeleteRuntime removes release name's runtime graph, or returns an
// error wrapping [ErrNoRuntime] or [ErrNotFound]. The release stays.
func (s *Store) DeleteRuntime(name string) error {
	if err := s.writable(); err != nil {
		return err
	}
	if err := checkSpace(s.dir, 0, s.headroom()); err != nil {
		return fmt.Errorf("deleting the runtime graph of %q: %w", name, err)
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	var id uint64
	err := s.db.Update(func(txn *badger.Txn) error {
		if _, err := getManifest(txn, name); err != nil {
			return err
		}
		m, err := getRuntimeManifest(txn, name)
		if err != nil {
			return err
		}
		id = m.Snapshot
		return txn.Delete(runtimeKey(name))
	})
	if err != nil {
		return fmt.Errorf("deleting runtime graph: %w", err)
	}
	if err := s.deleteSnapshot(id); err != nil {
		return fmt.Errorf("deleting runtime graph of %q: %w", name, err)
	}
	s.reclaim()
	return nil
}
