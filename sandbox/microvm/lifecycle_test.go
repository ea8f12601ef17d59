//go:build linux

package microvm_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/rgraph/rgraph/sandbox"
)

// TestKilledRunLeavesNothing kills rgraph (a process holding a VM) with
// SIGKILL: the guest, whose host went away, powers itself off, and
// sandbox GC removes the rest. No qemu, tap, namespace, veth, lease or
// file is left.
func TestKilledRunLeavesNothing(t *testing.T) {
	d := newDriver(t)
	u := newUpstream(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	holder := exec.Command(exe, "hold", u.name)
	holder.Env = append(os.Environ(), helperEnv+"=1")
	holder.Stderr = os.Stderr
	out, err := holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = holder.Process.Kill(); _ = holder.Wait() })
	ids := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		ids <- strings.TrimSpace(line)
	}()
	var id string
	select {
	case id = <-ids:
	case <-time.After(5 * time.Minute):
		t.Fatal("the holder did not start a VM within 5 minutes")
	}
	if id == "" {
		t.Fatal("the holder failed to start a VM")
	}
	if err := holder.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = holder.Wait()

	// The guest sees its host hang up and powers off.
	deadline := time.Now().Add(60 * time.Second)
	for qemuRunning(id) {
		if time.Now().After(deadline) {
			t.Fatalf("qemu of run %s still runs 60s after its rgraph was killed", id)
		}
		time.Sleep(200 * time.Millisecond)
	}
	left, err := d.Reap(context.Background(), sandbox.GCOptions{})
	if err != nil {
		t.Fatalf("Reap: %v", err)
	}
	found := false
	for _, l := range left {
		found = found || l.RunID == id && l.Kind == "run"
	}
	if !found {
		t.Errorf("Reap found no run directory of %s: %v", id, left)
	}
	assertClean(t, id, u.name)
}

// TestCancelCleansUp cancels a run in the middle of a step, as Ctrl-C
// does: Run returns, and nothing of the VM is left.
func TestCancelCleansUp(t *testing.T) {
	d := newDriver(t)
	u := newUpstream(t)
	sc, err := sandbox.ParseScenario([]byte(`schemaVersion: 1
kind: scenario
service: sleeper
runbook:
  - name: sleep
    run: sleep 600
    timeout: 10m
validation:
  run: "true"
`), "sleeper.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var id string
	opts := sandbox.Options{Driver: d, UpstreamNetNS: u.name, Progress: func(e sandbox.Event) {
		if e.Kind == sandbox.EventStepStart {
			id = e.RunID
			time.AfterFunc(time.Second, cancel)
		}
	}}
	start := time.Now()
	_, err = sandbox.Run(ctx, sc, opts)
	if err == nil {
		t.Fatal("Run of a cancelled scenario returned no error")
	}
	if id == "" {
		t.Fatalf("the run never started its step: %v", err)
	}
	t.Logf("cancelled run %s returned after %v: %v", id, time.Since(start).Round(time.Millisecond), err)
	assertClean(t, id, u.name)
}

func qemuRunning(id string) bool { return len(qemuPIDs(id)) > 0 }

// TestKeep keeps a VM after its run: it keeps running with its namespace
// pinned, its shell answers on the kept run's socket, GC leaves it until
// asked for kept runs, and then nothing of it is left.
func TestKeep(t *testing.T) {
	d := newDriver(t)
	u := newUpstream(t)
	sc, err := sandbox.ParseScenario([]byte(`schemaVersion: 1
kind: scenario
service: keeper
runbook:
  - name: mark
    run: echo kept-marker > marker
validation:
  run: "true"
`), "keeper.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var kept sandbox.Kept
	opts := sandbox.Options{Driver: d, UpstreamNetNS: u.name, Keep: true, Progress: func(e sandbox.Event) {
		if e.Kind == sandbox.EventKept {
			kept = e.Kept
		}
	}}
	if _, err := sandbox.Run(context.Background(), sc, opts); err != nil {
		t.Fatal(err)
	}
	if kept.ID == "" {
		t.Fatal("the run was not kept")
	}
	t.Cleanup(func() { _, _ = d.Reap(context.Background(), sandbox.GCOptions{Kept: true}) })
	if !qemuRunning(kept.ID) {
		t.Fatalf("the kept VM %s is not running", kept.ID)
	}
	if _, err := os.Stat("/run/netns/rgvm-" + kept.ID); err != nil {
		t.Errorf("the kept VM's namespace is not pinned: %v", err)
	}
	// qemu hangs up on a client that shuts its sending side: keep it
	// open until the answer is back.
	shell := exec.Command("sh", "-c", "(printf 'cat marker\\n'; sleep 3) | socat - UNIX-CONNECT:/run/rgraph/vms/"+kept.ID+"/shell.sock")
	out, err := shell.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "kept-marker") {
		console, _ := os.ReadFile("/run/rgraph/vms/" + kept.ID + "/console.log")
		t.Errorf("the kept VM's shell: %v, %q (console: %s)", err, out, console)
	}
	if _, err := d.Reap(context.Background(), sandbox.GCOptions{}); err != nil || !qemuRunning(kept.ID) {
		t.Fatalf("GC without --kept stopped the kept VM (%v)", err)
	}
	left, err := d.Reap(context.Background(), sandbox.GCOptions{Kept: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("reaped %v", left)
	assertClean(t, kept.ID, u.name)
}
