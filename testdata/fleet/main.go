// Command fleet is rgraph's example fleet: nine small infrastructure
// services in one binary, with a known recovery graph (ground-truth.yaml)
// that rgraph must reproduce by measuring them.
//
//	fleet serve ROLE [flags]   run one service: recover, then serve
//	fleet check ROLE [flags]   exit 0 when the service answers healthy
//	fleet truth [FILE]         print ground-truth.yaml as an edge list
//	fleet prod up|down|status  the healthy "production" fleet in its own
//	                           network namespace (10.99.0.0/24), the
//	                           upstream rgraph's sandboxes leak back to
//
// Each service, when it starts, really makes its recovery calls (TCP and
// HTTP connects, DNS lookups through /etc/resolv.conf or straight to a
// server, a unix-socket connect) with short timeouts, and reports itself
// unhealthy when a hard dependency fails; soft dependencies fall back to
// a local cache. Build it with `go build -o bin/fleet ./testdata/fleet`.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage:
  fleet serve ROLE [--listen ADDR] [--state DIR] [role flags]
  fleet check ROLE [--addr ADDR] [--socket PATH]
  fleet prod up|down|status [--netns NAME] [--dir DIR] [--owner PID]
  fleet truth [GROUND-TRUTH.yaml]
roles: dns logd ca scheduler coord config discovery pkgstore web
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], stderr)
	case "check":
		err = check(ctx, args[1:], stdout)
	case "prod":
		err = prod(ctx, args[1:], stdout, stderr)
	case "truth":
		err = truth(args[1:], stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "fleet: unknown command %q\n%s", args[0], usage)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "fleet %s: %v\n", args[0], err)
		return 1
	}
	return 0
}
