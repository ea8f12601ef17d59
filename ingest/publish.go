package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/rgraph/rgraph/graph"
)

// PutOptions configure [Store.Put].
type PutOptions struct {
	// Replace allows overwriting an existing release of the same name.
	Replace bool
	// Progress, when set, is called as chunks are written.
	Progress func(Progress)
}

// Put stores snap as release name, atomically: the snapshot's chunks are
// written first, under a fresh snapshot ID no manifest names, and then one
// small transaction publishes the release's manifest. Until that commit
// the release does not exist; after it, it exists whole. Replacing a
// release swaps its manifest in that transaction and then deletes the old
// chunks. An existing name without Replace gives an error wrapping
// [ErrReleaseExists]; a bad name one wrapping [ErrInvalidName].
func (s *Store) Put(ctx context.Context, name string, snap *Snapshot, opts PutOptions) (Release, error) {
	if err := s.writable(); err != nil {
		return Release{}, err
	}
	if err := ValidReleaseName(name); err != nil {
		return Release{}, err
	}
	if !opts.Replace {
		if _, err := s.Get(name); err == nil {
			return Release{}, fmt.Errorf("%w: %q", ErrReleaseExists, name)
		} else if !errors.Is(err, ErrNotFound) {
			return Release{}, err
		}
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	var m manifest
	err := s.publish(fmt.Sprintf("release %q", name), func(id uint64) ([]byte, []byte, error) {
		m = manifest{Release: summarize(name, s.now(), snap), Snapshot: id, Sections: map[string]sectionInfo{}}
		if err := s.writeSnapshot(ctx, id, snap, &m, opts.Progress); err != nil {
			return nil, nil, err
		}
		val, err := json.Marshal(&m)
		return manifestKey(name), val, err
	}, func(txn *badger.Txn) (uint64, error) {
		prev, err := getManifest(txn, name)
		switch {
		case err == nil && !opts.Replace:
			return 0, fmt.Errorf("%w: %q", ErrReleaseExists, name)
		case errors.Is(err, ErrNotFound):
			return 0, nil
		}
		return prev.Snapshot, err
	})
	return m.Release, err
}

// publish is how releases and runtime graphs are stored. stage writes a
// snapshot's chunks under a fresh snapshot ID, which no manifest names
// (so a crash leaves garbage that the next writer deletes, not a half
// release), and returns the key and value of the manifest that will name
// it. Then one transaction calls check, which returns the snapshot the
// manifest replaces (0 for none) or why it must not be written, and writes
// the manifest: before that commit the new data does not exist, after it
// it exists whole. The replaced snapshot is deleted last. What names the
// data in errors; the caller holds writeMu.
func (s *Store) publish(what string, stage func(id uint64) (key, val []byte, err error), check func(*badger.Txn) (old uint64, err error)) error {
	if err := s.collectGarbage(); err != nil {
		return err
	}
	id, err := s.newSnapshotID()
	if err != nil {
		return err
	}
	published := false
	defer func() {
		if !published {
			// Best effort: whatever is left is garbage-collected on the
			// next Open or write.
			if err := s.deleteSnapshot(id); err != nil {
				s.log.Debug("deleting staged snapshot", "snapshot", id, "err", err)
			}
		}
	}()
	key, val, err := stage(id)
	if err != nil {
		return fmt.Errorf("writing %s: %w", what, err)
	}
	if err := s.callHook("staged"); err != nil {
		return err
	}
	var old uint64
	var refused error
	err = s.db.Update(func(txn *badger.Txn) error {
		if old, refused = check(txn); refused != nil {
			return refused
		}
		return txn.Set(key, val)
	})
	switch {
	case refused != nil:
		return refused
	case err != nil:
		return fmt.Errorf("publishing %s: %w", what, err)
	}
	published = true
	if err := s.db.Sync(); err != nil {
		return fmt.Errorf("publishing %s: %w", what, err)
	}
	if err := s.callHook("published"); err != nil {
		return err
	}
	if old != 0 {
		if err := s.deleteSnapshot(old); err != nil {
			s.log.Debug("deleting replaced snapshot", "snapshot", old, "err", err)
		}
		s.reclaim()
	}
	return nil
}

func (s *Store) callHook(stage string) error {
	if s.hook == nil {
		return nil
	}
	return s.hook(stage)
}

// summarize counts what a release holds.
func summarize(name string, created time.Time, snap *Snapshot) Release {
	g := snap.Graph
	r := Release{Name: name, Created: created.UTC(), Edges: g.EdgeCount(), EdgesByKind: map[graph.Kind]int{},
		Records: snap.recordCount(), Inputs: snap.Inputs}
	for v := range int32(g.Len()) {
		if g.Info(v).Type == graph.Endpoint {
			r.Endpoints++
		} else {
			r.Services++
		}
	}
	for _, k := range g.CSR().Kinds {
		r.EdgesByKind[k]++
	}
	return r
}

// newSnapshotID picks a random snapshot ID no chunk uses.
func (s *Store) newSnapshotID() (uint64, error) {
	for {
		id := rand.Uint64()
		if id == 0 {
			continue
		}
		used := false
		err := s.db.View(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: snapshotPrefix(id)})
			defer it.Close()
			it.Rewind()
			used = it.Valid()
			return nil
		})
		if err != nil || !used {
			return id, err
		}
	}
}

// writeSnapshot writes every section of snap as chunks under id, filling
// in m.Sections and m.Release.Size, and makes them durable. The sections
// are encoded in memory first (Badger's write batch would hold them until
// it commits anyway), so that their size is known and checked against the
// free space before Badger writes any of it.
func (s *Store) writeSnapshot(ctx context.Context, id uint64, snap *Snapshot, m *manifest, progress func(Progress)) error {
	st := &staging{ctx: ctx, snap: id, size: s.chunkSize}
	var encoded int64
	for _, sec := range sections {
		st.sec = sec
		st.onChunk = func(n int) {
			encoded += int64(n)
			if progress != nil {
				progress(Progress{Phase: PhaseWrite, Bytes: encoded})
			}
		}
		if err := encodeSection(st, sec, snap); err != nil {
			return err
		}
		info, err := st.endSection()
		if err != nil {
			return err
		}
		m.Sections[string(sec)] = info
		m.Release.Size += info.Size
	}
	return s.writeChunks(ctx, st)
}

// chunkOverhead is what Badger stores per chunk beside its bytes: the
// value-log entry header and key, and the key and value pointer in the
// write-ahead log and a table.
const chunkOverhead = 128

// writeChunks checks that the staged chunks fit, writes them in one write
// batch and makes them durable.
func (s *Store) writeChunks(ctx context.Context, st *staging) error {
	data := st.total + int64(len(st.chunks))*chunkOverhead
	if err := checkSpace(s.dir, data, s.headroom()); err != nil {
		return err
	}
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for _, c := range st.chunks {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := wb.Set(c.key, c.val); err != nil {
			return s.writeError(data, err)
		}
	}
	if err := wb.Flush(); err != nil {
		return s.writeError(data, err)
	}
	// The chunks must be on disk before a manifest can point at them.
	if err := s.db.Sync(); err != nil {
		return s.writeError(data, err)
	}
	return nil
}

// writeError is err from writing data bytes, as a [*SpaceError] when the
// file system ran out of space.
func (s *Store) writeError(data int64, err error) error {
	if isNoSpace(err) {
		return outOfSpace(s.dir, data, s.headroom())
	}
	return err
}

// headroom is the space a write needs beside its data (see the headroom
// constant), the LSM tree included.
func (s *Store) headroom() int64 {
	lsm, _ := s.db.Size()
	return headroom + lsm
}

// staging splits sections into chunks of size bytes, in memory: an
// io.Writer for one section at a time (sec), ended by endSection.
type staging struct {
	ctx     context.Context
	snap    uint64
	sec     byte
	size    int
	onChunk func(int)

	buf    []byte
	chunks []chunk
	total  int64 // bytes of all chunks

	// the current section's chunks, bytes and checksum
	secChunks int
	secSize   int64
	secCRC    uint32
}

// chunk is one staged key and value.
type chunk struct{ key, val []byte }

func (w *staging) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if w.buf == nil {
			w.buf = make([]byte, 0, w.size)
		}
		k := min(len(p), w.size-len(w.buf))
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		if len(w.buf) == w.size {
			if err := w.flush(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

// flush stages the buffered bytes as the section's next chunk; every
// chunk is a fresh buffer.
func (w *staging) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	if err := w.ctx.Err(); err != nil {
		return err
	}
	w.secCRC = crc32.Update(w.secCRC, crcTable, w.buf)
	w.chunks = append(w.chunks, chunk{chunkKey(w.snap, w.sec, w.secChunks), w.buf})
	w.secChunks++
	w.secSize += int64(len(w.buf))
	w.total += int64(len(w.buf))
	if w.onChunk != nil {
		w.onChunk(len(w.buf))
	}
	w.buf = nil
	return nil
}

// endSection stages the section's last chunk and describes the section.
func (w *staging) endSection() (sectionInfo, error) {
	if err := w.flush(); err != nil {
		return sectionInfo{}, err
	}
	info := sectionInfo{Chunks: w.secChunks, Size: w.secSize, CRC: w.secCRC}
	w.secChunks, w.secSize, w.secCRC = 0, 0, 0
	return info, nil
}

// Delete removes release name and its runtime graph, or returns an error
// wrapping [ErrNotFound]. The manifests go first, in one transaction; the
// chunks follow.
func (s *Store) Delete(name string) error {
	if err := s.writable(); err != nil {
		return err
	}
	if err := checkSpace(s.dir, 0, s.headroom()); err != nil {
		return fmt.Errorf("deleting release %q: %w", name, err)
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	var ids []uint64
	err := s.db.Update(func(txn *badger.Txn) error {
		m, err := getManifest(txn, name)
		if err != nil {
			return err
		}
		ids = append(ids, m.Snapshot)
		rm, err := getRuntimeManifest(txn, name)
		switch {
		case err == nil:
			ids = append(ids, rm.Snapshot)
			if err := txn.Delete(runtimeKey(name)); err != nil {
				return err
			}
		case !errors.Is(err, ErrNoRuntime):
			return err
		}
		return txn.Delete(manifestKey(name))
	})
	if err != nil {
		return fmt.Errorf("deleting release: %w", err)
	}
	for _, id := range ids {
		if err := s.deleteSnapshot(id); err != nil {
			return fmt.Errorf("deleting release %q: %w", name, err)
		}
	}
	s.reclaim()
	return nil
}
