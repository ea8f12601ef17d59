// Package slurmtest runs a single-node Slurm cluster for a test: munged,
// slurmctld and slurmd from Debian's packages (slurm-wlm, munge), on this
// machine, with a generated slurm.conf, state and munge key in the test's
// temporary directory. Start stops everything again when the test ends:
// nothing is left running or on disk. It needs root.
package slurmtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rgraph/rgraph/internal/privtest"
)

// Commands the cluster needs, all from slurm-wlm and munge.
var commands = []string{"munged", "mungekey", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "scancel", "sinfo"}

// Cluster is a running single-node Slurm cluster.
type Cluster struct {
	t    testing.TB
	dir  string
	conf string
	// Node is the name of its one node.
	Node string
}

// Start starts a cluster with one node of cpus CPUs, and stops it when t
// ends. Without root, or without Slurm and munge installed, t is skipped
// (failed under RGRAPH_REQUIRE_PRIVILEGED=1).
func Start(t testing.TB, cpus int) *Cluster {
	t.Helper()
	privtest.Require(t)
	for _, c := range commands {
		if _, err := exec.LookPath(c); err != nil {
			privtest.Skip(t, "%s not installed (apt-get install slurm-wlm munge)", c)
		}
	}
	c := &Cluster{t: t, dir: t.TempDir(), Node: "rgtest"}
	for _, d := range []string{"munge", "state", "spool", "log"} {
		if err := os.MkdirAll(filepath.Join(c.dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	key := filepath.Join(c.dir, "munge", "munge.key")
	c.run("mungekey", "--create", "--keyfile", key)
	sock := filepath.Join(c.dir, "munge", "munge.sock")
	c.daemon("munged", "--foreground", "--force", "--socket="+sock, "--key-file="+key,
		"--log-file="+c.path("log/munged.log"), "--pid-file="+c.path("munge/munged.pid"), "--seed-file="+c.path("munge/seed"))
	c.waitFor("munged's socket", func() bool { _, err := os.Stat(sock); return err == nil })

	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	ports := freePorts(t, 2)
	c.conf = c.path("slurm.conf")
	conf := fmt.Sprintf(`# slurm.conf of a test cluster (internal/slurmtest)
ClusterName=rgtest
SlurmctldHost=%[1]s(127.0.0.1)
SlurmctldPort=%[2]d
SlurmdPort=%[3]d
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=%[4]s
StateSaveLocation=%[5]s/state
SlurmdSpoolDir=%[5]s/spool
SlurmctldPidFile=%[5]s/slurmctld.pid
SlurmdPidFile=%[5]s/slurmd.pid
SlurmctldLogFile=%[5]s/log/slurmctld.log
SlurmdLogFile=%[5]s/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
MinJobAge=600
SlurmdParameters=config_overrides
NodeName=%[6]s NodeHostname=%[1]s NodeAddr=127.0.0.1 CPUs=%[7]d State=UNKNOWN
PartitionName=rgtest Nodes=%[6]s Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
`, host, ports[0], ports[1], sock, c.dir, c.Node, cpus)
	if err := os.WriteFile(c.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	c.daemon("slurmctld", "-D", "-f", c.conf)
	c.daemon("slurmd", "-D", "-f", c.conf, "-N", c.Node)
	t.Cleanup(c.cancelAll)
	c.waitFor("the node to be idle", func() bool {
		out, err := c.command("sinfo", "-h", "-o", "%T").Output()
		return err == nil && strings.TrimSpace(string(out)) == "idle"
	})
	return c
}

func (c *Cluster) path(p string) string { return filepath.Join(c.dir, p) }

// Env is the environment Slurm's commands need to find this cluster.
func (c *Cluster) Env() []string { return append(os.Environ(), "SLURM_CONF="+c.conf) }

func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = c.Env()
	return cmd
}

func (c *Cluster) run(name string, args ...string) string {
	c.t.Helper()
	out, err := c.command(name, args...).CombinedOutput()
	if err != nil {
		c.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// daemon starts a daemon in the foreground and stops it (SIGTERM, then
// SIGKILL after 10s) when the test ends.
func (c *Cluster) daemon(name string, args ...string) {
	c.t.Helper()
	cmd := c.command(name, args...)
	log, err := os.Create(c.path("log/" + name + ".out"))
	if err != nil {
		c.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		log.Close()
		c.t.Fatalf("starting %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); log.Close(); close(done) }()
	c.t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
}

func (c *Cluster) waitFor(what string, ok func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			c.t.Fatalf("waiting 30s for %s; logs:\n%s", what, c.Logs())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// cancelAll cancels whatever jobs are left, so that slurmd stops no
// running job of the test's.
func (c *Cluster) cancelAll() {
	_ = c.command("scancel", "--partition=rgtest").Run()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		out, err := c.command("squeue", "-h").Output()
		if err != nil || len(bytes.TrimSpace(out)) == 0 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Logs returns the daemons' logs, for failure messages.
func (c *Cluster) Logs() string {
	var b strings.Builder
	files, _ := filepath.Glob(c.path("log/*"))
	for _, f := range files {
		data, _ := os.ReadFile(f)
		fmt.Fprintf(&b, "--- %s\n%s", filepath.Base(f), tail(string(data), 20))
	}
	return b.String()
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n") + "\n"
}

var jobIDRE = regexp.MustCompile(`^\d+`)

// Submit submits a batch script with sbatch and returns the job's ID.
func (c *Cluster) Submit(script string, args ...string) string {
	c.t.Helper()
	out := c.run("sbatch", append(append([]string{"--parsable"}, args...), script)...)
	id := jobIDRE.FindString(strings.TrimSpace(out))
	if id == "" {
		c.t.Fatalf("sbatch printed %q, not a job ID", out)
	}
	return id
}

// Task is one array task of a finished job.
type Task struct {
	ID       string // the array task ID
	State    string // COMPLETED, FAILED, ...
	ExitCode string // "0:0": exit status and signal
}

// Wait waits until job id has left the queue, at most timeout, and
// returns its tasks as scontrol shows them.
func (c *Cluster) Wait(ctx context.Context, id string, timeout time.Duration) []Task {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		out, err := c.command("squeue", "-h", "-j", id).Output()
		if err == nil && len(bytes.TrimSpace(out)) == 0 {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			c.t.Fatalf("job %s still queued or running after %v:\n%s\n%s", id, timeout, out, c.Logs())
		}
		time.Sleep(500 * time.Millisecond)
	}
	out := c.run("scontrol", "-o", "show", "job", id)
	var tasks []Task
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := map[string]string{}
		for _, kv := range strings.Fields(line) {
			if k, v, ok := strings.Cut(kv, "="); ok {
				f[k] = v
			}
		}
		tasks = append(tasks, Task{ID: f["ArrayTaskId"], State: f["JobState"], ExitCode: f["ExitCode"]})
	}
	return tasks
}

// freePorts returns n TCP ports free on the loopback address now.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ports []int
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}
