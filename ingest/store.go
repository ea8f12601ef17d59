package ingest

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dgraph-io/badger/v4"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/graph"
)

// Keys. Every key starts with a one-letter namespace and a slash:
//
//	meta/format                    store format version, decimal
//	r/NAME                         a release's manifest (JSON)
//	u/NAME                         a release's runtime graph manifest (JSON, runtime_store.go)
//	c/SNAP(8) SECTION(1) INDEX(4)  one chunk of a snapshot section
//
// SNAP is a random 64-bit snapshot ID and INDEX the chunk's position,
// both big-endian. Chunks whose SNAP no manifest names are staging data
// of an ingest that has not published yet, or garbage of one that crashed.
var (
	formatKey      = []byte("meta/format")
	manifestPrefix = []byte("r/")
	chunkPrefix    = []byte("c/")
)

// storeFormat is the version of the layout above; a store written by a
// newer rgraph (a higher version) is refused. Version 2 added runtime
// graphs (u/ keys), whose chunks a version-1 rgraph would collect as
// garbage; version 3 the origins of evidence and the mapped section
// (codec.go), which a version-2 rgraph would take for corruption. Older
// stores are upgraded in place when opened.
const storeFormat = 3

// DefaultChunkSize is the default size of the chunks a snapshot is split
// into: large enough that a million-node release is a handful of values,
// small enough to stay well inside Badger's batch limits.
const DefaultChunkSize = 4 << 20

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Store is an embedded store of releases. It is safe for concurrent use:
// reads run in parallel, writes (Put, Ingest's write, Delete) one at a
// time. Close it to release the directory lock. A store opened with
// [OpenReadOnly] refuses writes.
type Store struct {
	db        *badger.DB
	dir       string
	readOnly  bool
	now       func() time.Time
	chunkSize int
	log       *slog.Logger

	// writeMu serializes the writers (Put, Delete, garbage collection):
	// a snapshot being staged must not look like garbage, and Badger's
	// DropPrefix makes concurrent writes fail.
	writeMu sync.Mutex

	// hook, when set by tests, is called at the named stages of Put
	// ("staged": chunks written, manifest not yet; "published": manifest
	// committed, replaced chunks not yet deleted); an error aborts Put
	// there as a crash would.
	hook func(stage string) error
}

// Release describes one stored release.
type Release struct {
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
	// Services and Endpoints count the nodes of each type.
	Services  int `json:"services"`
	Endpoints int `json:"endpoints"`
	Edges     int `json:"edges"`
	// EdgesByKind counts edges per kind; kinds without edges are absent.
	EdgesByKind map[graph.Kind]int `json:"edgesByKind"`
	Records     int                `json:"records"`
	// Inputs names the files the release was ingested from.
	Inputs []string `json:"inputs,omitempty"`
	// Size is the size of the stored snapshot in bytes, before Badger's
	// own overhead.
	Size int64 `json:"size"`
}

// manifest is the value of a release's key: the release and where its
// snapshot's chunks are.
type manifest struct {
	Release  Release                `json:"release"`
	Snapshot uint64                 `json:"snapshot"`
	Sections map[string]sectionInfo `json:"sections"`
}

type sectionInfo struct {
	Chunks int    `json:"chunks"`
	Size   int64  `json:"size"`
	CRC    uint32 `json:"crc32c"`
}

type options struct {
	log       *slog.Logger
	now       func() time.Time
	chunkSize int
}

// Option configures [Open] and [OpenInMemory].
type Option func(*options)

// WithLogger sends the store's log, Badger's included, to l at debug
// level. The default is [slog.Default] for [Open] and a discarding logger
// for [OpenInMemory].
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithClock sets the clock that stamps new releases; the default is
// [time.Now].
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithChunkSize sets the size of the chunks snapshots are split into; the
// default is [DefaultChunkSize]. Values below 1 KiB are raised to 1 KiB.
func WithChunkSize(n int) Option { return func(o *options) { o.chunkSize = max(n, 1<<10) } }

// Badger's file sizes. A release is a few large chunks in the value log
// plus a handful of small keys (see the package comment), so Badger's
// defaults (64 MiB memtables, 1 GiB value-log files mapped as 2 GiB
// sparse files, values up to 1 MiB inline in the LSM tree) only make the
// space a write may suddenly need larger (see space.go):
//
//   - memtables hold keys and value pointers only, so 4 MiB is plenty;
//   - values from 4 KiB up go to the value log, which keeps the LSM tree
//     (and what its compactions rewrite) to keys and small manifests;
//   - value-log files of 16 MiB (mapped as 32 MiB) let garbage collection
//     reclaim a replaced release's space file by file.
const (
	memTableSize     = 4 << 20
	valueLogFileSize = 16 << 20
	valueThreshold   = 4 << 10
)

// Open opens the store in directory dir for reading and writing, creating
// it if needed. Another process holding the directory gives a
// [*LockedError] (wrapping [ErrLocked]); a store written in a newer format
// gives [ErrFormat]; a file system without room for Badger to open and
// close its files gives a [*SpaceError]. Snapshot chunks left by an ingest
// that crashed are deleted.
func Open(dir string, opts ...Option) (*Store, error) {
	o := options{log: slog.Default(), now: time.Now, chunkSize: DefaultChunkSize}
	for _, f := range opts {
		f(&o)
	}
	if err := checkSpace(dir, 0, headroom); err != nil {
		return nil, fmt.Errorf("opening the store for writing: %w", err)
	}
	return open(badgerOptions(dir, o.log), dir, o)
}

// OpenReadOnly opens the existing store in directory dir for reading
// only: it writes nothing, so a store on a read-only file system or a
// full disk can be read, and any number of readers may hold it at once.
// Open, by contrast, excludes readers. A missing store gives an error
// wrapping [ErrNoStore]; a writer holding the directory a [*LockedError].
//
// A store whose last writer was killed must be recovered (its write-ahead
// log replayed) before it can be read this way; OpenReadOnly does that by
// opening it for writing once, which needs write access and free space.
func OpenReadOnly(dir string, opts ...Option) (*Store, error) {
	o := options{log: slog.Default(), now: time.Now, chunkSize: DefaultChunkSize}
	for _, f := range opts {
		f(&o)
	}
	if err := isStore(dir); err != nil {
		return nil, err
	}
	bo := badgerOptions(dir, o.log).WithReadOnly(true)
	s, err := open(bo, dir, o)
	if err == nil || !errors.Is(err, errNeedsRecovery) {
		return s, err
	}
	o.log.Debug("recovering a store its last writer did not close", "dir", dir)
	if err := recoverStore(dir, o.log); err != nil {
		return nil, fmt.Errorf("opening store %q: it was not closed by its last writer (one was killed?) and must be recovered by opening it for writing once: %w", dir, err)
	}
	return open(bo, dir, o)
}

// isStore reports why dir holds no store, or nil.
func isStore(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w at %s", ErrNoStore, dir)
	case err != nil:
		return fmt.Errorf("opening store: %w", err)
	case !fi.IsDir():
		return fmt.Errorf("%w at %s: not a directory", ErrNoStore, dir)
	}
	if _, err := os.Stat(filepath.Join(dir, badger.ManifestFilename)); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w at %s (the directory holds no Badger manifest)", ErrNoStore, dir)
	} else if err != nil {
		return fmt.Errorf("opening store: %w", err)
	}
	return nil
}

// errNeedsRecovery is Badger refusing to open read-only a write-ahead log
// a killed writer left: it would have to truncate it.
var errNeedsRecovery = errors.New("write-ahead log needs recovery")

// recoverStore opens the store in dir for writing and closes it again,
// which replays and truncates what a killed writer left.
func recoverStore(dir string, l *slog.Logger) error {
	if err := checkSpace(dir, 0, headroom); err != nil {
		return err
	}
	db, err := openBadger(badgerOptions(dir, l), l)
	if err != nil {
		return badgerError(dir, err)
	}
	return db.Close()
}

// OpenInMemory opens an empty store that lives in memory, for tests.
func OpenInMemory(opts ...Option) (*Store, error) {
	o := options{log: slog.New(slog.DiscardHandler), now: time.Now, chunkSize: DefaultChunkSize}
	for _, f := range opts {
		f(&o)
	}
	return open(badgerOptions("", o.log).WithInMemory(true), "(in memory)", o)
}

// badgerOptions are the Badger settings of every store: Badger's log
// routed to slog, files sized for releases (see memTableSize), and a
// small block cache (snapshot chunks live in the value log, so the cache
// only holds keys and manifests). An in-memory store (dir "") keeps
// Badger's memtable and value sizes: it has no value log, so every value
// must fit under the value threshold.
func badgerOptions(dir string, l *slog.Logger) badger.Options {
	bo := badger.DefaultOptions(dir).
		WithLogger(badgerLogger{l}).
		WithMetricsEnabled(false).
		WithBlockCacheSize(16 << 20).
		WithNumCompactors(2)
	if dir == "" {
		return bo
	}
	return bo.WithMemTableSize(memTableSizeFor(dir)).
		WithValueLogFileSize(valueLogFileSize).
		WithValueThreshold(valueThreshold)
}

// memTableSizeFor is memTableSize, or more when dir holds a larger
// write-ahead log, which an older rgraph (with Badger's 64 MiB default)
// may have left when it was killed: replaying it needs a memtable as
// large as the one that wrote it.
func memTableSizeFor(dir string) int64 {
	size := int64(memTableSize)
	wals, _ := filepath.Glob(filepath.Join(dir, "*.mem"))
	for _, w := range wals {
		if fi, err := os.Stat(w); err == nil {
			size = max(size, fi.Size()/2) // Badger maps 2 × MemTableSize
		}
	}
	return size
}

func open(bo badger.Options, dir string, o options) (*Store, error) {
	db, err := openBadger(bo, o.log)
	if err != nil {
		return nil, badgerError(dir, err)
	}
	s := &Store{db: db, dir: dir, readOnly: bo.ReadOnly, now: o.now, chunkSize: o.chunkSize, log: o.log}
	if err := s.checkFormat(); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening store %q: %w", dir, err)
	}
	if s.readOnly {
		return s, nil
	}
	s.writeMu.Lock()
	err = s.collectGarbage()
	s.writeMu.Unlock()
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("opening store %q: %w", dir, err)
	}
	return s, nil
}

// badgerError turns an error of Badger's Open, whose causes are only text,
// into one of ours.
func badgerError(dir string, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "Cannot acquire directory lock"):
		return fmt.Errorf("opening store: %w", lockedError(dir))
	case strings.Contains(msg, "Log truncate required"):
		return fmt.Errorf("opening store %q: %w", dir, errNeedsRecovery)
	case isNoSpace(err):
		return fmt.Errorf("opening the store for writing: %w", outOfSpace(dir, 0, headroom))
	case strings.Contains(msg, "Cannot write pid file") && strings.Contains(msg, "read-only file system"):
		return fmt.Errorf("opening store %q for writing: %w", dir, syscall.EROFS)
	case strings.Contains(msg, "Cannot write pid file") && strings.Contains(msg, "permission denied"):
		return fmt.Errorf("opening store %q for writing: %w", dir, fs.ErrPermission)
	}
	return fmt.Errorf("opening store %q: %w", dir, err)
}

// openBadger opens a Badger database. A process killed between creating
// a memtable or value-log file and sizing it leaves an empty file that
// Badger's Open refuses, after sizing it itself (dgraph-io/badger#2207);
// opening a second time then works.
func openBadger(bo badger.Options, l *slog.Logger) (*badger.DB, error) {
	db, err := badger.Open(bo)
	if err != nil && strings.Contains(err.Error(), "Create a new file") {
		l.Debug("reopening after an empty memtable or value-log file", "dir", bo.Dir, "err", err)
		db, err = badger.Open(bo)
	}
	return db, err
}

// writable returns an error wrapping [ErrReadOnly] for a store opened
// read-only.
func (s *Store) writable() error {
	if s.readOnly {
		return fmt.Errorf("%w: %s", ErrReadOnly, s.dir)
	}
	return nil
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

// Close flushes the store and releases its directory lock.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("closing store %q: %w", s.dir, err)
	}
	return nil
}

func (s *Store) checkFormat() error {
	var have int
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(formatKey)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			n, err := strconv.Atoi(string(v))
			if err != nil {
				return fmt.Errorf("%w: format marker %q", ErrCorrupt, v)
			}
			have = n
			return nil
		})
	})
	switch {
	case err != nil:
		return err
	case have > storeFormat:
		return fmt.Errorf("%w: the store has format %d, this rgraph reads %d", ErrFormat, have, storeFormat)
	case have == storeFormat, s.readOnly:
		return nil // an older store is upgraded when it is next opened for writing
	}
	return s.db.Update(func(txn *badger.Txn) error {
		return txn.Set(formatKey, []byte(strconv.Itoa(storeFormat)))
	})
}

// ValidReleaseName reports why name cannot name a release, or nil: a name
// is 1 to 200 bytes of UTF-8 without white space or control characters.
func ValidReleaseName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", ErrInvalidName)
	case len(name) > 200:
		return fmt.Errorf("%w: longer than 200 bytes", ErrInvalidName)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: %q is not UTF-8", ErrInvalidName, name)
	}
	for _, r := range name {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return fmt.Errorf("%w: %q contains white space or control characters", ErrInvalidName, name)
		}
	}
	return nil
}

func manifestKey(name string) []byte { return append(slices.Clip(manifestPrefix), name...) }

func snapshotPrefix(snap uint64) []byte {
	return binary.BigEndian.AppendUint64(slices.Clip(chunkPrefix), snap)
}

func chunkKey(snap uint64, sec byte, i int) []byte {
	k := append(snapshotPrefix(snap), sec)
	return binary.BigEndian.AppendUint32(k, uint32(i))
}

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
	if err := s.collectGarbage(); err != nil {
		return Release{}, err
	}
	id, err := s.newSnapshotID()
	if err != nil {
		return Release{}, err
	}

	m := manifest{Release: summarize(name, s.now(), snap), Snapshot: id, Sections: map[string]sectionInfo{}}
	published := false
	defer func() {
		if !published {
			// Best effort: whatever is left is garbage-collected on the
			// next Open or Put.
			if err := s.deleteSnapshot(id); err != nil {
				s.log.Debug("deleting staged snapshot", "snapshot", id, "err", err)
			}
		}
	}()
	if err := s.writeSnapshot(ctx, id, snap, &m, opts.Progress); err != nil {
		return Release{}, fmt.Errorf("writing release %q: %w", name, err)
	}
	if err := s.callHook("staged"); err != nil {
		return Release{}, err
	}

	val, err := json.Marshal(&m)
	if err != nil {
		return Release{}, fmt.Errorf("encoding manifest: %w", err)
	}
	var old uint64
	err = s.db.Update(func(txn *badger.Txn) error {
		prev, err := getManifest(txn, name)
		switch {
		case err == nil && !opts.Replace:
			return fmt.Errorf("%w: %q", ErrReleaseExists, name)
		case err == nil:
			old = prev.Snapshot
		case !errors.Is(err, ErrNotFound):
			return err
		}
		return txn.Set(manifestKey(name), val)
	})
	if err != nil {
		if errors.Is(err, ErrReleaseExists) {
			return Release{}, err
		}
		return Release{}, fmt.Errorf("publishing release %q: %w", name, err)
	}
	published = true
	if err := s.db.Sync(); err != nil {
		return Release{}, fmt.Errorf("publishing release %q: %w", name, err)
	}
	if err := s.callHook("published"); err != nil {
		return Release{}, err
	}
	if old != 0 {
		if err := s.deleteSnapshot(old); err != nil {
			s.log.Debug("deleting replaced snapshot", "snapshot", old, "err", err)
		}
		s.reclaim()
	}
	return m.Release, nil
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
	ms, err := manifests(txn)
	if err != nil {
		return nil, err
	}
	live := map[uint64]bool{}
	for _, m := range ms {
		live[m.Snapshot] = true
	}
	rms, err := runtimeManifests(txn)
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

// badgerLogger hands Badger's log lines to slog at debug level, so they
// never reach a terminal unless debug logging is on.
type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, a ...any)   { b.log("error", f, a) }
func (b badgerLogger) Warningf(f string, a ...any) { b.log("warning", f, a) }
func (b badgerLogger) Infof(f string, a ...any)    { b.log("info", f, a) }
func (b badgerLogger) Debugf(f string, a ...any)   { b.log("debug", f, a) }

func (b badgerLogger) log(level, f string, a []any) {
	if !b.l.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	b.l.Debug(strings.TrimSpace(fmt.Sprintf(f, a...)), "component", "badger", "level", level)
}
