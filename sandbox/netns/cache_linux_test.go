package netns_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/internal/privtest"
	"github.com/rgraph/rgraph/sandbox"
	"github.com/rgraph/rgraph/sandbox/minimize"
	"github.com/rgraph/rgraph/sandbox/netns"
	"github.com/rgraph/rgraph/sandbox/sandboxtest"
)

// cacheScenario is a real nginx caching proxy (Debian's) in front of an
// origin in the upstream namespace. Its cache lives outside the working
// directory, under /var/cache, and it serves stale pages when the origin
// fails: once warm, it recovers without the origin. A cold start needs
// the origin, and every run is a cold start.
const cacheScenario = `schemaVersion: 1
kind: scenario
name: nginx-cache-cold-start
service: cache
catalog: catalog.yaml
upstream:
  netns: %[1]s
allow: [service:origin]
fault: reject
timeout: 15s
files:
  - path: nginx.conf
    content: |
      worker_processes 1;
      pid nginx.pid;
      error_log stderr;
      events {}
      http {
        access_log off;
        proxy_cache_path /var/cache/rgtest-nginx keys_zone=pages:1m;
        server {
          listen 127.0.0.1:8081;
          location / {
            proxy_pass http://%[2]s:8080;
            proxy_cache pages;
            proxy_cache_valid 200 1h;
            proxy_cache_use_stale error timeout http_502 http_503;
            proxy_connect_timeout 1s;
          }
        }
      }
runbook:
  - name: start nginx
    run: nginx -e stderr -p "$RGRAPH_WORKDIR" -c "$RGRAPH_WORKDIR/nginx.conf"
    timeout: 5s
validation:
  probe: http://127.0.0.1:8081/page
  retries: 3
  interval: 100ms
  deadline: 3s
  timeout: 2s
`

const cacheCatalog = `schemaVersion: 1
kind: catalog
services:
  - {name: origin, endpoints: ["%s:8080/tcp"]}
  - {name: cache, endpoints: ["127.0.0.1:8081/tcp"]}
`

// TestCacheIsNotShared minimizes the nginx caching proxy: the origin must
// come out hard. Were the cache shared between runs (it lives outside the
// working directory), the observe run would warm it for every later
// trial, and the origin would come out soft: not needed at all. It also
// checks that after an allowed run a run without the origin does not
// recover, and that nothing reached the host's /var/cache.
func TestCacheIsNotShared(t *testing.T) {
	sandboxtest.RequireSandbox(t)
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		privtest.Skip(t, "needs nginx (apt-get install nginx-light)")
	}
	u := newEscapeNet(t)
	u.in(t, func() error {
		l, err := net.Listen("tcp", fmt.Sprintf("%s:8080", esc4))
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintln(w, "from the origin")
		})}
		go srv.Serve(l)
		t.Cleanup(func() { srv.Close() })
		return nil
	})
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "catalog.yaml"), fmt.Appendf(nil, cacheCatalog, esc4), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "cache.yaml")
	if err := os.WriteFile(path, fmt.Appendf(nil, cacheScenario, u.name, esc4), 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := sandbox.LoadScenario(path)
	if err != nil {
		t.Fatal(err)
	}
	opts := sandbox.Options{Driver: netns.New(), NoGC: true, Env: map[string]string{"PATH": filepath.Dir(nginx) + ":/usr/sbin:/usr/bin:/sbin:/bin"}}
	run := func(allow collector.Allowlist) *collector.Record {
		t.Helper()
		o := opts
		o.Allow = &allow
		rec, err := sandbox.Run(context.Background(), sc, o)
		if err != nil {
			t.Fatal(err)
		}
		sandboxtest.AssertClean(t, u.name, rec.ID)
		return rec
	}

	if rec := run(sc.Allow); !rec.Outcome.Recovered {
		t.Fatalf("with the origin the cache did not recover:\n%s", describe(rec))
	}
	if rec := run(collector.Allowlist{}); rec.Outcome.Recovered {
		t.Errorf("without the origin, right after a run that filled the cache, the cache recovered: the cache was shared between runs\n%s", describe(rec))
	}
	if _, err := os.Stat("/var/cache/rgtest-nginx"); err == nil {
		t.Errorf("the runs wrote the host's /var/cache/rgtest-nginx")
	}

	oracle := minimize.OracleFunc(func(ctx context.Context, tr minimize.Trial) (minimize.Outcome, error) {
		o := opts
		allow := append(collector.Allowlist{}, tr.Allow...)
		o.Allow = &allow
		rec, err := sandbox.Run(ctx, sc, o)
		if err != nil {
			return minimize.Outcome{}, err
		}
		return minimize.Outcome{Recovered: rec.Outcome.Recovered, Record: rec}, nil
	})
	res, err := minimize.Minimize(context.Background(), oracle, minimize.Options{Repeat: 2, Candidates: sc.Allow, Catalog: sc.Catalog, MaxAlternatives: -1})
	if err != nil {
		t.Fatal(err)
	}
	var classes []string
	for _, c := range res.Candidates {
		classes = append(classes, c.Capability.String()+" "+string(c.Class))
		if c.Capability.Service == "origin" && c.Class != collector.Hard {
			t.Errorf("origin is %s, want hard: a warm cache hid it", c.Class)
		}
	}
	t.Logf("minimized in %d trials: minimal %v; %v", len(res.Trials), res.Minimal, classes)
	if len(res.Minimal) != 1 || res.Minimal[0].Service != "origin" {
		t.Errorf("minimal allowlist %v, want [service:origin]", res.Minimal)
	}
}
