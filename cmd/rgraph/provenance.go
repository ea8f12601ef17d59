package main

import (
	"crypto/ed25519"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/collector/sign"
)

// provenance says where records written now are made: this host, the
// job found in the environment (or given by --job or RGRAPH_JOB), the
// shard, and this rgraph's version.
func provenance(env *Env, job, shard string) *collector.Provenance {
	p := &collector.Provenance{Job: job, Shard: shard, Tool: "rgraph " + version()}
	if env.Hostname != nil {
		p.Host, _ = env.Hostname()
	}
	if p.Job == "" {
		p.Job = env.Getenv("RGRAPH_JOB")
	}
	if p.Job == "" {
		p.Job = jobFromEnv(env.Getenv)
	}
	return p
}

// jobFromEnv names the batch job or CI run rgraph runs in, from the
// variables each engine sets: Slurm, Kubernetes (the pod's name is its
// host name; the Job rgraph writes sets RGRAPH_JOB), GitHub Actions,
// GitLab CI. "" when none is found.
func jobFromEnv(getenv func(string) string) string {
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

// version is rgraph's module version, "(devel)" in a work tree.
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// shard is one part of N of a set of scenarios.
type shard struct{ index, count int }

func (s shard) String() string { return fmt.Sprintf("%d/%d", s.index, s.count) }

// parseShard parses "I/N" (0 <= I < N).
func parseShard(s string) (shard, error) {
	i, n, ok := strings.Cut(s, "/")
	index, err1 := strconv.Atoi(i)
	count, err2 := strconv.Atoi(n)
	switch {
	case !ok || err1 != nil || err2 != nil:
		return shard{}, fmt.Errorf("want I/N (this is part I of N, counting from 0) or auto, got %q", s)
	case count < 1 || index < 0 || index >= count:
		return shard{}, fmt.Errorf("%q: want 0 <= I < N", s)
	}
	return shard{index, count}, nil
}

// shardFromEnv finds the shard in the environment a batch engine sets:
// a Slurm job array (SLURM_ARRAY_TASK_ID, counted from
// SLURM_ARRAY_TASK_MIN, of SLURM_ARRAY_TASK_COUNT tasks), a Kubernetes
// Indexed Job (JOB_COMPLETION_INDEX, of count, which Kubernetes does not
// tell: --shard-count or RGRAPH_SHARD_COUNT), or GitLab's parallel jobs
// (CI_NODE_INDEX of CI_NODE_TOTAL, from 1).
func shardFromEnv(getenv func(string) string, count int) (shard, error) {
	num := func(name string) (int, error) {
		v, err := strconv.Atoi(getenv(name))
		if err != nil {
			return 0, fmt.Errorf("--shard auto: %s=%q is not a number", name, getenv(name))
		}
		return v, nil
	}
	var s shard
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
			return shard{}, err
		}
		s = shard{id - lo, n}
	case getenv("JOB_COMPLETION_INDEX") != "":
		if s.index, err = num("JOB_COMPLETION_INDEX"); err != nil {
			return shard{}, err
		}
		s.count = count
		if s.count == 0 && getenv("RGRAPH_SHARD_COUNT") != "" {
			if s.count, err = num("RGRAPH_SHARD_COUNT"); err != nil {
				return shard{}, err
			}
		}
		if s.count == 0 {
			return shard{}, fmt.Errorf("--shard auto: JOB_COMPLETION_INDEX is set, but Kubernetes does not say how many shards there are: give --shard-count N or RGRAPH_SHARD_COUNT")
		}
	case getenv("CI_NODE_INDEX") != "":
		i, err1 := num("CI_NODE_INDEX")
		n, err2 := num("CI_NODE_TOTAL")
		if err := firstErr(err1, err2); err != nil {
			return shard{}, err
		}
		s = shard{i - 1, n}
	default:
		return shard{}, fmt.Errorf("--shard auto: no shard in the environment (SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX or CI_NODE_INDEX)")
	}
	if s.count < 1 || s.index < 0 || s.index >= s.count {
		return shard{}, fmt.Errorf("--shard auto: the environment says shard %d of %d; a job array must be numbered 0-(N-1) without gaps", s.index, s.count)
	}
	return s, nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// readSignKey reads the private key --sign-key names, or returns nil
// for "".
func readSignKey(path string) (ed25519.PrivateKey, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading signing key: %w", err)
	}
	return sign.ParsePrivateKey(b, path)
}
