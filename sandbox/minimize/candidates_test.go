package minimize

import (
	"net/netip"
	"testing"

	"github.com/rgraph/rgraph/collector"
)

// TestCapabilities checks how a record's attempts become candidates, and
// that attempts whose target does not exist upstream (glibc's nscd probe,
// a search-domain name that is NXDOMAIN, a refused port) become none.
func TestCapabilities(t *testing.T) {
	cat, err := collector.ParseCatalog([]byte(`schemaVersion: 1
kind: catalog
services:
  - name: dns
    endpoints: ["10.0.0.53:53"]
  - name: redis
    endpoints: ["10.0.0.6:6379/tcp"]
    dns: [redis.example.internal]
  - name: logd
    unix: [/run/logd.sock]
`), "catalog.yaml")
	if err != nil {
		t.Fatal(err)
	}
	resolver := netip.MustParseAddr("10.0.0.53")
	q := func(name string, up collector.Upstream) collector.Attempt {
		return collector.Attempt{Protocol: collector.DNS, DNSName: name, DNSType: "A", Address: resolver, Port: 53, Verdict: collector.Allowed, Upstream: up}
	}
	rec := &collector.Record{Attempts: []collector.Attempt{
		q("redis.example.internal", ""),
		q("redis.svc.example.internal", collector.UpstreamAbsent),
		q("redis", collector.UpstreamAbsent),
		q("example.org", ""),
		{Protocol: collector.TCP, Address: netip.MustParseAddr("10.0.0.6"), Port: 6379, Verdict: collector.Allowed},
		{Protocol: collector.TCP, Address: netip.MustParseAddr("10.0.0.9"), Port: 11211, Verdict: collector.Allowed, Failure: "refused", Upstream: collector.UpstreamRefused},
		{Protocol: collector.TCP, Address: netip.MustParseAddr("192.0.2.1"), Port: 443, Verdict: collector.Allowed},
		{Protocol: collector.Unix, Path: "/var/run/nscd/socket", Verdict: collector.Allowed, Failure: "absent", Upstream: collector.UpstreamAbsent},
		{Protocol: collector.Unix, Path: "/run/logd.sock", Verdict: collector.Allowed},
		{Protocol: collector.Unix, Path: "/run/other.sock", Verdict: collector.Denied, Failure: "eperm"},
		{Protocol: collector.Raw, Process: collector.Process{Comm: "ping"}, Verdict: collector.Denied},
	}}
	got := Capabilities(rec, cat).String()
	want := "192.0.2.1:443/tcp, dns:example.org, service:dns, service:logd, service:redis, unix:/run/other.sock"
	if got != want {
		t.Errorf("Capabilities = %s\nwant           %s", got, want)
	}
}
