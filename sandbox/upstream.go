package sandbox

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rgraph/rgraph/collector"
)

// Bounds of [CheckUpstream].
const (
	upstreamDialTimeout = time.Second     // one connect
	upstreamTimeout     = 3 * time.Second // all of them
	upstreamParallel    = 8
	upstreamMax         = 256 // distinct targets looked at
)

// CheckUpstream learns whether the targets of denied TCP and unix
// attempts exist upstream and sets their [collector.Attempt.Upstream]: it
// probes each target once through p, outside the recorder. A refused
// connect marks the target refused, a socket path that does not exist
// marks it absent; anything else (a connect that succeeds, times out or
// fails otherwise, a path that exists) leaves it present, a dependency. Attempts whose Upstream is already known, other
// protocols, abstract and relative socket paths are left alone (the DNS
// stub knows about names itself). ctx and a bound of a few seconds limit
// the whole check.
func CheckUpstream(ctx context.Context, p UpstreamProber, attempts []collector.Attempt) {
	ctx, cancel := context.WithTimeout(ctx, upstreamTimeout)
	defer cancel()
	found := map[target]collector.Upstream{}
	var todo []target
	for _, a := range attempts {
		t, ok := upstreamTarget(a)
		if !ok {
			continue
		}
		if _, seen := found[t]; !seen && len(todo) < upstreamMax {
			found[t] = collector.UpstreamPresent
			todo = append(todo, t)
		}
	}
	if len(todo) == 0 {
		return
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, upstreamParallel)
	for _, t := range todo {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
				return
			}
			dctx, cancel := context.WithTimeout(ctx, upstreamDialTimeout)
			defer cancel()
			err := p.ProbeUpstream(dctx, t.network, t.address)
			if u := upstreamOf(err); err != nil && u != collector.UpstreamPresent {
				mu.Lock()
				found[t] = u
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for i, a := range attempts {
		if t, ok := upstreamTarget(a); ok {
			attempts[i].Upstream = found[t]
		}
	}
}

// target is what CheckUpstream connects to: a network and an address.
type target struct{ network, address string }

// upstreamTarget is what CheckUpstream connects to for a, if anything.
func upstreamTarget(a collector.Attempt) (t target, ok bool) {
	if a.Verdict != collector.Denied || a.Upstream != collector.UpstreamPresent {
		return t, false
	}
	switch a.Protocol {
	case collector.TCP:
		t.network, t.address = "tcp", netip.AddrPortFrom(a.Address, a.Port).String()
		return t, a.Address.IsValid()
	case collector.Unix:
		t.network, t.address = "unix", a.Path
		return t, strings.HasPrefix(a.Path, "/")
	}
	return t, false
}

// upstreamOf reads a failed connect.
func upstreamOf(err error) collector.Upstream {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return collector.UpstreamRefused
	case errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ENOTDIR):
		return collector.UpstreamAbsent
	}
	return collector.UpstreamPresent
}
