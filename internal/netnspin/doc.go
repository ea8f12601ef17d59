// Package netnspin names network namespaces the way iproute2 does: a
// namespace is pinned by bind-mounting it on the file /run/netns/NAME, so
// that it outlives its processes and `ip netns exec NAME` finds it.
//
// Every pin rgraph makes (its sandboxes, the example fleet) is made here,
// and always in the same order: /run/netns is first made a shared mount
// point of itself, as `ip netns add` does, and only then is the pin
// mounted, on that mount. The order matters. A pin made on the plain
// directory is shadowed by the first tool that later makes the directory
// a mount point (rgraph, ip netns): the namespace stays reachable by name,
// but the name can no longer be unmounted or removed (EBUSY), so it
// blocks every later pin of that name. [Inspect] tells such a shadowed pin
// from a live one, and [Unpin] removes it too.
//
// Pinning and unpinning need CAP_SYS_ADMIN, and Linux.
package netnspin

import "path/filepath"

// Dir is where pins live, as for iproute2.
const Dir = "/run/netns"

// Path returns the path of the pin called name.
func Path(name string) string { return filepath.Join(Dir, name) }
