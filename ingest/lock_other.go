//go:build !linux

package ingest

// lockHolders cannot tell who holds a lock here.
func lockHolders(string) []int { return nil }
