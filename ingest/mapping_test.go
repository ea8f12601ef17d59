package ingest

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/graph"
)

// TestFleet ingests testdata/fleet (catalog, run and minimization records,
// an edge list) and checks every edge, node and recovery time. The same
// fleet is the worked example in docs/records.md.
func TestFleet(t *testing.T) {
	in, err := Files("testdata/fleet")
	if err != nil {
		t.Fatal(err)
	}
	snap, err := Parse(context.Background(), in, ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g := snap.Graph
	want := []string{
		"ca -> config observed",           // run-ca-1 did not recover
		"cdn -> dns declared",             // legacy.tsv, default kind
		"config -> ca hard",               // min-config candidate service:ca
		"config -> discovery alternative", // candidate dns:*.svc.fleet.internal, owned by discovery
		"config -> dns alternative",       // candidate 10.99.0.53:53/udp, an endpoint of dns
		"config -> logd soft",             // candidate unix:/run/fleet/logd.sock
		"discovery -> dns hard",           // legacy.tsv
		"web -> 192.0.2.7:443/tcp soft",   // denied, no catalog owner: an endpoint node
		"web -> cdn soft",                 // legacy.tsv
		"web -> config declared",          // allowed, covered by service:config
		"web -> discovery soft",           // DNS question for db.svc.fleet.internal refused
		"web -> dns declared",             // redirected UDP to the resolver, covered by service:dns
		"web -> logd soft",                // unix socket denied
	}
	if d := cmp.Diff(want, edgeList(g)); d != "" {
		t.Errorf("edges (-want +got):\n%s", d)
	}
	if snap.SelfAttempts != 1 {
		t.Errorf("SelfAttempts = %d, want 1 (web resolving its own name)", snap.SelfAttempts)
	}
	// run-config-1 is the newer run of config/recover: run-config-0 is
	// left out, and the two agree.
	if len(snap.Records) != 4 || snap.Catalog == nil {
		t.Errorf("got %d records and catalog %v, want 4 and a catalog", len(snap.Records), snap.Catalog != nil)
	}
	wantFed := Federation{Superseded: []Superseded{{
		Record: RecordRef{ID: "run-config-0", StartedAt: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC), Recovered: true,
			Origin: graph.Origin{File: "testdata/fleet/records/run-config-0.json"}},
		By: "run-config-1",
	}}}
	if d := cmp.Diff(wantFed, snap.Federation); d != "" {
		t.Errorf("federation (-want +got):\n%s", d)
	}

	info := map[string]graph.NodeInfo{
		"dns":               {Type: graph.Service, Owner: "netops", Tier: "core", RecoveryTime: 30 * time.Second}, // catalog
		"ca":                {Type: graph.Service, Owner: "security", Tier: "core"},                               // never recovered
		"config":            {Type: graph.Service, Owner: "platform", RecoveryTime: 40 * time.Second},             // latest run, not catalog's 1m
		"web":               {Type: graph.Service, Owner: "storefront", RecoveryTime: 12 * time.Second},
		"cdn":               {Type: graph.Service},
		"192.0.2.7:443/tcp": {Type: graph.Endpoint},
	}
	for name, want := range info {
		id, ok := g.ID(name)
		if !ok {
			t.Errorf("node %q missing", name)
			continue
		}
		if got := g.Info(id); got != want {
			t.Errorf("Info(%q) = %+v, want %+v", name, got, want)
		}
	}

	evidence := func(from, to string) []graph.Evidence {
		u, _ := g.ID(from)
		v, _ := g.ID(to)
		e, ok := g.Edge(u, v)
		if !ok {
			t.Fatalf("edge %s -> %s missing", from, to)
		}
		return g.Evidence(e)
	}
	origin := func(id string) *graph.Origin { return &graph.Origin{File: "testdata/fleet/records/" + id + ".json"} }
	wantEv := []graph.Evidence{
		{Source: "min-config", Scenario: "config/recover", Endpoint: "service:ca", Detail: "minimization: hard; trials t2, t5", Origin: origin("min-config")},
		{Source: "min-config", Scenario: "config/recover", Process: "configd[6201]", Endpoint: "10.99.0.10:443/tcp", Detail: "allowed, count 1", Origin: origin("min-config")},
		{Source: "run-config-1", Scenario: "config/recover", Process: "configd[6101]", Endpoint: "10.99.0.10:443/tcp", Detail: "allowed, count 1", Origin: origin("run-config-1")},
	}
	if d := cmp.Diff(wantEv, evidence("config", "ca")); d != "" {
		t.Errorf("evidence of config -> ca (-want +got):\n%s", d)
	}
	wantEv = []graph.Evidence{
		{Source: "run-web-1", Scenario: "web/recover", Process: "web[4101]", Endpoint: "dns:db.svc.fleet.internal", Detail: "denied (refused), count 2", Origin: origin("run-web-1")},
	}
	if d := cmp.Diff(wantEv, evidence("web", "discovery")); d != "" {
		t.Errorf("evidence of web -> discovery (-want +got):\n%s", d)
	}
	wantEv = []graph.Evidence{
		{Source: "run-ca-1", Scenario: "ca/recover", Process: "ca[5001]", Endpoint: "10.99.0.20:8080/tcp", Detail: "allowed, count 7, run did not recover", Origin: origin("run-ca-1")},
	}
	if d := cmp.Diff(wantEv, evidence("ca", "config")); d != "" {
		t.Errorf("evidence of ca -> config (-want +got):\n%s", d)
	}
	if got := evidence("web", "cdn"); got != nil {
		t.Errorf("edge-list edge carries evidence %v, want none", got)
	}
}

// TestRunKinds pins the kind each attempt of a run record gives.
func TestRunKinds(t *testing.T) {
	cat, err := collector.NewCatalog(
		collector.Service{Name: "dns", Endpoints: []string{"10.0.0.53:53"}},
		collector.Service{Name: "cfg", Endpoints: []string{"10.0.0.20:80/tcp"}, DNS: []string{"cfg.internal"}},
		collector.Service{Name: "disc", DNS: []string{"*.svc.internal"}},
		collector.Service{Name: "logd", Unix: []string{"/run/logd.sock"}},
	)
	if err != nil {
		t.Fatal(err)
	}
	a := netip.MustParseAddr
	tcp := func(addr string, port uint16, v collector.Verdict) collector.Attempt {
		return collector.Attempt{Protocol: collector.TCP, Address: a(addr), Port: port, Verdict: v, Count: 1}
	}
	dnsq := func(name string, v collector.Verdict) collector.Attempt {
		return collector.Attempt{Protocol: collector.DNS, Address: a("10.0.0.53"), Port: 53, DNSName: name, Verdict: v, Count: 1}
	}
	unix := func(p string, v collector.Verdict) collector.Attempt {
		return collector.Attempt{Protocol: collector.Unix, Path: p, Verdict: v, Count: 1}
	}
	absent := func(at collector.Attempt) collector.Attempt { at.Upstream = collector.UpstreamAbsent; return at }
	refused := func(at collector.Attempt) collector.Attempt { at.Upstream = collector.UpstreamRefused; return at }
	tests := []struct {
		name      string
		allow     string // comma-separated capabilities
		recovered bool
		attempt   collector.Attempt
		want      string // "to kind", or "" for no edge
	}{
		{"allowed and declared", "service:cfg", true, tcp("10.0.0.20", 80, collector.Allowed), "cfg declared"},
		{"allowed by all only", "all", true, tcp("10.0.0.20", 80, collector.Allowed), "cfg observed"},
		{"explicit beside all", "all,service:cfg", true, tcp("10.0.0.20", 80, collector.Allowed), "cfg declared"},
		{"allowed, not covered", "service:dns", true, tcp("10.0.0.20", 80, collector.Allowed), "cfg observed"},
		{"denied in a recovered run", "service:dns", true, tcp("10.0.0.20", 80, collector.Denied), "cfg soft"},
		{"denied in a failed run", "service:dns", false, tcp("10.0.0.20", 80, collector.Denied), "cfg observed"},
		{"allowed in a failed run", "service:cfg", false, tcp("10.0.0.20", 80, collector.Allowed), "cfg observed"},
		{"redirected to the resolver", "service:dns", true,
			collector.Attempt{Protocol: collector.UDP, Address: a("10.0.0.53"), Port: 53, Verdict: collector.Redirected, Count: 1}, "dns declared"},
		{"dns name of an allowed service", "service:dns,service:cfg", true, dnsq("cfg.internal", collector.Allowed), "cfg declared"},
		{"dns name, owner not allowed", "service:dns", true, dnsq("x.svc.internal", collector.Denied), "disc soft"},
		{"dns capability", "dns:*.svc.internal", true, dnsq("x.svc.internal", collector.Allowed), "disc declared"},
		{"unowned dns name", "service:dns", true, dnsq("Example.ORG.", collector.Allowed), "dns:example.org declared"},
		{"unix by cidr allowlist", "10.0.0.0/8", true, unix("/run/logd.sock", collector.Denied), "logd soft"},
		{"unix allowed by path", "unix:/run/*", true, unix("/run/logd.sock", collector.Allowed), "logd declared"},
		{"unmapped address", "10.0.0.0/8", true, tcp("10.9.9.9", 443, collector.Allowed), "10.9.9.9:443/tcp declared"},
		{"own service", "all", true, tcp("10.0.0.20", 80, collector.Allowed), ""},
		{"service unknown to catalog declares nothing", "service:nosuch", true, tcp("10.0.0.20", 80, collector.Allowed), "cfg observed"},
		{"dns denied for its resolver blames the resolver", "service:cfg", true, dnsq("cfg.internal", collector.Denied), "dns soft"},
		{"unowned name denied for its resolver", "service:cfg", true, dnsq("example.org", collector.Denied), "dns soft"},
		{"no socket upstream (nscd)", "service:dns", true, absent(unix("/var/run/nscd/socket", collector.Denied)), ""},
		{"absent socket under all", "all", true, absent(unix("/var/run/nscd/socket", collector.Allowed)), ""},
		{"name that is NXDOMAIN upstream", "service:dns", true, absent(dnsq("cfg.svc.internal", collector.Allowed)), ""},
		{"denied name that is NXDOMAIN upstream", "service:dns", true, absent(dnsq("x.svc.internal", collector.Denied)), ""},
		{"refused upstream in a failed run", "all", false, refused(tcp("10.0.0.20", 81, collector.Allowed)), ""},
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
			svc := "app"
			if tt.name == "own service" {
				svc = "cfg"
			}
			r := &collector.Record{SchemaVersion: 1, Kind: collector.KindRun, ID: "r", Scenario: "s", Service: svc,
				FaultMode: collector.FaultReject, Allowlist: al, Outcome: collector.Outcome{Recovered: tt.recovered},
				Attempts: []collector.Attempt{tt.attempt}}
			b := newBuilder()
			c := newMapper(cat).mapRecord(r, "r.json", nil)
			c.apply(b)
			g, err := b.build()
			if err != nil {
				t.Fatal(err)
			}
			var got string
			if edges := edgeList(g); len(edges) == 1 {
				got = edges[0][len(svc+" -> "):]
			} else if len(edges) > 1 {
				t.Fatalf("edges = %v, want at most one", edges)
			}
			if got != tt.want {
				t.Errorf("attempt %s with allowlist %q (recovered %v) gives %q, want %q", tt.attempt.Endpoint(), tt.allow, tt.recovered, got, tt.want)
			}
			if tt.want == "" && !tt.attempt.Absent() && c.self != 1 {
				t.Errorf("self attempts = %d, want 1", c.self)
			}
		})
	}
}

// TestCandidateTargets pins where each kind of capability points.
func TestCandidateTargets(t *testing.T) {
	cat, err := collector.NewCatalog(
		collector.Service{Name: "net", Endpoints: []string{"10.0.0.0/16"}},
		collector.Service{Name: "dns", Endpoints: []string{"10.0.0.53:53"}, DNS: []string{"ns.internal"}},
		collector.Service{Name: "web", Endpoints: []string{"10.0.0.80:80-90/tcp"}},
		collector.Service{Name: "disc", DNS: []string{"*.svc.internal"}},
		collector.Service{Name: "logd", Unix: []string{"/run/logd.sock", "/run/logd/*"}},
	)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		capability, want string
		endpoint         bool
	}{
		{"service:anything", "anything", false},
		{"10.0.0.53:53/udp", "dns", false},
		{"10.0.0.53", "dns", false}, // any port overlaps 53
		{"10.0.0.80:85/tcp", "web", false},
		{"10.0.0.80:85/udp", "net", false}, // web is tcp only; net covers
		{"10.0.0.80:95/tcp", "net", false},
		{"10.0.0.0/24", "net", false},
		{"10.0.0.0/8", "10.0.0.0/8", true}, // wider than any endpoint
		{"192.0.2.1:443/tcp", "192.0.2.1:443/tcp", true},
		{"unix:/run/logd.sock", "logd", false},
		{"unix:/run/logd/x.sock", "logd", false},
		{"unix:/run/other.sock", "unix:/run/other.sock", true},
		{"dns:a.svc.internal", "disc", false},
		{"dns:*.svc.internal", "disc", false},
		{"dns:ns.internal.", "dns", false},
		{"dns:example.org", "dns:example.org", true},
		{"dns", "dns:*", true},
	}
	m := newMapper(cat)
	for _, tt := range tests {
		c, err := collector.ParseCapability(tt.capability)
		if err != nil {
			t.Fatal(err)
		}
		if got, ep := m.capabilityTarget(c); got != tt.want || ep != tt.endpoint {
			t.Errorf("capabilityTarget(%s) = %q, %v; want %q, %v", tt.capability, got, ep, tt.want, tt.endpoint)
		}
	}
	// Without a catalog everything but a service is an endpoint.
	m = newMapper(nil)
	for _, s := range []string{"10.0.0.53:53/udp", "unix:/run/logd.sock", "dns:a.svc.internal"} {
		c, _ := collector.ParseCapability(s)
		if got, ep := m.capabilityTarget(c); got != s || !ep {
			t.Errorf("without a catalog, capabilityTarget(%s) = %q, %v; want itself as an endpoint", s, got, ep)
		}
	}
}
