package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/rgraph/rgraph/graph"
	"github.com/rgraph/rgraph/ingest"
)

// openStoreFunc opens the store named by --store, $RGRAPH_STORE or the
// default location. Verbs keep one in their options and call it from
// their run function only, so that --help and flag errors never open
// Badger; tests replace it.
type openStoreFunc func(context.Context) (*ingest.Store, error)

// storeWriter is the opener of verbs that write (ingest, run, runtime
// ingest and delete): it creates the store if there is none and opens it
// for writing, which excludes every other process.
func storeWriter(env *Env, g *globalOptions) openStoreFunc {
	return func(ctx context.Context) (*ingest.Store, error) {
		dir := env.StoreDir(g.Store)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("creating store directory: %w", err)
		}
		return waitForStore(ctx, env, g, func() (*ingest.Store, error) {
			return ingest.Open(dir, ingest.WithLogger(debugLogger(env)), ingest.WithClock(env.Now))
		})
	}
}

// storeReader is the opener of verbs that only read: it opens an existing
// store read-only, never creates one, and shares it with other readers.
func storeReader(env *Env, g *globalOptions) openStoreFunc {
	return func(ctx context.Context) (*ingest.Store, error) {
		dir := env.StoreDir(g.Store)
		s, err := waitForStore(ctx, env, g, func() (*ingest.Store, error) {
			return ingest.OpenReadOnly(dir, ingest.WithLogger(debugLogger(env)))
		})
		if errors.Is(err, ingest.ErrNoStore) {
			return nil, fmt.Errorf("%w; 'rgraph ingest --release NAME FILE...' creates one (--store or $RGRAPH_STORE say where)", err)
		}
		return s, err
	}
}

// waitForStore calls open until the store is not held by another process:
// at once without --wait, else until ctx is done, telling the user once
// whom it waits for.
func waitForStore(ctx context.Context, env *Env, g *globalOptions, open func() (*ingest.Store, error)) (*ingest.Store, error) {
	told := false
	for {
		s, err := open()
		var locked *ingest.LockedError
		switch {
		case !errors.As(err, &locked):
			return s, err
		case !g.Wait:
			return nil, fmt.Errorf("%w; try again when it is done, or pass --wait to wait for it", err)
		case !told && !g.Quiet:
			fmt.Fprintf(env.ErrOut, "rgraph: waiting: %v\n", locked)
			told = true
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// debugLogger is where the store's (and Badger's) debug log goes: to
// stderr when RGRAPH_DEBUG is set, nowhere otherwise.
func debugLogger(env *Env) *slog.Logger {
	if env.Getenv("RGRAPH_DEBUG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(env.ErrOut, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// withStore opens the store, runs f and closes the store again; it
// returns f's error, or else Close's.
func withStore(ctx context.Context, open openStoreFunc, f func(*ingest.Store) error) (err error) {
	s, err := open(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := s.Close(); err == nil {
			err = cerr
		}
	}()
	return f(s)
}

// viewRelease reads release name, or the newest release when name is
// empty, with the parts of it a verb needs, in one read transaction; the
// error says how to add a release when the store has none.
func viewRelease(ctx context.Context, open openStoreFunc, name string, parts ingest.Part) (*ingest.View, error) {
	var v *ingest.View
	err := withStore(ctx, open, func(s *ingest.Store) (err error) {
		v, err = s.View(name, parts)
		if errors.Is(err, ingest.ErrNoReleases) {
			return fmt.Errorf("%w (store %s); ingest one with 'rgraph ingest --release NAME FILE...'", err, s.Dir())
		}
		return suggestRelease(s, name, err)
	})
	return v, err
}

// suggestRelease adds to err, when it is about release name not being in
// s, the releases name was likely meant to be or the known ones.
func suggestRelease(s *ingest.Store, name string, err error) error {
	if name == "" || !errors.Is(err, ingest.ErrNotFound) || errors.Is(err, ingest.ErrNoReleases) {
		return err
	}
	rs, lerr := s.Releases()
	if lerr != nil {
		return err
	}
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = r.Name
	}
	if len(names) == 0 {
		return fmt.Errorf("%w; the store %s has no releases", err, s.Dir())
	}
	return fmt.Errorf("%w%s", err, graph.Suggest(name, "release", names))
}

// noRuntime is the error for release rel without a runtime graph, with a
// hint to import one.
func noRuntime(rel string) error {
	return fmt.Errorf("%w for release %q; import one with 'rgraph runtime ingest --release %s FILE'", ingest.ErrNoRuntime, rel, rel)
}
