package k8sjob

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/rgraph/rgraph/internal/golden"
)

func fleetSpec() Spec {
	return Spec{
		Name: "rgraph-fleet", Namespace: "recovery", Image: "registry.example/rgraph:1.4", Shards: 8, Parallelism: 4,
		Scenarios:       []string{"teams/"},
		ScenariosVolume: Volume{"pvc", "scenarios"}, RecordsVolume: Volume{"pvc", "records"},
		Args: []string{"--check", "--release", "2026-12"}, CPU: "2", Memory: "4Gi",
	}
}

// TestJobDecodes writes the Job, decodes the YAML back into the API's own
// type (strictly: an unknown field is an error) and checks what matters.
func TestJobDecodes(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, fleetSpec()); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, buf.Bytes())
	var j batchv1.Job
	if err := yaml.UnmarshalStrict(buf.Bytes(), &j); err != nil {
		t.Fatalf("decoding the Job: %v\n%s", err, buf.Bytes())
	}
	s := j.Spec
	switch {
	case j.APIVersion != "batch/v1" || j.Kind != "Job" || j.Name != "rgraph-fleet" || j.Namespace != "recovery":
		t.Errorf("Job %s %s %s/%s", j.APIVersion, j.Kind, j.Namespace, j.Name)
	case s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion:
		t.Errorf("completionMode = %v, want Indexed", s.CompletionMode)
	case *s.Completions != 8 || *s.Parallelism != 4:
		t.Errorf("completions %d, parallelism %d; want 8, 4", *s.Completions, *s.Parallelism)
	case s.Template.Spec.RestartPolicy != corev1.RestartPolicyNever:
		t.Errorf("restartPolicy = %s, want Never (needed by podFailurePolicy)", s.Template.Spec.RestartPolicy)
	case s.Template.Spec.HostPID || s.Template.Spec.HostNetwork || s.Template.Spec.HostIPC:
		t.Errorf("the pod shares the host's PID, network or IPC namespace")
	}
	if r := s.PodFailurePolicy.Rules[0]; r.Action != batchv1.PodFailurePolicyActionFailIndex || !slices.Equal(r.OnExitCodes.Values, []int32{5, 6}) {
		t.Errorf("pod failure policy %+v, want FailIndex on 5 and 6", r)
	}
	if len(s.Template.Spec.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(s.Template.Spec.Containers))
	}
	c := s.Template.Spec.Containers[0]
	sc := c.SecurityContext
	if sc.Privileged == nil || *sc.Privileged {
		t.Errorf("privileged = %v, want false", sc.Privileged)
	}
	if d := cmp.Diff([]corev1.Capability{"SYS_ADMIN", "NET_ADMIN", "BPF", "PERFMON"}, sc.Capabilities.Add); d != "" {
		t.Errorf("capabilities (-want +got):\n%s", d)
	}
	if len(sc.Capabilities.Drop) != 0 || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("security context %+v", sc)
	}
	// The command: the preparation script, then rgraph with the shard
	// from JOB_COMPLETION_INDEX, of the Job's completions.
	want := []string{"rgraph", "run", "--out", "/records", "--shard", "auto", "--shard-count", "8", "--check", "--release", "2026-12", "--", "/scenarios/teams/"}
	if len(c.Command) < 4 || c.Command[0] != "sh" || !strings.Contains(c.Command[2], "mount -t tracefs") || !strings.HasSuffix(c.Command[2], `exec rgraph "$@"`) {
		t.Errorf("command %q", c.Command)
	} else if d := cmp.Diff(want, c.Command[3:]); d != "" {
		t.Errorf("rgraph's arguments (-want +got):\n%s", d)
	}
	mounts := map[string]corev1.VolumeMount{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m
	}
	if m := mounts["scenarios"]; m.MountPath != "/scenarios" || !m.ReadOnly {
		t.Errorf("scenarios mount %+v, want read-only at /scenarios", m)
	}
	if m := mounts["records"]; m.MountPath != "/records" || m.ReadOnly {
		t.Errorf("records mount %+v, want writable at /records", m)
	}
	claims := map[string]string{}
	for _, v := range s.Template.Spec.Volumes {
		claims[v.Name] = v.PersistentVolumeClaim.ClaimName
	}
	if d := cmp.Diff(map[string]string{"scenarios": "scenarios", "records": "records"}, claims); d != "" {
		t.Errorf("volumes (-want +got):\n%s", d)
	}
	if q := c.Resources.Limits[corev1.ResourceMemory]; q.String() != "4Gi" {
		t.Errorf("memory limit %s, want 4Gi", q.String())
	}
}

func TestJobErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Spec)
		want string
	}{
		{"no name", func(s *Spec) { s.Name = "" }, "a name is required"},
		{"no image", func(s *Spec) { s.Image = "" }, "an image is required"},
		{"no shards", func(s *Spec) { s.Shards = 0 }, "shards: 0"},
		{"parallelism", func(s *Spec) { s.Parallelism = 9 }, "parallelism: 9"},
		{"verb", func(s *Spec) { s.Verb = "ingest" }, `verb "ingest"`},
		{"records in a configmap", func(s *Spec) { s.RecordsVolume = Volume{"configmap", "x"} }, "cannot be written"},
		{"no records volume", func(s *Spec) { s.RecordsVolume = Volume{} }, "records volume: not given"},
		{"bad quantity", func(s *Spec) { s.Memory = "lots" }, `memory "lots"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fleetSpec()
			tt.edit(&s)
			if _, err := Job(s); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Job = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestParseVolume(t *testing.T) {
	tests := []struct {
		in   string
		want Volume
		ok   bool
	}{
		{"pvc:records", Volume{"pvc", "records"}, true},
		{"configmap:scenarios", Volume{"configmap", "scenarios"}, true},
		{"hostpath:/srv/rgraph", Volume{"hostpath", "/srv/rgraph"}, true},
		{"hostpath:srv", Volume{}, false},
		{"nfs:server", Volume{}, false},
		{"records", Volume{}, false},
	}
	for _, tt := range tests {
		got, err := ParseVolume(tt.in)
		if (err == nil) != tt.ok || (tt.ok && got != tt.want) {
			t.Errorf("ParseVolume(%q) = %v, %v; want %v (ok %v)", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
