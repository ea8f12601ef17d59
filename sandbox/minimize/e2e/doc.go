// Package e2e holds the privileged end-to-end tests of rgraph minimize:
// they build the rgraph binary, bring up the example fleet
// (testdata/fleet), or real daemons from Debian packages (testdata/real:
// dnsmasq, redis-server, nginx, curl), and check that minimizing every
// scenario in real sandboxes finds exactly the ground truth's hard/soft
// split, with no phantom dependency. It is a package of its own so
// that the minimizer's unit tests and benchmarks do not depend on the
// sandbox building; it needs root and the eBPF recorder, and skips (or,
// with RGRAPH_REQUIRE_PRIVILEGED=1, fails) without them.
package e2e
