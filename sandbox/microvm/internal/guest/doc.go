// Package guest is the agent of rgraph's microVMs: PID 1 of the guest,
// which builds the sandbox inside the VM as the host's setup describes
// it (network, the host's programs shared read-only, cgroups,
// collector/probe and the DNS stub, as the netns driver does) and serves
// the host's calls over virtio-serial (package vmproto). It is Linux-only.
package guest
