package sandbox

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/rgraph/rgraph/collector"
)

func TestOutside(t *testing.T) {
	cat, err := collector.LoadCatalog("testdata/catalog.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tcp := func(addr string, port uint16) collector.Attempt {
		return collector.Attempt{Protocol: collector.TCP, Address: netip.MustParseAddr(addr), Port: port, Verdict: collector.Denied}
	}
	question := func(name, resolver string) collector.Attempt {
		return collector.Attempt{Protocol: collector.DNS, DNSName: name, DNSType: "A", Address: netip.MustParseAddr(resolver), Port: 53, Verdict: collector.Denied}
	}
	redirected := collector.Attempt{Protocol: collector.UDP, Address: netip.MustParseAddr("10.0.0.53"), Port: 53, Verdict: collector.Redirected}
	tests := []struct {
		name    string
		allow   string // comma-separated capabilities
		attempt collector.Attempt
		outside bool
	}{
		{"allowed service", "db", tcp("10.0.0.5", 5432), false},
		{"other port of the service", "db", tcp("10.0.0.5", 22), true},
		{"another service", "db", tcp("10.0.0.6", 8080), true},
		{"cidr", "10.0.0.0/24", tcp("10.0.0.6", 8080), false},
		{"loopback denied by default", "db", tcp("127.0.0.1", 8080), true},
		{"unix allowed", "logs", collector.Attempt{Protocol: collector.Unix, Path: "/run/logs.sock"}, false},
		{"unix other", "logs", collector.Attempt{Protocol: collector.Unix, Path: "/run/other.sock"}, true},
		{"name of an allowed service via an allowed resolver", "db,resolver", question("db.example.internal", "10.0.0.53"), false},
		{"name of an allowed service, resolver not allowed", "db", question("db.example.internal", "10.0.0.53"), true},
		{"name of a service not allowed", "resolver", question("api.example.internal", "10.0.0.53"), true},
		{"unclaimed name via an allowed resolver", "resolver", question("example.com", "10.0.0.53"), false},
		{"dns capability allows any resolver", "dns:*.example.internal", question("api.example.internal", "10.9.9.9"), false},
		{"redirected port 53 is judged by its questions", "db", redirected, false},
		{"raw sockets are always outside", "db", collector.Attempt{Protocol: collector.Raw}, true},
		{"all allows everything", "all", tcp("10.7.7.7", 1), false},
		{"no socket upstream (nscd)", "db", collector.Attempt{Protocol: collector.Unix, Path: "/var/run/nscd/socket", Verdict: collector.Denied, Failure: "eperm", Upstream: collector.UpstreamAbsent}, false},
		{"name that does not exist upstream", "db", absent(question("redis.svc.example.internal", "10.0.0.53")), false},
		{"refused upstream", "db", refused(tcp("10.0.0.6", 11211)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var al collector.Allowlist
			for _, s := range strings.Split(tt.allow, ",") {
				c, err := collector.ParseCapability(s)
				if err != nil {
					t.Fatal(err)
				}
				al = append(al, c)
			}
			rules, err := cat.Expand(al)
			if err != nil {
				t.Fatal(err)
			}
			got := Outside([]collector.Attempt{tt.attempt}, rules)
			if (len(got) == 1) != tt.outside {
				t.Errorf("Outside(%s, %s) = %v, want outside=%v", tt.attempt.Endpoint(), tt.allow, got, tt.outside)
			}
		})
	}
}

func absent(a collector.Attempt) collector.Attempt {
	a.Upstream = collector.UpstreamAbsent
	return a
}

func refused(a collector.Attempt) collector.Attempt {
	a.Upstream = collector.UpstreamRefused
	return a
}
