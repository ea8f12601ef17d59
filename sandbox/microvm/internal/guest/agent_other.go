//go:build !linux

package guest

import (
	"fmt"
	"os"
)

// Main is the guest agent; it runs only as the init of a Linux VM.
func Main() {
	fmt.Fprintln(os.Stderr, "rgraph agent: runs only as the init of rgraph's Linux microVMs")
	os.Exit(2)
}
