// Package shard cuts a set of scenarios into the parts that batch engines
// run on many machines (a Slurm job array, a Kubernetes Indexed Job,
// GitLab's parallel jobs), and reads from an engine's environment which
// part a process runs and which job it belongs to.
//
// A scenario's part depends on the scenario alone ([Of] its key), not on
// its place in a listing, so running a part again redoes the same
// scenarios wherever the files are, and parts never share a scenario.
package shard

import (
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// Shard is part Index of Count, counted from 0.
type Shard struct{ Index, Count int }

// All is the one part of one: everything.
var All = Shard{0, 1}

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// Owns reports whether the scenario with key belongs to s.
func (s Shard) Owns(key string) bool { return Of(key, s.Count) == s.Index }

// Of is the part of n that owns key: FNV-1a, modulo n.
func Of(key string, n int) int {
	h := fnv.New64a()
	h.Write([]byte(key))
	return int(h.Sum64() % uint64(n))
}

// Parse parses "I/N" (0 <= I < N).
func Parse(s string) (Shard, error) {
	i, n, ok := strings.Cut(s, "/")
	index, err1 := strconv.Atoi(i)
	count, err2 := strconv.Atoi(n)
	switch {
	case !ok || err1 != nil || err2 != nil:
		return Shard{}, fmt.Errorf("want I/N (this is part I of N, counting from 0), got %q", s)
	case count < 1 || index < 0 || index >= count:
		return Shard{}, fmt.Errorf("%q: want 0 <= I < N", s)
	}
	return Shard{index, count}, nil
}

// ErrNoCount is returned by [FromEnv] in a Kubernetes Indexed Job, whose
// environment says which part a pod runs but not how many there are,
// when the count is not given.
var ErrNoCount = errors.New("JOB_COMPLETION_INDEX is set, but Kubernetes does not say how many shards there are")

// FromEnv finds the part in the environment a batch engine sets, read
// through getenv: a Slurm job array (SLURM_ARRAY_TASK_ID, counted from
// SLURM_ARRAY_TASK_MIN, of SLURM_ARRAY_TASK_COUNT tasks), a Kubernetes
// Indexed Job (JOB_COMPLETION_INDEX, of count, or else of
// RGRAPH_SHARD_COUNT; [ErrNoCount] without either), or GitLab's parallel
// jobs (CI_NODE_INDEX of CI_NODE_TOTAL, from 1).
func FromEnv(getenv func(string) string, count int) (Shard, error) {
	num := func(name string) (int, error) {
		v, err := strconv.Atoi(getenv(name))
		if err != nil {
			return 0, fmt.Errorf("%s=%q is not a number", name, getenv(name))
		}
		return v, nil
	}
	var s Shard
	var err error
	switch {
	case getenv("SLURM_ARRAY_TASK_ID") != "":
		id, err1 := num("SLURM_ARRAY_TASK_ID")
		n, err2 := num("SLURM_ARRAY_TASK_COUNT")
		lo := 0
		if getenv("SLURM_ARRAY_TASK_MIN") != "" {
			lo, err = num("SLURM_ARRAY_TASK_MIN")
		}
		if err = firstErr(err1, err2, err); err != nil {
			return Shard{}, err
		}
		s = Shard{id - lo, n}
	case getenv("JOB_COMPLETION_INDEX") != "":
		if s.Index, err = num("JOB_COMPLETION_INDEX"); err != nil {
			return Shard{}, err
		}
		s.Count = count
		if s.Count == 0 && getenv("RGRAPH_SHARD_COUNT") != "" {
			if s.Count, err = num("RGRAPH_SHARD_COUNT"); err != nil {
				return Shard{}, err
			}
		}
		if s.Count == 0 {
			return Shard{}, ErrNoCount
		}
	case getenv("CI_NODE_INDEX") != "":
		i, err1 := num("CI_NODE_INDEX")
		n, err2 := num("CI_NODE_TOTAL")
		if err := firstErr(err1, err2); err != nil {
			return Shard{}, err
		}
		s = Shard{i - 1, n}
	default:
		return Shard{}, errors.New("no shard in the environment (SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX or CI_NODE_INDEX)")
	}
	if s.Count < 1 || s.Index < 0 || s.Index >= s.Count {
		return Shard{}, fmt.Errorf("the environment says shard %d of %d; a job array must be numbered 0-(N-1) without gaps", s.Index, s.Count)
	}
	return s, nil
}

// firstErr is the first error that is not nil.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Job names the batch job or CI run a process runs in, from the
// variables each engine sets, read through getenv: Slurm, Kubernetes (the
// pod's name is its host name), GitHub Actions, GitLab CI. "" when none
// is found.
func Job(getenv func(string) string) string {
	switch {
	case getenv("SLURM_ARRAY_JOB_ID") != "":
		return "slurm:" + getenv("SLURM_ARRAY_JOB_ID") + "_" + getenv("SLURM_ARRAY_TASK_ID")
	case getenv("SLURM_JOB_ID") != "":
		return "slurm:" + getenv("SLURM_JOB_ID")
	case getenv("JOB_COMPLETION_INDEX") != "" && getenv("HOSTNAME") != "":
		return "k8s:" + getenv("HOSTNAME")
	case getenv("GITHUB_RUN_ID") != "":
		return "github:" + getenv("GITHUB_REPOSITORY") + "/" + getenv("GITHUB_RUN_ID") + "/" + getenv("GITHUB_RUN_ATTEMPT") + "/" + getenv("GITHUB_JOB")
	case getenv("CI_JOB_ID") != "":
		return "gitlab:" + getenv("CI_PROJECT_PATH") + "/" + getenv("CI_JOB_ID")
	}
	return ""
}
