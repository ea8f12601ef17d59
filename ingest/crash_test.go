package ingest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/google/go-cmp/cmp"
)

// The crash tests run an ingest in a child process (this test binary,
// running TestCrashChild) and kill it with SIGKILL at a chosen point of
// the publish protocol, then reopen the store in the parent.
const (
	crashDirEnv   = "RGRAPH_TEST_CRASH_DIR"
	crashStageEnv = "RGRAPH_TEST_CRASH_STAGE"
)

// TestCrashChild is the child's side; it does nothing in a normal run.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("only runs as the child of the crash tests")
	}
	stage := os.Getenv(crashStageEnv)
	s, err := Open(dir, WithLogger(slog.New(slog.DiscardHandler)), WithChunkSize(1<<10))
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	s.hook = func(got string) error {
		if got == stage {
			fmt.Println("reached", got)
			select {} // wait to be killed
		}
		return nil
	}
	fmt.Println("ingesting")
	in := []Input{data("big.tsv", bigEdgeList(20000))}
	for i := 0; ; i++ { // with no stage, ingest until killed
		name, replace := "r1", true
		if stage == "staged" {
			name, replace = "r2", false
		}
		if _, err := s.Ingest(context.Background(), name, in, Options{Replace: replace}); err != nil {
			fmt.Println("ingest:", err)
			os.Exit(2)
		}
		if stage != "" {
			fmt.Println("finished without reaching", stage)
			os.Exit(2)
		}
	}
}

func bigEdgeList(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "svc-%06d\tsvc-%06d\thard\n", i, (i*7+1)%n)
	}
	return b.String()
}

// startChild runs the child and returns once it printed want.
func startChild(t *testing.T, dir, stage, want string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashStageEnv+"="+stage)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("child exited before printing %q", want)
			}
			if l == want {
				return cmd
			}
			if !strings.HasPrefix(l, "ingesting") && !strings.HasPrefix(l, "===") && !strings.HasPrefix(l, "---") {
				t.Fatalf("child: %s", l)
			}
		case <-timeout:
			t.Fatalf("child did not print %q within a minute", want)
		}
	}
}

func kill(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
}

// orphanChunks opens the directory with Badger alone (no garbage
// collection) and counts chunks no manifest names.
func orphanChunks(t *testing.T, dir string) int {
	t.Helper()
	quiet := slog.New(slog.DiscardHandler)
	db, err := openBadger(badgerOptions(dir, quiet), quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n := 0
	err = db.View(func(txn *badger.Txn) error {
		orphans, err := orphanedChunks(txn)
		for _, c := range orphans {
			n += c
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func quietOpen(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir, WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// seed creates a store in dir holding release r1 (the test fleet) and
// returns its keys.
func seed(t *testing.T, dir string) []string {
	t.Helper()
	s := quietOpen(t, dir)
	defer s.Close()
	if _, err := s.Put(context.Background(), "r1", fleetSnapshot(t), PutOptions{}); err != nil {
		t.Fatal(err)
	}
	return storeKeys(t, s)
}

// TestCrashBeforePublish kills an ingest after its chunks are written and
// before its manifest is: the store must be exactly as before, with the
// orphaned chunks collected on the next open, and usable.
func TestCrashBeforePublish(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dir := t.TempDir()
	before := seed(t, dir)
	kill(t, startChild(t, dir, "staged", "reached staged"))

	if n := orphanChunks(t, dir); n == 0 {
		t.Fatal("the killed ingest left no chunks; the test does not test anything")
	}
	s := quietOpen(t, dir)
	defer s.Close()
	if d := cmp.Diff(before, storeKeys(t, s)); d != "" {
		t.Errorf("store after a crash before publishing differs from before (-before +after):\n%s", d)
	}
	if _, err := s.Get("r2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("half-written release r2: Get = %v, want ErrNotFound", err)
	}
	if _, err := s.Load("r1"); err != nil {
		t.Errorf("Load(r1) after the crash: %v", err)
	}
	if _, err := s.Ingest(context.Background(), "r2", []Input{data("e.tsv", "a\tb\n")}, Options{}); err != nil {
		t.Errorf("Ingest(r2) after the crash: %v", err)
	}
}

// TestCrashAfterPublish kills a replacing ingest after the new manifest
// is committed and before the old chunks are deleted: the new release
// must be there whole and the old chunks collected on the next open.
func TestCrashAfterPublish(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dir := t.TempDir()
	seed(t, dir)
	kill(t, startChild(t, dir, "published", "reached published"))

	if n := orphanChunks(t, dir); n == 0 {
		t.Fatal("the killed ingest left no chunks of the replaced release; the test does not test anything")
	}
	s := quietOpen(t, dir)
	defer s.Close()
	g, err := s.Load("r1")
	if err != nil {
		t.Fatal(err)
	}
	if g.EdgeCount() != 20000 {
		t.Errorf("replaced r1 has %d edges, want the new release's 20000", g.EdgeCount())
	}
	rel, _ := s.Get("r1")
	want := 0
	var m manifest
	s.db.View(func(txn *badger.Txn) (err error) { m, err = getManifest(txn, "r1"); return err })
	for _, sec := range m.Sections {
		want += sec.Chunks
	}
	if n := chunkCount(t, s); n != want {
		t.Errorf("%d chunks after reopening, want the %d of %q's manifest", n, want, rel.Name)
	}
}

// TestCrashAnywhere kills a child that replaces a release in a loop at
// several moments: whenever it dies, the reopened store must hold a
// whole r1 (old or new) and no orphaned chunks.
func TestCrashAnywhere(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	for _, delay := range []time.Duration{0, 7 * time.Millisecond, 23 * time.Millisecond, 61 * time.Millisecond, 150 * time.Millisecond, 290 * time.Millisecond, 530 * time.Millisecond} {
		t.Run(delay.String(), func(t *testing.T) {
			dir := t.TempDir()
			seed(t, dir)
			cmd := startChild(t, dir, "", "ingesting")
			time.Sleep(delay)
			kill(t, cmd)
			orphans := orphanChunks(t, dir)
			s := quietOpen(t, dir)
			defer s.Close()
			g, err := s.Load("r1")
			if err != nil {
				t.Fatalf("Load(r1) after a kill at %v: %v", delay, err)
			}
			if n := g.EdgeCount(); n != 13 && n != 20000 {
				t.Errorf("r1 has %d edges, want the old 13 or the new 20000", n)
			}
			t.Logf("killed after %v: r1 has %d edges, %d orphaned chunks collected", delay, g.EdgeCount(), orphans)
			var live int
			s.db.View(func(txn *badger.Txn) error {
				m, err := getManifest(txn, "r1")
				for _, sec := range m.Sections {
					live += sec.Chunks
				}
				return err
			})
			if n := chunkCount(t, s); n != live {
				t.Errorf("%d chunks after reopening, want %d (only r1's)", n, live)
			}
		})
	}
}

// TestAbortLeavesNoTrace aborts Put in-process at each stage.
func TestAbortLeavesNoTrace(t *testing.T) {
	runStoreTest(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if _, err := s.Put(ctx, "r1", fleetSnapshot(t), PutOptions{}); err != nil {
			t.Fatal(err)
		}
		before := storeKeys(t, s)
		errCrash := errors.New("injected")
		s.hook = func(stage string) error {
			if stage == "staged" {
				return errCrash
			}
			return nil
		}
		_, err := s.Ingest(ctx, "r2", []Input{data("e.tsv", bigEdgeList(5000))}, Options{})
		if !errors.Is(err, errCrash) {
			t.Fatalf("Ingest = %v, want the injected error", err)
		}
		if d := cmp.Diff(before, storeKeys(t, s)); d != "" {
			t.Errorf("aborted ingest changed the store (-before +after):\n%s", d)
		}

		ctx, cancel := context.WithCancel(ctx)
		s.hook = nil
		_, err = s.Ingest(ctx, "r2", []Input{data("e.tsv", bigEdgeList(5000))}, Options{Progress: func(p Progress) {
			if p.Phase == PhaseWrite {
				cancel()
			}
		}})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled Ingest = %v, want context.Canceled", err)
		}
		if d := cmp.Diff(before, storeKeys(t, s)); d != "" {
			t.Errorf("cancelled ingest changed the store (-before +after):\n%s", d)
		}
	}, WithChunkSize(1<<10))
}
