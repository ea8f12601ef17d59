package microvm

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/rgraph/rgraph/sandbox/microvm/internal/vmproto"
)

// Accel is how qemu runs the guest's CPU.
type Accel string

// Accelerators.
const (
	// AccelAuto uses KVM where the CPU has hardware virtualization and
	// /dev/kvm is usable, else TCG.
	AccelAuto Accel = "auto"
	// AccelKVM runs the guest on the CPU: fast, needs VT-x or AMD-V.
	AccelKVM Accel = "kvm"
	// AccelTCG emulates the guest's CPU in software: slow, runs anywhere.
	AccelTCG Accel = "tcg"
)

// ParseAccel parses --accel's value.
func ParseAccel(s string) (Accel, error) {
	switch a := Accel(s); a {
	case "", AccelAuto:
		return AccelAuto, nil
	case AccelKVM, AccelTCG:
		return a, nil
	}
	return "", fmt.Errorf("unknown accelerator %q (want auto, kvm or tcg)", s)
}

// kvmStatus says whether KVM can run a stock Debian kernel here, and
// why not.
type kvmStatus struct {
	OK     bool
	Reason string
}

// probeKVM looks for hardware virtualization: /dev/kvm that opens, and
// vmx or svm among the CPU's flags. KVM without them (PVM, the
// pagetable-based software hypervisor of some cloud VMs) boots no Debian
// kernel, so it does not count.
func probeKVM() kvmStatus {
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return kvmStatus{Reason: "no usable /dev/kvm (" + errSentence(err) + ")"}
	}
	f.Close()
	hw, err := cpuHasVirt("/proc/cpuinfo")
	switch {
	case err != nil:
		return kvmStatus{Reason: "reading /proc/cpuinfo: " + err.Error()}
	case !hw && moduleLoaded("kvm_pvm"):
		return kvmStatus{Reason: "/dev/kvm is PVM (kvm_pvm), a software hypervisor that boots no stock kernel; the CPU has no vmx or svm"}
	case !hw:
		return kvmStatus{Reason: "the CPU shows no hardware virtualization (no vmx or svm in /proc/cpuinfo)"}
	}
	return kvmStatus{OK: true, Reason: "/dev/kvm with hardware virtualization"}
}

func cpuHasVirt(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || strings.TrimSpace(k) != "flags" {
			continue
		}
		for _, fl := range strings.Fields(v) {
			if fl == "vmx" || fl == "svm" {
				return true, nil
			}
		}
		return false, nil
	}
	return false, sc.Err()
}

func moduleLoaded(name string) bool {
	_, err := os.Stat("/sys/module/" + name)
	return err == nil
}

// resolveAccel turns auto into kvm or tcg, and refuses kvm where it
// cannot boot the guest.
func resolveAccel(a Accel, kvm kvmStatus) (Accel, error) {
	switch a {
	case AccelTCG:
		return a, nil
	case AccelKVM:
		if !kvm.OK {
			return "", fmt.Errorf("--accel kvm: %s; use --accel tcg", kvm.Reason)
		}
		return a, nil
	}
	if kvm.OK {
		return AccelKVM, nil
	}
	return AccelTCG, nil
}

// tscKHz returns the host CPU's clock in kHz, which under TCG is the
// guest's TSC rate: the guest is told it (tsc_early_khz), because its
// own calibration against emulated timers fails or hangs.
func tscKHz() int {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "cpu MHz" {
			mhz, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err == nil && mhz > 0 {
				return int(mhz * 1000)
			}
		}
	}
	return 0
}

// vmConfig is one qemu invocation: a plain value, so that the command
// line can be tested without running it.
type vmConfig struct {
	Accel  Accel
	Kernel string // ELF vmlinux (booted through PVH) or bzImage
	Initrd string
	// Firmware is qboot, which boots the kernel directly.
	Firmware  string
	MemoryMiB int
	TSCkHz    int
	// TapFD is the tap's descriptor in qemu (ExtraFiles: 3).
	TapFD int
	MAC   string
	// Share is the host directory shared read-only over 9p, with tag
	// ShareTag.
	Share    string
	ShareTag string
	// CtlSocket, HostSocket and ShellSocket are unix sockets the host
	// listens on (ctl, host) or qemu does (shell).
	CtlSocket, HostSocket, ShellSocket string
	// Console is the file the serial console is written to.
	Console string
	// Seccomp turns qemu's own system call filter on.
	Seccomp bool
	// Template boots (or, with Incoming, restores) the template VM whose
	// agent waits to be snapshotted (see snapshot_linux.go).
	Template bool
	// Incoming is a snapshot file to start from instead of booting.
	Incoming string
}

// kernelArgs is the guest kernel's command line.
func (c vmConfig) kernelArgs() string {
	args := []string{
		"console=ttyS0", "quiet", "panic=-1", "rdinit=" + guestAgent,
		// Emulated devices are slow and the guest needs none of these.
		"8250.nr_uarts=1", "audit=0", "cryptomgr.notests", "init_on_alloc=0",
		"random.trust_cpu=on", "mitigations=off",
	}
	if c.Template {
		args = append(args, vmproto.TemplateArg+"=1")
	}
	if c.Accel == AccelTCG {
		// TCG's emulated timers make the TSC calibration fail or hang.
		args = append(args, "no_timer_check")
		if c.TSCkHz > 0 {
			args = append(args, "tsc_early_khz="+strconv.Itoa(c.TSCkHz))
		}
	}
	return strings.Join(args, " ")
}

// args returns qemu's arguments.
func (c vmConfig) args() []string {
	a := []string{
		"-M", "microvm,isa-serial=on,rtc=on",
		"-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
		"-smp", "1", "-m", strconv.Itoa(c.MemoryMiB),
	}
	if c.Firmware != "" {
		a = append(a, "-bios", c.Firmware)
	}
	if c.Accel == AccelKVM {
		a = append(a, "-accel", "kvm", "-cpu", "host")
	} else {
		a = append(a, "-accel", "tcg", "-cpu", "max")
	}
	a = append(a,
		"-kernel", c.Kernel, "-initrd", c.Initrd, "-append", c.kernelArgs(),
		"-chardev", "file,id=console,path="+c.Console, "-serial", "chardev:console",
		"-netdev", fmt.Sprintf("tap,id=net0,fd=%d", c.TapFD),
		"-device", "virtio-net-device,netdev=net0,mac="+c.MAC,
		"-fsdev", "local,id=share,path="+c.Share+",security_model=none,readonly=on",
		"-device", "virtio-9p-device,fsdev=share,mount_tag="+c.ShareTag,
		"-device", "virtio-serial-device,max_ports=4",
		"-chardev", "socket,id=ctl,path="+c.CtlSocket,
		"-device", "virtserialport,chardev=ctl,name="+vmproto.PortCtl,
		"-chardev", "socket,id=host,path="+c.HostSocket,
		"-device", "virtserialport,chardev=host,name="+vmproto.PortHost,
		"-chardev", "socket,id=shell,path="+c.ShellSocket+",server=on,wait=off",
		"-device", "virtserialport,chardev=shell,name="+vmproto.PortShell,
	)
	if c.Incoming != "" {
		a = append(a, "-incoming", "file:"+c.Incoming)
	}
	if c.Seccomp {
		a = append(a, "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny")
	}
	return a
}

// errSentence is err's message without the "sandbox: " of a sentinel.
func errSentence(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return strings.TrimPrefix(err.Error(), "sandbox: ")
}
