package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rgraph/rgraph/render"
	"github.com/rgraph/rgraph/sandbox"
)

func TestExitCodeAndReport(t *testing.T) {
	crash := &render.CrashError{State: "exit status 4", Output: []byte("fatal error: fault\nstack trace unavailable\n")}
	tests := []struct {
		name string
		err  error
		code int
		want string // stderr without RGRAPH_DEBUG
	}{
		{"usage", usageErrorf("--kinds: bad"), exitUsage, "rgraph: --kinds: bad\nRun 'rgraph --help' for usage.\n"},
		{"findings", &findingsError{2, "bootstrap cycle(s) in release r1"}, exitFindings, "rgraph: 2 bootstrap cycle(s) in release r1\n"},
		{"no privilege", fmt.Errorf("starting netns sandbox: %w", sandbox.ErrPermission), exitPrivilege,
			"rgraph: starting netns sandbox: sandbox: permission denied\nRun rgraph as root, or with CAP_SYS_ADMIN, CAP_NET_ADMIN and CAP_BPF.\n"},
		{"unsupported", fmt.Errorf("%w: this kernel has no network namespaces", sandbox.ErrUnsupported), exitPrivilege,
			"rgraph: sandbox: unsupported: this kernel has no network namespaces\nSandboxes need Linux with network namespaces, a cgroup v2 hierarchy and eBPF.\n"},
		{"not recovered, already summarized", &notRecoveredError{}, exitNotRecovered, ""},
		{"not recovered", &notRecoveredError{errors.New("scenario web: never recovers")}, exitNotRecovered, "rgraph: scenario web: never recovers\n"},
		{"creep", &creepError{}, exitCreep, ""},
		{"no path is an answer", &noPathError{}, exitNoPath, ""},
		{"interrupted", &interruptedError{"printed the best so far"}, exitInterrupted, "rgraph: interrupted: printed the best so far\n"},
		{"panic", &internalError{"panic: boom", []byte("goroutine 1 [running]:")}, exitInternal,
			"rgraph: internal error: panic: boom; " + bugReport + "\n"},
		{"graphviz crash", fmt.Errorf("drawing: %w", crash), exitInternal,
			"rgraph: internal error: drawing: render: the graphviz worker process crashed (exit status 4); " + bugReport + "\n"},
		{"internal wins", fmt.Errorf("%w: %w", sandbox.ErrPermission, crash), exitInternal, ""},
		{"failure", errors.New("boom"), exitError, "rgraph: boom\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code := exitCode(context.Background(), tt.err)
			if code != tt.code {
				t.Errorf("exitCode(%v) = %d, want %d", tt.err, code, tt.code)
			}
			if tt.name == "internal wins" {
				return
			}
			var w bytes.Buffer
			report(&w, code, tt.err, false)
			if w.String() != tt.want {
				t.Errorf("report(%v) wrote\n%q, want\n%q", tt.err, w.String(), tt.want)
			}
		})
	}
}

// A panic in a verb is a bug: exit 70 and one line asking for a report,
// the stack only with RGRAPH_DEBUG.
func TestPanicIsInternalError(t *testing.T) {
	for _, debug := range []bool{false, true} {
		t.Run(fmt.Sprintf("debug=%v", debug), func(t *testing.T) {
			e := newTestEnv(t, nil)
			getenv := e.Getenv
			e.Getenv = func(k string) string {
				if k == "RGRAPH_STORE" {
					panic("boom")
				}
				if k == "RGRAPH_DEBUG" && debug {
					return "1"
				}
				return getenv(k)
			}
			if code := e.rgraph("releases"); code != exitInternal {
				t.Fatalf("rgraph releases with a panic = exit %d, want %d; stderr:\n%s", code, exitInternal, e.errOut)
			}
			first, rest, _ := strings.Cut(e.errOut.String(), "\n")
			if want := "rgraph: internal error: panic: boom; " + bugReport; first != want {
				t.Errorf("first line = %q, want %q", first, want)
			}
			if !debug && rest != "" {
				t.Errorf("stderr = %q, want the one line", e.errOut)
			}
			if hasStack := strings.Contains(rest, "goroutine "); hasStack != debug {
				t.Errorf("stack printed = %v with RGRAPH_DEBUG %v:\n%s", hasStack, debug, e.errOut)
			}
		})
	}
}

// A crash of the Graphviz worker is a bug, whatever exit status the Go
// runtime gave the worker (4 here, as for a crash during a crash): exit
// 70, one line, the worker's report only with RGRAPH_DEBUG.
func TestGraphvizCrashIsInternalError(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal(err)
	}
	for _, debug := range []bool{false, true} {
		t.Run(fmt.Sprintf("debug=%v", debug), func(t *testing.T) {
			vars := map[string]string{}
			if debug {
				vars["RGRAPH_DEBUG"] = "1"
			}
			e := newTestEnv(t, vars)
			edges := t.TempDir() + "/e.tsv"
			if err := os.WriteFile(edges, []byte("a\tb\thard\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if code := e.rgraph("ingest", "--release", "r1", edges); code != exitOK {
				t.Fatalf("ingest = exit %d: %s", code, e.errOut)
			}
			e.Graphviz = func() (*exec.Cmd, error) {
				return exec.Command(sh, "-c", `head -c 5 >/dev/null; echo "fatal error: fault" >&2; echo "stack trace unavailable" >&2; exit 4`), nil
			}
			out := t.TempDir() + "/g.svg"
			if code := e.rgraph("render", "-o", "svg", "--out", out); code != exitInternal {
				t.Fatalf("render with a crashing worker = exit %d, want %d; stderr:\n%s", code, exitInternal, e.errOut)
			}
			// Under RGRAPH_DEBUG the store logs before the error.
			_, msg, _ := strings.Cut(e.errOut.String(), "rgraph: internal error: ")
			first, rest, _ := strings.Cut("rgraph: internal error: "+msg, "\n")
			if !strings.HasPrefix(first, "rgraph: internal error: ") || !strings.Contains(first, "exit status 4") ||
				!strings.HasSuffix(first, bugReport) {
				t.Errorf("first line = %q, want an internal error naming exit status 4 and asking for a report", first)
			}
			if !debug && e.errOut.String() != first+"\n" {
				t.Errorf("stderr = %q, want the one line", e.errOut)
			}
			if shown := strings.Contains(rest, "fatal error: fault"); shown != debug {
				t.Errorf("worker's report shown = %v with RGRAPH_DEBUG %v:\n%s", shown, debug, e.errOut)
			}
			if fi, err := os.Stat(out); err == nil && fi.Size() > 0 {
				t.Errorf("render wrote %d bytes to %s after the crash", fi.Size(), out)
			}
		})
	}
}

// docs/exit-codes.md documents every code exit.go defines, and no other.
func TestExitCodesDocumented(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "exit.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	defined := map[string]bool{}
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, s := range gd.Specs {
			for i, name := range s.(*ast.ValueSpec).Names {
				if lit, ok := s.(*ast.ValueSpec).Values[i].(*ast.BasicLit); ok && strings.HasPrefix(name.Name, "exit") {
					defined[lit.Value] = true
				}
			}
		}
	}
	doc, err := os.ReadFile("../../docs/exit-codes.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\| *(\d+) *\|`).FindAllStringSubmatch(string(doc), -1) {
		documented[m[1]] = true
	}
	if len(defined) < 8 || !maps.Equal(defined, documented) {
		t.Errorf("exit.go defines codes %v, docs/exit-codes.md documents %v", slices.Sorted(maps.Keys(defined)), slices.Sorted(maps.Keys(documented)))
	}
}
