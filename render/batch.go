package render

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/charmbracelet/lipgloss"
)

// BatchDoc is the payload of "batch" documents (rgraph run|minimize --out
// DIR -o json), and what the text summary of a batch shows.
type BatchDoc struct {
	// Verb is "run" or "minimize".
	Verb string `json:"verb"`
	// Shard is this shard, "I/N".
	Shard string `json:"shard"`
	// Out is the records directory.
	Out string `json:"out"`
	// Total counts the scenarios of every shard, Assigned those of this
	// one (Scenarios may hold fewer when the batch was stopped).
	Total    int `json:"total"`
	Assigned int `json:"assigned"`
	// Scenarios are this shard's scenarios in the order they ran.
	Scenarios []BatchScenario `json:"scenarios"`
	// Counts counts the scenarios by status.
	Counts map[string]int `json:"counts"`
	// Skipped counts the scenarios whose record was already there.
	Skipped int `json:"skipped"`
}

// BatchScenario is one scenario of a batch and what became of it.
type BatchScenario struct {
	Path     string `json:"path"`
	Service  string `json:"service,omitempty"`
	Scenario string `json:"scenario,omitempty"`
	// Record is the record file, relative to Out.
	Record string `json:"record,omitempty"`
	// Status is one of [BatchStatuses].
	Status string `json:"status"`
	// Skipped is true when the record was already there.
	Skipped bool   `json:"skipped,omitempty"`
	RunID   string `json:"runId,omitempty"`
	Error   string `json:"error,omitempty"`
}

// BatchStatuses are the statuses of a batch's scenarios, in the order a
// summary counts them.
var BatchStatuses = []string{"recovered", "not-recovered", "creep", "error", "interrupted"}

// BatchJSON writes d as a "batch" document.
func BatchJSON(w io.Writer, d BatchDoc) error {
	if d.Scenarios == nil {
		d.Scenarios = []BatchScenario{}
	}
	if d.Counts == nil {
		d.Counts = map[string]int{}
	}
	return JSON(w, "batch", d)
}

// Batch writes the summary of a batch. On a terminal: a table of the
// scenarios and a line of totals. Otherwise one record per line:
// "scenario NAME SERVICE STATUS SKIPPED RECORD ERROR" for each, then
// "shard SHARD ASSIGNED TOTAL SKIPPED COUNTS OUT".
func Batch(w io.Writer, t Terminal, d BatchDoc) error {
	p := newPrinter(w, t)
	var parts []string
	for _, st := range BatchStatuses {
		if n := d.Counts[st]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, strings.ReplaceAll(st, "-", " ")))
		}
	}
	if len(parts) == 0 {
		parts = []string{"nothing to do"}
	}
	if !t.TTY {
		for _, s := range d.Scenarios {
			name := s.Scenario
			if name == "" {
				name = s.Path
			}
			p.record("scenario", name, s.Service, s.Status, strconv.FormatBool(s.Skipped), s.Record, s.Error)
		}
		p.record("shard", d.Shard, strconv.Itoa(d.Assigned), strconv.Itoa(d.Total), strconv.Itoa(d.Skipped), strings.Join(parts, ", "), d.Out)
		return p.err
	}
	rows := make([][]string, len(d.Scenarios))
	for i, s := range d.Scenarios {
		status := s.Status
		if s.Skipped {
			status += " (kept)"
		}
		name := s.Scenario
		if name == "" {
			name = s.Path
		}
		rows[i] = []string{name, orDash(s.Service), status, orDash(s.Record)}
	}
	p.table(0, []string{"SCENARIO", "SERVICE", "STATUS", "RECORD"}, rows, func(row, col int) lipgloss.Style {
		if col != 2 {
			return p.s.r.NewStyle()
		}
		switch d.Scenarios[row].Status {
		case "recovered":
			return p.s.good
		case "interrupted", "creep":
			return p.s.warn
		}
		return p.s.bad
	})
	if len(rows) > 0 {
		p.line("")
	}
	p.line(fmt.Sprintf("shard %s: %d of %d scenarios (%d already recorded): %s; records in %s",
		d.Shard, d.Assigned, d.Total, d.Skipped, strings.Join(parts, ", "), d.Out))
	return p.err
}

// Leftover is one thing a dead sandbox run left, for [Leftovers].
type Leftover struct {
	RunID, Kind, Name string
	// Kept marks a sandbox kept on purpose (run --keep).
	Kept bool
	// Err is why removing it failed; empty when it did not.
	Err string
}

// Leftovers writes what rgraph sandbox gc removed (or, with dryRun, would
// remove). On a terminal: a table, or "nothing to remove". Otherwise one
// line per leftover, "RUN[ (kept)] KIND NAME STATUS", and nothing when
// there are none.
func Leftovers(w io.Writer, t Terminal, left []Leftover, dryRun bool) error {
	p := newPrinter(w, t)
	verb := "removed"
	if dryRun {
		verb = "would remove"
	}
	rows := make([][]string, len(left))
	for i, l := range left {
		status := verb
		if l.Err != "" {
			status = "failed: " + l.Err
		}
		run := l.RunID
		if l.Kept {
			run += " (kept)"
		}
		rows[i] = []string{run, l.Kind, l.Name, status}
	}
	if !t.TTY {
		for _, r := range rows {
			p.record(r...)
		}
		return p.err
	}
	if len(left) == 0 {
		p.line("nothing to remove")
		return p.err
	}
	p.table(0, []string{"RUN", "KIND", "NAME", "STATUS"}, rows, func(row, col int) lipgloss.Style {
		if col == 3 && left[row].Err != "" {
			return p.s.bad
		}
		return p.s.r.NewStyle()
	})
	return p.err
}

// SandboxCheck writes what each sandbox driver needs and whether this
// machine has it, then, when decides (a driver's name) is ready, that
// sandboxes can run. On a terminal: a table, then how to get each
// missing requirement (whole, to copy). Otherwise one line per requirement, "DRIVER STATUS NAME
// DETAIL[ fix: FIX]", STATUS being ok, missing or missing (optional).
func SandboxCheck(w io.Writer, t Terminal, drivers []DriverCheckDoc, decides string) error {
	p := newPrinter(w, t)
	var rows [][]string
	var fixes []string
	ready := false
	for _, d := range drivers {
		if d.Name == decides {
			ready = d.Ready
		}
		for _, req := range d.Requirements {
			status, fix := "ok", ""
			if !req.OK {
				status, fix = "missing", req.Fix
				if req.Optional {
					status = "missing (optional)"
				}
			}
			if !t.TTY {
				fields := []string{d.Name, status, req.Name, req.Detail}
				if fix != "" {
					fields = append(fields, "fix: "+fix)
				}
				p.record(fields...)
				continue
			}
			rows = append(rows, []string{d.Name, status, req.Name, req.Detail})
			if fix != "" {
				fixes = append(fixes, fmt.Sprintf("%s %s: %s", d.Name, req.Name, fix))
			}
		}
	}
	if t.TTY {
		p.table(0, []string{"DRIVER", "STATUS", "REQUIREMENT", "FOUND"}, rows, func(row, col int) lipgloss.Style {
			switch {
			case col != 1:
				return p.s.r.NewStyle()
			case rows[row][1] == "ok":
				return p.s.good
			case rows[row][1] == "missing":
				return p.s.bad
			}
			return p.s.warn
		})
		if len(fixes) > 0 {
			p.line("")
			p.line("to fix:")
			for _, f := range fixes {
				p.write("  " + f + "\n") // commands to copy: never cut
			}
		}
	}
	if ready {
		if t.TTY {
			p.line("")
		}
		p.line(fmt.Sprintf("sandboxes can run here (%s driver)", decides))
	}
	return p.err
}
