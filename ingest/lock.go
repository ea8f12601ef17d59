package ingest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// LockedError is the error [Open] and [OpenReadOnly] return when another
// process holds the store: a writer excludes everyone, readers exclude
// writers. errors.Is(err, ErrLocked) holds.
type LockedError struct {
	// Dir is the store's directory.
	Dir string
	// Holders are the processes holding the store, as far as they can be
	// told (on Linux from /proc/locks); empty when unknown.
	Holders []Process
}

// Process is a process holding a store.
type Process struct {
	PID int
	// Command is its command line, shortened; "" when it cannot be read.
	Command string
}

func (p Process) String() string {
	if p.Command == "" {
		return fmt.Sprintf("pid %d", p.PID)
	}
	return fmt.Sprintf("pid %d (%s)", p.PID, p.Command)
}

func (e *LockedError) Error() string {
	if len(e.Holders) == 0 {
		return fmt.Sprintf("store %s is in use by another process", e.Dir)
	}
	var who []string
	for i, p := range e.Holders {
		if i == 3 {
			who = append(who, fmt.Sprintf("and %d more", len(e.Holders)-i))
			break
		}
		who = append(who, p.String())
	}
	return fmt.Sprintf("store %s is in use by %s", e.Dir, strings.Join(who, ", "))
}

// Is makes errors.Is(err, ErrLocked) hold.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// lockedError describes who holds the store in dir: the processes with a
// lock on the directory, or else the writer Badger's pid file names.
func lockedError(dir string) *LockedError {
	e := &LockedError{Dir: dir}
	pids := lockHolders(dir)
	if len(pids) == 0 {
		if b, err := os.ReadFile(filepath.Join(dir, "LOCK")); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
				pids = []int{pid}
			}
		}
	}
	for _, pid := range pids {
		e.Holders = append(e.Holders, Process{PID: pid, Command: commandLine(pid)})
	}
	return e
}

// commandLine returns the command line of process pid, shortened to 80
// characters, or "" when it cannot be read.
func commandLine(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return ""
	}
	args := strings.Fields(strings.ReplaceAll(string(b), "\x00", " "))
	if len(args) > 0 {
		args[0] = filepath.Base(args[0])
	}
	cmd := strings.Join(args, " ")
	if len(cmd) > 80 {
		cmd = cmd[:77] + "..."
	}
	return cmd
}
