// Package gate is rgraph diff's CI gate: the findings between two
// releases, a committed baseline of findings accepted with a reason and an
// expiry date, and which open findings fail the gate.
//
// A baseline file is YAML (or the same structure in JSON):
//
//	version: 1
//	accepted:
//	  - key: cycle:ca+1-b379a4f0
//	    reason: jumpstart runbook in INFRA-123
//	    expires: 2027-03-31   # optional
//
// [Evaluate] runs the pipeline: [graph.Diff], [graph.Findings], [Apply]
// with the baseline, expired entries as findings of
// [graph.CategoryExpiredBaseline], and the selection that fails. Errors in
// a baseline file are *decode.Error values (package collector/decode)
// naming the file, line and field, matching [ErrInvalidBaseline].
//
// The package keeps files and formats out of graph, which imports no file
// format; it imports graph and collector/decode only.
package gate
