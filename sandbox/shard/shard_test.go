package shard

import (
	"strconv"
	"strings"
	"testing"
)

func TestShardFromEnv(t *testing.T) {
	tests := []struct {
		name  string
		vars  map[string]string
		count int
		want  Shard
		err   string
	}{
		{"slurm", map[string]string{"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "3"}, 0, Shard{2, 3}, ""},
		{"slurm from 1", map[string]string{"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MIN": "1"}, 0, Shard{2, 3}, ""},
		{"slurm with gaps", map[string]string{"SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_COUNT": "3"}, 0, Shard{}, "numbered 0-(N-1)"},
		{"kubernetes", map[string]string{"JOB_COMPLETION_INDEX": "5"}, 8, Shard{5, 8}, ""},
		{"kubernetes count from env", map[string]string{"JOB_COMPLETION_INDEX": "0", "RGRAPH_SHARD_COUNT": "2"}, 0, Shard{0, 2}, ""},
		{"kubernetes without count", map[string]string{"JOB_COMPLETION_INDEX": "0"}, 0, Shard{}, ErrNoCount.Error()},
		{"gitlab", map[string]string{"CI_NODE_INDEX": "1", "CI_NODE_TOTAL": "4"}, 0, Shard{0, 4}, ""},
		{"nothing", map[string]string{}, 0, Shard{}, "no shard in the environment"},
		{"not a number", map[string]string{"SLURM_ARRAY_TASK_ID": "x", "SLURM_ARRAY_TASK_COUNT": "3"}, 0, Shard{}, "not a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FromEnv(func(k string) string { return tt.vars[k] }, tt.count)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("FromEnv = %v, %v; want an error containing %q", got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("FromEnv = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestJobFromEnv(t *testing.T) {
	tests := []struct {
		vars map[string]string
		want string
	}{
		{map[string]string{"SLURM_ARRAY_JOB_ID": "42", "SLURM_ARRAY_TASK_ID": "3", "SLURM_JOB_ID": "45"}, "slurm:42_3"},
		{map[string]string{"SLURM_JOB_ID": "45"}, "slurm:45"},
		{map[string]string{"JOB_COMPLETION_INDEX": "1", "HOSTNAME": "rgraph-fleet-1-x7"}, "k8s:rgraph-fleet-1-x7"},
		{map[string]string{"GITHUB_RUN_ID": "9", "GITHUB_RUN_ATTEMPT": "1", "GITHUB_REPOSITORY": "o/r", "GITHUB_JOB": "scenarios"}, "github:o/r/9/1/scenarios"},
		{map[string]string{"CI_JOB_ID": "77", "CI_PROJECT_PATH": "g/p"}, "gitlab:g/p/77"},
		{map[string]string{}, ""},
	}
	for _, tt := range tests {
		if got := Job(func(k string) string { return tt.vars[k] }); got != tt.want {
			t.Errorf("Job(%v) = %q, want %q", tt.vars, got, tt.want)
		}
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Shard
		err  string
	}{
		{"0/1", All, ""},
		{"2/3", Shard{2, 3}, ""},
		{"3/3", Shard{}, "want 0 <= I < N"},
		{"-1/3", Shard{}, "want 0 <= I < N"},
		{"1/0", Shard{}, "want 0 <= I < N"},
		{"auto", Shard{}, "want I/N"},
		{"1/x", Shard{}, "want I/N"},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Parse(%q) = %v, %v; want an error with %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want || got.String() != tt.in {
			t.Errorf("Parse(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

// TestOwns checks that every key has exactly one owner among the parts
// of N, and that the parts are about even.
func TestOwns(t *testing.T) {
	const n, keys = 4, 4000
	per := make([]int, n)
	for k := range keys {
		key := "svc-" + strconv.Itoa(k) + "/cold-start"
		owners := 0
		for i := range n {
			if (Shard{i, n}).Owns(key) {
				owners++
				per[i]++
			}
		}
		if owners != 1 {
			t.Fatalf("%s has %d owners", key, owners)
		}
		if !All.Owns(key) {
			t.Fatalf("All does not own %s", key)
		}
	}
	for i, c := range per {
		if c < keys/n*8/10 || c > keys/n*12/10 {
			t.Errorf("part %d of %d owns %d of %d keys", i, n, c, keys)
		}
	}
}
