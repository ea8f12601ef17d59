package main

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rgraph/rgraph/ingest"
)

// completeNames makes the shell complete live names from the store in the
// command tree under root: release names for --release and for the
// release arguments of diff and releases delete, service names for
// --target, --down and --service and for why's arguments. The store is
// opened read-only, never created, and not waited for: a store another
// process writes completes nothing.
func completeNames(root *cobra.Command, env *Env, g *globalOptions) {
	c := &completer{env: env, g: g}
	var walk func(*cobra.Command)
	walk = func(cmd *cobra.Command) {
		for flag, f := range map[string]cobra.CompletionFunc{
			"release": c.releases, "target": c.services, "down": c.services, "service": c.services,
		} {
			if cmd.Flags().Lookup(flag) != nil {
				_ = cmd.RegisterFlagCompletionFunc(flag, f)
			}
		}
		switch cmd.CommandPath() {
		case "rgraph diff":
			cmd.ValidArgsFunction = c.upTo(2, c.releases)
		case "rgraph why":
			cmd.ValidArgsFunction = c.upTo(2, c.services)
		case "rgraph releases delete":
			cmd.ValidArgsFunction = c.releases
		}
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

type completer struct {
	env *Env
	g   *globalOptions
}

// upTo completes the first n arguments with f, nothing after them.
func (c *completer) upTo(n int, f cobra.CompletionFunc) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) >= n {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return f(cmd, args, toComplete)
	}
}

// releases completes release names, newest first.
func (c *completer) releases(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	var names []string
	c.withStore(cmd.Context(), func(s *ingest.Store) {
		rs, err := s.Releases()
		if err != nil {
			return
		}
		for _, r := range rs {
			names = append(names, r.Name)
		}
	})
	return matching(names, toComplete), cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveKeepOrder
}

// services completes the service names of the release --release names,
// or of the newest; after a comma (--down a,b) it completes the last name.
func (c *completer) services(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	release := ""
	if f := cmd.Flags().Lookup("release"); f != nil {
		release = f.Value.String()
	}
	var names []string
	c.withStore(cmd.Context(), func(s *ingest.Store) {
		if v, err := s.View(release, ingest.PartGraph); err == nil {
			names = v.Graph.Names()
		}
	})
	done, last := "", toComplete
	if i := strings.LastIndexByte(toComplete, ','); i >= 0 {
		done, last = toComplete[:i+1], toComplete[i+1:]
	}
	out := matching(names, last)
	for i := range out {
		out[i] = done + out[i]
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// withStore runs f on the store opened read-only, or does nothing when
// there is none or another process writes it.
func (c *completer) withStore(ctx context.Context, f func(*ingest.Store)) {
	if ctx == nil {
		ctx = context.Background()
	}
	g := *c.g
	g.Wait = false
	s, err := storeReader(c.env, &g)(ctx)
	if err != nil {
		return
	}
	defer s.Close()
	f(s)
}

// matching returns the names that begin with prefix.
func matching(names []string, prefix string) []string {
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	return out
}
