//go:build linux

package probe

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/features"
	"golang.org/x/sys/unix"
)

// envError is a privilege or kernel problem: one plain sentence that
// wraps [ErrPermission] or [ErrUnsupported].
type envError struct {
	sentinel error
	msg      string
}

func (e *envError) Error() string        { return e.msg }
func (e *envError) Is(target error) bool { return target == e.sentinel }

func permissionError() error { return &envError{ErrPermission, permissionSentence} }

func unsupported(format string, args ...any) error {
	return &envError{ErrUnsupported, fmt.Sprintf(format, args...)}
}

// Check reports whether this machine can load and attach the probe: nil,
// or an error wrapping [ErrPermission] or [ErrUnsupported] that names what
// is missing in one sentence. Optional features (unix socket hooks,
// tracepoints) are not checked here; [Load] degrades without them and
// names them in Collection.NotRecorded.
func Check() error {
	probes := []struct {
		what string
		f    func() error
	}{
		{"cgroup sock_addr programs", func() error { return features.HaveProgramType(ebpf.CGroupSockAddr) }},
		{"cgroup sock programs", func() error { return features.HaveProgramType(ebpf.CGroupSock) }},
		{"cgroup skb programs", func() error { return features.HaveProgramType(ebpf.CGroupSKB) }},
		{"ring buffer maps (Linux 5.8)", func() error { return features.HaveMapType(ebpf.RingBuf) }},
		{"socket storage maps", func() error { return features.HaveMapType(ebpf.SkStorage) }},
		{"LPM trie maps", func() error { return features.HaveMapType(ebpf.LPMTrie) }},
	}
	for _, pr := range probes {
		if err := pr.f(); err != nil {
			if isPermission(err) {
				return permissionError()
			}
			if errors.Is(err, ebpf.ErrNotSupported) {
				return unsupported("this kernel lacks %s", pr.what)
			}
			return fmt.Errorf("probing for %s: %w", pr.what, err)
		}
	}
	if _, err := cgroup2Mount(); err != nil {
		return err
	}
	return nil
}

func isPermission(err error) bool {
	return errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) || errors.Is(err, os.ErrPermission)
}

// loadError turns a load or attach failure into a one-sentence error when
// it is about privileges or kernel support.
func loadError(what string, err error) error {
	var ve *ebpf.VerifierError
	switch {
	case errors.As(err, &ve):
		// A rejected program is a bug or an unexpected kernel, even when
		// the verifier's errno is EACCES.
		return fmt.Errorf("%s: %w", what, err)
	case isPermission(err):
		if os.Geteuid() != 0 {
			return permissionError()
		}
		return &envError{ErrPermission, what + ": the kernel refused as root (lockdown or a security module?): " + oneLine(err)}
	case errors.Is(err, ebpf.ErrNotSupported):
		return unsupported("%s: this kernel does not support it (%s)", what, oneLine(err))
	}
	return fmt.Errorf("%s: %w", what, err)
}

// cgroup2Mount returns where the cgroup v2 hierarchy is mounted.
func cgroup2Mount() (string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", fmt.Errorf("finding cgroup v2: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
		fields := strings.Fields(sc.Text())
		for i, fld := range fields {
			if fld == "-" && i+1 < len(fields) && fields[i+1] == "cgroup2" && len(fields) > 4 {
				return fields[4], nil
			}
		}
	}
	return "", unsupported("no cgroup v2 hierarchy is mounted")
}

// checkCgroup verifies that dir is a cgroup v2 directory.
func checkCgroup(dir string) error {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return fmt.Errorf("cgroup %s: %w", dir, err)
	}
	if st.Type != unix.CGROUP2_SUPER_MAGIC {
		return fmt.Errorf("%s is not a cgroup v2 directory", dir)
	}
	return nil
}

// mountTracefs makes sure tracefs is mounted where cilium/ebpf looks for
// it; mounting an already mounted tracefs is harmless.
func mountTracefs() error {
	for _, d := range []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"} {
		if _, err := os.Stat(d + "/events"); err == nil {
			return nil
		}
	}
	if err := unix.Mount("nodev", "/sys/kernel/tracing", "tracefs", 0, ""); err != nil && !errors.Is(err, unix.EBUSY) {
		return fmt.Errorf("mounting tracefs on /sys/kernel/tracing: %w", err)
	}
	return nil
}
