package sealinit

import (
	"syscall"
	"unsafe"
)

// Env marks the environment of a sandbox init: a process that has
// Env=1 and is PID 1 becomes one.
const Env = "RGRAPH_SEAL_INIT"

// The init's descriptors: the control pipe it reads, and the pipe it
// reports a /proc mount on.
const (
	CtlFD   = 3
	ReadyFD = 4
)

func init() {
	if syscall.Getpid() != 1 {
		return
	}
	if v, _ := syscall.Getenv(Env); v != "1" {
		return
	}
	run()
}

// ignored are the signals processes of the namespace could end the init
// with: the kernel delivers to an init only the signals it handles, and
// Go's handlers for these end the program.
var ignored = []syscall.Signal{syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM,
	syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGPIPE, syscall.SIGALRM, syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU}

// run is the init's life; it does not return.
func run() {
	// struct sigaction with SIG_IGN (1) as its handler, its first field
	// on every architecture Go runs Linux on but mips, and everything
	// else zero.
	var ign [8]uintptr
	ign[0] = 1
	for _, s := range ignored {
		syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(s), uintptr(unsafe.Pointer(&ign[0])), 0, 8, 0, 0)
	}
	// Not dumpable: processes of the sandbox cannot ptrace it or open its
	// /proc files.
	syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_DUMPABLE, 0, 0)
	go control()
	for {
		var ws syscall.WaitStatus
		_, err := syscall.Wait4(-1, &ws, 0, nil)
		if err == syscall.ECHILD {
			// No child yet, or none left: orphans may come.
			ts := syscall.Timespec{Nsec: 20e6}
			syscall.Nanosleep(&ts, nil)
		}
	}
}

// control reads the control pipe: "proc" mounts /proc, "keep" makes the
// init outlive the pipe, and the pipe's end ends the init.
func control() {
	kept := false
	var line []byte
	buf := make([]byte, 64)
	for {
		n, err := syscall.Read(CtlFD, buf)
		if err == syscall.EINTR {
			continue
		}
		if n <= 0 {
			break
		}
		for _, c := range buf[:n] {
			if c != '\n' {
				line = append(line, c)
				continue
			}
			switch string(line) {
			case "keep":
				kept = true
			case "proc":
				msg := "ok\n"
				if err := MountProc(); err != nil {
					msg = err.Error() + "\n"
				}
				syscall.Write(ReadyFD, []byte(msg))
				syscall.Close(ReadyFD)
			}
			line = line[:0]
		}
	}
	if !kept {
		syscall.Exit(0)
	}
}
