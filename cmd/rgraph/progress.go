package main

import (
	"fmt"
	"io"
	"time"
	"unicode/utf8"
)

// progress reports on stderr what a long verb (ingest, run, minimize) is
// doing, the same way for every verb, as decided once by Env.progress:
// nothing with --quiet; one line per event with -v; on a terminal, one
// status line rewritten in place and cleared when the verb is done;
// otherwise nothing. Warnings have lines of their own, unless --quiet.
type progress struct {
	w     io.Writer
	mode  progressMode
	width int // of the terminal; 0 when unknown
	now   func() time.Time

	shown bool // a status line is on the terminal
	last  time.Time
}

type progressMode uint8

const (
	progressOff   progressMode = iota
	progressLive               // a status line rewritten in place
	progressLines              // a line per event
)

// liveEvery is how often at most the status line is redrawn.
const liveEvery = 100 * time.Millisecond

// progress returns the reporter of a verb run with --quiet and -v as
// given: quiet wins, then -v (lines), then a terminal on stderr (live).
func (e *Env) progress(quiet, verbose bool) *progress {
	p := &progress{w: e.ErrOut, width: e.ErrWidth, now: e.Now}
	switch {
	case quiet:
		p.mode = progressOff
	case verbose:
		p.mode = progressLines
	case e.ErrTTY:
		p.mode = progressLive
	}
	if p.now == nil {
		p.now = time.Now
	}
	return p
}

// status shows what is going on now (counts, elapsed time): the status
// line on a terminal, nothing in line mode.
func (p *progress) status(format string, args ...any) {
	if p.mode == progressLive {
		p.live(fmt.Sprintf(format, args...))
	}
}

// event reports a step: a line in line mode, the status line on a
// terminal.
func (p *progress) event(format string, args ...any) {
	switch p.mode {
	case progressLines:
		fmt.Fprintf(p.w, "rgraph: "+format+"\n", args...)
	case progressLive:
		p.live(fmt.Sprintf(format, args...))
	}
}

// note reports something worth keeping on screen (a batch's scenario
// done): a line in line mode and on a terminal.
func (p *progress) note(format string, args ...any) {
	if p.mode == progressOff {
		return
	}
	p.clear()
	fmt.Fprintf(p.w, "rgraph: "+format+"\n", args...)
}

// warn prints a warning on a line of its own, unless --quiet.
func (p *progress) warn(format string, args ...any) {
	if p.mode == progressOff {
		return
	}
	p.clear()
	fmt.Fprintf(p.w, "rgraph: warning: "+format+"\n", args...)
}

// done clears the status line.
func (p *progress) done() { p.clear() }

// live redraws the status line, at most every liveEvery, cut to the
// terminal so that it never wraps (a wrapped line cannot be erased).
func (p *progress) live(line string) {
	now := p.now()
	if p.shown && now.Sub(p.last) < liveEvery {
		return
	}
	line = "rgraph: " + line
	if p.width > 1 && utf8.RuneCountInString(line) > p.width-1 {
		r := []rune(line)
		line = string(r[:p.width-2]) + "…"
	}
	fmt.Fprintf(p.w, "\r\033[K%s", line)
	p.shown, p.last = true, now
}

func (p *progress) clear() {
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
}
