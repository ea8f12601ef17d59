// Package e2e holds the privileged end-to-end test of rgraph minimize: it
// builds the rgraph binary, brings up the example fleet (testdata/fleet)
// and checks that minimizing every scenario in real sandboxes finds
// exactly the ground truth's hard/soft split. It is a package of its own so
// that the minimizer's unit tests and benchmarks do not depend on the
// sandbox building; it needs root and the eBPF recorder, and skips (or,
// with RGRAPH_REQUIRE_PRIVILEGED=1, fails) without them.
package e2e
