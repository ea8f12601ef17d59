// Package netnspintest runs a test on the machine state of a fresh
// machine, where /run/netns is not a mount point yet because neither ip
// netns nor rgraph has run there.
package netnspintest
