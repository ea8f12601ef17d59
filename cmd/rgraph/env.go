package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"golang.org/x/term"

	"github.com/rgraph/rgraph/render"
)

// Env is everything a command takes from the operating system. Only
// NewEnv touches the real process; tests use newTestEnv.
type Env struct {
	In     io.Reader
	Out    io.Writer // data only
	ErrOut io.Writer // progress, warnings, errors

	// OutTTY and ErrTTY say whether Out and ErrOut are terminals.
	OutTTY, ErrTTY bool
	// Width and ErrWidth are the terminal widths of Out and ErrOut, 0
	// when not a terminal.
	Width, ErrWidth int

	Getenv func(string) string
	Now    func() time.Time

	// Graphviz makes the command of the child process SVG and PNG are
	// laid out in (rgraph-graphviz); nil leaves the layout to whatever
	// the program set up with render.UseLayout.
	Graphviz func() (*exec.Cmd, error)
	// Hostname names this machine in the records it writes; nil for none.
	Hostname func() (string, error)
}

// NewEnv returns the Env of the running process.
func NewEnv() *Env {
	e := &Env{
		In:       os.Stdin,
		Out:      os.Stdout,
		ErrOut:   os.Stderr,
		Getenv:   os.Getenv,
		Now:      time.Now,
		Hostname: os.Hostname,
	}
	e.Graphviz = graphvizWorker
	e.OutTTY = term.IsTerminal(int(os.Stdout.Fd()))
	e.ErrTTY = term.IsTerminal(int(os.Stderr.Fd()))
	if e.OutTTY {
		if w, _, err := term.GetSize(int(os.Stdout.Fd())); err == nil {
			e.Width = w
		}
	}
	if e.ErrTTY {
		if w, _, err := term.GetSize(int(os.Stderr.Fd())); err == nil {
			e.ErrWidth = w
		}
	}
	return e
}

// Terminal is how text output looks on Out, decided once from the
// process: the human layout (headings, aligned tables cut to the width)
// on a terminal, plain tab-separated records otherwise; colour only in
// the human layout. As colorprofile decides: NO_COLOR (any non-empty
// value, no-color.org) turns colour off and wins over CLICOLOR_FORCE;
// CLICOLOR_FORCE (not "0") gives the human layout in colour even when Out
// is not a terminal; TERM=dumb turns colour off. NO_COLOR and TERM=dumb
// change the colour only, never the layout.
func (e *Env) Terminal() render.Terminal {
	force := e.Getenv("CLICOLOR_FORCE") != "" && e.Getenv("CLICOLOR_FORCE") != "0"
	noColor := e.Getenv("NO_COLOR") != "" || e.Getenv("TERM") == "dumb"
	tty := e.OutTTY || force
	return render.Terminal{TTY: tty, Color: tty && !noColor, Width: e.Width}
}

// StoreDir returns the store location: the --store flag if given, else
// $RGRAPH_STORE, else rgraph/store under the user's data directory
// ($XDG_DATA_HOME, or ~/.local/share).
func (e *Env) StoreDir(flag string) string {
	if flag != "" {
		return flag
	}
	if v := e.Getenv("RGRAPH_STORE"); v != "" {
		return v
	}
	return e.defaultStoreDir()
}

// defaultStoreDir is the store directory when neither --store nor
// $RGRAPH_STORE names one.
func (e *Env) defaultStoreDir() string {
	if v := e.Getenv("XDG_DATA_HOME"); v != "" {
		return filepath.Join(v, "rgraph", "store")
	}
	home := e.Getenv("HOME")
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	return filepath.Join(home, ".local", "share", "rgraph", "store")
}

// graphvizWorkerName is the program SVG and PNG are laid out in.
const graphvizWorkerName = "rgraph-graphviz"

// graphvizSelfEnv, set to 1, makes rgraph the Graphviz worker.
const graphvizSelfEnv = "RGRAPH_GRAPHVIZ_WORKER"

// graphvizWorker is the command of the Graphviz worker: rgraph-graphviz
// beside this executable, else this executable itself when it links
// Graphviz, else rgraph-graphviz on PATH.
func graphvizWorker() (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err == nil {
		exe, err = filepath.EvalSymlinks(exe)
	}
	if err == nil {
		beside := filepath.Join(filepath.Dir(exe), graphvizWorkerName)
		if fi, err := os.Stat(beside); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return exec.Command(beside), nil
		}
		if linksGraphviz {
			self := exec.Command(exe)
			self.Env = append(os.Environ(), graphvizSelfEnv+"=1")
			return self, nil
		}
	}
	path, err := exec.LookPath(graphvizWorkerName)
	if err != nil {
		return nil, fmt.Errorf("drawing SVG or PNG needs %s beside rgraph or on PATH "+
			"(make build puts both in ./bin; rgraph built without -tags nographviz needs neither), "+
			"or write DOT with -o dot: %w", graphvizWorkerName, err)
	}
	return exec.Command(path), nil
}
