package site

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rgraph/rgraph/graph"
	"github.com/rgraph/rgraph/internal/golden"
	"github.com/rgraph/rgraph/render/site/sitetest"
)

// exampleSite is a small fleet: the CA and the scheduler need each other,
// the API needs both through config, and "kube/api" has a name that is no
// file name.
func exampleSite(t testing.TB) Site {
	b := graph.NewBuilder(0, 0)
	b.AddNode("ca", graph.NodeInfo{Owner: "security", Tier: "base", RecoveryTime: 2 * time.Minute})
	b.AddNode("scheduler", graph.NodeInfo{Owner: "compute", Tier: "base", RecoveryTime: 5 * time.Minute})
	b.AddNode("dns", graph.NodeInfo{Owner: "network", Tier: "base", RecoveryTime: 30 * time.Second})
	b.AddNode("config", graph.NodeInfo{Owner: "platform", Tier: "core"})
	b.AddNode("kube/api", graph.NodeInfo{Owner: "compute", Tier: "app", RecoveryTime: time.Minute})
	b.AddNode("10.0.0.9:443", graph.NodeInfo{Type: graph.Endpoint})
	evCA := graph.Evidence{Source: "run-0007", Scenario: "ca-boot", Process: "step-ca[311]", Endpoint: "scheduler.internal:6443/tcp", Detail: "required"}
	b.AddEdge("ca", "scheduler", graph.Hard, evCA)
	b.AddEdge("ca", "dns", graph.Hard, graph.Evidence{Source: "run-0007", Process: "step-ca[311]", Endpoint: "dns:scheduler.internal"})
	b.AddEdge("scheduler", "ca", graph.Hard, graph.Evidence{Source: "run-0012", Process: "sched[88]", Endpoint: "dns:ca.internal"})
	b.AddEdge("scheduler", "dns", graph.Hard)
	b.AddEdge("config", "dns", graph.Hard)
	b.AddEdge("config", "10.0.0.9:443", graph.Observed)
	b.AddEdge("kube/api", "config", graph.Hard)
	b.AddEdge("kube/api", "scheduler", graph.Soft)
	g := b.Build()
	order, err := graph.RecoveryOrder(g, graph.OrderOptions{DefaultDuration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return Site{
		Release:   "2024.06",
		Generated: time.Date(2024, 6, 1, 9, 30, 0, 0, time.UTC),
		Graph:     g,
		Order:     order,
		Cycles:    graph.Cycles(g, graph.CycleOptions{}),
		Services: []Service{
			{
				Name:     "ca",
				Summary:  "Issues the fleet's TLS certificates.",
				Scenario: "ca-boot",
				Steps: []Step{
					{Name: "unseal the key", Command: "vault operator unseal \"$(cat /secure/share-1)\""},
					{Command: "systemctl start step-ca && \\\n  step ca health --ca-url https://ca.internal <&-"},
				},
				Validation: Step{Command: "step ca health --ca-url https://ca.internal"},
				LastPassed: time.Date(2024, 5, 30, 22, 4, 0, 0, time.UTC),
				LastRun:    "run-0007",
				Allowlist: []Requirement{
					{Capability: "scheduler", Service: "scheduler", Class: Hard, Evidence: []graph.Evidence{evCA}},
					{Capability: "dns:ns1.internal", Service: "dns", Class: Alternative, Group: "any DNS server"},
					{Capability: "dns:ns2.internal", Service: "dns", Class: Alternative, Group: "any DNS server"},
					{Capability: "10.0.0.7:514/udp", Class: Soft, Evidence: []graph.Evidence{{Source: "run-0007", Process: "rsyslogd[9]", Detail: "denied, recovered anyway"}}},
				},
			},
			{Name: "kube/api", Scenario: "api-boot", Steps: []Step{{Command: "kubectl apply -f <manifests>"}}},
		},
	}
}

func build(t *testing.T) map[string][]byte {
	t.Helper()
	files, err := Build(context.Background(), exampleSite(t))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		out[f.Path] = f.Data
	}
	return out
}

func TestBuildGolden(t *testing.T) {
	files, err := Build(context.Background(), exampleSite(t))
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range files {
		paths = append(paths, f.Path)
	}
	want := "index.html services/ca.html services/config.html services/dns.html services/kube_api.html services/scheduler.html"
	if got := strings.Join(paths, " "); got != want {
		t.Fatalf("files = %s, want %s", got, want)
	}
	again, err := Build(context.Background(), exampleSite(t))
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range files {
		if !bytes.Equal(f.Data, again[i].Data) {
			t.Errorf("%s differs between two builds", f.Path)
		}
		t.Run(strings.TrimSuffix(f.Path, ".html"), func(t *testing.T) { golden.CheckExt(t, ".html", f.Data) })
	}
	if dir := os.Getenv("RGRAPH_RENDER_OUT"); dir != "" {
		if err := Write(context.Background(), filepath.Join(dir, "site"), exampleSite(t)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLinksResolve follows every link of every page: it must stay inside
// the site, name a file the site has, and, with a fragment, an element of
// that file; no page loads anything.
func TestLinksResolve(t *testing.T) {
	problems, checked := sitetest.Links(build(t))
	for _, p := range problems {
		t.Error(p)
	}
	if checked < 20 {
		t.Errorf("only %d links checked", checked)
	}
}

func TestFleetPage(t *testing.T) {
	index := build(t)["index.html"]
	i, j := bytes.Index(index, []byte("<svg")), bytes.LastIndex(index, []byte("</svg>"))
	if i < 0 || j < i {
		t.Fatal("no inline SVG on the fleet page")
	}
	dec := xml.NewDecoder(bytes.NewReader(index[i : j+6]))
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("inline SVG is not XML: %v", err)
		}
		if cd, ok := tok.(xml.CharData); ok {
			text.Write(cd)
		}
	}
	for _, n := range []string{"ca", "scheduler", "dns", "config", "kube/api"} {
		if !strings.Contains(text.String(), n) {
			t.Errorf("drawing lacks %s", n)
		}
		if !bytes.Contains(index, []byte(`href="services/`+slugOf(n)+`.html"`)) {
			t.Errorf("fleet page does not link to %s's page", n)
		}
	}
	for _, want := range []string{"Recovery waves", "Critical path", "Bootstrap cycles", "jumpstart", "1 bootstrap cycle<"} {
		if !bytes.Contains(index, []byte(want)) {
			t.Errorf("fleet page lacks %q", want)
		}
	}
}

func TestServicePage(t *testing.T) {
	ca := string(build(t)["services/ca.html"])
	for _, want := range []string{
		// Commands exactly as typed, escaped for HTML only.
		`vault operator unseal &#34;$(cat /secure/share-1)&#34;`,
		"systemctl start step-ca &amp;&amp; \\\n  step ca health --ca-url https://ca.internal &lt;&amp;-",
		"2024-05-30 22:04 UTC", "run-0007",
		">hard<", ">alternative<", ">soft<", "any DNS server",
		"process step-ca[311]", "reached scheduler.internal:6443/tcp",
		`href="scheduler.html"`, `href="dns.html"`,
		"bootstrap cycle",
	} {
		if !strings.Contains(ca, want) {
			t.Errorf("ca page lacks %q", want)
		}
	}
	dns := string(build(t)["services/dns.html"])
	if !strings.Contains(dns, "No recovery scenario") || !strings.Contains(dns, `href="ca.html"`) {
		t.Errorf("dns page lacks its status or its dependents")
	}
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	if err := Write(context.Background(), dir, exampleSite(t)); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"index.html", "services/kube_api.html"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Error(err)
		}
	}
	if err := Write(context.Background(), dir, Site{}); !errors.Is(err, ErrNoGraph) {
		t.Errorf("Write(no graph) = %v, want ErrNoGraph", err)
	}
}

func TestSlugs(t *testing.T) {
	b := graph.NewBuilder(0, 0)
	for _, n := range []string{"API", "api", "a/b", "a:b", "..", "ok-1.x"} {
		b.AddNode(n, graph.NodeInfo{})
	}
	bl := newBuilder(Site{Graph: b.Build()})
	want := map[string]string{"..": "_.html", "API": "api.html", "a/b": "a_b.html", "a:b": "a_b-2.html", "api": "api-2.html", "ok-1.x": "ok-1.x.html"}
	for n, s := range want {
		if bl.slug[n] != s {
			t.Errorf("slug(%q) = %q, want %q", n, bl.slug[n], s)
		}
	}
}

func TestRuntimeSections(t *testing.T) {
	s := exampleSite(t)
	c := graph.Compare(s.Graph, []graph.Call{
		{From: "ca", To: "dns", Calls: 40},
		{From: "kube/api", To: "scheduler", Calls: 7},
		{From: "kube/api", To: "metrics", Calls: 3},
	}, graph.CompareOptions{})
	s.Runtime, s.RuntimeSources = &c, []string{"deps.json (jaeger)"}
	files, err := Build(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	page := map[string]string{}
	for _, f := range files {
		page[f.Path] = string(f.Data)
	}
	for _, want := range []string{
		`<a href="#runtime">Recovery vs runtime</a>`,
		"5 dependencies only at recovery, 2 only at runtime, 1 in both",
		"Runtime graph: deps.json (jaeger)",
		// ca needs the scheduler to recover but never calls it while healthy.
		`<tr><td><a href="services/ca.html"><code>ca</code></a></td><td><a href="services/scheduler.html"><code>scheduler</code></a></td></tr>`,
		"<code>metrics</code>",
	} {
		if !strings.Contains(page["index.html"], want) {
			t.Errorf("fleet page lacks %q", want)
		}
	}
	for _, want := range []string{
		`never called while healthy (a cache or a fallback hides it at runtime): <a href="scheduler.html"><code>scheduler</code></a>`,
		`Needed to recover and called while healthy: <a href="dns.html"><code>dns</code></a>`,
	} {
		if !strings.Contains(page["services/ca.html"], want) {
			t.Errorf("ca page lacks %q", want)
		}
	}
	if !strings.Contains(page["services/kube_api.html"], `<a href="scheduler.html"><code>scheduler</code></a> (soft at recovery, 7 calls)`) {
		t.Errorf("kube/api page does not show its runtime-only call to the scheduler with its soft recovery edge")
	}
	problems, _ := sitetest.Links(map[string][]byte{"index.html": []byte(page["index.html"]), "services/ca.html": []byte(page["services/ca.html"]),
		"services/config.html": nil, "services/dns.html": nil, "services/kube_api.html": nil, "services/scheduler.html": nil})
	for _, p := range problems {
		if !strings.Contains(p, "has no element") { // the stub pages have no IDs
			t.Error(p)
		}
	}
}
