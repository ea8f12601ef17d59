package microvm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"

	"github.com/rgraph/rgraph/sandbox"
)

// installFix is how to get what the driver's packages provide.
const installFix = "rgraph sandbox install --driver microvm"

// Check implements [sandbox.Checker]: root, qemu 8 or later (10 from
// bookworm-backports; 7.2's emulation crashes 6.12 guests), a Debian
// guest kernel 6.7 or later with its modules, the guest agent, nft and
// /dev/net/tun are required; KVM (else the much slower emulation) and
// socat (to enter kept VMs) are reported as optional. It changes
// nothing on the machine and starts no VM.
func (d *Driver) Check(context.Context) []sandbox.Requirement {
	cfg := d.cfg.withDefaults()
	var reqs []sandbox.Requirement
	add := func(r sandbox.Requirement, err error) {
		r.OK = err == nil
		if err != nil {
			r.Detail = errSentence(err)
			if !errors.Is(err, sandbox.ErrPermission) {
				err = sandbox.UnsupportedErr(err)
			}
			r.Err = err
		}
		reqs = append(reqs, r)
	}

	var err error
	if !privileged() {
		err = sandbox.PermissionErr(fmt.Errorf("uid %d without CAP_SYS_ADMIN and CAP_NET_ADMIN", os.Geteuid()))
	}
	add(sandbox.Requirement{Name: "privileges", Detail: "running as root", Fix: "run as root (sudo)"}, err)

	qemu, err := exec.LookPath(cfg.QEMU)
	qr := sandbox.Requirement{Name: "qemu", Fix: installFix + " (qemu-system-x86 from bookworm-backports on Debian 12)"}
	if err == nil {
		var v string
		if v, err = qemuVersion(qemu); err == nil {
			qr.Detail = qemu + " " + v
			if major, _ := strconv.Atoi(regexp.MustCompile(`^\d+`).FindString(v)); major < 8 {
				err = fmt.Errorf("%s is qemu %s: its emulation crashes 6.12 guests in about one boot in ten; qemu 8 or later is needed", qemu, v)
			}
		}
	} else {
		err = fmt.Errorf("no %s in PATH", cfg.QEMU)
	}
	add(qr, err)

	kr := sandbox.Requirement{Name: "guest kernel", Fix: installFix}
	k, err := findKernel(kernelRoot(cfg.Dir))
	if err == nil {
		kr.Detail = "Linux " + k.Version + " in " + k.Root
		switch {
		case !k.atLeast(6, 7):
			err = fmt.Errorf("the guest kernel %s in %s is too old for rgraph's recorder: 6.7 or later is needed (Debian 12: the 6.12 kernel of bookworm-backports)", k.Version, k.Root)
		default:
			_, err = moduleClosure(k, guestModuleNames)
		}
	}
	add(kr, err)

	ar := sandbox.Requirement{Name: "guest agent", Fix: "make build (it builds bin/" + AgentName + " beside bin/rgraph)"}
	agent, err := findAgent(cfg.Agent)
	if err == nil {
		ar.Detail = agent
	}
	add(ar, err)

	nft, err := exec.LookPath("nft")
	add(sandbox.Requirement{Name: "nftables", Detail: nft + ", the host's filter of each VM's traffic", Fix: installFix}, err)

	_, err = os.Stat("/dev/net/tun")
	add(sandbox.Requirement{Name: "tap devices", Detail: "/dev/net/tun", Fix: "a kernel built with CONFIG_TUN"}, err)

	kvm := probeKVM()
	accel := sandbox.Requirement{Name: "KVM", Optional: true, OK: kvm.OK, Detail: kvm.Reason,
		Fix: "a machine with VT-x or AMD-V and the kvm_intel or kvm_amd module"}
	if !kvm.OK {
		accel.Detail = kvm.Reason + ": VMs run under qemu's emulation (TCG), many times slower"
	}
	reqs = append(reqs, accel)

	socat, err := exec.LookPath("socat")
	enter := sandbox.Requirement{Name: "socat", Optional: true, OK: err == nil, Detail: socat + ", to enter VMs kept with --keep", Fix: installFix}
	if err != nil {
		enter.Detail = "not found: VMs kept with --keep cannot be entered with their enter script"
	}
	reqs = append(reqs, enter)
	return reqs
}

// qemuVersion returns the version qemu prints, e.g. "10.0.2".
func qemuVersion(qemu string) (string, error) {
	out, err := exec.Command(qemu, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%s --version: %w", qemu, err)
	}
	m := regexp.MustCompile(`version (\d+\.\d+(\.\d+)?)`).FindSubmatch(out)
	if m == nil {
		return "", fmt.Errorf("%s --version printed no version", qemu)
	}
	return string(m[1]), nil
}
