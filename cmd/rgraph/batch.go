package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/collector/sign"
	"github.com/rgraph/rgraph/render"
	"github.com/rgraph/rgraph/sandbox"
	"github.com/rgraph/rgraph/sandbox/shard"
)

// batchFlags are what rgraph run and rgraph minimize share for many
// scenarios, and for the provenance and signature of what they write.
type batchFlags struct {
	Scenarios  []string
	Out        string
	Shard      string
	ShardCount int
	Force      bool
	Job        string
	SignKey    string
}

func addBatchFlags(cmd *cobra.Command, b *batchFlags) {
	f := cmd.Flags()
	f.StringVar(&b.Out, "out", "", "run many scenarios, writing one record per scenario into `DIR` (see docs/scale.md)")
	f.StringVar(&b.Shard, "shard", "", "with --out, only part `I/N` of the scenarios (0 <= I < N), or auto: from Slurm, Kubernetes or GitLab")
	f.IntVar(&b.ShardCount, "shard-count", 0, "with --shard auto on Kubernetes, how many shards there are (or RGRAPH_SHARD_COUNT)")
	f.BoolVar(&b.Force, "force", false, "with --out, run scenarios again whose record is already there")
	f.StringVar(&b.Job, "job", "", "name the job in the records' provenance (default: $RGRAPH_JOB, or what Slurm, Kubernetes or CI say)")
	f.StringVar(&b.SignKey, "sign-key", "", "sign every record written with the ed25519 private key in `FILE` (see rgraph key)")
}

// check validates the batch flags against the scenarios given; single is
// the name of a flag that works with one scenario only, if set.
func (b *batchFlags) check(single ...string) error {
	switch {
	case b.Out == "" && len(b.Scenarios) > 1:
		return usageErrorf("%d scenarios: give --out DIR for the records (one per scenario)", len(b.Scenarios))
	case b.Out == "" && (b.Shard != "" || b.Force):
		return usageErrorf("--shard and --force work with --out DIR")
	case b.ShardCount < 0:
		return usageErrorf("--shard-count must be positive")
	case b.Shard != "" && b.Shard != "auto":
		if _, err := shard.Parse(b.Shard); err != nil {
			return usageErrorf("--shard: %v", err)
		}
	}
	if b.Out != "" {
		for _, f := range single {
			if f != "" {
				return usageErrorf("%s works with one scenario, not with --out", f)
			}
		}
	}
	return nil
}

// batchJob is what a verb does to one scenario of a batch.
type batchJob struct {
	// verb is "run" or "minimize", for messages.
	verb string
	// kind names the records written.
	kind collector.RecordKind
	// check makes attempts outside the committed allowlist count (run --check).
	check bool
	// do runs the scenario and returns its record.
	do func(ctx context.Context, sc *sandbox.Scenario) (*collector.Record, error)
}

// batchScenario is one scenario of a batch and what became of it.
type batchScenario struct {
	render.BatchScenario

	key string
	sc  *sandbox.Scenario
	err error
}

// Batch statuses.
const (
	statusRecovered    = "recovered"
	statusNotRecovered = "not-recovered"
	statusCreep        = "creep"
	statusError        = "error"
	statusInterrupted  = "interrupted"
)

// runBatch runs job on this shard's part of the scenarios, writing a
// record per scenario into flags.Out, and prints a summary. The exit
// status says whether every scenario recovered: 0 if so, 1 if any could
// not be run, 5 if any did not recover, 6 (--check) if any attempted
// something outside its committed allowlist. A missing privilege (4) or
// an interrupt (130) stops the batch at once; records already written
// stay, and only the scenario in flight is lost.
func runBatch(ctx context.Context, env *Env, flags *batchFlags, job batchJob, output string, prog *progress) error {
	sh := shard.All
	var err error
	switch flags.Shard {
	case "":
	case "auto":
		sh, err = shard.FromEnv(env.Getenv, flags.ShardCount)
		if errors.Is(err, shard.ErrNoCount) {
			return usageErrorf("--shard auto: %v: give --shard-count N or RGRAPH_SHARD_COUNT", err)
		}
		if err != nil {
			return usageErrorf("--shard auto: %v", err)
		}
	default:
		sh, _ = shard.Parse(flags.Shard) // checked with the flags
	}
	key, err := readSignKey(flags.SignKey)
	if err != nil {
		return err
	}
	paths, err := sandbox.FindScenarios(flags.Scenarios...)
	if errors.Is(err, filepath.ErrBadPattern) {
		return &usageError{err}
	}
	if err != nil {
		return err
	}
	all := loadScenarios(paths)
	mine := assign(all, sh)
	if err := os.MkdirAll(flags.Out, 0o755); err != nil {
		return fmt.Errorf("creating the records directory: %w", err)
	}
	prov := provenance(env, flags.Job, sh.String())
	sum := render.BatchDoc{Verb: job.verb, Shard: sh.String(), Out: flags.Out, Total: len(all), Assigned: len(mine), Counts: map[string]int{}}
	progress := func(i int, s *batchScenario, took time.Duration) {
		what := s.Status
		switch {
		case s.Skipped:
			what += " (record already there)"
		case s.err != nil:
			what += ": " + s.err.Error()
		default:
			what += " in " + render.FormatDuration(took)
		}
		prog.note("[%d/%d] %s: %s", i+1, len(mine), s.Path, what)
	}

	var stop error
	for i, s := range mine {
		if err := ctx.Err(); err != nil {
			stop = err
			break
		}
		start := time.Now()
		if s.err == nil {
			stop = runOne(ctx, flags, job, s, prov, key)
		}
		if s.err != nil {
			s.Status, s.Error = statusError, s.err.Error()
		}
		if stop != nil {
			s.Status = statusInterrupted
			sum.Scenarios = append(sum.Scenarios, s.BatchScenario)
			break
		}
		progress(i, s, time.Since(start))
		sum.Scenarios = append(sum.Scenarios, s.BatchScenario)
	}
	for _, s := range sum.Scenarios {
		sum.Counts[s.Status]++
		if s.Skipped {
			sum.Skipped++
		}
	}
	prog.done()
	if output == "json" {
		err = render.BatchJSON(env.Out, sum)
	} else {
		err = render.Batch(env.Out, env.Terminal(), sum)
	}
	if err != nil {
		return err
	}
	switch {
	case stop != nil:
		return stop
	case sum.Counts[statusError] > 0:
		return fmt.Errorf("shard %s: %d of %d scenarios could not be %s", sh, sum.Counts[statusError], len(mine), pastTense(job.verb))
	case sum.Counts[statusNotRecovered] > 0:
		return &notRecoveredError{}
	case sum.Counts[statusCreep] > 0:
		return &creepError{}
	}
	return nil
}

func pastTense(verb string) string {
	if verb == "run" {
		return "run"
	}
	return verb + "d"
}

// runOne runs one scenario unless its record is there already, writes
// the record and judges it. It returns an error only when the batch must
// stop: an interrupt, or a missing privilege, which no later scenario
// would have either; other failures are the scenario's (s.err).
func runOne(ctx context.Context, flags *batchFlags, job batchJob, s *batchScenario, prov *collector.Provenance, key ed25519.PrivateKey) error {
	// Shards own disjoint scenarios, so no two shards or machines ever
	// write one file.
	s.Record = collector.FileName(s.sc.Service, s.sc.Name, job.kind)
	path := filepath.Join(flags.Out, s.Record)
	if !flags.Force {
		if rec, ok := existingRecord(path, key); ok {
			s.Skipped = true
			s.RunID = rec.ID
			s.Status = judge(s.sc, rec, job.check)
			return nil
		}
	}
	rec, err := job.do(ctx, s.sc)
	if err != nil {
		var nr *notRecoveredError
		switch {
		case stopsBatch(ctx, err):
			return err
		case errors.As(err, &nr):
			// A minimization whose scenario does not recover even with
			// everything allowed: no record, and nothing to run again
			// until it is fixed.
			s.Status, s.Error = statusNotRecovered, err.Error()
			return nil
		}
		s.err = err
		return nil
	}
	p := *prov
	rec.Provenance = &p
	if err := collector.WriteFile(path, rec, key); err != nil {
		s.err = err
		return nil
	}
	s.RunID = rec.ID
	s.Status = judge(s.sc, rec, job.check)
	return nil
}

// stopsBatch reports whether err ends a batch: an interrupt, or a missing
// privilege or kernel feature.
func stopsBatch(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		return true
	}
	code := exitCode(ctx, err)
	return code == exitInterrupted || code == exitPrivilege
}

// judge is the status of a scenario's record.
func judge(sc *sandbox.Scenario, rec *collector.Record, check bool) string {
	if !rec.Outcome.Recovered {
		return statusNotRecovered
	}
	if check {
		if !rec.Collection.Complete {
			return statusCreep
		}
		if committed, err := sc.Committed(); err == nil && len(sandbox.Outside(rec.Attempts, committed)) > 0 {
			return statusCreep
		}
	}
	return statusRecovered
}

// existingRecord returns the record at path if it is there, decodes, and
// (when signing) carries a valid signature by key; a record that fails
// any of these is made again.
func existingRecord(path string, key ed25519.PrivateKey) (*collector.Record, bool) {
	var (
		rec *collector.Record
		err error
	)
	if key == nil {
		rec, err = collector.ReadFile(path)
	} else {
		rec, err = collector.ReadSignedFile(path, sign.NewKeyring(key.Public().(ed25519.PublicKey)))
	}
	return rec, err == nil
}

// loadScenarios loads every scenario; one that does not load keeps its
// error, and is keyed by its path.
func loadScenarios(paths []string) []*batchScenario {
	out := make([]*batchScenario, len(paths))
	for i, p := range paths {
		s := &batchScenario{BatchScenario: render.BatchScenario{Path: p}, key: "path:" + filepath.ToSlash(filepath.Clean(p))}
		if sc, err := sandbox.LoadScenario(p); err != nil {
			s.err = err
		} else {
			s.sc, s.Service, s.Scenario = sc, sc.Service, sc.Name
			s.key = sc.Service + "/" + sc.Name
		}
		out[i] = s
	}
	return out
}

// assign returns the scenarios of shard sh: those whose key (service and
// scenario name, or the path of one that does not load) hashes to it. The
// assignment depends on the scenario alone, not on its place in a
// listing, so running a shard again redoes the same scenarios wherever
// the files are. A second scenario with the key of an earlier one gets an
// error (both would write one record).
func assign(all []*batchScenario, sh shard.Shard) []*batchScenario {
	var mine []*batchScenario
	first := map[string]string{}
	for _, s := range all {
		if !sh.Owns(s.key) {
			continue
		}
		if prev, dup := first[s.key]; dup && s.err == nil {
			s.err = fmt.Errorf("scenario %s of service %s is also in %s", s.Scenario, s.Service, prev)
		} else if !dup {
			first[s.key] = s.Path
		}
		mine = append(mine, s)
	}
	return mine
}
