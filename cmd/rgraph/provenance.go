package main

import (
	"crypto/ed25519"
	"fmt"
	"os"
	"runtime/debug"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/collector/sign"
	"github.com/rgraph/rgraph/sandbox/shard"
)

// provenance says where records written now are made: this host, the
// job found in the environment (or given by --job or RGRAPH_JOB), the
// shard, and this rgraph's version.
func provenance(env *Env, job, part string) *collector.Provenance {
	p := &collector.Provenance{Job: job, Shard: part, Tool: "rgraph " + version()}
	if env.Hostname != nil {
		p.Host, _ = env.Hostname()
	}
	if p.Job == "" {
		p.Job = env.Getenv("RGRAPH_JOB")
	}
	if p.Job == "" {
		p.Job = shard.Job(env.Getenv)
	}
	return p
}

// version is rgraph's module version, "(devel)" in a work tree.
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// readSignKey reads the private key --sign-key names, or returns nil
// for "".
func readSignKey(path string) (ed25519.PrivateKey, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading signing key: %w", err)
	}
	return sign.ParsePrivateKey(b, path)
}
