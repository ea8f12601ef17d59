// Package e2e holds end-to-end tests of sandboxes and the example fleet
// that need a test process, and a machine state, of their own.
package e2e
