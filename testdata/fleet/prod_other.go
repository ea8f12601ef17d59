//go:build !linux

package main

import (
	"context"
	"errors"
	"io"
)

// prod needs Linux network namespaces and cgroups.
func prod(context.Context, []string, io.Writer, io.Writer) error {
	return errors.New("the production fleet needs Linux network namespaces")
}
