package ingest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"log/slog"
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
