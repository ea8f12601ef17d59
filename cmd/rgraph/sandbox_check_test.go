package main

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/rgraph/rgraph/internal/golden"
	"github.com/rgraph/rgraph/sandbox"
)

// fakeReports are two drivers' reports: the default one is missing its
// privileges, the other only an optional requirement.
func fakeReports(names ...string) ([]sandbox.Report, error) {
	all := []sandbox.Report{
		{Driver: sandbox.DefaultDriver, Requirements: []sandbox.Requirement{
			{Name: "cgroup v2", OK: true, Detail: "mounted at /sys/fs/cgroup"},
			{Name: "privileges", Detail: "uid 1000 without CAP_SYS_ADMIN", Fix: "run as root (sudo)", Err: sandbox.ErrPermission},
			{Name: "tracepoints", Optional: true, Detail: "no tracefs", Fix: "mount -t tracefs nodev /sys/kernel/tracing"},
		}},
		{Driver: "vm", Requirements: []sandbox.Requirement{
			{Name: "qemu", OK: true, Detail: "/usr/bin/qemu-system-x86_64"},
			{Name: "kvm", Optional: true, Detail: "no /dev/kvm: runs use emulation", Fix: "modprobe kvm"},
		}},
	}
	if len(names) == 0 {
		return all, nil
	}
	var out []sandbox.Report
	for _, r := range all {
		if slices.Contains(names, r.Driver) {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w %q", sandbox.ErrUnknownDriver, names[0])
	}
	return out, nil
}

func TestSandboxCheck(t *testing.T) {
	tests := []struct {
		name     string
		driver   string
		output   string
		wantCode int
	}{
		{"all text", "all", "text", exitPrivilege},
		{"all json", "all", "json", exitPrivilege},
		{"vm text", "vm", "text", exitOK},
		{"vm json", "vm", "json", exitOK},
		{"unknown", "kvm", "text", exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, nil)
			opts := &sandboxCheckOptions{Driver: tt.driver, Output: tt.output, Env: e.Env,
				Check: func(_ context.Context, names ...string) ([]sandbox.Report, error) { return fakeReports(names...) }}
			err := sandboxCheckRun(context.Background(), opts)
			if code := exitCode(context.Background(), err); code != tt.wantCode {
				t.Errorf("exit %d (%v), want %d", code, err, tt.wantCode)
			}
			if tt.wantCode != exitUsage {
				golden.Check(t, e.out.Bytes())
			}
		})
	}
}

// TestSandboxCheckFlags checks that the command offers every registered
// driver, and all of them by default.
func TestSandboxCheckFlags(t *testing.T) {
	var got *sandboxCheckOptions
	cmd := newSandboxCheckCmd(newTestEnv(t, nil).Env, func(_ context.Context, o *sandboxCheckOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"-o", "json"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Driver != "all" || got.Output != "json" {
		t.Errorf("options = %+v, want driver all, output json", got)
	}
	cmd.SetArgs([]string{"--driver", sandbox.DefaultDriver})
	if err := cmd.Execute(); err != nil || got.Driver != sandbox.DefaultDriver {
		t.Errorf("--driver %s: %v, options %+v", sandbox.DefaultDriver, err, got)
	}
}
