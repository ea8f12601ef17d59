// Package golden compares test output with golden files kept at
// testdata/<TestName>/<subtest>.golden and rewrites them when the test
// binary runs with -update.
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files with the current output")

// Path returns the golden file of the running test:
// testdata/<TestName>/<subtest>.golden, or testdata/<TestName>.golden for a
// test without subtests. ext replaces ".golden" when not empty.
func Path(t testing.TB, ext string) string {
	t.Helper()
	if ext == "" {
		ext = ".golden"
	}
	name := t.Name()
	if i := strings.IndexByte(name, '/'); i >= 0 {
		return filepath.Join("testdata", name[:i], sanitize(name[i+1:])+ext)
	}
	return filepath.Join("testdata", name+ext)
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '/', '\\', ':', ' ':
			return '_'
		}
		return r
	}, s)
}

// Check compares got with the golden file of the running test, or writes
// it when -update is set.
func Check(t testing.TB, got []byte) {
	t.Helper()
	CheckExt(t, ".golden", got)
}

// Update reports whether the test binary runs with -update, for tests
// that regenerate other fixtures along with their golden files.
func Update() bool { return *update }

// CheckExt is [Check] with a file extension of its own (".dot", ".md"),
// so that golden files open in the right viewer.
func CheckExt(t testing.TB, ext string, got []byte) {
	t.Helper()
	CheckFile(t, Path(t, ext), got)
}

// CheckFile compares got with the golden file at path, or writes it when
// -update is set.
func CheckFile(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run with -update to accept):\n%s", path, lineDiff(string(want), string(got)))
	}
}

// lineDiff shows the first lines where want and got differ, with escape
// bytes (colour) written out as \x1b so that the terminal showing the
// failure does not interpret them.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl == gl {
			continue
		}
		b.WriteString("line " + strconv.Itoa(i+1) + ":\n  want: " + showEscapes(wl) + "\n  got:  " + showEscapes(gl) + "\n")
		if shown++; shown == 5 {
			b.WriteString("...\n")
			break
		}
	}
	return b.String()
}

func showEscapes(line string) string { return strings.ReplaceAll(line, "\x1b", `\x1b`) }
