package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rgraph/rgraph/render"
	"github.com/rgraph/rgraph/sandbox"
)

// TestTerminal checks the one decision of how text looks: NO_COLOR and
// TERM=dumb turn colour off and keep the layout; CLICOLOR_FORCE forces
// the human layout in colour, unless NO_COLOR is also set (colorprofile's
// order).
func TestTerminal(t *testing.T) {
	tests := []struct {
		name string
		tty  bool
		vars map[string]string
		want render.Terminal
	}{
		{"terminal", true, nil, render.Terminal{TTY: true, Color: true, Width: 80}},
		{"pipe", false, nil, render.Terminal{}},
		{"NO_COLOR on a terminal", true, map[string]string{"NO_COLOR": "1"}, render.Terminal{TTY: true, Width: 80}},
		{"NO_COLOR with any value", true, map[string]string{"NO_COLOR": "0"}, render.Terminal{TTY: true, Width: 80}},
		{"TERM=dumb", true, map[string]string{"TERM": "dumb"}, render.Terminal{TTY: true, Width: 80}},
		{"CLICOLOR_FORCE in a pipe", false, map[string]string{"CLICOLOR_FORCE": "1"}, render.Terminal{TTY: true, Color: true}},
		{"CLICOLOR_FORCE=0", false, map[string]string{"CLICOLOR_FORCE": "0"}, render.Terminal{}},
		{"NO_COLOR wins over CLICOLOR_FORCE", true, map[string]string{"NO_COLOR": "1", "CLICOLOR_FORCE": "1"}, render.Terminal{TTY: true, Width: 80}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, tt.vars)
			e.OutTTY = tt.tty
			if tt.tty {
				e.Width = 80
			}
			if d := cmp.Diff(tt.want, e.Terminal()); d != "" {
				t.Errorf("Terminal() (-want +got):\n%s", d)
			}
		})
	}
}

// TestNoColorKeepsLayout runs a verb on a terminal with NO_COLOR: the
// human layout without escape codes, not the tab-separated one.
func TestNoColorKeepsLayout(t *testing.T) {
	e := newTestEnv(t, map[string]string{"NO_COLOR": "1"})
	e.OutTTY, e.Width = true, 100
	opts := &sandboxGCOptions{DryRun: true, Env: e.Env, GC: func(context.Context, sandbox.GCOptions) ([]sandbox.Leftover, error) {
		return []sandbox.Leftover{{RunID: "0badcafe", Kind: "netns", Name: "/run/netns/rgraph-0badcafe"}}, nil
	}}
	if err := sandboxGCRun(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	want := "RUN       KIND   NAME                        STATUS\n0badcafe  netns  /run/netns/rgraph-0badcafe  would remove\n"
	if e.out.String() != want {
		t.Errorf("sandbox gc with NO_COLOR on a terminal:\n%q\nwant\n%q", e.out, want)
	}
}

// TestProgress checks the one progress policy: nothing with --quiet, a
// line per event with -v, a status line rewritten in place on a terminal
// (and cleared at the end), nothing otherwise.
func TestProgress(t *testing.T) {
	tests := []struct {
		name           string
		errTTY         bool
		quiet, verbose bool
		want           string
	}{
		{"pipe", false, false, false, ""},
		{"quiet on a terminal", true, true, true, ""},
		{"verbose", false, false, true, "rgraph: step 1\nrgraph: note\nrgraph: warning: careful\n"},
		{"verbose on a terminal", true, false, true, "rgraph: step 1\nrgraph: note\nrgraph: warning: careful\n"},
		{"terminal", true, false, false, "\r\x1b[Krgraph: step 1\r\x1b[Krgraph: note\nrgraph: warning: careful\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			env := &Env{ErrOut: &buf, ErrTTY: tt.errTTY, Now: func() time.Time { return clock }}
			p := env.progress(tt.quiet, tt.verbose)
			p.event("step %d", 1)
			p.status("status") // within liveEvery of the event: not drawn
			p.note("note")
			p.warn("careful")
			clock = clock.Add(time.Second)
			p.done()
			if buf.String() != tt.want {
				t.Errorf("progress wrote %q, want %q", buf.String(), tt.want)
			}
		})
	}
}
