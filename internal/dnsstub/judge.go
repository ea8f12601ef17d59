package dnsstub

import (
	"fmt"
	"net/netip"

	"github.com/rgraph/rgraph/collector"
)

// Judge makes the stub's decision on a query again, for an enforcer
// outside the sandbox that forwards what the stub inside allowed (the
// microVM driver's host): nil when rules let every question of msg be
// forwarded to resolver over proto, else an error naming the first
// question they deny. It records nothing.
func Judge(rules collector.Rules, proto collector.Protocol, resolver netip.AddrPort, msg []byte) error {
	q, err := parseQuery(msg)
	if err != nil {
		return fmt.Errorf("not a DNS query: %w", err)
	}
	resolverAllowed := rules.AllowsAddr(proto, resolver.Addr(), resolver.Port())
	for _, qq := range q.Questions {
		if !rules.AllowsQuestion(qq.Name, resolverAllowed) {
			return fmt.Errorf("question %s %s to %v is not allowed", qq.Name, qq.Type, resolver)
		}
	}
	return nil
}
