// Package microvm is rgraph's microVM sandbox driver (--driver microvm):
// each run is a qemu microVM (-M microvm) with its own Linux kernel,
// memory-backed root file system and network, and the same scenario
// format, recorder and record as the netns driver. Importing the package
// registers it with [sandbox.Register]; docs/microvm.md is its manual.
//
// On the host each run gets a network namespace whose only links are a
// tap to the VM and a veth pair to the upstream, an nftables filter there
// that applies the allowlist at the IP level (a guest whose recorder was
// switched off still reaches nothing else), and a mount namespace holding
// a read-only 9p share of the host's programs. In the guest the agent
// (package internal/guest; the rgraph-agent binary, or a test binary
// calling [AgentMain]) builds the sandbox as the netns driver does:
// cgroups, collector/probe, the DNS stub (whose allowed questions the
// host judges again and forwards), unix sockets relayed to the host's
// when allowed, commands without CAP_SYS_ADMIN and CAP_BPF. The host
// talks to it over virtio-serial (internal/vmproto).
//
// VMs run on KVM where the CPU has hardware virtualization, else under
// qemu's emulation (TCG), which is many times slower: the driver then
// stretches scenarios' timeouts ([sandbox.Slower]) and starts runs from a
// snapshot of a booted VM whose agent has loaded the recorder, taken once
// per set of assets, instead of booting each. Everything comes from
// Debian's packages ([InstallScript], `rgraph sandbox install --driver
// microvm`); the driver builds and caches the ELF kernel, the initramfs
// (its own cpio writer) and the snapshot in [DefaultCacheDir].
//
// It needs Linux, root, qemu 8 or later, a Debian kernel package of Linux
// 6.7 or later unpacked in [DefaultDir]/kernel, nft and /dev/net/tun;
// [Driver.Check] lists each requirement, and errors wrap
// [sandbox.ErrPermission] or [sandbox.ErrUnsupported]. [Driver.Reap]
// kills the VMs and removes what runs whose rgraph died left.
package microvm
