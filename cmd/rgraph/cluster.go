package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/rgraph/rgraph/sandbox/k8sjob"
	"github.com/rgraph/rgraph/sandbox/slurmjob"
)

// clusterJobOptions are the parsed flags of rgraph cluster job.
type clusterJobOptions struct {
	Engine      string
	Name        string
	Shards      int
	Parallelism int
	Verb        string
	Scenarios   []string
	Args        []string

	// Slurm.
	Out       string
	Rgraph    string
	Partition string
	Time      string
	Logs      string

	// Kubernetes.
	Namespace       string
	Image           string
	ScenariosVolume string
	RecordsVolume   string
	CPU, Memory     string

	Env *Env
}

func newClusterCmd(env *Env, _ *globalOptions, runF func(context.Context, *clusterJobOptions) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Write the jobs that spread runs over a cluster engine",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	opts := &clusterJobOptions{Env: env}
	job := &cobra.Command{
		Use:   "job --engine slurm|k8s --shards N [flags] [SCENARIO...] [-- RUN-FLAGS...]",
		Short: "Write a Slurm job array or a Kubernetes Indexed Job of rgraph runs",
		Long: `Job writes, on stdout, a job for an engine that spreads rgraph run (or
minimize, --verb) of many scenarios over many machines as --shards parts,
each task running rgraph ... --out DIR --shard auto, which reads its part
from the engine's environment. Flags after -- go to rgraph run itself.

--engine slurm writes an sbatch script: a job array 0-(N-1) (at most
--parallelism tasks at once), each task running rgraph as root on its node
with the records written to --out, a directory every node shares.

--engine k8s writes an Indexed Job (completionMode: Indexed, one pod per
shard, the shard from JOB_COMPLETION_INDEX) with the scenarios on
--scenarios-volume (read-only at /scenarios) and the records on
--records-volume (at /records). Its pods get the capabilities a sandbox
needs (SYS_ADMIN, NET_ADMIN, BPF, PERFMON), not a privileged container, and
no host namespaces. SCENARIO paths are relative to the scenarios volume.

Nothing is submitted: pipe the output to sbatch or kubectl apply -f -.
The records are then one rgraph ingest away. See docs/scale.md.`,
		Example: `  rgraph cluster job --engine slurm --shards 16 --out /shared/records /shared/scenarios -- --check > fleet.sbatch
  sbatch fleet.sbatch
  rgraph cluster job --engine k8s --shards 16 --parallelism 8 --image registry.example/rgraph:1.4 \
      --scenarios-volume pvc:scenarios --records-volume pvc:records -- --check | kubectl apply -f -`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if n := cmd.ArgsLenAtDash(); n >= 0 {
				opts.Scenarios, opts.Args = args[:n], args[n:]
			} else {
				opts.Scenarios = args
			}
			switch {
			case opts.Shards < 1:
				return usageErrorf("--shards N is required (at least 1)")
			case opts.Parallelism < 0 || opts.Parallelism > opts.Shards:
				return usageErrorf("--parallelism must be between 1 and --shards")
			case opts.Engine == "slurm" && opts.Out == "":
				return usageErrorf("--engine slurm needs --out DIR, a directory every node shares")
			case opts.Engine == "slurm" && len(opts.Scenarios) == 0:
				return usageErrorf("--engine slurm needs the scenarios (files or directories every node sees)")
			case opts.Engine == "k8s" && (opts.Image == "" || opts.ScenariosVolume == "" || opts.RecordsVolume == ""):
				return usageErrorf("--engine k8s needs --image, --scenarios-volume and --records-volume")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return clusterJobRun(opts)
		},
	}
	f := job.Flags()
	addEnumFlag(job, &opts.Engine, "engine", "", "cluster engine", "slurm", "k8s")
	f.StringVar(&opts.Name, "name", "rgraph", "name of the job")
	f.IntVar(&opts.Shards, "shards", 0, "how many parts to cut the scenarios into: array tasks or pods (required)")
	f.IntVar(&opts.Parallelism, "parallelism", 0, "at most this many parts at once (default all)")
	addEnumFlag(job, &opts.Verb, "verb", "", "what each part does", "run", "minimize")
	f.StringVar(&opts.Out, "out", "", "slurm: the records directory, shared by every node")
	f.StringVar(&opts.Rgraph, "rgraph", "rgraph", "slurm: path of rgraph on the nodes")
	f.StringVar(&opts.Partition, "partition", "", "slurm: the partition to run in")
	f.StringVar(&opts.Time, "time", "", "slurm: each task's time limit (sbatch --time)")
	f.StringVar(&opts.Logs, "logs", "", "slurm: directory of the tasks' logs (default: where sbatch runs)")
	f.StringVar(&opts.Namespace, "namespace", "", "k8s: namespace of the Job")
	f.StringVar(&opts.Image, "image", "", "k8s: container image with rgraph, sh and mount")
	f.StringVar(&opts.ScenariosVolume, "scenarios-volume", "", "k8s: pvc:CLAIM, configmap:NAME or hostpath:/PATH holding the scenarios")
	f.StringVar(&opts.RecordsVolume, "records-volume", "", "k8s: pvc:CLAIM or hostpath:/PATH for the records")
	f.StringVar(&opts.CPU, "cpu", "", "k8s: each pod's CPU (request and limit), e.g. 2")
	f.StringVar(&opts.Memory, "memory", "", "k8s: each pod's memory (request and limit), e.g. 4Gi")
	cmd.AddCommand(job)
	return cmd
}

func clusterJobRun(opts *clusterJobOptions) error {
	if opts.Engine == "slurm" {
		err := slurmjob.Write(opts.Env.Out, slurmjob.Spec{
			Name: opts.Name, Shards: opts.Shards, Parallelism: opts.Parallelism, Verb: opts.Verb, Out: opts.Out,
			Rgraph: opts.Rgraph, Partition: opts.Partition, Time: opts.Time, Logs: opts.Logs,
			Scenarios: opts.Scenarios, Args: opts.Args,
		})
		if err != nil {
			return usageErrorf("%v", err)
		}
		return nil
	}
	spec := k8sjob.Spec{
		Name: opts.Name, Namespace: opts.Namespace, Image: opts.Image, Shards: opts.Shards, Parallelism: opts.Parallelism,
		Verb: opts.Verb, Scenarios: opts.Scenarios, Args: opts.Args, CPU: opts.CPU, Memory: opts.Memory,
	}
	var err error
	if spec.ScenariosVolume, err = k8sjob.ParseVolume(opts.ScenariosVolume); err != nil {
		return usageErrorf("--scenarios-volume: %v", err)
	}
	if spec.RecordsVolume, err = k8sjob.ParseVolume(opts.RecordsVolume); err != nil {
		return usageErrorf("--records-volume: %v", err)
	}
	if err := k8sjob.Write(opts.Env.Out, spec); err != nil {
		return usageErrorf("%v", err)
	}
	return nil
}
