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
	var m runtimeManifest
	err := s.publish(fmt.Sprintf("the runtime graph of %q", name), func(id uint64) ([]byte, []byte, error) {
		m = runtimeManifest{Snapshot: id, Info: RuntimeInfo{
			Release: name, Created: s.now().UTC(), Inputs: rt.Inputs, Edges: len(rt.Edges), Services: rt.Services(),
		}}
		var err error
		if m.Section, err = s.writeRuntime(ctx, id, rt); err != nil {
			return nil, nil, err
		}
		m.Info.Size = m.Section.Size
		val, err := json.Marshal(&m)
		return runtimeKey(name), val, err
	}, func(txn *badger.Txn) (uint64, error) {
		if _, err := getManifest(txn, name); err != nil {
			return 0, err // deleted meanwhile
		}
		prev, err := getRuntimeManifest(txn, name)
		switch {
		case err == nil && !opts.Replace:
			return 0, fmt.Errorf("%w: release %q", ErrRuntimeExists, name)
		case errors.Is(err, ErrNoRuntime):
			return 0, nil
		}
		return prev.Snapshot, err
	})
	return m.Info, err
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

// getRuntimeManifest reads the manifest of release name's runtime graph,
// or returns an error wrapping [ErrNoRuntime].
func getRuntimeManifest(txn *badger.Txn, name string) (runtimeManifest, error) {
	m, found, err := getJSON[runtimeManifest](txn, runtimeKey(name))
	if err == nil && !found {
		err = fmt.Errorf("%w for release %q", ErrNoRuntime, name)
	}
	return m, err
}

// readRuntime reads release name's runtime graph, or returns an error
// wrapping [ErrNoRuntime] or [ErrCorrupt].
func readRuntime(txn *badger.Txn, name string) (*Runtime, error) {
	m, err := getRuntimeManifest(txn, name)
	if err != nil {
		return nil, err
	}
	b, err := readSection(txn, m.Snapshot, secRuntime, m.Section)
	if err != nil {
		return nil, err
	}
	edges, err := decodeRuntime(b)
	if err != nil {
		return nil, err
	}
	return &Runtime{Release: m.Info.Release, Created: m.Info.Created, Inputs: m.Info.Inputs, Edges: edges}, nil
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
// wrapping [ErrNoRuntime], [ErrNotFound] or [ErrCorrupt]; [Store.View]
// with [PartRuntime] reads it with the rest of a release.
func (s *Store) Runtime(name string) (*Runtime, error) {
	var rt *Runtime
	err := s.db.View(func(txn *badger.Txn) error {
		if _, err := getManifest(txn, name); err != nil {
			return err
		}
		var err error
		rt, err = readRuntime(txn, name)
		return err
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
