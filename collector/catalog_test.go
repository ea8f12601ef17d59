package collector

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/rgraph/rgraph/internal/golden"
)

// TestParseCatalogErrors checks that every mistake in a catalog names the
// file, the line and the field, against
// testdata/TestParseCatalogErrors/*.golden.
func TestParseCatalogErrors(t *testing.T) {
	const head = "schemaVersion: 1\nkind: catalog\nservices:\n"
	tests := []struct{ name, doc string }{
		{"empty", ""},
		{"not_mapping", "- a\n"},
		{"version", "schemaVersion: 2\nkind: catalog\nservices: []"},
		{"kind", "schemaVersion: 1\nkind: cat\nservices: []"},
		{"unknown_top_field", "schemaVersion: 1\nkind: catalog\nservice: []"},
		{"unknown_nested_field", head + "  - name: a\n    endpoint: [x]"},
		{"services_not_list", head + "  name: a"},
		{"endpoints_as_string", head + "  - name: a\n    endpoints: 10.0.0.1:53/udp"},
		{"missing_name", head + "  - owner: x"},
		{"bad_name", head + "  - name: a/b"},
		{"nul_in_name", head + "  - name: \"a\\0b\""},
		{"duplicate", head + "  - name: a\n  - name: b\n  - name: a"},
		{"bad_endpoint", head + "  - name: a\n    endpoints:\n      - 10.0.0.1:53\n      - nowhere"},
		{"relative_unix", head + "  - name: a\n    unix: [x.sock]"},
		{"bad_dns", head + "  - name: a\n    dns: [\"a b\"]"},
		{"bad_duration", head + "  - name: a\n    recoveryTime: soon"},
		{"raw_nul", head + "  - name: a\x00"},
		{"invalid_utf8", head + "  - name: \xff"},
		{"not_yaml", ":\n\t- ["},
		{"json_wrong_type", `{"schemaVersion": 1, "kind": "catalog", "services": [{"name": "a", "tier": ["x"]}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCatalog([]byte(tt.doc), "cat.yaml")
			if err == nil {
				t.Fatalf("ParseCatalog(%q) = nil error, want one", tt.doc)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("ParseCatalog error %v does not match ErrMalformed", err)
			}
			if !strings.HasPrefix(err.Error(), "cat.yaml:") {
				t.Errorf("ParseCatalog error %q does not start with file:line", err)
			}
			golden.Check(t, []byte(err.Error()+"\n"))
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
`), "cat.yaml")
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

// TestCatalogDescription checks that the catalog and its services take a
// free-text description, in YAML and JSON.
func TestCatalogDescription(t *testing.T) {
	for _, doc := range []string{
		"schemaVersion: 1\nkind: catalog\ndescription: the real-software fleet\nservices:\n  - name: redis\n    description: |\n      The cache, a redis-server primary.\n    endpoints: [10.0.0.6:6379/tcp]\n",
		`{"schemaVersion": 1, "kind": "catalog", "description": "the real-software fleet", "services": [{"name": "redis", "description": "The cache, a redis-server primary.\n", "endpoints": ["10.0.0.6:6379/tcp"]}]}`,
	} {
		c, err := ParseCatalog([]byte(doc), "catalog.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if c.Description != "the real-software fleet" || c.Services[0].Description != "The cache, a redis-server primary.\n" {
			t.Errorf("descriptions = %q, %q", c.Description, c.Services[0].Description)
		}
	}
}
