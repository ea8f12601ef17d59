package guest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rgraph/rgraph/sandbox/microvm/internal/vmproto"
)

// serveShell gives a kept VM's shell port an interactive shell in the
// working directory and the runbook's cgroup, started again whenever it
// exits. The port reads as ended while nobody is connected on the host.
func (a *agent) serveShell() {
	port, err := openPort(vmproto.PortShell)
	if err != nil {
		fmt.Fprintf(os.Stderr, "rgraph agent: %v\n", err)
		return
	}
	var mu sync.Mutex
	var cur *os.File // the running shell's terminal
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := port.Read(buf)
			if n > 0 {
				mu.Lock()
				if cur != nil {
					_, _ = cur.Write(buf[:n])
				}
				mu.Unlock()
			}
			if err != nil || n == 0 {
				time.Sleep(100 * time.Millisecond)
			}
		}
	}()
	for {
		ptmx, cmd, err := a.startShell()
		if err != nil {
			fmt.Fprintf(os.Stderr, "rgraph agent: starting the kept VM's shell: %v\n", err)
			time.Sleep(time.Second)
			continue
		}
		mu.Lock()
		cur = ptmx
		mu.Unlock()
		go func() {
			// What the shell writes while nobody is connected fails
			// (the port has no host end then) and is dropped.
			buf := make([]byte, 4096)
			for {
				n, err := ptmx.Read(buf)
				if n > 0 {
					_, _ = port.Write(buf[:n])
				}
				if err != nil {
					return
				}
			}
		}()
		_ = cmd.Wait()
		mu.Lock()
		cur = nil
		mu.Unlock()
		ptmx.Close()
	}
}

// startShell starts sh -i on a new pseudo-terminal.
func (a *agent) startShell() (*os.File, *exec.Cmd, error) {
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, err
	}
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		ptmx.Close()
		return nil, nil, err
	}
	n, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		ptmx.Close()
		return nil, nil, err
	}
	pts, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		ptmx.Close()
		return nil, nil, err
	}
	defer pts.Close()
	cmd := exec.Command("/bin/sh", "-i")
	cmd.Dir = a.setup.WorkDir
	cmd.Env = append(append([]string(nil), a.setup.Env...), "RGRAPH_RUN_ID="+a.setup.ID, "RGRAPH_WORKDIR="+a.setup.WorkDir, "TERM=xterm")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = pts, pts, pts
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, UseCgroupFD: true, CgroupFD: a.cgRun}
	if err := a.launcher.t.Do(cmd.Start); err != nil {
		ptmx.Close()
		return nil, nil, errors.Join(errors.New("starting sh"), err)
	}
	return ptmx, cmd, nil
}
