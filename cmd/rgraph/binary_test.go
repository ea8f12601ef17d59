package main

import (
	"bytes"
	"debug/buildinfo"
	"encoding/xml"
	"errors"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// These tests build the rgraph binary: test binaries record no module
// versions, so only a real build shows what users run.

// A build is one rgraph binary built once per test process.
type build struct {
	once sync.Once
	path string
	err  error
}

var (
	// split is what make build makes: rgraph without Graphviz, and
	// rgraph-graphviz beside it.
	split build
	// selfContained is a plain go build of cmd/rgraph alone, which links
	// Graphviz and lays out in a child of itself.
	selfContained build
)

// rgraphBinary builds rgraph as make build does, once per test process.
func rgraphBinary(t testing.TB) string {
	return split.get(t, [][]string{{"-tags", "nographviz", "."}, {"../rgraph-graphviz"}})
}

// get runs go build -o DIR with each of builds' arguments, once, and
// returns DIR/rgraph.
func (b *build) get(t testing.TB, builds [][]string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the rgraph binary")
	}
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "rgraph-bin")
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, "rgraph")
		for _, args := range builds {
			out, err := exec.Command("go", append([]string{"build", "-o", dir}, args...)...).CombinedOutput()
			if err != nil {
				b.err = errors.New("go build: " + err.Error() + "\n" + string(out))
				return
			}
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// minimumVersions are dependency versions known to break rgraph, with the
// reason. Raise a minimum here, and in go.mod, when one is found.
var minimumVersions = []struct {
	module, min, why string
}{
	{"github.com/tetratelabs/wazero", "v1.9.0", "before v1.9.0 its amd64 compiler calls runtime.memmove with " +
		"the register use of Go before 1.24 (wazero PR 2378): every SVG and PNG crashes with SIGSEGV on some CPUs"},
}

// TestLinkedModuleVersions checks the binaries that draw, the drawing
// worker of make build and a plain go build of rgraph, against
// minimumVersions.
func TestLinkedModuleVersions(t *testing.T) {
	worker := filepath.Join(filepath.Dir(rgraphBinary(t)), "rgraph-graphviz")
	plain := selfContained.get(t, [][]string{{"."}})
	for _, bin := range []string{worker, plain} {
		bi, err := buildinfo.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		linked := map[string]string{}
		for _, m := range bi.Deps {
			v := m.Version
			if m.Replace != nil {
				v = m.Replace.Version
			}
			linked[m.Path] = v
		}
		for _, m := range minimumVersions {
			v, ok := linked[m.module]
			if !ok {
				t.Errorf("%s does not link %s: nothing is checked (drop its minimum if Graphviz no longer needs it)", bin, m.module)
				continue
			}
			if semverLess(v, m.min) {
				t.Errorf("%s links %s %s; it needs at least %s: %s", bin, m.module, v, m.min, m.why)
			}
		}
	}
}

// semverLess reports whether semantic version a is before b. Pre-release
// and pseudo-versions come before their release.
func semverLess(a, b string) bool {
	parse := func(v string) (nums [3]int, pre string) {
		v, _, _ = strings.Cut(strings.TrimPrefix(v, "v"), "+")
		v, pre, _ = strings.Cut(v, "-")
		for i, s := range strings.SplitN(v, ".", 3) {
			nums[i], _ = strconv.Atoi(s)
		}
		return nums, pre
	}
	an, ap := parse(a)
	bn, bp := parse(b)
	for i := range an {
		if an[i] != bn[i] {
			return an[i] < bn[i]
		}
	}
	return ap != "" && (bp == "" || ap < bp)
}

func TestSemverLess(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"v1.8.1", "v1.9.0", true},
		{"v1.12.0", "v1.9.0", false},
		{"v1.9.0", "v1.9.0", false},
		{"v1.9.0-rc1", "v1.9.0", true},
		{"v1.9.1-0.20250101000000-abcdef123456", "v1.9.0", false},
		{"v2.0.0+incompatible", "v1.9.0", false},
	}
	for _, tt := range tests {
		if got := semverLess(tt.a, tt.b); got != tt.want {
			t.Errorf("semverLess(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// TestGraphvizCache draws SVG and PNG with the real binaries, as make build
// makes them (rgraph lays out in its rgraph-graphviz child, beside it) and
// as a plain go build of rgraph alone does (it lays out in a child of
// itself), starting from a user cache that
// holds compiled code of other versions: the unkeyed directory of earlier
// rgraph versions and the directory of another key. rgraph must compile
// into its own key's directory (which also shows wasmcache's init ran
// before go-graphviz's), remove the unkeyed one, leave the other key's
// alone, and draw the same with a warm cache.
func TestGraphvizCache(t *testing.T) {
	for _, tc := range []struct {
		name string
		bin  func(testing.TB) string
	}{
		{"make build", rgraphBinary},
		{"go build", func(t testing.TB) string { return selfContained.get(t, [][]string{{"."}}) }},
	} {
		t.Run(tc.name, func(t *testing.T) { testGraphvizCache(t, tc.bin(t)) })
	}
}

func testGraphvizCache(t *testing.T, bin string) {
	home, tmp := t.TempDir(), t.TempDir()
	cache := filepath.Join(home, ".cache")
	legacy := filepath.Join(cache, "rgraph", "go-graphviz", "wazero-dev-"+runtime.GOARCH+"-"+runtime.GOOS)
	other := filepath.Join(cache, "rgraph", "graphviz", "go-graphviz-v0.2.9-wazero-v1.8.1-go1.26.8-linux-amd64-0", "go-graphviz",
		"wazero-v1.8.1-"+runtime.GOARCH+"-"+runtime.GOOS)
	for _, d := range []string{legacy, other} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "code"), []byte("machine code of another version"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	edges := filepath.Join(tmp, "e.tsv")
	if err := os.WriteFile(edges, []byte("web\tdb\thard\ndb\tdns\thard\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rgraph := func(args ...string) []byte {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = []string{"HOME=" + home, "XDG_CACHE_HOME=" + cache, "TMPDIR=" + tmp, "RGRAPH_STORE=" + filepath.Join(tmp, "store"),
			"PATH=" + os.Getenv("PATH")}
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("rgraph %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
		}
		return stdout.Bytes()
	}
	rgraph("ingest", "--release", "r1", edges)

	svg := rgraph("render", "-o", "svg")
	checkSVG(t, svg, "web", "db", "dns")
	if _, err := png.Decode(bytes.NewReader(rgraph("render", "-o", "png"))); err != nil {
		t.Errorf("rgraph render -o png wrote no PNG: %v", err)
	}

	own, _ := filepath.Glob(filepath.Join(cache, "rgraph", "graphviz", "go-graphviz-*-wazero-*"))
	if len(own) != 2 {
		t.Fatalf("cache directories = %q, want the other key's and one new one", own)
	}
	for _, d := range own {
		if strings.HasPrefix(other, d+string(filepath.Separator)) {
			continue
		}
		if compiled, _ := filepath.Glob(filepath.Join(d, "go-graphviz", "wazero-v*", "*")); len(compiled) == 0 {
			t.Errorf("nothing compiled into %s", d)
		}
	}
	if _, err := os.Stat(filepath.Dir(legacy)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the unkeyed cache %s is still there (%v)", filepath.Dir(legacy), err)
	}
	if b, err := os.ReadFile(filepath.Join(other, "code")); err != nil || string(b) != "machine code of another version" {
		t.Errorf("another key's cache was changed: %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(tmp, "go-graphviz")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("go-graphviz cached in $TMPDIR (%v): wasmcache's init ran too late", err)
	}

	if warm := rgraph("render", "-o", "svg"); !bytes.Equal(warm, svg) {
		t.Errorf("SVG with a warm cache differs from the first one")
	}
}

// checkSVG fails unless svg is well-formed XML whose text names every one
// of names.
func checkSVG(t *testing.T, svg []byte, names ...string) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(svg))
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v\n%s", err, svg)
		}
		if cd, ok := tok.(xml.CharData); ok {
			text.Write(cd)
		}
	}
	for _, n := range names {
		if !strings.Contains(text.String(), n) {
			t.Errorf("SVG lacks %q", n)
		}
	}
}
