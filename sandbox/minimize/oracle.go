package minimize

import (
	"context"
	"time"

	"github.com/rgraph/rgraph/collector"
)

// Phase is the pass of a minimization a trial belongs to; its values are
// those of [collector.Trial.Phase].
type Phase string

// Phases, in the order a minimization goes through them.
const (
	// PhaseObserve is the first run with everything allowed, whose
	// attempts become the candidates.
	PhaseObserve Phase = "observe"
	// PhaseSearch covers the check that the candidates alone suffice and
	// the search for a minimal subset.
	PhaseSearch Phase = "search"
	// PhaseConfirm covers re-verifying the minimal set, the leave-one-out
	// test of each member and the search for alternatives.
	PhaseConfirm Phase = "confirm"
)

// Trial is one run a minimization asks its [Oracle] for.
type Trial struct {
	// ID is unique within the minimization ("trial-0007"). When the run
	// record the oracle returns has an ID of its own (unique within the
	// minimization), the trial takes that one instead, so that the
	// minimization record's evidence names the run records.
	ID    string
	Phase Phase
	// Allow is the allowlist the run may use: [collector.Capability.All]
	// for the observe run, else a subset of the candidates.
	Allow collector.Allowlist
}

// Outcome is what one trial showed.
type Outcome struct {
	// Recovered is the verdict of the scenario's validation.
	Recovered bool
	// Record is the run record, if the oracle has one. Its attempts are
	// the candidates (observe run) or new candidates found on the way
	// (denied attempts of later runs), and the record of the final
	// verification run becomes the body of the minimization record.
	Record *collector.Record
	// Duration is how long the run took; when zero the minimizer uses the
	// time Try took.
	Duration time.Duration
}

// Oracle runs a scenario under an allowlist and says whether it recovered.
//
// The contract, on which the minimizer's guarantees rest:
//   - Every Try starts from a clean state (a fresh sandbox: no caches,
//     files or processes left by an earlier trial), so trials are
//     independent; a warm start would turn into false successes.
//   - Try is safe for concurrent calls when [Options.Parallel] is above
//     one, and concurrent trials do not see each other.
//   - When ctx is cancelled Try stops the run, cleans up everything it
//     created and returns promptly with an error wrapping ctx.Err().
//   - An error means the trial could not be run at all (no privileges, a
//     broken scenario); a scenario that does not recover is an Outcome
//     with Recovered false. Any error aborts the minimization.
type Oracle interface {
	Try(ctx context.Context, t Trial) (Outcome, error)
}

// OracleFunc adapts a function to the [Oracle] interface.
type OracleFunc func(ctx context.Context, t Trial) (Outcome, error)

// Try calls f(ctx, t).
func (f OracleFunc) Try(ctx context.Context, t Trial) (Outcome, error) { return f(ctx, t) }
