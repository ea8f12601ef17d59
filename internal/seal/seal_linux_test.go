package seal

import (
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rgraph/rgraph/internal/nsthread"
	"github.com/rgraph/rgraph/internal/privtest"
)

func TestCapName(t *testing.T) {
	for c, want := range map[uintptr]string{unix.CAP_SYS_ADMIN: "CAP_SYS_ADMIN", unix.CAP_NET_BIND_SERVICE: "CAP_NET_BIND_SERVICE", unix.CAP_BPF: "CAP_BPF", 63: "CAP_63"} {
		if got := CapName(c); got != want {
			t.Errorf("CapName(%d) = %q, want %q", c, got, want)
		}
	}
}

// statusField returns a field of /proc/self/status as a process started
// by cmd's thread sees it.
func status(t *testing.T, out, field string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no %s in %q", field, out)
	return ""
}

// TestThread checks what a process started by a sealed thread holds: as
// root, exactly the kept capabilities; as another user, none; never new
// privileges. The thread keeps its own.
func TestThread(t *testing.T) {
	privtest.Require(t)
	var kept uint64
	for _, c := range Kept {
		kept |= 1 << c
	}
	want := fmt.Sprintf("%016x", kept)
	err := nsthread.Do(func() error {
		if err := Thread(); err != nil {
			return err
		}
		for _, tc := range []struct {
			name string
			cred *syscall.Credential
			eff  string
		}{{"root", nil, want}, {"nobody", &syscall.Credential{Uid: 65534, Gid: 65534}, "0000000000000000"}} {
			cmd := exec.Command("/bin/cat", "/proc/self/status")
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: tc.cred}
			b, err := cmd.Output()
			if err != nil {
				return err
			}
			out := string(b)
			if got := status(t, out, "CapEff"); got != tc.eff {
				t.Errorf("%s: CapEff = %s, want %s", tc.name, got, tc.eff)
			}
			if got := status(t, out, "CapBnd"); got != want {
				t.Errorf("%s: CapBnd = %s, want %s", tc.name, got, want)
			}
			if got := status(t, out, "NoNewPrivs"); got != "1" {
				t.Errorf("%s: NoNewPrivs = %s, want 1", tc.name, got)
			}
		}
		if !hasEffective(unix.CAP_SYS_ADMIN) {
			t.Errorf("the sealed thread lost CAP_SYS_ADMIN itself")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func hasEffective(c uintptr) bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return false
	}
	return data[c/32].Effective&(1<<(c%32)) != 0
}

// TestInit starts an init in a new PID and mount namespace and checks
// that /proc is the namespace's (with /proc/sys read-only), that orphans
// are reaped, and that closing the init ends every process of the
// namespace. The fallback for kernels without proc's pidns option (a
// helper inside mounts it) is run too.
func TestInit(t *testing.T) {
	privtest.Require(t)
	for _, fallback := range []bool{false, true} {
		t.Run(fmt.Sprintf("fallback=%v", fallback), func(t *testing.T) {
			var in *Init
			err := nsthread.Do(func() (err error) {
				if err := unix.Unshare(unix.CLONE_NEWNS | unix.CLONE_NEWPID); err != nil {
					return err
				}
				if err := unix.Mount("", "/", "", unix.MS_PRIVATE|unix.MS_REC, ""); err != nil {
					return err
				}
				if in, err = StartInit(&syscall.SysProcAttr{}); err != nil {
					return err
				}
				defer func() {
					if err != nil {
						in.Close(5 * time.Second)
					}
				}()
				if fallback {
					err = mountProcFromInside()
				} else {
					err = in.MountProc()
				}
				if err != nil {
					return err
				}
				// A daemon whose parent exits at once, one that dies soon
				// after (an orphan to reap), and a look at the namespace.
				script := `sleep 300 >/dev/null 2>&1 & (sleep 0.1 &); sleep 0.5
echo pid $$
echo zombies $(ps -eo stat= | grep -c Z)
echo sleeper $(ps -eo pid=,args= | grep 'sleep 300' | grep -v grep | wc -l)
echo readonly $(touch /proc/sys/kernel/core_pattern 2>&1 | grep -c 'Read-only')
echo hostpid $(readlink /proc/self | cut -c1-)`
				out, err := exec.Command("/bin/sh", "-c", script).CombinedOutput()
				if err != nil {
					return fmt.Errorf("%v: %s", err, out)
				}
				for _, want := range []string{"zombies 0", "sleeper 1", "readonly 1"} {
					if !strings.Contains(string(out), want) {
						t.Errorf("in the namespace: want %q in\n%s", want, out)
					}
				}
				if strings.Contains(string(out), "pid 1\n") {
					t.Errorf("a command became PID 1:\n%s", out)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			// The host's view of the sleeper (this goroutine's thread is in
			// the host's namespaces), before and after the init ends.
			b, err := exec.Command("pgrep", "--ns", strconv.Itoa(in.Pid), "--nslist", "pid", "-f", "^sleep 300$").Output()
			if err != nil {
				in.Close(5 * time.Second)
				t.Fatalf("the daemon is not running in the namespace: pgrep: %v", err)
			}
			sleeper, _ := strconv.Atoi(strings.Fields(string(b))[0])
			in.Close(5 * time.Second)
			deadline := time.Now().Add(5 * time.Second)
			for syscall.Kill(sleeper, 0) == nil || errors.Is(syscall.Kill(sleeper, 0), syscall.EPERM) {
				if time.Now().After(deadline) {
					t.Fatalf("process %d of the namespace outlived its init", sleeper)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}
