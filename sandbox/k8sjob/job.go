package k8sjob

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// Mount points of the two volumes in the pods.
const (
	ScenariosPath = "/scenarios"
	RecordsPath   = "/records"
)

// Capabilities are what a sandbox run needs besides the container
// runtime's defaults (which the runbooks inside may use), and why:
//
//	SYS_ADMIN  unshare and setns of network and mount namespaces; the bind
//	           mounts of a run (resolv.conf, /run/netns); making the pod's
//	           cgroup v2 tree writable and mounting tracefs at start
//	NET_ADMIN  the veth pair, addresses and routes of each run's namespace;
//	           attaching cgroup sock_addr and skb programs
//	BPF        loading the recorder's programs and maps
//	PERFMON    attaching its tracepoint programs
//
// The pod needs neither hostPID (runs live in the pod's own PID namespace)
// nor hostNetwork (the pod's network is the upstream the sandboxes leak
// back to), nor a privileged container.
var Capabilities = []corev1.Capability{"SYS_ADMIN", "NET_ADMIN", "BPF", "PERFMON"}

// Spec describes the Job.
type Spec struct {
	// Name of the Job (and prefix of its pods' names); required.
	Name string
	// Namespace of the Job; empty for kubectl's current one.
	Namespace string
	// Image runs rgraph; it needs rgraph on PATH, sh and mount (util-linux
	// or busybox), and whatever the scenarios' runbooks call.
	Image string
	// Shards is how many parts the scenarios are cut into: the Job's
	// completions, one pod each.
	Shards int
	// Parallelism is how many pods run at once; 0 means Shards.
	Parallelism int
	// Verb is "run" (the default) or "minimize".
	Verb string
	// Scenarios are the scenario files, directories or patterns, relative
	// to the scenarios volume; empty means all of it.
	Scenarios []string
	// ScenariosVolume (mounted read-only at [ScenariosPath]) and
	// RecordsVolume (read-write at [RecordsPath]) are where the scenarios
	// are and where the records go; see [ParseVolume].
	ScenariosVolume, RecordsVolume Volume
	// Args are passed on to the verb: --check, --upstream-netns, ...
	Args []string
	// CPU and Memory are each pod's requests and limits, as Kubernetes
	// quantities ("2", "4Gi"); empty for none.
	CPU, Memory string
	// RetriesPerIndex is how often a shard's pod is retried after it
	// failed to run (not after a scenario did not recover); default 2.
	RetriesPerIndex int
}

// Volume is a volume the user names: a PersistentVolumeClaim, a
// ConfigMap (scenarios only) or a directory on the node.
type Volume struct {
	Kind string // "pvc", "configmap" or "hostpath"
	Name string // the claim's, the ConfigMap's name, or the node's path
}

func (v Volume) String() string { return v.Kind + ":" + v.Name }

// ParseVolume parses pvc:CLAIM, configmap:NAME or hostpath:/PATH.
func ParseVolume(s string) (Volume, error) {
	kind, name, ok := strings.Cut(s, ":")
	v := Volume{Kind: kind, Name: name}
	switch {
	case !ok || name == "":
		return v, fmt.Errorf("volume %q: want pvc:CLAIM, configmap:NAME or hostpath:/PATH", s)
	case kind == "hostpath" && !strings.HasPrefix(name, "/"):
		return v, fmt.Errorf("volume %q: a host path must be absolute", s)
	case kind != "pvc" && kind != "configmap" && kind != "hostpath":
		return v, fmt.Errorf("volume %q: unknown kind %q (want pvc, configmap or hostpath)", s, kind)
	}
	return v, nil
}

// prepare runs in each pod before rgraph: it makes the pod's cgroup
// namespace writable (container runtimes mount it read-only) and mounts
// tracefs for the recorder's tracepoints. Both need SYS_ADMIN, and touch
// only the pod's own view.
const prepare = `set -e
mount -o remount,rw /sys/fs/cgroup
if [ ! -e /sys/kernel/tracing/events ]; then mount -t tracefs nodev /sys/kernel/tracing; fi
`

// Job returns the Indexed Job for spec.
func Job(spec Spec) (*batchv1.Job, error) {
	if err := spec.check(); err != nil {
		return nil, err
	}
	verb := spec.Verb
	if verb == "" {
		verb = "run"
	}
	parallel := spec.Parallelism
	if parallel == 0 {
		parallel = spec.Shards
	}
	retries := int32(spec.RetriesPerIndex)
	if retries == 0 {
		retries = 2
	}
	scenarios := make([]string, 0, len(spec.Scenarios))
	for _, s := range spec.Scenarios {
		scenarios = append(scenarios, ScenariosPath+"/"+strings.TrimPrefix(s, "/"))
	}
	if len(scenarios) == 0 {
		scenarios = []string{ScenariosPath}
	}
	args := append([]string{verb, "--out", RecordsPath, "--shard", "auto", "--shard-count", strconv.Itoa(spec.Shards)}, spec.Args...)
	args = append(args, "--")
	args = append(args, scenarios...)
	// sh -c SCRIPT NAME ARGS...: the script runs rgraph with "$@", so no
	// argument is ever parsed by the shell.
	command := []string{"sh", "-c", prepare + `exec rgraph "$@"`, "rgraph"}
	command = append(command, args...)

	labels := map[string]string{"app.kubernetes.io/name": "rgraph", "app.kubernetes.io/component": verb}
	res, err := resources(spec.CPU, spec.Memory)
	if err != nil {
		return nil, err
	}
	scenVol, err := volume("scenarios", spec.ScenariosVolume, true)
	if err != nil {
		return nil, err
	}
	recVol, err := volume("records", spec.RecordsVolume, false)
	if err != nil {
		return nil, err
	}
	indexed := batchv1.IndexedCompletion
	root := int64(0)
	return &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{Name: spec.Name, Namespace: spec.Namespace, Labels: labels},
		Spec: batchv1.JobSpec{
			CompletionMode:       &indexed,
			Completions:          ptr(int32(spec.Shards)),
			Parallelism:          ptr(int32(parallel)),
			BackoffLimitPerIndex: &retries,
			// A scenario that did not recover (5) or crept (6) is a
			// verdict, not a failure to retry.
			PodFailurePolicy: &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{
				Action: batchv1.PodFailurePolicyActionFailIndex,
				OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{
					ContainerName: ptr("rgraph"),
					Operator:      batchv1.PodFailurePolicyOnExitCodesOpIn,
					Values:        []int32{5, 6},
				},
			}}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyNever,
					HostPID:       false,
					HostNetwork:   false,
					Containers: []corev1.Container{{
						Name:      "rgraph",
						Image:     spec.Image,
						Command:   command,
						Resources: res,
						SecurityContext: &corev1.SecurityContext{
							Privileged:               ptr(false),
							AllowPrivilegeEscalation: ptr(true), // required with SYS_ADMIN
							RunAsUser:                &root,
							Capabilities:             &corev1.Capabilities{Add: Capabilities},
							SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
							// The runtime's default AppArmor profile forbids
							// mount, which the sandbox needs.
							AppArmorProfile: &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeUnconfined},
						},
						VolumeMounts: []corev1.VolumeMount{
							{Name: "scenarios", MountPath: ScenariosPath, ReadOnly: true},
							{Name: "records", MountPath: RecordsPath},
						},
					}},
					Volumes: []corev1.Volume{scenVol, recVol},
				},
			},
		},
	}, nil
}

func (spec Spec) check() error {
	var errs []error
	if spec.Name == "" {
		errs = append(errs, errors.New("a name is required"))
	}
	if spec.Image == "" {
		errs = append(errs, errors.New("an image is required"))
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
	if spec.RecordsVolume.Kind == "configmap" {
		errs = append(errs, errors.New("records volume: a ConfigMap cannot be written"))
	}
	return errors.Join(errs...)
}

func volume(name string, v Volume, readOnly bool) (corev1.Volume, error) {
	out := corev1.Volume{Name: name}
	switch v.Kind {
	case "pvc":
		out.PersistentVolumeClaim = &corev1.PersistentVolumeClaimVolumeSource{ClaimName: v.Name, ReadOnly: readOnly}
	case "configmap":
		out.ConfigMap = &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: v.Name}}
	case "hostpath":
		t := corev1.HostPathDirectory
		if !readOnly {
			t = corev1.HostPathDirectoryOrCreate
		}
		out.HostPath = &corev1.HostPathVolumeSource{Path: v.Name, Type: &t}
	default:
		return out, fmt.Errorf("%s volume: not given (want pvc:CLAIM, configmap:NAME or hostpath:/PATH)", name)
	}
	return out, nil
}

func resources(cpu, memory string) (corev1.ResourceRequirements, error) {
	var r corev1.ResourceRequirements
	for _, q := range []struct {
		name  corev1.ResourceName
		value string
	}{{corev1.ResourceCPU, cpu}, {corev1.ResourceMemory, memory}} {
		if q.value == "" {
			continue
		}
		v, err := resource.ParseQuantity(q.value)
		if err != nil {
			return r, fmt.Errorf("%s %q: %v", q.name, q.value, err)
		}
		if r.Requests == nil {
			r.Requests, r.Limits = corev1.ResourceList{}, corev1.ResourceList{}
		}
		r.Requests[q.name], r.Limits[q.name] = v, v
	}
	return r, nil
}

func ptr[T any](v T) *T { return &v }

// Write writes the Job for spec to w as YAML, with a comment saying how
// to apply it.
func Write(w io.Writer, spec Spec) error {
	j, err := Job(spec)
	if err != nil {
		return err
	}
	b, err := yaml.Marshal(j)
	if err != nil {
		return fmt.Errorf("encoding the job: %w", err)
	}
	_, err = fmt.Fprintf(w, "# rgraph %s of the scenarios on %s in %d shards, records to %s.\n# Written by rgraph cluster job; apply with kubectl apply -f FILE (docs/scale.md).\n%s",
		orRun(spec.Verb), spec.ScenariosVolume, spec.Shards, spec.RecordsVolume, b)
	return err
}

func orRun(v string) string {
	if v == "" {
		return "run"
	}
	return v
}
