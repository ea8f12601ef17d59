package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestClusterJob(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"slurm", []string{"--engine", "slurm", "--shards", "3", "--parallelism", "2", "--out", "/shared/recs", "--rgraph", "/opt/rgraph", "/shared/scen", "--", "--check", "--upstream-netns", "prod ns"},
			exitOK, []string{"#SBATCH --array=0-2%2\n", "exec /opt/rgraph run --out /shared/recs --shard auto --check --upstream-netns 'prod ns' -- /shared/scen\n"}},
		{"slurm minimize", []string{"--engine", "slurm", "--verb", "minimize", "--shards", "1", "--out", "o", "s"},
			exitOK, []string{"#SBATCH --array=0-0\n", "exec rgraph minimize --out o --shard auto -- s\n"}},
		{"k8s", []string{"--engine", "k8s", "--shards", "4", "--image", "img", "--scenarios-volume", "configmap:scen", "--records-volume", "pvc:recs", "--", "--check"},
			exitOK, []string{"completionMode: Indexed", "completions: 4", "- SYS_ADMIN", "claimName: recs", "- --shard-count\n        - \"4\"\n        - --check\n        - --\n        - /scenarios\n"}},
		{"slurm without --out", []string{"--engine", "slurm", "--shards", "3", "s"}, exitUsage, nil},
		{"no shards", []string{"--engine", "slurm", "--out", "o", "s"}, exitUsage, nil},
		{"k8s without volumes", []string{"--engine", "k8s", "--shards", "2", "--image", "img"}, exitUsage, nil},
		{"k8s bad volume", []string{"--engine", "k8s", "--shards", "2", "--image", "img", "--scenarios-volume", "nfs:x", "--records-volume", "pvc:r"}, exitUsage, nil},
		{"bad engine", []string{"--engine", "nomad", "--shards", "2"}, exitUsage, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, nil)
			if code := e.rgraph(append([]string{"cluster", "job"}, tt.args...)...); code != tt.code {
				t.Fatalf("exit %d, want %d: %s", code, tt.code, e.errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(e.out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, e.out)
				}
			}
		})
	}
}

func TestKeyCommands(t *testing.T) {
	dir := t.TempDir()
	e := newTestEnv(t, nil)
	if code := e.rgraph("key", "gen", "--out", filepath.Join(dir, "ci")); code != exitOK {
		t.Fatalf("key gen = exit %d: %s", code, e.errOut)
	}
	if st, err := os.Stat(filepath.Join(dir, "ci.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("private key: %v, %v; want mode 0600", st, err)
	}
	if code := e.rgraph("key", "gen", "--out", filepath.Join(dir, "ci")); code != exitError {
		t.Errorf("key gen over an existing key = exit %d, want %d", code, exitError)
	}
	rec := filepath.Join(dir, "r.json")
	b, err := os.ReadFile(filepath.Join(fleetDir, "records", "web.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rec, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if code := e.rgraph("key", "sign", "--key", filepath.Join(dir, "ci.key"), rec); code != exitOK {
		t.Fatalf("key sign = exit %d: %s", code, e.errOut)
	}
	if code := e.rgraph("key", "verify", "--trusted-keys", filepath.Join(dir, "ci.pub"), rec); code != exitOK || !strings.Contains(e.out.String(), "signed by") {
		t.Fatalf("key verify = exit %d: %s%s", code, e.out, e.errOut)
	}
	if err := os.WriteFile(rec, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := e.rgraph("key", "verify", "--trusted-keys", filepath.Join(dir, "ci.pub"), rec); code != exitError || !strings.Contains(e.errOut.String(), rec+": sign: signature does not match") {
		t.Errorf("key verify of a tampered record = exit %d: %s", code, e.errOut)
	}
	// ingest refuses it too, naming the file.
	if code := e.rgraph("ingest", "--release", "r", "--trusted-keys", filepath.Join(dir, "ci.pub"), rec); code != exitError || !strings.Contains(e.errOut.String(), rec+": sign: signature does not match") {
		t.Errorf("ingest of a tampered record = exit %d: %s", code, e.errOut)
	}
}
