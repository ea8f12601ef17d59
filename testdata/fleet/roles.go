package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// roleInfo describes one service of the fleet.
type roleInfo struct {
	// port is the default listen address inside a sandbox.
	listen string
	// prod is the production listen address.
	prod string
	// kind is how fleet check talks to it: http, line, dns or unix.
	kind string
}

var roles = map[string]roleInfo{
	"dns":       {":53", dnsAddr, "dns"},
	"logd":      {logdSocket, logdSocket, "unix"},
	"ca":        {":8443", caAddr, "http"},
	"scheduler": {":8080", schedulerAddr, "http"},
	"coord":     {":2379", coordAddr, "line"},
	"config":    {":8080", configAddr, "http"},
	"discovery": {":8080", discoveryAddr, "http"},
	"pkgstore":  {":8080", pkgstoreAddr, "http"},
	"web":       {":8080", webAddr, "http"},
}

func roleNames() []string {
	var out []string
	for n := range roles {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// service is one running role.
type service struct {
	name      string
	state     string // directory of the local cache and state
	bootstrap bool   // ca: break-glass start without the scheduler
	resolver  string // web: resolver to use instead of /etc/resolv.conf
	socket    string // logd: socket path; config: logd's socket
	dnsListen string // discovery: its DNS listener
	h         health
	log       *log.Logger
	registry  map[string]string // discovery: name -> address
}

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("name a role: %s", strings.Join(roleNames(), " "))
	}
	name := args[0]
	info, ok := roles[name]
	if !ok {
		return fmt.Errorf("unknown role %q (known: %s)", name, strings.Join(roleNames(), " "))
	}
	s := &service{name: name, log: log.New(stderr, name+": ", log.Lmicroseconds)}
	fs := flag.NewFlagSet("serve "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", info.listen, "listen address (socket path for logd)")
	fs.StringVar(&s.state, "state", ".", "state and cache directory")
	fs.BoolVar(&s.bootstrap, "bootstrap", false, "ca: break-glass start without asking the scheduler")
	fs.StringVar(&s.resolver, "resolver", "", "web: resolver ADDR:PORT instead of /etc/resolv.conf")
	fs.StringVar(&s.socket, "logd", logdSocket, "config: socket of the local log daemon")
	fs.StringVar(&s.dnsListen, "dns-listen", ":53", "discovery: DNS listen address")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if err := os.MkdirAll(s.state, 0o755); err != nil {
		return err
	}
	if name == "logd" {
		s.socket = *listen
	}
	if err := s.start(ctx, *listen); err != nil {
		return err
	}
	s.log.Printf("listening on %s, recovering", *listen)
	go func() {
		start := time.Now()
		err := s.recover(ctx)
		s.h.set(err)
		if err != nil {
			s.log.Printf("recovery failed after %v: %v", time.Since(start).Round(time.Millisecond), err)
			return
		}
		s.log.Printf("healthy after %v", time.Since(start).Round(time.Millisecond))
	}()
	<-ctx.Done()
	return nil
}

// start opens the service's listeners.
func (s *service) start(ctx context.Context, listen string) error {
	switch s.name {
	case "dns":
		return serveDNS(ctx, listen, s.answerDNS, s.log.Printf)
	case "logd":
		return s.serveLine(ctx, "unix", listen)
	case "coord":
		return s.serveLine(ctx, "tcp", listen)
	case "discovery":
		if err := serveDNS(ctx, s.dnsListen, s.answerDiscovery, s.log.Printf); err != nil {
			return err
		}
	}
	return s.serveHTTP(ctx, listen)
}

// recover makes the service's recovery calls. A hard dependency that
// fails is an error; a soft one falls back to the local cache.
func (s *service) recover(ctx context.Context) error {
	switch s.name {
	case "dns", "logd":
		return nil // no dependencies: the zone is compiled in; logs go to disk
	case "ca":
		if s.bootstrap {
			s.log.Printf("break-glass start: not asking the scheduler for a placement")
			return nil
		}
		// The CA runs as a container the scheduler places.
		_, err := httpGet(ctx, "http://"+schedulerAddr+"/place?job=ca")
		if err != nil {
			return fmt.Errorf("scheduler: %w", err)
		}
		return nil
	case "scheduler":
		if _, err := coordGet(ctx, "scheduler/jobs"); err != nil {
			return err
		}
		// The CA's image: from the package store, or the local image cache.
		if _, err := httpGet(ctx, "http://"+pkgstoreAddr+"/images/ca"); err != nil {
			s.log.Printf("pkgstore: %v; trying the local image cache", err)
			if _, cerr := readCache(s.state, "images/ca.img"); cerr != nil {
				return fmt.Errorf("image ca: pkgstore: %v; %w", err, cerr)
			}
		}
		return nil
	case "coord":
		// Peer certificates from the CA.
		cert, err := httpGet(ctx, "http://"+caAddr+"/cert?cn=coord")
		if err != nil {
			return fmt.Errorf("ca: %w", err)
		}
		return os.WriteFile(filepath.Join(s.state, "coord.pem"), []byte(cert), 0o600)
	case "config":
		if _, err := coordGet(ctx, "config/data"); err != nil {
			return err
		}
		return logLine(ctx, s.socket, "config: recovered configuration from coord")
	case "discovery":
		v, err := coordGet(ctx, "discovery/services")
		if err != nil {
			return err
		}
		s.registry = parsePairs(v)
		return nil
	case "pkgstore":
		_, err := httpGet(ctx, "http://"+configAddr+"/config/pkgstore")
		if err != nil {
			return fmt.Errorf("config: %w", err)
		}
		return nil
	case "web":
		return s.recoverWeb(ctx)
	}
	return fmt.Errorf("no recovery for %s", s.name)
}

// recoverWeb finds config through service discovery, by DNS only, and
// fetches its assets from the package store or its cache.
func (s *service) recoverWeb(ctx context.Context) error {
	addr, err := systemLookup(ctx, s.resolver, "config.svc.fleet.internal")
	if err != nil {
		return fmt.Errorf("resolving config.svc.fleet.internal: %w", err)
	}
	if _, err := httpGet(ctx, fmt.Sprintf("http://%s/config/web", netip.AddrPortFrom(addr, 8080))); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	// Assets: the package store, found with a resolver wired into the
	// code (not /etc/resolv.conf), else the local asset cache.
	pkg, err := lookupA(ctx, "udp", dnsAddr, "pkgstore.fleet.internal")
	if err == nil {
		_, err = httpGet(ctx, fmt.Sprintf("http://%s/assets/app.css", netip.AddrPortFrom(pkg, 8080)))
	}
	if err != nil {
		s.log.Printf("pkgstore: %v; using the asset cache", err)
		if _, cerr := readCache(s.state, "assets/app.css"); cerr != nil {
			return fmt.Errorf("assets: pkgstore: %v; %w", err, cerr)
		}
	}
	return nil
}

// serveHTTP serves /healthz and the role's API.
func (s *service) serveHTTP(ctx context.Context, listen string) error {
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if err := s.h.check(); err != nil {
			http.Error(w, s.name+": "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "%s: healthy\n", s.name)
	})
	api := func(f func(r *http.Request) (string, error)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if err := s.h.check(); err != nil {
				http.Error(w, s.name+": "+err.Error(), http.StatusServiceUnavailable)
				return
			}
			body, err := f(r)
			if err != nil {
				http.Error(w, err.Error(), http.StatusNotFound)
				return
			}
			fmt.Fprintln(w, body)
		}
	}
	mux.HandleFunc("/place", api(func(r *http.Request) (string, error) { // scheduler
		return "job " + r.URL.Query().Get("job") + " placed on node-1", nil
	}))
	mux.HandleFunc("/cert", api(func(r *http.Request) (string, error) { // ca
		return "-----BEGIN CERTIFICATE-----\nfleet-ca:" + r.URL.Query().Get("cn") + "\n-----END CERTIFICATE-----", nil
	}))
	mux.HandleFunc("/config/", api(func(r *http.Request) (string, error) { // config
		return "config for " + strings.TrimPrefix(r.URL.Path, "/config/"), nil
	}))
	mux.HandleFunc("/images/", api(func(r *http.Request) (string, error) { // pkgstore
		return "image " + strings.TrimPrefix(r.URL.Path, "/images/"), nil
	}))
	mux.HandleFunc("/assets/", api(func(r *http.Request) (string, error) { // pkgstore
		return "/* asset " + strings.TrimPrefix(r.URL.Path, "/assets/") + " */", nil
	}))
	mux.HandleFunc("/services", api(func(*http.Request) (string, error) { // discovery
		return fmt.Sprint(s.registry), nil
	}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 2 * time.Second}
	context.AfterFunc(ctx, func() { srv.Close() })
	go srv.Serve(l)
	return nil
}

// serveLine serves the line protocols of coord (tcp) and logd (unix):
// PING, GET KEY, LOG TEXT.
func (s *service) serveLine(ctx context.Context, network, listen string) error {
	if network == "unix" {
		if err := os.MkdirAll(filepath.Dir(listen), 0o755); err != nil {
			return err
		}
		os.Remove(listen) // a stale socket from a previous run
	}
	l, err := net.Listen(network, listen)
	if err != nil {
		return err
	}
	context.AfterFunc(ctx, func() { l.Close() })
	logFile := filepath.Join(s.state, "logd.log")
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					fmt.Fprintln(c, s.answerLine(sc.Text(), logFile))
				}
			}()
		}
	}()
	return nil
}

func (s *service) answerLine(line, logFile string) string {
	cmd, arg, _ := strings.Cut(line, " ")
	err := s.h.check()
	switch {
	case cmd == "PING" && err != nil:
		return "UNHEALTHY " + err.Error()
	case cmd == "PING":
		return "PONG"
	case err != nil:
		return "UNAVAILABLE " + err.Error()
	case cmd == "GET" && s.name == "coord":
		if v, ok := coordData[arg]; ok {
			return "VALUE " + v
		}
		return "NOTFOUND"
	case cmd == "LOG" && s.name == "logd":
		f, err := os.OpenFile(logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return "ERROR " + err.Error()
		}
		defer f.Close()
		fmt.Fprintf(f, "%s %s\n", time.Now().UTC().Format(time.RFC3339Nano), arg)
		return "OK"
	}
	return "ERROR unknown command"
}

// answerDNS is the dns role: authoritative for fleet.internal, and
// forwarding svc.fleet.internal to service discovery.
func (s *service) answerDNS(ctx context.Context, b []byte) []byte {
	req, ok := parseQuery(b)
	if !ok {
		return nil
	}
	name := strings.ToLower(req.Questions[0].Name.String())
	switch {
	case strings.HasSuffix(name, "."+svcZone):
		resp, err := exchangeUDP(ctx, discoveryDNSAddr, b)
		if err != nil {
			s.log.Printf("forwarding %s to discovery: %v", name, err)
			return reply(req, dnsmessage.RCodeServerFailure, netip.Addr{})
		}
		return resp
	case strings.HasSuffix(name, "."+zone):
		return answerFrom(req, zone, zoneRecords)
	}
	return reply(req, dnsmessage.RCodeRefused, netip.Addr{})
}

// answerDiscovery is discovery's DNS: NAME.svc.fleet.internal from the
// registry it recovered from coord.
func (s *service) answerDiscovery(_ context.Context, b []byte) []byte {
	req, ok := parseQuery(b)
	if !ok {
		return nil
	}
	if s.h.check() != nil {
		return reply(req, dnsmessage.RCodeServerFailure, netip.Addr{})
	}
	return answerFrom(req, svcZone, s.registry)
}

// check asks a role whether it is healthy.
func check(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("name a role: %s", strings.Join(roleNames(), " "))
	}
	name := args[0]
	info, ok := roles[name]
	if !ok {
		return fmt.Errorf("unknown role %q", name)
	}
	fs := flag.NewFlagSet("check "+name, flag.ContinueOnError)
	addr := fs.String("addr", "", "address to check (default: the role's port on 127.0.0.1)")
	socket := fs.String("socket", logdSocket, "logd: socket path")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *addr == "" {
		*addr = "127.0.0.1" + info.listen
	}
	msg, err := checkRole(ctx, dialer.DialContext, name, *addr, *socket)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, msg)
	return nil
}

// checkRole returns the healthy message of a role or why it is not. HTTP
// checks connect with dial.
func checkRole(ctx context.Context, dial dialFunc, name, addr, socket string) (string, error) {
	switch roles[name].kind {
	case "http":
		body, err := httpGetWith(ctx, dial, "http://"+addr+"/healthz")
		return strings.TrimSpace(body), err
	case "line", "unix":
		network := "tcp"
		if roles[name].kind == "unix" {
			network, addr = "unix", socket
		}
		resp, err := lineCall(ctx, network, addr, "PING")
		if err != nil {
			return "", err
		}
		if resp != "PONG" {
			return "", fmt.Errorf("%s: %s", name, resp)
		}
		return name + ": healthy", nil
	case "dns":
		// Over UDP, as resolvers ask: the sandbox lets a server's reply
		// to a client that asked it through (it is not a first hop).
		a, err := lookupA(ctx, "udp", addr, "dns.fleet.internal")
		if err != nil {
			return "", err
		}
		if a.String() != zoneRecords["dns"] {
			return "", fmt.Errorf("dns.fleet.internal is %v, want %s", a, zoneRecords["dns"])
		}
		return "dns: healthy (dns.fleet.internal is " + a.String() + ")", nil
	}
	return "", errors.New("cannot check " + name)
}
