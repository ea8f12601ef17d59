package sandbox

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/rgraph/rgraph/collector"
)

// Diagnosis is what a run that did not recover says about one of its
// steps (or its validation): the step failed, or its output looks like
// something went wrong even though it exited 0 (a backgrounded command).
type Diagnosis struct {
	// Step is the step's name, or "validation".
	Step string
	// Status is how the step ended: "ok", "exit 1", "timed out", ...
	Status string
	// Cause names the likely cause in one sentence; empty when nothing in
	// the step's result points at one.
	Cause string
	// Tail is the last lines of the step's output.
	Tail []string
}

// TailLines is how many lines of a step's output a [Diagnosis] keeps.
const TailLines = 8

var (
	// notFound matches a shell's "command not found": dash writes
	// "/bin/sh: 1: fleet: not found", bash "bash: line 1: fleet: command
	// not found", busybox "sh: fleet: not found".
	notFound = regexp.MustCompile(`(?m)^(?:/bin/|/usr/bin/)?(?:sh|bash|dash|ash)(?:: line \d+|: \d+)?: ([^:\n]+): (?:command )?not found\s*$`)
	// traceback is the first line of a Python traceback; its last line
	// names the exception.
	traceback = regexp.MustCompile(`(?m)^Traceback \(most recent call last\):`)
	// pyException is the line a traceback ends with: "KeyError: 'x'".
	pyException = regexp.MustCompile(`(?m)^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt)\b.*)$`)
)

// Diagnose returns, for a run that did not recover, each failing or
// suspicious step with the tail of its output and its likely cause, in
// the order they ran, the validation last. It returns nothing for a run
// that recovered.
func Diagnose(rec *collector.Record) []Diagnosis {
	if rec.Outcome.Recovered {
		return nil
	}
	var out []Diagnosis
	for _, s := range rec.Outcome.Steps {
		if d, ok := diagnoseStep(s, false); ok {
			out = append(out, d)
		}
	}
	if v := rec.Outcome.Validation; v.Tries > 0 {
		d, _ := diagnoseStep(v, true)
		d.Step = "validation"
		out = append(out, d)
	}
	return out
}

// diagnoseStep reports whether step s is worth showing, and why. The
// validation (final) is always worth showing when a run failed.
func diagnoseStep(s collector.StepResult, final bool) (Diagnosis, bool) {
	d := Diagnosis{Step: s.Name, Status: StepStatus(s), Tail: lastLines(s.Output, TailLines)}
	background := strings.HasSuffix(strings.TrimSpace(s.Command), "&")
	switch m := notFound.FindStringSubmatch(s.Output); {
	case m != nil && background && s.ExitCode == 0:
		d.Cause = fmt.Sprintf("a backgrounded command was not found: %q (the step itself exited 0); check the command's name and PATH inside the sandbox", strings.TrimSpace(m[1]))
	case m != nil:
		d.Cause = fmt.Sprintf("command %q not found; check the command's name and PATH inside the sandbox", strings.TrimSpace(m[1]))
	case traceback.MatchString(s.Output):
		d.Cause = "a Python traceback"
		if ex := pyException.FindAllString(s.Output, -1); len(ex) > 0 {
			d.Cause += ": " + strings.TrimSpace(ex[len(ex)-1])
		}
	case final:
		// The run's error already says how the validation failed.
	case s.TimedOut && !background:
		d.Cause = fmt.Sprintf("the step ran until its timeout (%v): a server started in the foreground never returns; end the step with & to run it in the background",
			s.Duration.Std().Round(time.Second))
	case s.TimedOut:
		d.Cause = fmt.Sprintf("the step timed out after %v", s.Duration.Std().Round(time.Second))
	case s.ExitCode != 0:
		d.Cause = fmt.Sprintf("the step failed (%s)", d.Status)
	}
	return d, final || s.ExitCode != 0 || s.TimedOut || d.Cause != ""
}

// StepStatus says how a step ended: "ok", "exit N", "killed" (by a
// signal) or "timed out".
func StepStatus(s collector.StepResult) string {
	switch {
	case s.TimedOut:
		return "timed out"
	case s.ExitCode == 0:
		return "ok"
	case s.ExitCode < 0:
		return "killed"
	}
	return fmt.Sprintf("exit %d", s.ExitCode)
}

// lastLines returns the last n non-empty-trailing lines of s.
func lastLines(s string, n int) []string {
	s = strings.TrimRight(s, "\n")
	if strings.TrimSpace(s) == "" {
		return nil
	}
	lines := strings.Split(s, "\n")
	return lines[max(0, len(lines)-n):]
}
