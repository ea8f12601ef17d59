// Package deps pins the module's third-party dependencies while the packages
// that use them are being written. It is imported by nothing.
package deps

import (
	_ "github.com/charmbracelet/lipgloss"
	_ "github.com/cilium/ebpf"
	_ "github.com/dgraph-io/badger/v4"
	_ "github.com/goccy/go-graphviz"
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/rogpeppe/go-internal/testscript"
	_ "github.com/spf13/cobra"
	_ "github.com/vishvananda/netlink"
	_ "golang.org/x/net/dns/dnsmessage"
	_ "golang.org/x/sys/unix"
	_ "golang.org/x/term"
	_ "gonum.org/v1/gonum/graph"
	_ "gopkg.in/yaml.v3"
)
