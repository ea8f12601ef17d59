package sandbox

import "errors"

// ErrPermission is wrapped by errors that mean the caller lacks the
// privileges a sandbox needs: root, or CAP_SYS_ADMIN, CAP_NET_ADMIN and
// CAP_BPF, to create network namespaces, cgroups and mounts and to attach
// the eBPF recorder.
var ErrPermission = errors.New("sandbox: needs root (or CAP_SYS_ADMIN, CAP_NET_ADMIN and CAP_BPF) to create network namespaces, cgroups and eBPF probes")

// ErrUnsupported is wrapped by errors that mean this OS or kernel lacks
// something a driver needs (network namespaces, a cgroup v2 hierarchy, an
// eBPF feature).
var ErrUnsupported = errors.New("sandbox: unsupported on this system")

// ErrUnknownDriver is returned by [DriverByName] for a name no driver has.
var ErrUnknownDriver = errors.New("sandbox: unknown driver")
