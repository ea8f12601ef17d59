package sandbox

import (
	"errors"
	"flag"
	"net/netip"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/collector/decode"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/<test name>.golden, or rewrites the
// file with -update.
func golden(t *testing.T, got string) {
	t.Helper()
	path := filepath.Join("testdata", filepath.FromSlash(t.Name())+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("mismatch with %s (-want +got):\n%s", path, cmp.Diff(string(want), got))
	}
}

const minimal = `schemaVersion: 1
kind: scenario
service: api
catalog: catalog.yaml
runbook:
  - run: api-server &
validation:
  run: curl -f http://127.0.0.1:8080/healthz
`

func TestParseScenario(t *testing.T) {
	doc := `# a full scenario
schemaVersion: 1
kind: scenario
name: api-cold
service: api
description: Cold start of the API.
catalog: catalog.yaml
upstream:
  netns: prod
  routes: [10.0.0.0/24, 10.1.0.7]
resolver:
  nameservers: [10.0.0.53]
  search: [example.internal]
  options: ["timeout:1"]
allow:
  - service:db
  - db
  - 10.2.0.0/16:443/tcp
  - unix:/run/logs.sock
  - dns:*.example.internal
  - {cidr: 10.3.0.1, ports: 80-90, protocol: tcp}
soft: [service:cache]
fault: blackhole
timeout: 45s
env:
  API_MODE: recover
files:
  - path: cache/a.json
    content: "{}"
  - path: b.txt
    from: seed.txt
    mode: "0600"
runbook:
  - name: migrate
    run: api-migrate
    timeout: 10s
    allowFailure: true
  - run: api-server &
validation:
  probe: http://127.0.0.1:8080/healthz
  retries: 3
  interval: 250ms
  deadline: 5s
  timeout: 1s
`
	got, err := ParseScenario([]byte(doc), filepath.Join("testdata", "api.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	caps := func(ss ...string) collector.Allowlist {
		var al collector.Allowlist
		for _, s := range ss {
			c, err := collector.ParseCapability(s)
			if err != nil {
				t.Fatal(err)
			}
			al = append(al, c)
		}
		return al
	}
	want := &Scenario{
		Path:        filepath.Join("testdata", "api.yaml"),
		Name:        "api-cold",
		Service:     "api",
		Description: "Cold start of the API.",
		CatalogPath: "catalog.yaml",
		Upstream:    Upstream{NetNS: "prod", Routes: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24"), netip.MustParsePrefix("10.1.0.7/32")}},
		Resolver:    Resolver{Nameservers: []netip.Addr{netip.MustParseAddr("10.0.0.53")}, Search: []string{"example.internal"}, Options: []string{"timeout:1"}},
		Allow:       caps("service:db", "service:db", "10.2.0.0/16:443/tcp", "unix:/run/logs.sock", "dns:*.example.internal", "10.3.0.1:80-90/tcp"),
		Soft:        caps("service:cache"),
		Fault:       collector.FaultBlackhole,
		Timeout:     45 * time.Second,
		Env:         map[string]string{"API_MODE": "recover"},
		Files: []File{
			{Path: "cache/a.json", Content: []byte("{}"), Mode: 0o644},
			{Path: "b.txt", Content: []byte("seeded from a file\n"), Mode: 0o600},
		},
		Runbook: []Step{
			{Name: "migrate", Run: "api-migrate", Timeout: 10 * time.Second, AllowFailure: true},
			{Name: "step 2", Run: "api-server &", Timeout: DefaultStepTimeout},
		},
		Validation: Validation{Probe: Probe{Kind: ProbeHTTP, Target: "http://127.0.0.1:8080/healthz"}, Retries: 3, Interval: 250 * time.Millisecond, Deadline: 5 * time.Second, Timeout: time.Second},
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Scenario{}, "Catalog"), cmpopts.EquateComparable(netip.Prefix{}, netip.Addr{})); diff != "" {
		t.Errorf("ParseScenario mismatch (-want +got):\n%s", diff)
	}
	if got.Catalog == nil || len(got.Catalog.Services) != 5 {
		t.Errorf("catalog not loaded: %v", got.Catalog)
	}
}

// TestParseScenarioUser resolves user names and IDs in this machine's
// user database: the scenario's, and a step's own.
func TestParseScenarioUser(t *testing.T) {
	doc := strings.Replace(minimal, "  - run: api-server &", "  - run: api-server &\n  - run: id\n    user: \"65534\"", 1) + "user: root\n"
	sc, err := ParseScenario([]byte(doc), filepath.Join("testdata", "api.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	nobody, err := user.LookupId("65534")
	if err != nil {
		t.Skipf("this machine has no user 65534: %v", err)
	}
	switch {
	case sc.User == nil || sc.User.Name != "root" || sc.User.UID != 0 || sc.User.GID != 0 || !slices.Contains(sc.User.Groups, 0):
		t.Errorf("User = %+v, want root with group 0", sc.User)
	case sc.Runbook[0].User != nil:
		t.Errorf("Runbook[0].User = %+v, want nil (the scenario's)", sc.Runbook[0].User)
	case sc.Runbook[1].User == nil || sc.Runbook[1].User.UID != 65534 || sc.Runbook[1].User.Name != nobody.Username || sc.Runbook[1].User.Home != nobody.HomeDir:
		t.Errorf("Runbook[1].User = %+v, want %s (65534)", sc.Runbook[1].User, nobody.Username)
	}
}

func TestParseScenarioDefaults(t *testing.T) {
	sc, err := ParseScenario([]byte(minimal), filepath.Join("testdata", "api-minimal.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case sc.Name != "api-minimal":
		t.Errorf("Name = %q, want the file name api-minimal", sc.Name)
	case sc.Fault != collector.FaultReject:
		t.Errorf("Fault = %q, want reject", sc.Fault)
	case sc.Timeout != DefaultTimeout:
		t.Errorf("Timeout = %v, want %v", sc.Timeout, DefaultTimeout)
	case len(sc.Allow) != 0 || sc.Allow == nil:
		t.Errorf("Allow = %#v, want empty", sc.Allow)
	case sc.Runbook[0].Timeout != DefaultStepTimeout || sc.Runbook[0].Name != "step 1":
		t.Errorf("Runbook[0] = %+v, want default name and timeout", sc.Runbook[0])
	case sc.Validation.Retries != DefaultValidationRetries || sc.Validation.Deadline != DefaultValidationDeadline:
		t.Errorf("Validation = %+v, want defaults", sc.Validation)
	case !sc.Upstream.IsHost():
		t.Errorf("Upstream = %+v, want host", sc.Upstream)
	}
}

// TestParseScenarioErrors checks that every mistake names the file, the
// line and the field, against testdata/TestParseScenarioErrors/*.golden.
func TestParseScenarioErrors(t *testing.T) {
	// edit replaces the line starting with key (or appends when absent).
	edit := func(key, line string) string {
		if key == "" {
			return minimal + line + "\n"
		}
		lines := strings.Split(minimal, "\n")
		for i, l := range lines {
			if strings.HasPrefix(l, key) {
				if line == "" {
					return strings.Join(slices.Delete(lines, i, i+1), "\n")
				}
				lines[i] = line
				return strings.Join(lines, "\n")
			}
		}
		return minimal + line + "\n"
	}
	tests := []struct{ name, doc string }{
		{"empty", ""},
		{"not_yaml", "schemaVersion: [1\n"},
		{"not_mapping", "- a\n- b\n"},
		{"two_documents", minimal + "---\n" + minimal},
		{"missing_version", edit("schemaVersion:", "")},
		{"wrong_version", edit("schemaVersion:", "schemaVersion: 2")},
		{"wrong_kind", edit("kind:", "kind: catalog")},
		{"missing_service", edit("service:", "")},
		{"service_not_in_catalog", edit("service:", "service: billing")},
		{"unknown_field", edit("", "retries: 3")},
		{"duplicate_field", edit("", "service: api")},
		{"bad_name", edit("", "name: web cold")},
		{"missing_catalog_file", edit("catalog:", "catalog: nowhere.yaml")},
		{"allow_unknown_service", edit("", "allow: [service:billing]")},
		{"allow_bad_capability", edit("", "allow:\n  - 10.0.0.1:70000")},
		{"allow_bad_mapping", edit("", "allow:\n  - {cidr: 10.0.0.1, port: 80}")},
		{"allow_service_without_catalog", edit("catalog:", "") + "allow: [db]\n"},
		{"soft_unknown_service", edit("", "soft: [billing]")},
		{"allow_not_list", edit("", "allow: {a: b}")},
		{"bad_fault", edit("", "fault: drop")},
		{"bad_timeout", edit("", "timeout: soon")},
		{"negative_timeout", edit("", "timeout: -5s")},
		{"env_bad_name", edit("", "env:\n  1X: y")},
		{"env_not_scalar", edit("", "env:\n  X: [y]")},
		{"upstream_unknown_field", edit("", "upstream:\n  namespace: prod")},
		{"upstream_bad_route", edit("", "upstream:\n  routes: [10.0.0.0/33]")},
		{"resolver_bad_nameserver", edit("", "resolver:\n  nameservers: [dns.example]")},
		{"file_absolute", edit("", "files:\n  - path: /etc/passwd\n    content: x")},
		{"file_escapes", edit("", "files:\n  - path: ../x\n    content: x")},
		{"file_content_and_from", edit("", "files:\n  - path: x\n    content: x\n    from: seed.txt")},
		{"file_from_missing", edit("", "files:\n  - path: x\n    from: missing.txt")},
		{"file_bad_mode", edit("", "files:\n  - path: x\n    content: x\n    mode: rwx")},
		{"missing_runbook", strings.Replace(minimal, "runbook:\n  - run: api-server &\n", "", 1)},
		{"runbook_not_list", strings.Replace(minimal, "runbook:\n  - run: api-server &", "runbook: {run: x}", 1)},
		{"step_unknown_field", strings.Replace(minimal, "  - run: api-server &", "  - run: api-server &\n    cmd: x", 1)},
		{"step_missing_run", strings.Replace(minimal, "  - run: api-server &", "  - name: start", 1)},
		{"step_bad_timeout", strings.Replace(minimal, "  - run: api-server &", "  - run: api-server &\n    timeout: 0s", 1)},
		{"step_duplicate_name", strings.Replace(minimal, "  - run: api-server &", "  - {name: a, run: x}\n  - {name: a, run: y}", 1)},
		{"step_bad_allow_failure", strings.Replace(minimal, "  - run: api-server &", "  - run: x\n    allowFailure: maybe", 1)},
		{"missing_validation", strings.Split(minimal, "validation:")[0]},
		{"validation_empty", strings.Replace(minimal, "  run: curl -f http://127.0.0.1:8080/healthz", "  retries: 3", 1)},
		{"validation_both", minimal + "  probe: tcp:127.0.0.1:80\n"},
		{"validation_bad_probe", strings.Replace(minimal, "  run: curl -f http://127.0.0.1:8080/healthz", "  probe: ftp://x", 1)},
		{"validation_probe_hostname", strings.Replace(minimal, "  run: curl -f http://127.0.0.1:8080/healthz", "  probe: http://api.example:8080/", 1)},
		{"validation_bad_retries", minimal + "  retries: -1\n"},
		{"validation_bad_udp_probe", strings.Replace(minimal, "  run: curl -f http://127.0.0.1:8080/healthz", "  probe: udp:localhost:53", 1)},
		{"validation_dns_probe_no_server", strings.Replace(minimal, "  run: curl -f http://127.0.0.1:8080/healthz", "  probe: dns:db.example", 1)},
		{"validation_dns_probe_bad_type", strings.Replace(minimal, "  run: curl -f http://127.0.0.1:8080/healthz", "  probe: dns:db.example/WKS@127.0.0.1", 1)},
		{"validation_status_without_http", minimal + "  status: 200\n"},
		{"validation_body_with_tcp", strings.Replace(minimal, "  run: curl -f http://127.0.0.1:8080/healthz", "  probe: tcp:127.0.0.1:80\n  body: ok", 1)},
		{"validation_bad_status", strings.Replace(minimal, "  run: curl -f http://127.0.0.1:8080/healthz", "  probe: http://127.0.0.1:8080/\n  status: 700", 1)},
		{"validation_bad_body", strings.Replace(minimal, "  run: curl -f http://127.0.0.1:8080/healthz", "  probe: http://127.0.0.1:8080/\n  body: \"(unclosed\"", 1)},
		{"validation_bad_until_deadline", minimal + "  untilDeadline: sometimes\n"},
		{"nul_byte", edit("", "description: a\x00b")},
		{"invalid_utf8", edit("", "description: caf\xe9")},
		{"escape_in_service", edit("service:", `service: "api\e[2J"`)},
		{"nul_in_service", edit("service:", `service: "api\0"`)},
		{"catalog_invalid", edit("catalog:", "catalog: bad-catalog.yaml")},
		{"allow_unknown_mapping_field", edit("", "allow:\n  - {cidr: 10.0.0.1, colour: red}")},
		{"unknown_user", edit("", "user: rgraph-no-such-user")},
		{"user_not_scalar", edit("", "user: [postgres]")},
		{"step_unknown_user", strings.Replace(minimal, "  - run: api-server &", "  - run: api-server &\n    user: 4294967294", 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseScenario([]byte(tt.doc), filepath.Join("testdata", "api.yaml"))
			if err == nil {
				t.Fatalf("ParseScenario(%q) = nil error, want one", tt.doc)
			}
			var de *decode.Error
			if !errors.As(err, &de) || de.File != filepath.Join("testdata", "api.yaml") || !errors.Is(err, ErrInvalidScenario) {
				t.Errorf("error %v is a %T, want a *decode.Error naming the file and matching ErrInvalidScenario", err, err)
			}
			golden(t, err.Error()+"\n")
		})
	}
}
