package render

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// recoveredRun is a run that recovered with an attempt outside its
// committed allowlist, a kept sandbox and a recording that missed a hook.
func recoveredRun() RunReport {
	return RunReport{
		Scenario: "pkgstore-cold-start", Service: "pkgstore", ID: "0badcafe", Driver: "netns", Fault: "reject",
		Allowed: "service:config, unix:/run/rgraph-fleet/logd.sock",
		Steps: []RunStep{
			{Name: "prepare state", Command: "mkdir -p state", Status: "ok", Duration: 2 * time.Millisecond},
			{Name: "start pkgstore", Command: "fleet serve pkgstore --state state \\\n  --log-level debug &", Status: "ok", Duration: 3 * time.Millisecond},
		},
		Validation: RunStep{Name: "validation", Command: "fleet check pkgstore", Status: "ok", Duration: 110 * time.Millisecond, Tries: 2},
		Attempts: []RunAttempt{
			{Verdict: "allowed", Destination: "10.99.0.20:8080/tcp", Service: "config", Process: "fleet", Count: 1},
			{Verdict: "denied", Destination: "10.99.0.12:2379/tcp", Service: "coord", Process: "fleet", Count: 3, Failure: "eperm"},
			{Verdict: "denied", Destination: "dns:mirror.example.org A", Process: "fleet", Count: 1, Failure: "nxdomain"},
			{Verdict: "denied", Destination: "unix:/var/run/nscd/socket", Process: "fleet", Count: 2, Failure: "eperm, absent upstream"},
		},
		Absent:   1,
		Complete: false, NotRecorded: []string{"unix sockets: the kernel lacks the connect_unix hook"},
		Check: true,
		Creep: []RunAttempt{{Verdict: "denied", Destination: "10.99.0.12:2379/tcp", Service: "coord", Process: "fleet", Count: 3}},
		Kept: &KeptSandbox{ID: "0badcafe", Enter: "sudo nsenter --net=/run/netns/rgraph-0badcafe --cgroup=/sys/fs/cgroup/unified/rgraph/0badcafe -- /bin/sh",
			Notes: []string{"remove it with: rgraph sandbox gc --kept"}},
		Recovered: true, Duration: 420 * time.Millisecond,
	}
}

// failedRun is a run whose step could not start its server: the shell
// did not find the command, and the validation timed out.
func failedRun() RunReport {
	return RunReport{
		Scenario: "web-cold-start", Service: "web", ID: "feedf00d", Driver: "netns", Fault: "reject",
		Steps: []RunStep{
			{Name: "start web", Command: "fleet serve web &", Status: "ok", Duration: 1 * time.Millisecond},
		},
		Validation: RunStep{Name: "validation", Command: "fleet check web", Status: "timed out", Duration: 30 * time.Second, Tries: 31},
		Complete:   true,
		Diagnoses: []RunDiagnosis{
			{Step: "start web", Status: "ok", Cause: `a backgrounded command was not found: "fleet" (the step itself exited 0); check the command's name and PATH inside the sandbox`,
				Tail: []string{"/bin/sh: 1: fleet: not found"}},
			{Step: "validation", Status: "timed out", Tail: []string{"GET http://127.0.0.1:8080/healthz: dial tcp 127.0.0.1:8080: connect: connection refused"}},
		},
		Duration: 30*time.Second + 200*time.Millisecond, Error: "the validation did not pass within its deadline of 30s (31 tries)",
	}
}

func TestRun(t *testing.T) {
	// The command that enters a kept sandbox is copied and pasted, never cut.
	enter := func(l string) bool { return strings.HasPrefix(l, "  sudo nsenter ") }
	checkTextWide(t, func(b *bytes.Buffer, term Terminal) error { return Run(b, term, recoveredRun()) }, enter)
}

func TestRunFailed(t *testing.T) {
	checkText(t, func(b *bytes.Buffer, term Terminal) error { return Run(b, term, failedRun()) })
}
