// Package seal keeps a sandboxed command inside its sandbox, whatever the
// command does as root: it takes away the capabilities that could undo a
// sandbox, and it provides the sandbox's init process.
//
// [Thread] seals the calling OS thread for the processes it starts: their
// capabilities are limited to [Kept] (what ordinary daemons need: change
// users, own files, bind low ports, signal their own processes), no
// execve can add any (no_new_privs), and the thread itself keeps its own,
// so that it can still create the namespaces and cgroups its children are
// born into. A sandbox driver runs it on the locked thread it forks
// commands from.
//
// [StartInit] starts PID 1 of a fresh PID namespace: a few lines of
// /bin/sh that reap orphans and end when the sandbox closes its control
// pipe (or its owner dies), taking every process of the namespace with
// it. The shell is cheaper to start than rgraph's own binary.
// [Init.MountProc] mounts /proc for the namespace and makes the parts of
// it that configure the machine read-only.
//
// It is Linux-only and needs root (CAP_SYS_ADMIN and CAP_SETPCAP).
package seal
