package sandbox

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rgraph/rgraph/internal/dnsstub/dnsstubtest"
)

func TestParseProbe(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Probe
		text string
	}{
		{"tcp:127.0.0.1:80", Probe{Kind: ProbeTCP, Target: "127.0.0.1:80"}, "tcp:127.0.0.1:80"},
		{"udp:[::1]:53", Probe{Kind: ProbeUDP, Target: "[::1]:53"}, "udp:[::1]:53"},
		{"unix:/run/x.sock", Probe{Kind: ProbeUnix, Target: "/run/x.sock"}, "unix:/run/x.sock"},
		{"http://127.0.0.1:8080/healthz", Probe{Kind: ProbeHTTP, Target: "http://127.0.0.1:8080/healthz"}, "http://127.0.0.1:8080/healthz"},
		{"dns:db.example@127.0.0.1", Probe{Kind: ProbeDNS, Target: "db.example/A@127.0.0.1:53"}, "dns:db.example/A@127.0.0.1:53"},
		{"dns:db.example./aaaa@[::1]:5353", Probe{Kind: ProbeDNS, Target: "db.example/AAAA@[::1]:5353"}, "dns:db.example/AAAA@[::1]:5353"},
		{"dns:_pg._tcp.example/SRV@10.0.0.53", Probe{Kind: ProbeDNS, Target: "_pg._tcp.example/SRV@10.0.0.53:53"}, "dns:_pg._tcp.example/SRV@10.0.0.53:53"},
	} {
		got, err := ParseProbe(tt.in)
		if err != nil || got != tt.want || got.String() != tt.text {
			t.Errorf("ParseProbe(%q) = %+v (%q), %v; want %+v (%q)", tt.in, got, got.String(), err, tt.want, tt.text)
		}
		// The text form parses back to the same probe.
		if again, err := ParseProbe(got.String()); err != nil || again != got {
			t.Errorf("ParseProbe(%q) = %+v, %v; want %+v", got.String(), again, err, got)
		}
	}
	for _, in := range []string{"udp:localhost:53", "dns:x", "dns:@127.0.0.1", "dns:x@dns.example", "dns:x/BOGUS@127.0.0.1", "dns:a b@127.0.0.1", "icmp:127.0.0.1"} {
		if p, err := ParseProbe(in); err == nil {
			t.Errorf("ParseProbe(%q) = %+v, want an error", in, p)
		}
	}
}

// dialLoopback is a DialFunc for tests: rgraph's own network.
func dialLoopback(ctx context.Context, network, address string) (net.Conn, error) {
	return (&net.Dialer{}).DialContext(ctx, network, address)
}

// TestCheckProbe makes each kind of probe against real services on
// loopback, passing and failing.
func TestCheckProbe(t *testing.T) {
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			fmt.Fprintln(w, "role: primary\nstatus: ok")
		case "/moved":
			http.Redirect(w, r, "/healthz", http.StatusFound)
		default:
			http.Error(w, "starting", http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(web.Close)

	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	dnsstubtest.Serve(pc, nil, "example.", netip.MustParseAddr("192.0.2.1"))
	dnsAddr := pc.LocalAddr().String()

	// A UDP port nobody listens on: bound, then closed.
	closed, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.LocalAddr().String()
	closed.Close()

	sock := filepath.Join(t.TempDir(), "s.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()

	host := strings.TrimPrefix(web.URL, "http://")
	for _, tt := range []struct {
		name  string
		probe string
		edit  func(*Probe)
		want  string // "" passes, else a substring of the error
	}{
		{"tcp", "tcp:" + host, nil, ""},
		{"unix", "unix:" + sock, nil, ""},
		{"unix missing", "unix:" + sock + ".gone", nil, "no such file"},
		{"http", web.URL + "/healthz", nil, ""},
		{"http 503", web.URL + "/starting", nil, "503 Service Unavailable, want a 2xx status: starting"},
		{"http status wanted", web.URL + "/starting", func(p *Probe) { p.Status = 503 }, ""},
		{"http status not wanted", web.URL + "/healthz", func(p *Probe) { p.Status = 204 }, "200 OK, want status 204"},
		{"http body", web.URL + "/healthz", func(p *Probe) { p.Body = `(?m)^role: primary$` }, ""},
		{"http body mismatch", web.URL + "/healthz", func(p *Probe) { p.Body = "role: replica" }, `the body does not match "role: replica": role: primary status: ok`},
		{"http redirect followed", web.URL + "/moved", func(p *Probe) { p.Body = "status: ok" }, ""},
		{"udp bound", "udp:" + dnsAddr, nil, ""},
		{"udp closed", "udp:" + closedAddr, nil, "refused (nothing listens there)"},
		{"dns", "dns:db.example@" + dnsAddr, nil, ""},
		{"dns nxdomain", "dns:db.test@" + dnsAddr, nil, "dns db.test A @" + dnsAddr + ": NameError"},
		{"dns nodata", "dns:db.example/AAAA@" + dnsAddr, nil, "no AAAA record in the answer"},
		{"dns nobody", "dns:db.example@" + closedAddr, nil, "refused (nothing listens there)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseProbe(tt.probe)
			if err != nil {
				t.Fatal(err)
			}
			if tt.edit != nil {
				tt.edit(&p)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			err = CheckProbe(ctx, p, dialLoopback)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("CheckProbe(%v) = %v, want nil", p, err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("CheckProbe(%v) = %v, want an error containing %q", p, err, tt.want)
			}
		})
	}
}
