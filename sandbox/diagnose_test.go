package sandbox

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rgraph/rgraph/collector"
)

func TestDiagnose(t *testing.T) {
	failed := collector.StepResult{Name: "validation", Command: "fleet check web", ExitCode: 1, Tries: 30,
		Output: "GET http://127.0.0.1:8080/healthz: connection refused\n"}
	traceback := "Traceback (most recent call last):\n  File \"/srv/app.py\", line 3, in <module>\n    import yaml\nModuleNotFoundError: No module named 'yaml'\n"
	tests := []struct {
		name  string
		steps []collector.StepResult
		want  []Diagnosis
	}{
		{"backgrounded command not found", []collector.StepResult{
			{Name: "prepare", Command: "mkdir -p state"},
			{Name: "start web", Command: "fleet serve web &", Output: "/bin/sh: 1: fleet: not found\n"},
		}, []Diagnosis{
			{Step: "start web", Status: "ok", Cause: `a backgrounded command was not found: "fleet" (the step itself exited 0); check the command's name and PATH inside the sandbox`,
				Tail: []string{"/bin/sh: 1: fleet: not found"}},
		}},
		{"bash command not found", []collector.StepResult{
			{Name: "seed", Command: "seedctl load", ExitCode: 127, Output: "bash: line 1: seedctl: command not found\n"},
		}, []Diagnosis{
			{Step: "seed", Status: "exit 127", Cause: `command "seedctl" not found; check the command's name and PATH inside the sandbox`,
				Tail: []string{"bash: line 1: seedctl: command not found"}},
		}},
		{"python traceback", []collector.StepResult{
			{Name: "start app", Command: "python3 /srv/app.py &", Output: traceback},
		}, []Diagnosis{
			{Step: "start app", Status: "ok", Cause: "a Python traceback: ModuleNotFoundError: No module named 'yaml'",
				Tail: strings.Split(strings.TrimSuffix(traceback, "\n"), "\n")},
		}},
		{"foreground server", []collector.StepResult{
			{Name: "start db", Command: "fleet serve db", TimedOut: true, ExitCode: -1, Duration: collector.Duration(30 * time.Second), Output: "db: listening on :5432\n"},
		}, []Diagnosis{
			{Step: "start db", Status: "timed out", Cause: "the step ran until its timeout (30s): a server started in the foreground never returns; end the step with & to run it in the background",
				Tail: []string{"db: listening on :5432"}},
		}},
		{"failing step", []collector.StepResult{
			{Name: "migrate", Command: "fleet migrate", ExitCode: 2, Output: "migrate: schema v3 needs v2\n"},
		}, []Diagnosis{
			{Step: "migrate", Status: "exit 2", Cause: "the step failed (exit 2)", Tail: []string{"migrate: schema v3 needs v2"}},
		}},
		{"quiet steps", []collector.StepResult{
			{Name: "start web", Command: "fleet serve web &", Output: "web: listening\n"},
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &collector.Record{Outcome: collector.Outcome{Steps: tt.steps, Validation: failed}}
			want := append(tt.want, Diagnosis{Step: "validation", Status: "exit 1", Tail: []string{"GET http://127.0.0.1:8080/healthz: connection refused"}})
			if d := cmp.Diff(want, Diagnose(rec)); d != "" {
				t.Errorf("Diagnose (-want +got):\n%s", d)
			}
			rec.Outcome.Recovered = true
			if got := Diagnose(rec); got != nil {
				t.Errorf("Diagnose(recovered) = %v, want nothing", got)
			}
		})
	}
}
