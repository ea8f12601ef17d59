package sealinit

import "syscall"

// ProcEnv marks the environment of the helper: a process that has
// ProcEnv=1 and whose parent is outside its PID namespace (its parent
// process ID is 0) mounts /proc for its namespace and exits.
const ProcEnv = "RGRAPH_SEAL_PROC"

func init() {
	if v, _ := syscall.Getenv(ProcEnv); v != "1" || syscall.Getppid() != 0 {
		return
	}
	if err := MountProc(); err != nil {
		syscall.Write(2, []byte(err.Error()+"\n"))
		syscall.Exit(1)
	}
	syscall.Exit(0)
}
