package render

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// RunReport is what rgraph run prints about one sandbox run. cmd fills it
// from the run record; render only lays it out.
type RunReport struct {
	Scenario, Service, ID, Driver, Fault string
	// Allowed is the allowlist the run had, as text; empty for nothing.
	Allowed string
	// Steps are the runbook's steps in the order they ran.
	Steps []RunStep
	// Validation is the validation command; Tries 0 means it never ran.
	Validation RunStep
	// Attempts are the run's attempts, sorted as the record sorts them;
	// Absent counts those whose target is absent upstream (nothing is
	// there in production, so they are no dependency).
	Attempts []RunAttempt
	Absent   int
	// Complete is false when the recording missed something: Lost
	// attempts, and what NotRecorded names.
	Complete    bool
	Lost        uint64
	NotRecorded []string
	// Check is set when the run was asked to check its attempts against
	// the committed allowlist; Creep are those outside it.
	Check bool
	Creep []RunAttempt
	// Diagnoses say, for a run that did not recover, which steps failed or
	// look suspicious, with the tail of their output and the likely cause.
	Diagnoses []RunDiagnosis
	// Kept is the sandbox left in place (run --keep), if any.
	Kept *KeptSandbox
	// Recovered is the verdict, reached in Duration; Error says why not.
	Recovered bool
	Duration  time.Duration
	Error     string
}

// RunStep is one runbook step or the validation, as it ran.
type RunStep struct {
	Name    string
	Command string
	// Status is "ok", "exit N", "killed" or "timed out".
	Status   string
	Duration time.Duration
	// Tries is how many times a validation was tried.
	Tries int
}

// RunAttempt is one attempt of a run: its verdict, where it went (with
// the DNS type of a question) and the catalog service that owns it
// (empty for none).
type RunAttempt struct {
	Verdict, Destination, Service, Process string
	Count                                  uint64
	// Failure says how a denied attempt failed ("eperm", "timeout", ...)
	// and whether its target is absent or refused upstream.
	Failure string
}

// RunDiagnosis is one failing or suspicious step of a run that did not
// recover.
type RunDiagnosis struct {
	Step, Status string
	// Cause is the likely cause in one sentence; empty when unknown.
	Cause string
	// Tail is the last lines of the step's output.
	Tail []string
}

// KeptSandbox is a sandbox left in place, and how to enter it.
type KeptSandbox struct {
	ID, Enter string
	Notes     []string
}

// Run writes r. On a terminal: a heading, the steps and the attempts as
// tables, what went wrong, the check, and the verdict last. Otherwise one
// record per line: run, step, validation, attempt, cause, output,
// incomplete, check, creep, kept and verdict.
func Run(w io.Writer, t Terminal, r RunReport) error {
	p := newPrinter(w, t)
	if !t.TTY {
		runPlain(p, r)
	} else {
		runHuman(p, r)
	}
	return p.err
}

func runPlain(p *printer, r RunReport) {
	p.record("run", r.Scenario, r.Service, r.ID, r.Driver, r.Fault, r.Allowed)
	for _, s := range r.Steps {
		p.record("step", s.Name, s.Status, formatDuration(s.Duration, false), s.Command)
	}
	v := r.Validation
	status := v.Status
	if v.Tries == 0 {
		status = "not run"
	}
	p.record("validation", status, strconv.Itoa(v.Tries), formatDuration(v.Duration, false), v.Command)
	for _, a := range r.Attempts {
		p.record("attempt", a.Verdict, a.Destination, a.Service, a.Process, strconv.FormatUint(a.Count, 10), a.Failure)
	}
	for _, d := range r.Diagnoses {
		p.record("cause", d.Step, d.Status, d.Cause)
		for _, l := range d.Tail {
			p.record("output", d.Step, l)
		}
	}
	if !r.Complete || len(r.NotRecorded) > 0 {
		p.record("incomplete", strconv.FormatUint(r.Lost, 10), strings.Join(r.NotRecorded, "; "))
	}
	if r.Check {
		p.record("check", strconv.Itoa(len(r.Creep)))
		for _, a := range r.Creep {
			p.record("creep", a.Destination, a.Process, a.Service)
		}
	}
	if k := r.Kept; k != nil {
		p.record("kept", k.ID, k.Enter, strings.Join(k.Notes, "; "))
	}
	verdict := "recovered"
	if !r.Recovered {
		verdict = "not-recovered"
	}
	p.record("verdict", verdict, formatDuration(r.Duration, false), r.Error)
}

func runHuman(p *printer, r RunReport) {
	s := p.s
	p.line(s.title.Render(fmt.Sprintf("scenario %s (service %s)", r.Scenario, r.Service)) +
		s.dim.Render(fmt.Sprintf(", run %s, driver %s, fault %s", r.ID, r.Driver, r.Fault)))
	allowed := r.Allowed
	if allowed == "" {
		allowed = "nothing"
	}
	p.line("allowed: " + allowed)
	p.line("")

	rows := make([][]string, 0, len(r.Steps)+1)
	for _, st := range r.Steps {
		rows = append(rows, []string{st.Name, st.Status, FormatDuration(st.Duration), oneLine(st.Command)})
	}
	v := r.Validation
	rows = append(rows, []string{"validation", validationStatus(v), FormatDuration(v.Duration), oneLine(v.Command)})
	p.table(0, []string{"STEP", "STATUS", "TIME", "COMMAND"}, rows, func(row, col int) lipgloss.Style {
		if col == 1 && rows[row][1] != "ok" && !strings.HasPrefix(rows[row][1], "ok ") {
			return s.bad
		}
		return s.r.NewStyle()
	})

	p.line("")
	p.line(fmt.Sprintf("attempts (%d):", len(r.Attempts)))
	if len(r.Attempts) > 0 {
		rows = rows[:0]
		for _, a := range r.Attempts {
			rows = append(rows, []string{a.Verdict, a.Destination, orDash(a.Service), a.Process, strconv.FormatUint(a.Count, 10), orDash(a.Failure)})
		}
		p.wideTable(2, AttemptColumns, rows, func(row, col int) lipgloss.Style {
			if col == 0 && rows[row][0] != "allowed" {
				return s.warn
			}
			return s.r.NewStyle()
		})
		if r.Absent > 0 {
			p.line(s.dim.Render(fmt.Sprintf("  (%d absent upstream: nothing is there in production, so no dependency)", r.Absent)))
		}
	}

	if len(r.Diagnoses) > 0 {
		p.line("")
		p.line(s.bad.Render("what went wrong:"))
		for _, d := range r.Diagnoses {
			head := fmt.Sprintf("%s (%s)", d.Step, d.Status)
			if d.Cause != "" {
				head += ": " + d.Cause
			}
			p.wrapped(2, head)
			for _, l := range d.Tail {
				p.line(s.dim.Render("    | " + l))
			}
		}
	}
	if !r.Complete || len(r.NotRecorded) > 0 {
		text := fmt.Sprintf("recording incomplete: %d lost", r.Lost)
		for _, n := range r.NotRecorded {
			text += "; not recorded: " + n
		}
		p.line("")
		p.line(s.warn.Render(text))
	}
	if r.Check {
		p.line("")
		if !r.Complete {
			p.line(s.bad.Render("check: the recording is incomplete (above), so the run cannot show that it attempted nothing new"))
		}
		if len(r.Creep) == 0 {
			p.line(s.good.Render("check: nothing attempted outside the committed allowlist (allow and soft)"))
		} else {
			p.line(s.bad.Render(fmt.Sprintf("check: %s outside the committed allowlist (allow and soft):", plural(len(r.Creep), "attempt", "attempts"))))
			for _, a := range r.Creep {
				hint := "not in the catalog"
				if a.Service != "" {
					hint = "service:" + a.Service
				}
				p.line(fmt.Sprintf("  new: %s by %s (%s)", a.Destination, a.Process, hint))
			}
		}
	}
	if k := r.Kept; k != nil {
		p.line("")
		p.line(fmt.Sprintf("kept sandbox %s; enter it with:", k.ID))
		// The command is copied and pasted: never cut.
		p.write("  " + k.Enter + "\n")
		for _, n := range k.Notes {
			p.line("  " + n)
		}
	}
	p.line("")
	verdict := s.good.Render("RECOVERED")
	if !r.Recovered {
		verdict = s.bad.Render("NOT RECOVERED")
	}
	text := verdict + " in " + FormatDuration(r.Duration)
	if r.Error != "" {
		text += ": " + r.Error
	}
	p.line(text)
}

// wrapped writes text as human lines indented by indent spaces, broken
// between words to fit the terminal (a cause must be read whole).
func (p *printer) wrapped(indent int, text string) {
	pad := strings.Repeat(" ", indent)
	if p.t.Width <= indent+8 {
		p.line(pad + text)
		return
	}
	for i, l := range strings.Split(ansi.Wrap(text, p.t.Width-indent-2, ""), "\n") {
		if i > 0 {
			l = "  " + l
		}
		p.line(pad + l)
	}
}

// validationStatus is a validation's status with its tries.
func validationStatus(v RunStep) string {
	switch {
	case v.Tries == 0:
		return "not run"
	case v.Tries > 1:
		return fmt.Sprintf("%s (%d tries)", v.Status, v.Tries)
	}
	return v.Status
}

// oneLine is the first line of s, marked when there are more.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " …"
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
