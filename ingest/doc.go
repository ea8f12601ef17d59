// Package ingest reads run and minimization records, a service catalog and
// plain edge lists, assembles them into one recovery graph, and keeps the
// result in an embedded Badger store as immutable releases.
//
// [Parse] turns inputs into a [Snapshot] (graph, records, catalog) and
// validates everything before anything is written; [Store.Put] writes a
// snapshot as a named release atomically, and [Store.Ingest] does both.
// [Store.View] reads a release back (its graph, records, catalog and
// runtime graph, as asked) in one transaction. How records map to
// edges, and the edge-list format, are documented in docs/records.md.
//
// A release is stored as a few large chunks of a compact binary encoding
// (a string table and the graph's compressed sparse rows), published by one
// small transaction that writes the release's manifest: a crash before that
// transaction leaves no trace of the release (orphaned chunks are removed
// the next time the store is opened), and a crash after it leaves the whole
// release. Replacing or deleting a release drops its chunks with Badger's
// DropPrefix, which also lets Badger's value-log GC reclaim their space.
// Badger's own log goes to [log/slog] at debug level.
//
// [Open] opens a store for writing and [OpenReadOnly] for reading only;
// either holds Badger's directory lock until [Store.Close]. A writer
// excludes every other process, readers exclude writers but not each
// other; the loser gets a [*LockedError] naming the holders. A reader
// writes nothing, so read-only and full file systems can be read. Badger
// writes through memory maps, where a full disk is SIGBUS rather than an
// error, so every write checks the free space first and is refused with a
// [*SpaceError] when it would not fit. docs/store.md has the details.
package ingest
