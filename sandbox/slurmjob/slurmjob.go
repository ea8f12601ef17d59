// Package slurmjob writes the sbatch script that spreads rgraph runs (or
// minimizations) of a set of scenarios over a Slurm cluster: a job array
// of one task per shard, each running rgraph with --shard auto, which
// reads its shard from the SLURM_ARRAY_* variables. The scenarios and the
// records directory are paths every node shares. Nothing here talks to
// Slurm; sbatch submits what it writes.
package slurmjob

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Spec describes the job array.
type Spec struct {
	// Name of the job (sbatch --job-name); required.
	Name string
	// Shards is how many parts the scenarios are cut into: the array's
	// tasks, numbered from 0.
	Shards int
	// Parallelism is how many tasks run at once; 0 means all.
	Parallelism int
	// Verb is "run" (the default) or "minimize".
	Verb string
	// Out is the records directory, shared by every node; required.
	Out string
	// Rgraph is the path of rgraph on the nodes; default "rgraph".
	Rgraph string
	// Partition (sbatch --partition) and Time (sbatch --time, each task's
	// limit) are left to Slurm's defaults when empty.
	Partition, Time string
	// Logs is the directory of the tasks' logs; empty for where sbatch
	// runs.
	Logs string
	// Scenarios are the scenario files, directories or patterns, as every
	// node sees them; at least one.
	Scenarios []string
	// Args are passed on to the verb: --check, --upstream-netns, ...
	Args []string
}

func (spec Spec) check() error {
	var errs []error
	if spec.Name == "" {
		errs = append(errs, errors.New("a name is required"))
	}
	if spec.Shards < 1 {
		errs = append(errs, fmt.Errorf("shards: %d, want at least 1", spec.Shards))
	}
	if spec.Parallelism < 0 || spec.Parallelism > spec.Shards {
		errs = append(errs, fmt.Errorf("parallelism: %d, want 0 to %d", spec.Parallelism, spec.Shards))
	}
	if spec.Verb != "" && spec.Verb != "run" && spec.Verb != "minimize" {
		errs = append(errs, fmt.Errorf("verb %q: want run or minimize", spec.Verb))
	}
	if spec.Out == "" {
		errs = append(errs, errors.New("a records directory is required"))
	}
	if len(spec.Scenarios) == 0 {
		errs = append(errs, errors.New("scenarios are required"))
	}
	return errors.Join(errs...)
}

// Write writes the sbatch script for spec to w.
func Write(w io.Writer, spec Spec) error {
	if err := spec.check(); err != nil {
		return err
	}
	verb, rgraph := spec.Verb, spec.Rgraph
	if verb == "" {
		verb = "run"
	}
	if rgraph == "" {
		rgraph = "rgraph"
	}
	array := fmt.Sprintf("0-%d", spec.Shards-1)
	if spec.Parallelism > 0 {
		array += fmt.Sprintf("%%%d", spec.Parallelism)
	}
	logs := "%x-%A_%a.log"
	if spec.Logs != "" {
		logs = strings.TrimSuffix(spec.Logs, "/") + "/" + logs
	}
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/sh\n# rgraph %s of %s in %d shards, records to %s.\n", verb, strings.Join(spec.Scenarios, " "), spec.Shards, spec.Out)
	fmt.Fprintf(&b, "# Written by rgraph cluster job --engine slurm; submit with sbatch FILE (docs/scale.md).\n")
	fmt.Fprintf(&b, "#SBATCH --job-name=%s\n#SBATCH --array=%s\n#SBATCH --ntasks=1\n#SBATCH --output=%s\n", spec.Name, array, logs)
	if spec.Partition != "" {
		fmt.Fprintf(&b, "#SBATCH --partition=%s\n", spec.Partition)
	}
	if spec.Time != "" {
		fmt.Fprintf(&b, "#SBATCH --time=%s\n", spec.Time)
	}
	cmd := []string{rgraph, verb, "--out", spec.Out, "--shard", "auto"}
	cmd = append(cmd, spec.Args...)
	cmd = append(cmd, "--")
	cmd = append(cmd, spec.Scenarios...)
	for i, a := range cmd {
		cmd[i] = shellQuote(a)
	}
	fmt.Fprintf(&b, "exec %s\n", strings.Join(cmd, " "))
	_, err := io.WriteString(w, b.String())
	return err
}

// shellQuote quotes s for sh when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,+@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
