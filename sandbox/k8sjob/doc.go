// Package k8sjob writes the Kubernetes Indexed Job that spreads rgraph
// runs (or minimizations) of a set of scenarios over a cluster: one pod
// per shard, the shard taken from JOB_COMPLETION_INDEX, the scenarios and
// the records on volumes the user names.
//
// The Job is built from the Kubernetes API's own Go types (k8s.io/api)
// and written as YAML with sigs.k8s.io/yaml; this is the only package of
// rgraph that imports them. Its pods get exactly the privileges a sandbox
// run needs, not a privileged container: see [Capabilities] and
// docs/scale.md. Nothing here talks to a cluster; kubectl applies what it
// writes.
package k8sjob
