// Package collector holds the portable side of rgraph's measurement: the
// versioned run and minimization records a sandbox run produces, the
// attempts recorded in them, the allowlist of capabilities a run may use,
// and the service catalog that maps endpoints to service names.
//
// Nothing here touches the kernel; the eBPF recorder that fills these types
// lives in the Linux-only package collector/probe. The analysis half of
// rgraph (ingest, graph, render) imports this package on any OS.
//
// The record schema is documented in docs/records.md; [Decode] rejects
// unknown schema versions and malformed documents with an error that names
// the file and the field.
package collector
