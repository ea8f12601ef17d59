package collector

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/rgraph/rgraph/collector/decode"
)

func TestParseCapability(t *testing.T) {
	tests := []struct {
		in, want string // want "" means an error is expected
	}{
		{"service:ca", "service:ca"},
		{"ca", "service:ca"},
		{"dns", "dns"},
		{"dns:*.svc.fleet.internal", "dns:*.svc.fleet.internal"},
		{"unix:/run/logd.sock", "unix:/run/logd.sock"},
		{"all", "all"},
		{"*", "all"},
		{"10.0.0.0/8", "10.0.0.0/8"},
		{"10.1.2.3", "10.1.2.3"},
		{"10.1.2.3:443", "10.1.2.3:443"},
		{"10.1.2.3:443/tcp", "10.1.2.3:443/tcp"},
		{"10.1.2.0/24:8000-8100/udp", "10.1.2.0/24:8000-8100/udp"},
		{"10.1.2.7/24", "10.1.2.0/24"},
		{"[fd00::1]:53/udp", "[fd00::1]:53/udp"},
		{"fd00::/64", "fd00::/64"},
		{"fd00::1", "fd00::1"},
		{"::ffff:10.0.0.1", "10.0.0.1"},
		{"", ""},
		{"unix:relative.sock", ""},
		{"10.1.2.3:0", ""},
		{"10.1.2.3:90-80", ""},
		{"10.1.2.3:70000", ""},
		{"10.300.2.3:80", ""},
		{"[fd00::1:53", ""},
		{"bad name", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			c, err := ParseCapability(tt.in)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("ParseCapability(%q) = %v, want error", tt.in, c)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseCapability(%q): %v", tt.in, err)
			}
			if got := c.String(); got != tt.want {
				t.Errorf("ParseCapability(%q).String() = %q, want %q", tt.in, got, tt.want)
			}
			again, err := ParseCapability(c.String())
			if err != nil || again != c {
				t.Errorf("round trip of %q = %v, %v; want %v", c.String(), again, err, c)
			}
		})
	}
}

func TestCapabilityYAML(t *testing.T) {
	tests := []struct {
		name, doc, want, wantErr string
	}{
		{"scalar", `[service:ca, dns, "10.0.0.1:53/udp"]`, "service:ca, dns, 10.0.0.1:53/udp", ""},
		{"mapping", "- cidr: 10.0.0.0/24\n  ports: 80-90\n  protocol: tcp\n- unix: /run/x.sock", "10.0.0.0/24:80-90/tcp, unix:/run/x.sock", ""},
		{"unknown field", "- sevice: ca", "", `al.yaml:1: [0].sevice: unknown field (want one of all, cidr, dns, ports, protocol, service, unix)`}, //nolint:misspell // the misspelling is the test
		{"two kinds", "- service: ca\n  dns: x", "", `al.yaml:1: [0]: capability "service:ca" sets more than one of service, cidr, unix, dns, all`},
		{"bad cidr", "- dns\n- cidr: 10.0.0.0/33", "", `al.yaml:2: [1].cidr: want an address or CIDR, got "10.0.0.0/33"`},
		{"bad ports", "- cidr: 10.0.0.0/8\n  ports: 0", "", `al.yaml:2: [0].ports: invalid port range "0" (want 1-65535 or LO-HI)`},
		{"ports without cidr", "- service: ca\n  ports: 80", "", `al.yaml:1: [0]: capability "service:ca": ports and protocol apply only to cidr`},
		{"bad service", "- service:a b", "", `al.yaml:1: [0]: capability "service:a b": invalid service name "a b" (no spaces, tabs, ':' or '/')`},
		{"nul", "- \"unix:/x\\0\"", "", `al.yaml:1: [0]: capability: "/x\x00" contains a NUL byte`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := decode.New("al.yaml", ErrMalformed)
			n, err := d.YAML([]byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			var al Allowlist
			err = d.Decode(n, "", &al)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr || !errors.Is(err, ErrMalformed) {
					t.Fatalf("Decode(%q) error = %v, want %s", tt.doc, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := al.String(); got != tt.want {
				t.Errorf("Decode(%q) = %q, want %q", tt.doc, got, tt.want)
			}
		})
	}
}

func TestRules(t *testing.T) {
	cat, err := NewCatalog(
		Service{Name: "dns", Endpoints: []string{"10.99.0.53:53"}},
		Service{Name: "discovery", Endpoints: []string{"10.99.0.30:8500/tcp"}, DNS: []string{"*.svc.fleet.internal"}},
		Service{Name: "config", Endpoints: []string{"10.99.0.20:8080/tcp"}, DNS: []string{"config.fleet.internal"}},
		Service{Name: "logd", Unix: []string{"/run/fleet/logd.sock"}},
	)
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.MustParseAddr
	tests := []struct {
		name  string
		allow string
		check func(Rules) bool
		want  bool
	}{
		{"service endpoint allowed", "service:config", func(r Rules) bool { return r.AllowsAddr(TCP, addr("10.99.0.20"), 8080) }, true},
		{"other port denied", "service:config", func(r Rules) bool { return r.AllowsAddr(TCP, addr("10.99.0.20"), 8081) }, false},
		{"protocol mismatch denied", "service:config", func(r Rules) bool { return r.AllowsAddr(UDP, addr("10.99.0.20"), 8080) }, false},
		{"loopback denied by default", "service:config", func(r Rules) bool { return r.AllowsAddr(TCP, addr("127.0.0.1"), 8080) }, false},
		{"v4-mapped matches v4 rule", "10.0.0.0/8", func(r Rules) bool { return r.AllowsAddr(TCP, addr("::ffff:10.1.1.1"), 1) }, true},
		{"all", "all", func(r Rules) bool { return r.AllowsAddr(UDP, addr("1.2.3.4"), 9) }, true},
		{"unix by service", "service:logd", func(r Rules) bool { return r.AllowsUnix("/run/fleet/logd.sock") }, true},
		{"unix dir", "unix:/run/fleet/*", func(r Rules) bool { return r.AllowsUnix("/run/fleet/x.sock") }, true},
		{"unix denied", "service:config", func(r Rules) bool { return r.AllowsUnix("/run/fleet/logd.sock") }, false},
		{"unix dir climbed out of", "unix:/run/fleet/*", func(r Rules) bool { return r.AllowsUnix("/run/fleet/../secret.sock") }, false},
		{"unix dir with dot", "unix:/run/fleet/*", func(r Rules) bool { return r.AllowsUnix("/run/fleet/./x.sock") }, true},
		{"owned name needs owner", "service:dns", func(r Rules) bool { return r.AllowsQuestion("config.svc.fleet.internal", true) }, false},
		{"owned name with owner", "service:discovery", func(r Rules) bool { return r.AllowsQuestion("config.svc.fleet.internal", true) }, true},
		{"owned name without resolver", "service:discovery", func(r Rules) bool { return r.AllowsQuestion("config.svc.fleet.internal", false) }, false},
		{"unowned name needs only resolver", "service:dns", func(r Rules) bool { return r.AllowsQuestion("example.org", true) }, true},
		{"dns capability bypasses resolver", "dns:*.svc.fleet.internal", func(r Rules) bool { return r.AllowsQuestion("a.svc.fleet.internal", false) }, true},
		{"bare dns allows all names", "dns", func(r Rules) bool { return r.AllowsQuestion("config.fleet.internal", false) }, true},
		{"denied for the resolver", "service:config", func(r Rules) bool { return r.DeniedForResolver(question("config.fleet.internal", Denied)) }, true},
		{"unowned name denied for the resolver", "service:config", func(r Rules) bool { return r.DeniedForResolver(question("example.org", Denied)) }, true},
		{"denied for the name", "service:dns", func(r Rules) bool { return r.DeniedForResolver(question("config.fleet.internal", Denied)) }, false},
		{"denied for both", "service:logd", func(r Rules) bool { return r.DeniedForResolver(question("config.fleet.internal", Denied)) }, false},
		{"allowed question", "dns", func(r Rules) bool { return r.DeniedForResolver(question("config.fleet.internal", Allowed)) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCapability(tt.allow)
			if err != nil {
				t.Fatal(err)
			}
			r, err := cat.Expand(Allowlist{c})
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.check(r); got != tt.want {
				t.Errorf("with %s: got %v, want %v", tt.allow, got, tt.want)
			}
		})
	}
	if _, err := cat.Expand(Allowlist{{Service: "nope"}}); err == nil || !strings.Contains(err.Error(), `"nope" is not in the catalog`) {
		t.Errorf("Expand(unknown service) error = %v", err)
	}
}

// question is a DNS question for name sent to the fleet's resolver.
func question(name string, v Verdict) Attempt {
	return Attempt{Protocol: DNS, DNSName: name, DNSType: "A", Address: netip.MustParseAddr("10.99.0.53"), Port: 53, Verdict: v}
}

func TestToResolver(t *testing.T) {
	q := question("config.fleet.internal", Denied)
	q.Upstream = UpstreamAbsent
	r := q.ToResolver()
	if r.Endpoint() != "10.99.0.53:53/udp" || r.Verdict != Denied || r.DNSName != "" || r.Upstream != UpstreamPresent {
		t.Errorf("ToResolver = %+v, want a denied UDP attempt to 10.99.0.53:53", r)
	}
	tcp := Attempt{Protocol: TCP, Address: netip.MustParseAddr("10.0.0.1"), Port: 80}
	if tcp.ToResolver() != tcp {
		t.Errorf("ToResolver changed a TCP attempt")
	}
}
