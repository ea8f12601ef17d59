package microvm

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rgraph/rgraph/sandbox/microvm/internal/vmproto"
)

// Snapshots. A cold boot under emulation is several seconds of CPU: the
// kernel, the agent's start and the eBPF verifier checking the
// recorder's programs. The driver does it once per set of assets: it
// boots a template VM whose agent loads the recorder and waits, saves
// the VM's state to a file with qemu's migration (before anything of a
// run, such as the 9p mount, exists in the guest), and starts each run's
// qemu from that file (-incoming), with the same machine and devices but
// the run's own tap, share and sockets. The restored agent goes on from
// where it waited: it asks the host for the run's setup and sets the
// clock and the entropy pool from it.

// snapshotLayout changes when what a template holds changes.
const snapshotLayout = "1"

// snapshotKey names the snapshot of a's VM: everything that decides the
// guest's memory and the machine's devices.
func snapshotKey(a *assets, conf vmConfig) string {
	qemuID := a.qemu
	if st, err := os.Stat(a.qemu); err == nil {
		qemuID = fmt.Sprintf("%s %d %d", a.qemu, st.Size(), st.ModTime().UnixNano())
	}
	h := sha256.Sum256([]byte(strings.Join([]string{snapshotLayout, qemuID, a.image, a.initrd.Key, string(a.accel),
		fmt.Sprint(conf.MemoryMiB), fmt.Sprint(a.tsc), conf.MAC}, "\x00")))
	return hex.EncodeToString(h[:8])
}

// templateMAC is the guest's MAC address in every VM: it is part of the
// snapshot's device state. Each run's link is its own, so they never
// meet.
const templateMAC = "52:54:00:97:00:02"

// ensureSnapshot returns the snapshot file for a's VMs, building it
// first (one builder at a time, others wait for it) when there is none.
func (d *Driver) ensureSnapshot(a *assets, cfg Config) (string, error) {
	conf := vmConfig{Accel: a.accel, MemoryMiB: cfg.MemoryMiB, MAC: templateMAC}
	path := filepath.Join(cfg.CacheDir, "snapshot-"+snapshotKey(a, conf)+".qemu")
	if _, err := os.Stat(path); err == nil {
		now := time.Now()
		_ = os.Chtimes(path, now, now)
		return path, nil
	}
	lock, err := os.OpenFile(filepath.Join(cfg.CacheDir, "snapshot.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return "", err
	}
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if err := buildSnapshot(a, cfg, path); err != nil {
		return "", fmt.Errorf("building the VM snapshot: %w", err)
	}
	removeStale(cfg.CacheDir, "snapshot-", path, 24*time.Hour)
	return path, nil
}

// buildSnapshot boots a template VM and saves it to path.
func buildSnapshot(a *assets, cfg Config, path string) (err error) {
	dir, err := os.MkdirTemp(cfg.CacheDir, "template-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ns, err := startRunNS(filepath.Join(dir, "share"), nil)
	if err != nil {
		return err
	}
	defer ns.close()
	var tap *os.File
	if err := ns.t.Do(func() (err error) { tap, err = openTap(tapName); return err }); err != nil {
		return err
	}
	defer tap.Close()
	hostL, err := net.Listen("unix", filepath.Join(dir, "host.sock"))
	if err != nil {
		return err
	}
	defer hostL.Close()
	ctlL, err := net.Listen("unix", filepath.Join(dir, "ctl.sock"))
	if err != nil {
		return err
	}
	defer ctlL.Close()
	conf := vmConfigFor(a, cfg, dir)
	conf.Template = true
	qmpPath := filepath.Join(dir, "qmp.sock")
	args := append(conf.args(), "-qmp", "unix:"+qmpPath+",server=on,wait=off")
	logf, err := os.Create(filepath.Join(dir, "qemu.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(a.qemu, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.ExtraFiles = []*os.File{tap}
	if err := ns.t.Do(cmd.Start); err != nil {
		return fmt.Errorf("starting qemu: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	defer func() {
		_ = cmd.Process.Kill()
		<-exited
		if err != nil {
			b, _ := os.ReadFile(filepath.Join(dir, "qemu.log"))
			c, _ := os.ReadFile(filepath.Join(dir, "console.log"))
			err = fmt.Errorf("%w (qemu.log: %s; console: %s)", err, tail(b, 400), tail(c, 400))
		}
	}()

	// The template says it is ready on its host port.
	conns := make(chan net.Conn, 2)
	go acceptOne(hostL, conns)
	go acceptOne(ctlL, conns)
	ready := make(chan error, 1)
	go func() {
		for {
			c, ok := <-conns
			if !ok {
				return
			}
			if c.LocalAddr().String() != hostL.Addr().String() {
				defer c.Close()
				continue
			}
			defer c.Close()
			line, err := bufio.NewReader(c).ReadString('\n')
			if err == nil && strings.TrimSpace(line) != vmproto.TemplateReady {
				err = fmt.Errorf("the template said %q", line)
			}
			ready <- err
			return
		}
	}()
	select {
	case err := <-ready:
		if err != nil {
			return err
		}
	case <-exited:
		return errors.New("qemu exited before the template was ready")
	case <-time.After(cfg.BootTimeout + cfg.SetupTimeout):
		return fmt.Errorf("the template was not ready within %v", cfg.BootTimeout+cfg.SetupTimeout)
	}
	q, err := dialQMP(qmpPath)
	if err != nil {
		return err
	}
	defer q.close()
	tmp := path + ".tmp"
	defer os.Remove(tmp)
	// Saved running, so that a VM started from the file runs at once (a
	// VM saved stopped stays stopped); the waiting agent dirties little.
	if _, err := q.do("migrate", map[string]any{"uri": "file:" + tmp}); err != nil {
		return err
	}
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		r, err := q.do("query-migrate", nil)
		if err != nil {
			return err
		}
		var st struct {
			Status    string `json:"status"`
			ErrorDesc string `json:"error-desc"`
		}
		_ = json.Unmarshal(r, &st)
		switch st.Status {
		case "completed":
			return os.Rename(tmp, path)
		case "failed", "cancelled":
			return fmt.Errorf("saving the template: migration %s: %s", st.Status, st.ErrorDesc)
		}
		if time.Now().After(deadline) {
			return errors.New("saving the template took over 2 minutes")
		}
	}
}

func tail(b []byte, n int) string {
	s := strings.TrimSpace(string(b))
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}

// qmp is a connection to qemu's machine protocol.
type qmp struct {
	c net.Conn
	r *bufio.Reader
}

func dialQMP(path string) (*qmp, error) {
	c, err := net.DialTimeout("unix", path, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("connecting to qemu's QMP: %w", err)
	}
	q := &qmp{c: c, r: bufio.NewReader(c)}
	if _, err := q.r.ReadBytes('\n'); err != nil { // the greeting
		c.Close()
		return nil, err
	}
	if _, err := q.do("qmp_capabilities", nil); err != nil {
		c.Close()
		return nil, err
	}
	return q, nil
}

// do runs a QMP command and returns its "return" value.
func (q *qmp) do(command string, args any) (json.RawMessage, error) {
	req := map[string]any{"execute": command}
	if args != nil {
		req["arguments"] = args
	}
	b, _ := json.Marshal(req)
	_ = q.c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := q.c.Write(append(b, '\n')); err != nil {
		return nil, err
	}
	for {
		line, err := q.r.ReadBytes('\n')
		if err != nil {
			return nil, fmt.Errorf("qmp %s: %w", command, err)
		}
		var resp struct {
			Return json.RawMessage `json:"return"`
			Error  *struct {
				Desc string `json:"desc"`
			} `json:"error"`
			Event string `json:"event"`
		}
		if err := json.Unmarshal(line, &resp); err != nil {
			return nil, fmt.Errorf("qmp %s: %w", command, err)
		}
		switch {
		case resp.Event != "":
			continue
		case resp.Error != nil:
			return nil, fmt.Errorf("qmp %s: %s", command, resp.Error.Desc)
		}
		return resp.Return, nil
	}
}

func (q *qmp) close() { q.c.Close() }
