package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/rgraph/rgraph/render/graphviz"
	"github.com/rgraph/rgraph/render/internal/gvwire"
	"github.com/rgraph/rgraph/render/internal/wasmcache"
)

// workerEnv makes this test binary act as a Graphviz worker (see
// TestMain) instead of running the tests.
const workerEnv = "RGRAPH_RENDER_TEST_WORKER"

// TestMain lays out in this process (UseLayout) and lets the tests start
// this binary as the worker of UseWorker: "serve" serves, "crash" dies of
// a Go fatal error once a request arrives, "hang" reads the request and
// never answers.
func TestMain(m *testing.M) {
	switch os.Getenv(workerEnv) {
	case "":
		UseLayout(graphviz.Layout)
		os.Exit(m.Run())
	case "serve":
		if err := graphviz.Serve(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	case "crash":
		gvwire.ReadFrame(os.Stdin)
		debug.SetMaxStack(1 << 10)
		recurse(0) //nolint:staticcheck // fatal error: stack overflow, which no recover catches
	case "hang":
		gvwire.ReadFrame(os.Stdin)
		select {}
	}
	os.Exit(3)
}

func recurse(n int) int { return recurse(n+1) + 1 } //nolint:staticcheck // deliberately endless

// testWorker makes SVG and PNG use this test binary as their worker in
// the given modes, one per start, until the test ends; it returns how
// many workers were started.
func testWorker(t *testing.T, modes ...string) *int {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	starts := new(int)
	stop := UseWorker(func() (*exec.Cmd, error) {
		mode := modes[min(*starts, len(modes)-1)]
		*starts++
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), workerEnv+"="+mode)
		return cmd, nil
	})
	t.Cleanup(stop)
	return starts
}

func fleetDOT(t *testing.T) []byte {
	t.Helper()
	order := fleetOrder()
	var dot bytes.Buffer
	if err := DOT(&dot, fleetGraph(), DOTOptions{Order: &order, Components: fleetComponents()}); err != nil {
		t.Fatal(err)
	}
	return dot.Bytes()
}

func TestWorkerDrawsAsInProcess(t *testing.T) {
	dot := fleetDOT(t)
	var want bytes.Buffer
	if err := SVG(context.Background(), &want, dot); err != nil {
		t.Fatal(err)
	}
	starts := testWorker(t, "serve")
	var svg, img bytes.Buffer
	if err := SVG(context.Background(), &svg, dot); err != nil {
		t.Fatalf("SVG in the worker: %v", err)
	}
	if !bytes.Equal(svg.Bytes(), want.Bytes()) {
		t.Errorf("SVG from the worker differs from the in-process one:\n%s\nwant\n%s", svg.Bytes(), want.Bytes())
	}
	if err := PNG(context.Background(), &img, dot); err != nil {
		t.Fatalf("PNG in the worker: %v", err)
	}
	if _, err := png.Decode(&img); err != nil {
		t.Errorf("PNG from the worker does not decode: %v", err)
	}
	if err := SVG(context.Background(), &svg, []byte("digraph { a -> ")); !errors.Is(err, ErrGraphviz) ||
		!strings.Contains(err.Error(), "parsing DOT") {
		t.Errorf("SVG(bad DOT) in the worker = %v, want ErrGraphviz about parsing", err)
	}
	if *starts != 1 {
		t.Errorf("%d workers started for four calls, want 1", *starts)
	}
}

func TestWorkerCrash(t *testing.T) {
	starts := testWorker(t, "crash", "serve")
	err := SVG(context.Background(), &bytes.Buffer{}, fleetDOT(t))
	var crash *CrashError
	if !errors.As(err, &crash) {
		t.Fatalf("SVG with a crashing worker = %v, want a *CrashError", err)
	}
	if crash.State != "exit status 2" || !bytes.Contains(crash.Output, []byte("fatal error: stack overflow")) {
		t.Errorf("CrashError = %q with output\n%s\nwant exit status 2 and the runtime's report", crash.State, crash.Output)
	}
	if errors.Is(err, ErrGraphviz) {
		t.Errorf("a crash is not a Graphviz error about the input: %v", err)
	}
	if err := SVG(context.Background(), &bytes.Buffer{}, fleetDOT(t)); err != nil {
		t.Errorf("SVG after a crash = %v, want a new worker to draw", err)
	}
	if *starts != 2 {
		t.Errorf("%d workers started, want 2", *starts)
	}
}

func TestWorkerCancel(t *testing.T) {
	starts := testWorker(t, "hang", "serve")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := PNG(ctx, &bytes.Buffer{}, fleetDOT(t)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("PNG with a hung worker = %v, want the context's error", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("PNG took %v to give up on a hung worker", d)
	}
	if err := PNG(context.Background(), &bytes.Buffer{}, fleetDOT(t)); err != nil {
		t.Errorf("PNG after a cancelled call = %v, want a new worker to draw", err)
	}
	if *starts != 2 {
		t.Errorf("%d workers started, want 2", *starts)
	}
}

func TestNoGraphviz(t *testing.T) {
	stop := UseLayout(nil)
	defer stop()
	if err := SVG(context.Background(), &bytes.Buffer{}, []byte("digraph { a }")); !errors.Is(err, ErrNoGraphviz) {
		t.Errorf("SVG with neither a worker nor a layouter = %v, want ErrNoGraphviz", err)
	}
	startErr := errors.New("no worker binary")
	stopWorker := UseWorker(func() (*exec.Cmd, error) { return nil, startErr })
	defer stopWorker()
	if err := PNG(context.Background(), &bytes.Buffer{}, []byte("digraph { a }")); !errors.Is(err, startErr) {
		t.Errorf("PNG whose worker cannot be made = %v, want its error", err)
	}
}

// Tests never execute machine code another build compiled: this test
// binary's go-graphviz cache is its own, under the temporary directory.
func TestGraphvizCacheIsTemporary(t *testing.T) {
	dir := wasmcache.Chosen()
	if dir == "" || !strings.HasPrefix(dir, os.TempDir()+string(filepath.Separator)) ||
		!strings.HasPrefix(filepath.Base(dir), "binary-") {
		t.Fatalf("go-graphviz cache = %q, want a binary-... directory under %s", dir, os.TempDir())
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "go-graphviz", "wazero-*", "*")); len(m) == 0 {
		t.Errorf("go-graphviz compiled nothing into %s", dir)
	}
}
