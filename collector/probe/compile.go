package probe

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/rgraph/rgraph/collector"
)

// Limits of the in-kernel rule tables; they match the C definitions in
// probe.c.
const (
	maxRanges   = 16  // port ranges one address prefix can carry
	maxUnixPath = 108 // sizeof(sun_path)
)

// Protocol bits of a port range.
const (
	protoTCP uint8 = 1 << iota
	protoUDP
)

// portRange is one allowed port range for a set of protocols.
type portRange struct {
	Lo, Hi uint16
	Protos uint8
}

// netEntry is one key and value of the LPM trie of allowed addresses.
// The key's data is a family tag (4 or 6) followed by the address (IPv4 in
// its first 4 bytes), so one trie serves both families and an IPv6 prefix
// never matches an IPv4 destination, as in [collector.Rules.AllowsAddr];
// Bits counts the tag's 8 bits plus the prefix length.
type netEntry struct {
	Key    [17]byte
	Bits   uint32
	Ranges []portRange
}

// unixEntry is one key of the LPM trie of allowed unix socket paths. An
// exact path includes its terminating NUL in Bits; a "/dir/*" pattern is
// the prefix "/dir/". Abstract names are written "@name", as the probe
// writes them.
type unixEntry struct {
	Path [maxUnixPath]byte
	Bits uint32
}

// ruleTables is [collector.Rules] compiled to what the kernel checks.
type ruleTables struct {
	All  bool
	Nets []netEntry
	Unix []unixEntry
}

// compileRules turns rules into trie entries. Because a longest-prefix
// lookup returns only the most specific prefix, each prefix carries the
// port ranges of every rule whose prefix contains it.
func compileRules(r collector.Rules) (ruleTables, error) {
	t := ruleTables{All: r.All}
	type rule struct {
		pfx netip.Prefix
		pr  portRange
	}
	var rules []rule
	for _, n := range r.Nets {
		if !n.CIDR.IsValid() {
			return t, fmt.Errorf("rule %q has no address", n.String())
		}
		pr := portRange{Lo: 0, Hi: 65535, Protos: protoTCP | protoUDP}
		if !n.Ports.IsZero() {
			pr.Lo, pr.Hi = n.Ports.Lo, n.Ports.Hi
		}
		switch n.Protocol {
		case collector.TCP:
			pr.Protos = protoTCP
		case collector.UDP:
			pr.Protos = protoUDP
		case "":
		default:
			return t, fmt.Errorf("rule %q: protocol must be tcp or udp", n.String())
		}
		rules = append(rules, rule{n.CIDR.Masked(), pr})
	}
	byPrefix := map[netip.Prefix][]portRange{}
	for _, a := range rules {
		var ranges []portRange
		for _, b := range rules {
			if b.pfx.Bits() <= a.pfx.Bits() && b.pfx.Contains(a.pfx.Addr()) { // same family only
				ranges = append(ranges, b.pr)
			}
		}
		byPrefix[a.pfx] = mergeRanges(ranges)
	}
	for pfx, ranges := range byPrefix {
		if len(ranges) > maxRanges {
			return t, fmt.Errorf("%v is covered by %d distinct port ranges (at most %d)", pfx, len(ranges), maxRanges)
		}
		t.Nets = append(t.Nets, netEntry{Key: netKey(pfx.Addr()), Bits: 8 + uint32(pfx.Bits()), Ranges: ranges})
	}
	sort.Slice(t.Nets, func(i, j int) bool {
		a, b := t.Nets[i], t.Nets[j]
		if c := strings.Compare(string(a.Key[:]), string(b.Key[:])); c != 0 {
			return c < 0
		}
		return a.Bits < b.Bits
	})

	seen := map[unixEntry]bool{}
	for _, p := range r.Unix {
		e, err := compileUnix(p)
		if err != nil {
			return t, err
		}
		if !seen[e] {
			seen[e] = true
			t.Unix = append(t.Unix, e)
		}
	}
	return t, nil
}

// compileUnix turns a unix path pattern into a trie key.
func compileUnix(p string) (unixEntry, error) {
	var e unixEntry
	if dir, ok := strings.CutSuffix(p, "/*"); ok {
		prefix := dir + "/"
		if len(prefix) > maxUnixPath {
			return e, fmt.Errorf("unix path pattern %q is longer than %d bytes", p, maxUnixPath)
		}
		copy(e.Path[:], prefix)
		e.Bits = uint32(len(prefix)) * 8
		return e, nil
	}
	if p == "" || len(p) > maxUnixPath {
		return e, fmt.Errorf("unix path %q must be 1 to %d bytes", p, maxUnixPath)
	}
	copy(e.Path[:], p)
	n := len(p)
	if n < maxUnixPath {
		n++ // the NUL that ends the path makes the match exact
	}
	e.Bits = uint32(n) * 8
	return e, nil
}

// mergeRanges sorts ranges, drops duplicates and joins overlapping or
// adjacent ranges of the same protocols.
func mergeRanges(in []portRange) []portRange {
	sort.Slice(in, func(i, j int) bool {
		a, b := in[i], in[j]
		if a.Protos != b.Protos {
			return a.Protos < b.Protos
		}
		if a.Lo != b.Lo {
			return a.Lo < b.Lo
		}
		return a.Hi < b.Hi
	})
	var out []portRange
	for _, r := range in {
		if n := len(out); n > 0 {
			last := &out[n-1]
			if last.Protos == r.Protos && uint32(r.Lo) <= uint32(last.Hi)+1 {
				last.Hi = max(last.Hi, r.Hi)
				continue
			}
		}
		out = append(out, r)
	}
	return out
}

// netKey is the trie key data of an address: family tag, then address.
func netKey(a netip.Addr) [17]byte {
	var k [17]byte
	if a.Is4() {
		k[0] = 4
		b := a.As4()
		copy(k[1:], b[:])
	} else {
		k[0] = 6
		b := a.As16()
		copy(k[1:], b[:])
	}
	return k
}

// prefix is the inverse of netKey for an entry, for tests and messages.
func (e netEntry) prefix() netip.Prefix {
	if e.Key[0] == 4 {
		return netip.PrefixFrom(netip.AddrFrom4([4]byte(e.Key[1:5])), int(e.Bits)-8)
	}
	return netip.PrefixFrom(netip.AddrFrom16([16]byte(e.Key[1:17])), int(e.Bits)-8)
}

// allows is the Go model of the kernel's address check, used by tests to
// cross-check the compiled tables against [collector.Rules.AllowsAddr].
func (t ruleTables) allows(proto collector.Protocol, addr netip.Addr, port uint16) bool {
	if t.All {
		return true
	}
	a := addr.Unmap()
	var best *netEntry
	for i := range t.Nets {
		e := &t.Nets[i]
		if e.prefix().Contains(a) && (best == nil || e.Bits > best.Bits) {
			best = e
		}
	}
	if best == nil {
		return false
	}
	bit := protoTCP
	if proto == collector.UDP {
		bit = protoUDP
	}
	for _, r := range best.Ranges {
		if port >= r.Lo && port <= r.Hi && r.Protos&bit != 0 {
			return true
		}
	}
	return false
}
