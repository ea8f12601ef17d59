// Package vmproto is what the microVM driver's host side and its guest
// agent say to each other over virtio-serial ports, with net/rpc (gob):
// the guest serves [Agent] on the port named [PortCtl] and calls [Host]
// on the port named [PortHost]. Both sides are built from the same
// source; [Version] catches an agent of another rgraph.
package vmproto

import (
	"net/netip"
	"time"

	"github.com/rgraph/rgraph/collector"
)

// Version changes whenever a message changes.
const Version = 2

// Names of the virtio-serial ports (qemu's virtserialport name=).
const (
	// PortCtl carries the host's calls to the guest's Agent service.
	PortCtl = "rgraph.ctl"
	// PortHost carries the guest's calls to the host's Host service.
	PortHost = "rgraph.host"
	// PortShell is the shell of a kept VM.
	PortShell = "rgraph.shell"
)

// The start handshake on [PortHost], before net/rpc: a guest booted from
// the kernel command line flag TemplateArg=1 loads the recorder, writes
// TemplateReady and a newline, and waits; the host snapshots it there.
// Every guest, booted or restored, waits for Go and a newline before it
// calls Host.Hello.
const (
	TemplateArg   = "rgraph.template"
	TemplateReady = "rgraph-template-ready"
	Go            = "go"
)

// Service and method names.
const (
	Agent = "Agent"
	Host  = "Host"

	HostHello = Host + ".Hello"
	HostReady = Host + ".Ready"
	HostDNS   = Host + ".DNS"

	AgentExec      = Agent + ".Exec"
	AgentCancel    = Agent + ".Cancel"
	AgentProbe     = Agent + ".Probe"
	AgentRecording = Agent + ".Recording"
	AgentAlive     = Agent + ".Alive"
	AgentKeep      = Agent + ".Keep"
	AgentShutdown  = Agent + ".Shutdown"
)

// Hello is the guest's first call: its agent runs.
type Hello struct {
	Version int
	// Kernel is the guest kernel's release.
	Kernel string
	// Uptime is the guest's uptime when the agent called.
	Uptime time.Duration
}

// Setup is the host's answer to [Hello]: everything the guest needs to
// build the sandbox. The guest answers with a call to Host.Ready.
type Setup struct {
	Version int
	ID      string
	// Now is the host's time, to set the guest's clock from.
	Now time.Time
	// Seed is randomness for the guest's entropy pool.
	Seed []byte

	// Addr is eth0's address; Gateway the host end of the link.
	Addr    netip.Prefix
	Gateway netip.Addr
	// Blackhole is where denied destinations go in blackhole mode; the
	// guest routes it to the host, whose filter drops it.
	Blackhole netip.Addr
	// ProxyPort is where, on Gateway, the host relays unix socket
	// connections to the sockets the allowlist allows.
	ProxyPort uint16
	// UnixSockets are the socket paths the guest serves by relaying
	// them to the host.
	UnixSockets []string

	// Share is the 9p mount tag of the host's read-only share; Mounts
	// are bound from it into place.
	Share  string
	Mounts []Mount
	// Symlinks are created before the mounts, link -> target, as the
	// host has them (Debian's /bin -> usr/bin).
	Symlinks map[string]string
	// Etc are files written under /etc (resolv.conf, hosts, hostname).
	Etc map[string][]byte

	// WorkDir is the commands' working directory, made and seeded with
	// Files.
	WorkDir string
	Files   []File
	Env     []string
	Rules   collector.Rules
	Fault   collector.FaultMode
	// Unrecorded leaves the recorder and the DNS stub out: only tests
	// set it, to show what the host's filter stops on its own.
	Unrecorded bool
}

// Mount binds Source, a path inside the share, read-only onto Target.
type Mount struct {
	Source string
	Target string
}

// File is a file seeded into the working directory.
type File struct {
	Path    string
	Content []byte
	Mode    uint32
}

// Ready is the guest's second call: the sandbox is built (Err empty), or
// why not.
type Ready struct {
	Err string
	// Unsupported and Permission say which sentinel Err stands for.
	Unsupported, Permission bool
	// Took is how long the setup took in the guest, and Steps how long
	// each of its steps did ("modules 120ms").
	Took  time.Duration
	Steps []string
}

// DNS asks the host to forward a query the guest's DNS stub allowed; the
// host judges it again against the rules.
type DNS struct {
	Proto    collector.Protocol
	Resolver netip.AddrPort
	Query    []byte
}

// Answer is the host's reply to [DNS].
type Answer struct {
	Msg []byte
	Err string
}

// Exec runs a command (sandbox.Command) in the guest.
type Exec struct {
	// Token names the call for Agent.Cancel.
	Token uint64
	Name  string
	Shell string
	// Validation runs it outside the recorder.
	Validation bool
	// Timeout, when positive, bounds the command.
	Timeout time.Duration
}

// ExecResult is how a command ended (sandbox.ExecResult).
type ExecResult struct {
	ExitCode int
	Output   string
	TimedOut bool
	Duration time.Duration
	// Err is set when the command could not be run at all.
	Err string
}

// Probe makes a health check (sandbox.Probe) from the guest, outside
// the recorder.
type Probe struct {
	Kind   string
	Target string
	// Status and Body are an HTTP probe's expectations.
	Status  int
	Body    string
	Timeout time.Duration
}

// ProbeResult is a health check's result: Err empty means healthy.
type ProbeResult struct {
	Err string
	// Errno is the system error the check failed with (ECONNREFUSED,
	// ENOENT, ...), 0 when there is none.
	Errno    uintptr
	TimedOut bool
}

// Kept is the guest's answer to Agent.Keep.
type Kept struct {
	Notes []string
}

// Empty is the argument or reply of calls that carry none.
type Empty struct{}

// Recording is the guest's answer to Agent.Recording.
type Recording struct {
	Recording collector.Recording
	// Err says why the recording is partial.
	Err string
}
