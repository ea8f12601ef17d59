// Package site renders rgraph's recovery documentation as a static web
// site: a fleet page with the recovery waves, the critical path, the
// bootstrap cycles and the recovery graph drawn inline, and one page per
// service with its runbook steps exactly as the operator types them, its
// validation, its minimal allowlist with the hard, soft or alternative
// classification and the evidence for each entry, when it last passed, and
// links to the services it needs and those that need it.
//
// The caller gathers the data ([Site], [Service]) from the store and the
// scenarios; [Build] turns it into files and [Write] puts them in a
// directory. Pages are self-contained: styles are inlined, the drawing is
// inline SVG, there is no script and nothing is loaded from the network,
// so the site works from file://. Output is deterministic: the same data
// gives the same bytes.
package site
