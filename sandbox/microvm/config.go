package microvm

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/sandbox/microvm/internal/vmproto"
)

// Name is the driver's name: what --driver selects and records carry.
const Name = "microvm"

// Defaults of [Config].
const (
	// DefaultDir holds the guest kernel, unpacked from its Debian
	// package into DefaultDir/kernel by `rgraph sandbox install --driver
	// microvm`.
	DefaultDir = "/var/lib/rgraph/microvm"
	// DefaultCacheDir holds what the driver builds from it: the ELF
	// kernel and the initramfs of each agent binary.
	DefaultCacheDir = "/var/cache/rgraph/microvm"
	// DefaultQEMU is the qemu binary looked up in PATH.
	DefaultQEMU = "qemu-system-x86_64"
	// AgentName is the guest agent's binary, looked for beside the
	// running rgraph and then in PATH.
	AgentName        = "rgraph-agent"
	DefaultMemoryMiB = 512
)

// qbootPath is qemu's minimal firmware, which boots the kernel directly.
const qbootPath = "/usr/share/qemu/qboot.rom"

// Config adjusts the driver; the zero value takes every default.
type Config struct {
	// Accel is the CPU accelerator; default [AccelAuto].
	Accel Accel
	// Dir is where the guest kernel is unpacked; default
	// $RGRAPH_MICROVM_DIR, else [DefaultDir].
	Dir string
	// CacheDir is where the ELF kernel and initramfs are cached;
	// default [DefaultCacheDir].
	CacheDir string
	// Agent is the guest agent binary; default $RGRAPH_MICROVM_AGENT,
	// else [AgentName] beside the running executable, else in PATH.
	Agent string
	// QEMU is the qemu binary; default [DefaultQEMU].
	QEMU string
	// MemoryMiB is the guest's memory; default [DefaultMemoryMiB].
	MemoryMiB int
	// BootTimeout bounds the boot, from qemu's start to the agent's
	// first call; SetupTimeout the agent's building of the sandbox.
	// Defaults: 60 s and 60 s (emulation on a busy machine is slow).
	BootTimeout, SetupTimeout time.Duration
	// NoSnapshot boots every VM from its kernel instead of restoring the
	// snapshot of a booted one (see snapshot_linux.go).
	NoSnapshot bool
	// Slowdown stretches each scenario's timeouts (see
	// [sandbox.Slower]); default [TCGSlowdown] under emulation, 1 under
	// KVM.
	Slowdown float64
}

// TCGSlowdown is how much longer a scenario's timeouts are under qemu's
// emulation, which runs the guest's programs one to two orders of
// magnitude slower than the host does (a Go program's start, dominant in
// runbooks and health checks, most).
const TCGSlowdown = 10

func (c Config) withDefaults() Config {
	if c.Accel == "" {
		c.Accel = AccelAuto
	}
	if c.Dir == "" {
		c.Dir = os.Getenv("RGRAPH_MICROVM_DIR")
	}
	if c.Dir == "" {
		c.Dir = DefaultDir
	}
	if c.CacheDir == "" {
		c.CacheDir = DefaultCacheDir
	}
	if c.QEMU == "" {
		c.QEMU = DefaultQEMU
	}
	if c.MemoryMiB <= 0 {
		c.MemoryMiB = DefaultMemoryMiB
	}
	if c.BootTimeout <= 0 {
		c.BootTimeout = 60 * time.Second
	}
	if c.SetupTimeout <= 0 {
		c.SetupTimeout = 60 * time.Second
	}
	return c
}

// kernelRoot is where the kernel package is unpacked under dir.
func kernelRoot(dir string) string { return filepath.Join(dir, "kernel") }

// findAgent returns the guest agent binary.
func findAgent(configured string) (string, error) {
	if configured == "" {
		configured = os.Getenv("RGRAPH_MICROVM_AGENT")
	}
	if configured != "" {
		if _, err := os.Stat(configured); err != nil {
			return "", fmt.Errorf("the guest agent: %w", err)
		}
		return configured, nil
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), AgentName)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath(AgentName); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("no guest agent: build %s beside rgraph (make build, or go build -o $(dirname $(command -v rgraph))/%s ./cmd/%s)", AgentName, AgentName, AgentName)
}

// bind is a host path shared with the guest: Source on the host, Rel
// inside the share.
type bind struct {
	Source, Rel string
}

// rootDirs are the host's top-level program directories: shared as they
// are, or recreated as the symbolic links they are on a merged-/usr
// system.
var rootDirs = []string{"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}

// etcShared are the host's /etc entries the guest sees (read-only):
// what programs need to find users, libraries, certificates and the
// alternatives of Debian's /usr/bin. The guest's resolv.conf and
// hostname are its own; nothing else of /etc (keys, shadow) is shared.
var etcShared = []string{
	"passwd", "group", "hosts", "nsswitch.conf", "services", "protocols", "host.conf", "gai.conf",
	"ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime", "mime.types",
	"ssl/certs", "ca-certificates", "ca-certificates.conf",
}

// notShared are directories a PATH entry under which is not shared: the
// guest has its own.
var notShared = []string{"/", "/etc", "/proc", "/sys", "/dev", "/run", "/.rgraph"}

// shareOf returns what the guest sees of the host: the binds of the
// share, where the guest mounts them, and the symbolic links it
// recreates. It shares the program directories, a few /etc files, and
// every directory of env's PATH (so that runbooks find their programs at
// the same paths), read-only.
func shareOf(env []string) ([]bind, []vmproto.Mount, map[string]string) {
	var binds []bind
	var mounts []vmproto.Mount
	links := map[string]string{}
	add := func(p string) {
		rel := strings.TrimPrefix(p, "/")
		binds = append(binds, bind{Source: p, Rel: rel})
		mounts = append(mounts, vmproto.Mount{Source: rel, Target: p})
	}
	var shared []string
	for _, d := range rootDirs {
		st, err := os.Lstat(d)
		switch {
		case err != nil:
		case st.Mode()&fs.ModeSymlink != 0:
			if target, err := os.Readlink(d); err == nil {
				links[d] = target
				shared = append(shared, d)
			}
		case st.IsDir():
			add(d)
			shared = append(shared, d)
		}
	}
	for _, e := range etcShared {
		if _, err := os.Stat("/etc/" + e); err == nil {
			add("/etc/" + e)
		}
	}
	for _, kv := range env {
		path, ok := strings.CutPrefix(kv, "PATH=")
		if !ok {
			continue
		}
		for _, d := range filepath.SplitList(path) {
			if !filepath.IsAbs(d) {
				continue
			}
			d = filepath.Clean(d)
			if under(d, shared) || slices.Contains(notShared, d) || underAny(d, notShared[1:]) {
				continue
			}
			if st, err := os.Stat(d); err != nil || !st.IsDir() {
				continue
			}
			add(d)
			shared = append(shared, d)
		}
	}
	return binds, mounts, links
}

func under(p string, dirs []string) bool {
	for _, d := range dirs {
		if p == d || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}

func underAny(p string, dirs []string) bool { return under(p, dirs) }

// maxRelayed bounds the unix sockets relayed into one VM.
const maxRelayed = 256

// unixSockets returns the host's unix socket paths the guest relays:
// the sockets the rules name, the sockets in directories they allow
// ("/dir/*"), and, when they allow everything, every socket under /run
// and /tmp, since the netns driver's runs can reach them all. A path the
// rules name that is no socket on the host is not relayed, so that a
// connect to it fails in the guest as it does under netns (the
// recorder's outcome: absent). Abstract sockets belong to a network
// namespace and are never relayed.
func unixSockets(r collector.Rules) []string {
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		if !seen[p] && len(out) < maxRelayed && strings.HasPrefix(p, "/") {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, p := range r.Unix {
		if dir, ok := strings.CutSuffix(p, "/*"); ok {
			for _, s := range socketsIn(dir, 1) {
				add(s)
			}
			continue
		}
		if fi, err := os.Stat(p); err == nil && fi.Mode().Type() == fs.ModeSocket {
			add(p)
		}
	}
	if r.All {
		for _, root := range []string{"/run", "/tmp"} {
			for _, s := range socketsIn(root, 4) {
				add(s)
			}
		}
	}
	slices.Sort(out)
	return out
}

// socketsIn lists the unix sockets under dir, depth levels deep at most;
// rgraph's own state is skipped.
func socketsIn(dir string, depth int) []string {
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if p == "/run/rgraph" || p == "/run/netns" || strings.Count(strings.TrimPrefix(p, dir), "/") >= depth {
				return fs.SkipDir
			}
			return nil
		}
		if d.Type()&fs.ModeSocket != 0 {
			out = append(out, p)
		}
		return nil
	})
	return out
}
