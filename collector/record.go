package collector

import (
	"fmt"
	"net/netip"
	"time"
)

// SchemaVersion is the version of the record schema this package writes and
// the only one [Decode] accepts.
const SchemaVersion = 1

// RecordKind says which kind of document a [Record] is.
type RecordKind string

// Record kinds.
const (
	// KindRun is one sandbox run of one scenario.
	KindRun RecordKind = "run"
	// KindMinimization is the result of minimizing a scenario's allowlist;
	// it carries a [Minimization] in addition to the run fields, which
	// then describe the final confirmation run.
	KindMinimization RecordKind = "minimization"
)

// FaultMode is how the sandbox denies what the allowlist does not permit.
type FaultMode string

// Fault modes.
const (
	// FaultReject makes a denied call fail at once (EPERM, DNS REFUSED).
	FaultReject FaultMode = "reject"
	// FaultBlackhole drops denied traffic so the caller waits, as in a
	// real outage.
	FaultBlackhole FaultMode = "blackhole"
)

// ParseFaultMode parses "reject" or "blackhole".
func ParseFaultMode(s string) (FaultMode, error) {
	switch FaultMode(s) {
	case FaultReject, FaultBlackhole:
		return FaultMode(s), nil
	}
	return "", fmt.Errorf("unknown fault mode %q (want reject or blackhole)", s)
}

// Protocol is the transport of an attempt.
type Protocol string

// Protocols.
const (
	TCP  Protocol = "tcp"
	UDP  Protocol = "udp"
	Unix Protocol = "unix" // a connect or sendmsg on an AF_UNIX socket, by path
	DNS  Protocol = "dns"  // a DNS question, recorded by name and type
	Raw  Protocol = "raw"  // a raw or packet socket, refused at creation
)

// Verdict is what the sandbox did with an attempt.
type Verdict string

// Verdicts.
const (
	Allowed    Verdict = "allowed"
	Denied     Verdict = "denied"
	Redirected Verdict = "redirected" // sent to rgraph's own DNS stub instead
)

// Upstream is what an attempt's target is in production, upstream of the
// sandbox: what the attempt would have met had nothing been denied.
type Upstream string

// Upstream values. An attempt whose target is absent or refused upstream
// is not a dependency: recovery in production never gets anything from
// it (docs/records.md, "Absent is not a dependency").
const (
	// UpstreamPresent (empty): the target exists, or nobody could tell.
	UpstreamPresent Upstream = ""
	// UpstreamAbsent: nothing is there: no socket at the unix path, the
	// resolver answers NXDOMAIN for the name.
	UpstreamAbsent Upstream = "absent"
	// UpstreamRefused: nobody listens there: a TCP connect answered with a
	// reset, a unix socket file without a listener.
	UpstreamRefused Upstream = "refused"
)

// Record is one versioned JSON document: a sandbox run of one scenario, or
// a minimization of its allowlist. See docs/records.md for the schema.
type Record struct {
	SchemaVersion int        `json:"schemaVersion"`
	Kind          RecordKind `json:"kind"`
	// ID identifies the run uniquely; evidence in the graph refers to it.
	ID       string `json:"id"`
	Scenario string `json:"scenario"`
	Service  string `json:"service"`
	// Release is the release label the run was made for, if any.
	Release   string    `json:"release,omitempty"`
	Driver    string    `json:"driver,omitempty"`
	FaultMode FaultMode `json:"faultMode"`
	// Allowlist is what the run was allowed to reach.
	Allowlist Allowlist `json:"allowlist"`
	Outcome   Outcome   `json:"outcome"`
	// Attempts are the first hops observed, sorted by [Attempt.Less].
	Attempts   []Attempt  `json:"attempts"`
	Collection Collection `json:"collection"`
	// Minimization is set when Kind is [KindMinimization].
	Minimization *Minimization `json:"minimization,omitempty"`
	// Provenance says where the record was made; nil when unknown.
	Provenance *Provenance `json:"provenance,omitempty"`
}

// Provenance says where a record was made: which machine, as part of
// which batch job or CI run, in which shard. It is part of the record, so
// a signature over the record covers it.
type Provenance struct {
	// Host is the machine's host name.
	Host string `json:"host,omitempty"`
	// Job names the job that ran rgraph, in the engine's own terms:
	// "slurm:4242_3", "k8s:rgraph-fleet-7x2kq", "github:org/repo/123456/2",
	// "gitlab:987654", or what --job or RGRAPH_JOB said.
	Job string `json:"job,omitempty"`
	// Shard is the part of the scenarios this run was given, "I/N".
	Shard string `json:"shard,omitempty"`
	// Tool is the rgraph version that wrote the record.
	Tool string `json:"tool,omitempty"`
}

// Outcome is how a run ended.
type Outcome struct {
	// Recovered is the verdict of the validation: the boolean that matters.
	Recovered  bool          `json:"recovered"`
	StartedAt  time.Time     `json:"startedAt"`
	Duration   Duration      `json:"duration"`
	Steps      []StepResult  `json:"steps"`
	Validation StepResult    `json:"validation"`
	Error      string        `json:"error,omitempty"`
	Timeouts   []TimeoutNote `json:"timeouts,omitempty"`
}

// TimeoutNote names a deadline that expired during a run.
type TimeoutNote struct {
	Step    string   `json:"step"`
	Timeout Duration `json:"timeout"`
}

// StepResult is one runbook step or the validation, as it ran.
type StepResult struct {
	Name     string   `json:"name"`
	Command  string   `json:"command"`
	ExitCode int      `json:"exitCode"`
	TimedOut bool     `json:"timedOut,omitempty"`
	Duration Duration `json:"duration"`
	// Tries is how many times a validation was tried; 0 for steps.
	Tries int `json:"tries,omitempty"`
	// Output is the combined output, truncated to its last few kilobytes.
	Output string `json:"output,omitempty"`
}

// Process identifies who made an attempt.
type Process struct {
	PID  uint32 `json:"pid"`
	Comm string `json:"comm"`
}

// Attempt is one deduplicated first hop: a destination a process in the
// sandbox tried to reach, with what happened to it.
type Attempt struct {
	Process  Process  `json:"process"`
	CgroupID uint64   `json:"cgroupId,omitempty"`
	Protocol Protocol `json:"protocol"`
	// Address and Port are the destination as the caller asked for it
	// (before any redirect); zero for unix attempts.
	Address netip.Addr `json:"address,omitzero"`
	Port    uint16     `json:"port,omitempty"`
	// Path is the unix socket path, for [Unix] attempts.
	Path string `json:"path,omitempty"`
	// DNSName and DNSType are the question, for [DNS] attempts. Address
	// and Port then name the resolver the question was sent to.
	DNSName string  `json:"dnsName,omitempty"`
	DNSType string  `json:"dnsType,omitempty"`
	Verdict Verdict `json:"verdict"`
	// Failure says how an attempt failed, if it did. Denied: "eperm"
	// (reject mode), "dropped" (blackhole mode), "refused" (a DNS question
	// the stub refused). Allowed but failed upstream: "refused", "timeout",
	// "unreachable", "reset", "abandoned", "error", "servfail" (DNS);
	// unix connects: "absent" (no socket at the path), "refused" (nobody
	// listens), "error".
	Failure string `json:"failure,omitempty"`
	// Upstream says whether the target exists upstream, in production,
	// whatever the sandbox did with the attempt; see [Upstream].
	Upstream  Upstream  `json:"upstream,omitempty"`
	Count     uint64    `json:"count"`
	FirstSeen time.Time `json:"firstSeen"`
}

// Absent reports whether the attempt's target does not exist upstream
// (absent or refused there): such an attempt is shown, but it is no
// dependency, gives no edge and is no candidate for an allowlist.
func (a Attempt) Absent() bool { return a.Upstream != UpstreamPresent }

// Endpoint returns the attempt's destination in the form the catalog and
// the graph use: "10.0.0.1:53/udp", "[fd00::1]:443/tcp", "unix:/run/x.sock",
// "dns:name.example".
func (a Attempt) Endpoint() string {
	switch a.Protocol {
	case Unix:
		return "unix:" + a.Path
	case DNS:
		return "dns:" + a.DNSName
	case Raw:
		return "raw:" + a.Process.Comm
	}
	return netip.AddrPortFrom(a.Address, a.Port).String() + "/" + string(a.Protocol)
}

// ToResolver returns, for a DNS question, the attempt of the packet that
// carried it: UDP to the resolver it was sent to (Address and Port), with
// the question's process, verdict, failure and count. Other attempts are
// returned unchanged.
func (a Attempt) ToResolver() Attempt {
	if a.Protocol != DNS || !a.Address.IsValid() {
		return a
	}
	a.Protocol, a.DNSName, a.DNSType, a.Upstream = UDP, "", "", UpstreamPresent
	return a
}

// key is the deduplication key of an attempt: what and where, not who.
func (a Attempt) key() string {
	return string(a.Verdict) + "|" + a.Endpoint() + "|" + a.DNSType + "|" + a.Process.Comm
}

// Less orders attempts by endpoint, then DNS type, verdict and process.
func (a Attempt) Less(b Attempt) bool {
	if ea, eb := a.Endpoint(), b.Endpoint(); ea != eb {
		return ea < eb
	}
	if a.DNSType != b.DNSType {
		return a.DNSType < b.DNSType
	}
	if a.Verdict != b.Verdict {
		return a.Verdict < b.Verdict
	}
	if a.Process.Comm != b.Process.Comm {
		return a.Process.Comm < b.Process.Comm
	}
	return a.Process.PID < b.Process.PID
}

// Collection says how complete the recording of a run is.
type Collection struct {
	// Complete is false when anything may have been lost.
	Complete bool `json:"complete"`
	// Lost counts events the recorder could not deliver (ring buffer
	// reservation failures, full maps); the deduplicated in-kernel map
	// may still hold the first hops they were about.
	Lost uint64 `json:"lost"`
	// NotRecorded names what this kernel or driver could not observe.
	NotRecorded []string `json:"notRecorded,omitempty"`
}

// Minimization is the result of paring a scenario's allowlist down.
type Minimization struct {
	// Minimal is the smallest allowlist found under which the scenario
	// still recovers; ready to paste into the scenario.
	Minimal    Allowlist   `json:"minimal"`
	Candidates []Candidate `json:"candidates"`
	// Runs is the number of sandbox runs the minimization took in all.
	Runs int `json:"runs"`
	// Repeat is how many consecutive successes accepted a removal.
	Repeat int `json:"repeat"`
	// Algorithm names the search, e.g. "adaptive-binary-splitting".
	Algorithm string `json:"algorithm"`
	// Confidence describes how far the result can be trusted.
	Confidence string  `json:"confidence"`
	Trials     []Trial `json:"trials"`
	// Interrupted is true when the search was stopped before it finished;
	// Minimal is then the best allowlist known to pass so far.
	Interrupted bool `json:"interrupted,omitempty"`
}

// Class is what minimization concluded about a candidate capability.
type Class string

// Candidate classes.
const (
	// Hard: recovery fails without it.
	Hard Class = "hard"
	// Soft: attempted, but recovery succeeds without it (cached,
	// optional, a fallback).
	Soft Class = "soft"
	// Alternative: one of a group where any one member suffices.
	Alternative Class = "alternative"
)

// Candidate is one capability minimization considered.
type Candidate struct {
	Capability Capability `json:"capability"`
	Class      Class      `json:"class"`
	// Group numbers a set of alternatives (members share it); 0 otherwise.
	Group int `json:"group,omitempty"`
	// Trials lists the IDs of the trials that decided the class.
	Trials []string `json:"trials,omitempty"`
}

// Trial is one sandbox run made during minimization.
type Trial struct {
	ID string `json:"id"`
	// Phase is "observe", "search" or "confirm".
	Phase     string   `json:"phase"`
	Allowed   []int    `json:"allowed"` // indices into Candidates
	Recovered bool     `json:"recovered"`
	Duration  Duration `json:"duration"`
}

// Duration is a time.Duration that reads and writes as a Go duration
// string ("1.5s") in JSON.
type Duration time.Duration

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(time.Duration(d).String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("want a duration such as 500ms, 5s or 2m, got %q", b)
	}
	*d = Duration(v)
	return nil
}

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }
