package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// testEnv is an Env writing to buffers, with a fixed clock and an
// environment given by vars.
type testEnv struct {
	*Env
	out, errOut *bytes.Buffer
}

func newTestEnv(t *testing.T, vars map[string]string) *testEnv {
	t.Helper()
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	if vars == nil {
		vars = map[string]string{}
	}
	if _, ok := vars["RGRAPH_STORE"]; !ok {
		vars["RGRAPH_STORE"] = t.TempDir()
	}
	return &testEnv{
		Env: &Env{
			In:     strings.NewReader(""),
			Out:    out,
			ErrOut: errOut,
			Getenv: func(k string) string { return vars[k] },
			Now:    func() time.Time { return time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC) },
		},
		out:    out,
		errOut: errOut,
	}
}

// rgraph runs the CLI in-process and returns its exit code.
func (e *testEnv) rgraph(args ...string) int {
	e.out.Reset()
	e.errOut.Reset()
	return run(context.Background(), args, e.Env)
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"version", []string{"version"}, exitOK},
		{"unknown command", []string{"bogus"}, exitUsage},
		{"unknown flag", []string{"version", "--nope"}, exitUsage},
		{"extra argument", []string{"version", "x"}, exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, nil)
			if got := e.rgraph(tt.args...); got != tt.want {
				t.Errorf("rgraph %v = exit %d, want %d (stderr %q)", tt.args, got, tt.want, e.errOut)
			}
		})
	}
}
