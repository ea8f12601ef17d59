package ingest

import (
	"encoding/binary"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// deleteSnapshot deletes every chunk of snapshot id. DropPrefix (rather
// than deleting key by key) also flushes and compacts the dropped keys
// away, which tells Badger's value-log GC how much of each value-log file
// is garbage; without that the space of replaced releases is never
// reclaimed.
func (s *Store) deleteSnapshot(id uint64) error {
	return s.db.DropPrefix(snapshotPrefix(id))
}

// keys lists the keys under prefix.
func (s *Store) keys(prefix []byte) ([][]byte, error) {
	var out [][]byte
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			out = append(out, it.Item().KeyCopy(nil))
		}
		return nil
	})
	return out, err
}

// collectGarbage deletes chunks of snapshots that no manifest names: what
// an ingest that crashed or was killed left behind. The caller holds
// writeMu, so no Put of this process is staging one.
func (s *Store) collectGarbage() error {
	var orphans map[uint64]int
	err := s.db.View(func(txn *badger.Txn) (err error) {
		orphans, err = orphanedChunks(txn)
		return err
	})
	if err != nil || len(orphans) == 0 {
		return err
	}
	s.log.Debug("deleting chunks of unpublished snapshots", "snapshots", len(orphans))
	var prefixes [][]byte
	for id := range orphans {
		prefixes = append(prefixes, snapshotPrefix(id))
	}
	if err := s.db.DropPrefix(prefixes...); err != nil {
		return fmt.Errorf("deleting unpublished snapshots: %w", err)
	}
	s.reclaim()
	return nil
}

// orphanedChunks counts the chunks of each snapshot no manifest names.
func orphanedChunks(txn *badger.Txn) (map[uint64]int, error) {
	ms, err := scanJSON[manifest](txn, manifestPrefix)
	if err != nil {
		return nil, err
	}
	live := map[uint64]bool{}
	for _, m := range ms {
		live[m.Snapshot] = true
	}
	rms, err := scanJSON[runtimeManifest](txn, runtimePrefix)
	if err != nil {
		return nil, err
	}
	for _, m := range rms {
		live[m.Snapshot] = true
	}
	orphans := map[uint64]int{}
	it := txn.NewIterator(badger.IteratorOptions{Prefix: chunkPrefix})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		k := it.Item().Key()
		if len(k) < len(chunkPrefix)+8 {
			continue
		}
		if id := binary.BigEndian.Uint64(k[len(chunkPrefix):]); !live[id] {
			orphans[id]++
		}
	}
	return orphans, nil
}

// reclaim asks Badger to rewrite value-log files that deleted chunks left
// mostly empty; best effort, and skipped when the file system has no room
// for the rewrite (the space is then reclaimed by a later write).
func (s *Store) reclaim() {
	if err := checkSpace(s.dir, 0, s.headroom()+reclaimSpace); err != nil {
		s.log.Debug("skipping value-log garbage collection", "err", err)
		return
	}
	for range 4 {
		if err := s.db.RunValueLogGC(0.5); err != nil {
			return
		}
	}
}
