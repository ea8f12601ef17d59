package render

import "io"

// About is what a report is about: the release it reads and, when it is
// not the default one, the store.
type About struct {
	Release string
	// Newest says the release was not named: commands without --release
	// read the newest one.
	Newest bool
	// Store is the store directory, empty to leave it out.
	Store string
}

// AboutLine writes, in the human layout only, the line above a report
// that names its release ("release r2 (newest)") and store. The plain
// layout is data only and gets nothing.
func AboutLine(w io.Writer, t Terminal, a About) error {
	if !t.TTY || a.Release == "" {
		return nil
	}
	p := newPrinter(w, t)
	s := "release " + a.Release
	if a.Newest {
		s += " (newest; --release for another)"
	}
	if a.Store != "" {
		s += " · store " + a.Store
	}
	p.line(p.s.dim.Render(s))
	return p.err
}
