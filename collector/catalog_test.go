package collector

import (
	"net/netip"
	"strings"
	"testing"
)

func TestParseCatalogErrors(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"version", "schemaVersion: 2\nkind: catalog\nservices: []", "schemaVersion: unsupported version 2"},
		{"kind", "schemaVersion: 1\nkind: cat\nservices: []", `kind: want "catalog"`},
		{"unknown top field", "schemaVersion: 1\nkind: catalog\nservice: []", `service: line 3: unknown field "service"`},
		{"unknown nested field", "schemaVersion: 1\nkind: catalog\nservices:\n  - name: a\n    endpoint: [x]", `services[0].endpoint: line 5: unknown field "endpoint"`},
		{"missing name", "schemaVersion: 1\nkind: catalog\nservices:\n  - owner: x", "services[0].name: missing"},
		{"duplicate", "schemaVersion: 1\nkind: catalog\nservices:\n  - name: a\n  - name: a", `services[1].name: duplicate service "a"`},
		{"bad endpoint", "schemaVersion: 1\nkind: catalog\nservices:\n  - name: a\n    endpoints: [nowhere]", `services[0].endpoints[0]: "nowhere" is not an address endpoint`},
		{"relative unix", "schemaVersion: 1\nkind: catalog\nservices:\n  - name: a\n    unix: [x.sock]", "services[0].unix[0]"},
		{"bad duration", "schemaVersion: 1\nkind: catalog\nservices:\n  - name: a\n    recoveryTime: soon", "invalid duration"},
		{"not yaml", ":\n\t- [", "parsing catalog"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCatalog([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseCatalog error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestCatalogResolve(t *testing.T) {
	cat, err := ParseCatalog([]byte(`
schemaVersion: 1
kind: catalog
services:
  - name: net
    endpoints: ["10.99.0.0/24"]
  - name: dns
    endpoints: ["10.99.0.53:53"]
    dns: [ns.fleet.internal]
  - name: discovery
    dns: ["*.svc.fleet.internal"]
  - name: web
    dns: [web.svc.fleet.internal]
  - name: logd
    unix: [/run/fleet/logd.sock]
  - name: v6
    endpoints: ["[fd00::10]:443/tcp"]
`))
	if err != nil {
		t.Fatal(err)
	}
	a := netip.MustParseAddr
	tests := []struct {
		name    string
		attempt Attempt
		want    string
	}{
		{"longest prefix", Attempt{Protocol: UDP, Address: a("10.99.0.53"), Port: 53}, "dns"},
		{"covering prefix", Attempt{Protocol: TCP, Address: a("10.99.0.7"), Port: 80}, "net"},
		{"unmapped", Attempt{Protocol: TCP, Address: a("192.0.2.1"), Port: 80}, ""},
		{"dns wildcard", Attempt{Protocol: DNS, DNSName: "config.svc.fleet.internal."}, "discovery"},
		{"dns exact beats wildcard", Attempt{Protocol: DNS, DNSName: "WEB.svc.fleet.internal"}, "web"},
		{"dns zone apex not matched by wildcard", Attempt{Protocol: DNS, DNSName: "svc.fleet.internal"}, ""},
		{"unix", Attempt{Protocol: Unix, Path: "/run/fleet/logd.sock"}, "logd"},
		{"v6", Attempt{Protocol: TCP, Address: a("fd00::10"), Port: 443}, "v6"},
		{"v6 wrong proto", Attempt{Protocol: UDP, Address: a("fd00::10"), Port: 443}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := cat.Resolve(tt.attempt)
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("Resolve(%s) = %q, %v; want %q", tt.attempt.Endpoint(), got, ok, tt.want)
			}
		})
	}
}
