// Package minimize pares a recovery scenario's allowlist down to the
// capabilities recovery really needs, and classifies every capability the
// service attempted as hard (recovery fails without it), soft (attempted,
// not needed) or alternative (one of a group where any one suffices).
//
// [Minimize] asks an [Oracle] to run the scenario under chosen allowlists;
// the oracle is rgraph's sandbox in the CLI and a simulation
// (minimizetest) in tests, and must start every trial from a clean state.
// The search is adaptive binary splitting (Hwang's generalised binary
// splitting): with k of n candidates needed it takes about
// k·log2(n/k) + 2k trials, within the target 2k·log2(n/k) + 2k, where
// ddmin and leave-one-out need more than n. A confirmation pass then
// re-verifies the result and proves every member necessary
// (1-minimality), and a screen per member finds alternatives.
// docs/minimize.md gives the passes, the bounds and measured numbers.
//
// Recovery tests are flaky, and the two errors are not equal: a false
// failure only keeps an unneeded capability, a false success drops a
// needed one. A removal is therefore accepted only after Repeat
// consecutive successes, every trial is recorded as evidence, identical
// sets are never run more often than a decision needs, and the [Result]
// states how far it can be trusted. Minimize stops promptly when its
// context is cancelled and returns the smallest set known to pass.
package minimize
