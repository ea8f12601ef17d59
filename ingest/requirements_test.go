package ingest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rgraph/rgraph/collector"
)

func loadFleetRecord(t *testing.T, name string) *collector.Record {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata/fleet/records", name))
	if err != nil {
		t.Fatal(err)
	}
	r, err := collector.Decode(b, name)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// summary shows a requirement as "capability -> target class group
// endpoint | evidence sources and endpoints".
func summary(rs []Requirement) []string {
	var out []string
	for _, r := range rs {
		var ev []string
		for _, e := range r.Evidence {
			ev = append(ev, e.Source+" "+e.Endpoint)
		}
		out = append(out, fmt.Sprintf("%s -> %s class=%q group=%d endpoint=%v | %s",
			r.Capability, r.Target, r.Class, r.Group, r.Endpoint, strings.Join(ev, ", ")))
	}
	return out
}

func TestRequirements(t *testing.T) {
	cat, err := collector.LoadCatalog("testdata/fleet/catalog.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		record string
		cat    *collector.Catalog
		want   []string
	}{
		{"minimization with catalog", "min-config.json", cat, []string{
			`service:ca -> ca class="hard" group=0 endpoint=false | min-config service:ca, min-config 10.99.0.10:443/tcp`,
			`unix:/run/fleet/logd.sock -> logd class="soft" group=0 endpoint=false | min-config unix:/run/fleet/logd.sock, min-config unix:/run/fleet/logd.sock`,
			`10.99.0.53:53/udp -> dns class="alternative" group=1 endpoint=false | min-config 10.99.0.53:53/udp`,
			`dns:*.svc.fleet.internal -> discovery class="alternative" group=1 endpoint=false | min-config dns:*.svc.fleet.internal`,
		}},
		{"minimization without catalog", "min-config.json", nil, []string{
			`service:ca -> ca class="hard" group=0 endpoint=false | min-config service:ca`,
			`unix:/run/fleet/logd.sock -> unix:/run/fleet/logd.sock class="soft" group=0 endpoint=true | min-config unix:/run/fleet/logd.sock, min-config unix:/run/fleet/logd.sock`,
			`10.99.0.53:53/udp -> 10.99.0.53:53/udp class="alternative" group=1 endpoint=true | min-config 10.99.0.53:53/udp`,
			`dns:*.svc.fleet.internal -> dns:*.svc.fleet.internal class="alternative" group=1 endpoint=true | min-config dns:*.svc.fleet.internal`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := summary(Requirements(loadFleetRecord(t, tt.record), tt.cat))
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("Requirements(%s) mismatch (-want +got):\n%s", tt.record, d)
			}
		})
	}

	// A run record's allowlist is declared: no class, and the attempts it
	// covers are its evidence.
	web := loadFleetRecord(t, "run-web-1.json")
	rs := Requirements(web, cat)
	if len(rs) != len(web.Allowlist) {
		t.Fatalf("Requirements(run-web-1) = %d entries, want one per allowlist entry (%d)", len(rs), len(web.Allowlist))
	}
	for _, r := range rs {
		if r.Class != "" || r.Endpoint {
			t.Errorf("run allowlist entry %s: class %q endpoint %v, want unclassified service", r.Capability, r.Class, r.Endpoint)
		}
		for _, e := range r.Evidence {
			if e.Source != "run-web-1" || e.Process == "" {
				t.Errorf("run allowlist entry %s: evidence %+v does not cite an attempt of the run", r.Capability, e)
			}
		}
	}
}
