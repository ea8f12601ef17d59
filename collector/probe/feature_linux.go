//go:build linux

package probe

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
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

// Feature is one kernel eBPF feature the probe needs, as [Features]
// found it.
type Feature struct {
	// Name says what it is ("cgroup sock_addr programs").
	Name string
	// Err is nil when the kernel has it, else an error wrapping
	// [ErrPermission] or [ErrUnsupported] in one sentence.
	Err error
}

// features are the program and map types the probe loads, with the
// kernel that brought each.
var probedFeatures = []struct {
	name string
	f    func() error
}{
	{"cgroup sock_addr programs (connect hooks, Linux 4.17)", func() error { return features.HaveProgramType(ebpf.CGroupSockAddr) }},
	{"cgroup sock programs (socket creation hooks, Linux 4.10)", func() error { return features.HaveProgramType(ebpf.CGroupSock) }},
	{"cgroup skb programs (packet hooks, Linux 4.10)", func() error { return features.HaveProgramType(ebpf.CGroupSKB) }},
	{"ring buffer maps (Linux 5.8)", func() error { return features.HaveMapType(ebpf.RingBuf) }},
	{"socket storage maps (Linux 5.2)", func() error { return features.HaveMapType(ebpf.SkStorage) }},
	{"LPM trie maps (Linux 4.11)", func() error { return features.HaveMapType(ebpf.LPMTrie) }},
}

// Features probes each eBPF program and map type the probe needs, in the
// order the probe loads them. Probing needs privileges: without them every
// feature's error wraps [ErrPermission].
func Features() []Feature {
	out := make([]Feature, len(probedFeatures))
	for i, pr := range probedFeatures {
		out[i] = Feature{Name: pr.name}
		if err := pr.f(); err != nil {
			switch {
			case isPermission(err):
				out[i].Err = permissionError()
			case errors.Is(err, ebpf.ErrNotSupported):
				out[i].Err = unsupported("this kernel lacks %s", pr.name)
			default:
				out[i].Err = fmt.Errorf("probing for %s: %w", pr.name, err)
			}
		}
	}
	return out
}

// Check reports whether this machine can load and attach the probe: nil,
// or an error wrapping [ErrPermission] or [ErrUnsupported] that names what
// is missing in one sentence. Optional features (unix socket hooks,
// tracepoints) are not checked here; [Load] degrades without them and
// names them in Collection.NotRecorded.
func Check() error {
	for _, f := range Features() {
		if f.Err != nil {
			return f.Err
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
// it is about privileges or kernel support. A program the verifier
// rejected is [ErrUnsupported] (the verifier's errno, often EACCES or
// EPERM, says nothing about privileges), with the log kept for
// [VerifierLog].
func loadError(what string, err error) error {
	var ve *ebpf.VerifierError
	switch {
	case errors.As(err, &ve) && len(ve.Log) > 0:
		return newVerifierError(what, err, ve)
	case isPermission(err) && os.Geteuid() != 0:
		return permissionError()
	case isPermission(err):
		return &envError{ErrPermission, what + ": the kernel refused as root (lockdown or a security module?): " + oneLine(err)}
	case errors.Is(err, ebpf.ErrNotSupported):
		return unsupported("%s: this kernel does not support it (%s)", what, oneLine(err))
	}
	return fmt.Errorf("%s: %w", what, err)
}

// verifierLogLines is how much of the verifier's log a [verifierError]
// keeps: its end, where the reason is.
const verifierLogLines = 40

// verifierError is a program the kernel's verifier rejected: this kernel
// differs from the ones the probe was validated on. It wraps
// [ErrUnsupported], not the verifier's errno.
type verifierError struct {
	msg string
	log []string // the last lines of the verifier's log
}

var programName = regexp.MustCompile(`program (\w+): `)

func newVerifierError(what string, err error, ve *ebpf.VerifierError) *verifierError {
	prog := "a program"
	if m := programName.FindStringSubmatch(err.Error()); m != nil {
		prog = "program " + m[1]
	}
	reason := ve.Error()
	if i := strings.Index(reason, ve.Cause.Error()+": "); i >= 0 {
		reason = reason[i+len(ve.Cause.Error())+2:]
	}
	log := ve.Log
	if len(log) > verifierLogLines {
		log = log[len(log)-verifierLogLines:]
	}
	return &verifierError{
		msg: fmt.Sprintf("%s: this kernel's eBPF verifier rejected %s (the probe was validated on Linux 6.18): %s", what, prog, reason),
		log: append([]string(nil), log...),
	}
}

func (e *verifierError) Error() string        { return e.msg }
func (e *verifierError) Is(target error) bool { return target == ErrUnsupported }

// Format prints the verifier log's last lines after the message for %+v.
func (e *verifierError) Format(f fmt.State, verb rune) {
	io.WriteString(f, e.msg)
	if verb == 'v' && f.Flag('+') {
		io.WriteString(f, "\nverifier log (last lines):\n"+strings.Join(e.log, "\n"))
	}
}

// VerifierLog returns the last lines of the verifier's log when err says
// that this kernel's verifier rejected one of the probe's programs, for
// debug output; nil otherwise.
func VerifierLog(err error) []string {
	var ve *verifierError
	if errors.As(err, &ve) {
		return append([]string(nil), ve.log...)
	}
	return nil
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
