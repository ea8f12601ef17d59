package probe

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rgraph/rgraph/collector"
)

func netRules(t *testing.T, caps ...string) collector.Rules {
	t.Helper()
	var r collector.Rules
	for _, s := range caps {
		c, err := collector.ParseCapability(s)
		if err != nil {
			t.Fatal(err)
		}
		r.Nets = append(r.Nets, c)
	}
	return r
}

// entryString renders a trie entry as "PREFIX PORTS/PROTOS ...".
func entryString(e netEntry) string {
	var b strings.Builder
	b.WriteString(e.prefix().String())
	for _, r := range e.Ranges {
		b.WriteString(" ")
		b.WriteString(collector.PortRange{Lo: r.Lo, Hi: r.Hi}.String())
		if r.Lo == 0 && r.Hi == 65535 {
			b.WriteString("any")
		}
		switch r.Protos {
		case protoTCP:
			b.WriteString("/tcp")
		case protoUDP:
			b.WriteString("/udp")
		default:
			b.WriteString("/tcp+udp")
		}
	}
	return b.String()
}

func TestCompileRules(t *testing.T) {
	tests := []struct {
		name string
		caps []string
		want []string
	}{
		{"empty", nil, nil},
		{"one address", []string{"10.0.0.1:443/tcp"}, []string{"10.0.0.1/32 443/tcp"}},
		{
			// The /32 inherits the /8's range: a longest-prefix lookup
			// only sees the most specific entry.
			"nested prefixes carry their parents' ranges",
			[]string{"10.0.0.0/8:80/tcp", "10.0.0.1:443/tcp"},
			[]string{"10.0.0.0/8 80/tcp", "10.0.0.1/32 80/tcp 443/tcp"},
		},
		{
			"overlapping and adjacent ranges merge per protocol",
			[]string{"10.0.0.1:80-90/tcp", "10.0.0.1:85-100/tcp", "10.0.0.1:101/tcp", "10.0.0.1:53/udp", "10.0.0.1:53/udp"},
			[]string{"10.0.0.1/32 80-101/tcp 53/udp"},
		},
		{
			"no port and no protocol mean everything",
			[]string{"192.168.0.0/16"},
			[]string{"192.168.0.0/16 0-65535any/tcp+udp"},
		},
		{
			"families are separate",
			[]string{"[::/0]:443/tcp", "10.0.0.0/8:53"},
			[]string{"10.0.0.0/8 53/tcp+udp", "::/0 443/tcp"},
		},
		{
			"sibling prefixes do not share ranges",
			[]string{"10.0.0.0/24:80/tcp", "10.0.1.0/24:81/tcp"},
			[]string{"10.0.0.0/24 80/tcp", "10.0.1.0/24 81/tcp"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := compileRules(netRules(t, tt.caps...))
			if err != nil {
				t.Fatal(err)
			}
			var lines []string
			for _, e := range got.Nets {
				lines = append(lines, entryString(e))
			}
			if diff := cmp.Diff(tt.want, lines); diff != "" {
				t.Errorf("compileRules(%v) (-want +got):\n%s", tt.caps, diff)
			}
		})
	}
}

func TestCompileRulesTooManyRanges(t *testing.T) {
	var caps []string
	for p := 1; p <= 2*maxRanges+1; p += 2 { // disjoint: 1, 3, 5, ...
		caps = append(caps, fmt.Sprintf("10.0.0.1:%d/tcp", p))
	}
	if _, err := compileRules(netRules(t, caps...)); err == nil {
		t.Errorf("compileRules accepted %d disjoint ranges on one address", len(caps))
	}
	if _, err := compileRules(netRules(t, caps[:maxRanges]...)); err != nil {
		t.Errorf("compileRules rejected %d ranges: %v", maxRanges, err)
	}
}

// TestCompiledMatchesRules checks the kernel's lookup, modelled on the
// compiled tables, against collector.Rules.AllowsAddr on random
// destinations near the rules.
func TestCompiledMatchesRules(t *testing.T) {
	rules := netRules(t,
		"10.0.0.0/8:80/tcp", "10.1.0.0/16:443", "10.1.2.3:53/udp", "10.1.2.0/24:8000-8100/tcp",
		"127.0.0.1:9000", "[fd00::/8]:443/tcp", "[fd00::1]:53", "[::ffff:0:0/96]:22/tcp", "192.0.2.0/24",
	)
	tables, err := compileRules(rules)
	if err != nil {
		t.Fatal(err)
	}
	near := []string{"10.0.0.1", "10.1.0.9", "10.1.2.3", "10.1.2.200", "11.0.0.1", "127.0.0.1", "127.0.0.2",
		"fd00::1", "fd00::2", "fe80::1", "::ffff:10.1.2.3", "192.0.2.77", "::ffff:192.0.2.77", "0.0.0.0"}
	ports := []uint16{0, 22, 53, 80, 443, 8000, 8050, 8100, 8101, 9000, 65535}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 5000; i++ {
		a := netip.MustParseAddr(near[rng.IntN(len(near))])
		p := ports[rng.IntN(len(ports))]
		proto := collector.TCP
		if rng.IntN(2) == 0 {
			proto = collector.UDP
		}
		if got, want := tables.allows(proto, a, p), rules.AllowsAddr(proto, a, p); got != want {
			t.Fatalf("allows(%s, %v, %d) = %v, Rules.AllowsAddr = %v", proto, a, p, got, want)
		}
	}
}

func TestCompileUnix(t *testing.T) {
	tests := []struct {
		pattern string
		bits    uint32
		prefix  string
		wantErr bool
	}{
		{"/run/x.sock", 12 * 8, "/run/x.sock\x00", false},
		{"/run/dir/*", 9 * 8, "/run/dir/", false},
		{"@abstract", 10 * 8, "@abstract\x00", false},
		{"/" + strings.Repeat("a", 107), 108 * 8, "/" + strings.Repeat("a", 107), false},
		{"/" + strings.Repeat("a", 108), 0, "", true},
	}
	for _, tt := range tests {
		e, err := compileUnix(tt.pattern)
		if (err != nil) != tt.wantErr {
			t.Errorf("compileUnix(%q) error = %v, want error %v", tt.pattern, err, tt.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		if e.Bits != tt.bits || string(e.Path[:e.Bits/8]) != tt.prefix {
			t.Errorf("compileUnix(%q) = %q/%d, want %q/%d", tt.pattern, e.Path[:e.Bits/8], e.Bits, tt.prefix, tt.bits)
		}
	}
}

func TestSpecValidate(t *testing.T) {
	ok := Spec{Cgroup: "/sys/fs/cgroup/x"}
	tests := []struct {
		name    string
		spec    Spec
		wantErr bool
	}{
		{"minimal", ok, false},
		{"no cgroup", Spec{}, true},
		{"bad fault", Spec{Cgroup: "x", Fault: "drop"}, true},
		{"dns v6 in DNS", Spec{Cgroup: "x", DNS: netip.MustParseAddrPort("[::1]:53")}, true},
		{"dns v4 in DNS6", Spec{Cgroup: "x", DNS6: netip.MustParseAddrPort("127.0.0.1:53")}, true},
		{"dns port 0", Spec{Cgroup: "x", DNS: netip.MustParseAddrPort("127.0.0.1:0")}, true},
		{"blackhole without address", Spec{Cgroup: "x", Fault: collector.FaultBlackhole}, true},
		{"blackhole v6 only", Spec{Cgroup: "x", Fault: collector.FaultBlackhole, Blackhole6: netip.MustParseAddr("fd00::2")}, false},
		{"blackhole wrong family", Spec{Cgroup: "x", Fault: collector.FaultBlackhole, Blackhole: netip.MustParseAddr("fd00::2")}, true},
		{"bad unix rule", Spec{Cgroup: "x", Rules: collector.Rules{Unix: []string{"/" + strings.Repeat("a", 200)}}}, true},
	}
	for _, tt := range tests {
		if err := tt.spec.Validate(); (err != nil) != tt.wantErr {
			t.Errorf("%s: Validate() = %v, want error %v", tt.name, err, tt.wantErr)
		}
	}
}
