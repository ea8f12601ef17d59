//go:build !linux

package sandbox

import "fmt"

// Check reports whether this machine can run the default driver; it needs
// Linux, so here it returns an error wrapping [ErrUnsupported].
func Check() error {
	return fmt.Errorf("%w: the netns driver needs Linux", ErrUnsupported)
}
