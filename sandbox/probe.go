package sandbox

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"syscall"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// ProbeKind is the kind of a validation probe.
type ProbeKind string

// Probe kinds.
const (
	ProbeTCP  ProbeKind = "tcp"  // a TCP connect succeeds
	ProbeUDP  ProbeKind = "udp"  // a datagram to the port is not refused
	ProbeHTTP ProbeKind = "http" // an HTTP GET gets the wanted status and body (http or https URL)
	ProbeUnix ProbeKind = "unix" // a unix stream socket accepts a connection
	ProbeDNS  ProbeKind = "dns"  // a DNS server answers a question with at least one record
)

// Probe is a health check rgraph makes from inside the sandbox's network
// namespace, outside the recorded cgroup. Its text form is
// "tcp:ADDR:PORT", "udp:ADDR:PORT", "http://..." or "https://...",
// "unix:PATH", or "dns:NAME[/TYPE]@ADDR[:PORT]". It is a plain value;
// [CheckProbe] makes the check.
type Probe struct {
	Kind ProbeKind
	// Target is ADDR:PORT, the URL, the socket path, or NAME/TYPE@ADDR:PORT.
	Target string
	// Status is the HTTP status an http probe wants; 0 means any 2xx.
	Status int
	// Body is a regular expression (RE2) the body of an http probe's
	// answer must match; empty means any body.
	Body string
}

// IsZero reports whether no probe is set.
func (p Probe) IsZero() bool { return p.Kind == "" }

func (p Probe) String() string {
	switch p.Kind {
	case "":
		return ""
	case ProbeHTTP:
		s := p.Target
		if p.Status != 0 {
			s += fmt.Sprintf(" (status %d)", p.Status)
		}
		if p.Body != "" {
			s += fmt.Sprintf(" (body ~ %q)", p.Body)
		}
		return s
	}
	return string(p.Kind) + ":" + p.Target
}

// ParseProbe parses the text form documented on [Probe].
func ParseProbe(s string) (Probe, error) {
	switch {
	case strings.HasPrefix(s, "tcp:"), strings.HasPrefix(s, "udp:"):
		kind, t, _ := strings.Cut(s, ":")
		t = strings.TrimPrefix(t, "//")
		if _, err := netip.ParseAddrPort(t); err != nil {
			return Probe{}, fmt.Errorf("want %s:ADDR:PORT with an IP address, got %q", kind, s)
		}
		return Probe{Kind: ProbeKind(kind), Target: t}, nil
	case strings.HasPrefix(s, "http://"), strings.HasPrefix(s, "https://"):
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			return Probe{}, fmt.Errorf("invalid URL %q", s)
		}
		// A name would be resolved outside the sandbox's network.
		if _, err := netip.ParseAddr(u.Hostname()); err != nil && u.Hostname() != "localhost" {
			return Probe{}, fmt.Errorf("URL %q: the host must be an IP address or localhost", s)
		}
		return Probe{Kind: ProbeHTTP, Target: s}, nil
	case strings.HasPrefix(s, "unix:"):
		t := strings.TrimPrefix(strings.TrimPrefix(s, "unix:"), "//")
		if !strings.HasPrefix(t, "/") && !strings.HasPrefix(t, "@") {
			return Probe{}, fmt.Errorf("want unix:/absolute/path, got %q", s)
		}
		return Probe{Kind: ProbeUnix, Target: t}, nil
	case strings.HasPrefix(s, "dns:"):
		q, err := parseDNSTarget(strings.TrimPrefix(s, "dns:"))
		if err != nil {
			return Probe{}, fmt.Errorf("%v, got %q", err, s)
		}
		return Probe{Kind: ProbeDNS, Target: q.String()}, nil
	}
	return Probe{}, fmt.Errorf("unknown probe %q (want tcp:ADDR:PORT, udp:ADDR:PORT, http://URL, unix:PATH or dns:NAME@ADDR)", s)
}

// dnsTarget is the question and server of a dns probe.
type dnsTarget struct {
	name   string // fully qualified, with the trailing dot
	typ    dnsmessage.Type
	server netip.AddrPort
}

func (q dnsTarget) String() string {
	return fmt.Sprintf("%s/%s@%s", strings.TrimSuffix(q.name, "."), dnsTypeName(q.typ), q.server)
}

// dnsTypes are the question types a dns probe may ask.
var dnsTypes = map[string]dnsmessage.Type{
	"A": dnsmessage.TypeA, "AAAA": dnsmessage.TypeAAAA, "CNAME": dnsmessage.TypeCNAME, "MX": dnsmessage.TypeMX,
	"NS": dnsmessage.TypeNS, "PTR": dnsmessage.TypePTR, "SOA": dnsmessage.TypeSOA, "SRV": dnsmessage.TypeSRV,
	"TXT": dnsmessage.TypeTXT,
}

func dnsTypeName(t dnsmessage.Type) string { return strings.TrimPrefix(t.String(), "Type") }

// parseDNSTarget parses NAME[/TYPE]@ADDR[:PORT].
func parseDNSTarget(s string) (dnsTarget, error) {
	const want = "want dns:NAME[/TYPE]@ADDR[:PORT] with an IP address"
	q := dnsTarget{typ: dnsmessage.TypeA}
	name, server, ok := strings.Cut(s, "@")
	if !ok || name == "" || server == "" {
		return q, errors.New(want)
	}
	if n, t, ok := strings.Cut(name, "/"); ok {
		typ, known := dnsTypes[strings.ToUpper(t)]
		if !known {
			return q, fmt.Errorf("%s; unknown type %q (want A, AAAA, CNAME, MX, NS, PTR, SOA, SRV or TXT)", want, t)
		}
		name, q.typ = n, typ
	}
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	if _, err := dnsmessage.NewName(name); err != nil || strings.ContainsAny(name, " \t/@") {
		return q, fmt.Errorf("%s; invalid name %q", want, strings.TrimSuffix(name, "."))
	}
	q.name = name
	if ap, err := netip.ParseAddrPort(server); err == nil {
		q.server = ap
	} else if a, err := netip.ParseAddr(strings.Trim(server, "[]")); err == nil {
		q.server = netip.AddrPortFrom(a, 53)
	} else {
		return q, errors.New(want)
	}
	q.server = netip.AddrPortFrom(q.server.Addr().Unmap(), q.server.Port())
	return q, nil
}

// DialFunc connects to an address ("tcp", "udp") or a socket path
// ("unix") the way a driver reaches its sandbox's network.
type DialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// udpQuiet is how long a udp probe waits for a refusal or an answer after
// its datagram.
const udpQuiet = 250 * time.Millisecond

// CheckProbe makes the health check p, connecting through dial; nil means
// healthy. It is the probe logic of every driver: a driver's
// [Sandbox.Probe] calls it with a dial function that reaches the
// sandbox's network from outside the recorder. ctx bounds the check.
func CheckProbe(ctx context.Context, p Probe, dial DialFunc) error {
	switch p.Kind {
	case ProbeTCP, ProbeUnix:
		c, err := dial(ctx, string(p.Kind), p.Target)
		if err != nil {
			return err
		}
		return c.Close()
	case ProbeUDP:
		return checkUDP(ctx, p.Target, dial)
	case ProbeHTTP:
		return checkHTTP(ctx, p, dial)
	case ProbeDNS:
		q, err := parseDNSTarget(p.Target)
		if err != nil {
			return err
		}
		return checkDNS(ctx, q, dial)
	}
	return fmt.Errorf("unknown probe kind %q", p.Kind)
}

// checkUDP sends an empty datagram and fails when the port answers with
// a refusal (ICMP port unreachable); an answer, or silence for
// [udpQuiet], passes: something is bound there.
func checkUDP(ctx context.Context, target string, dial DialFunc) error {
	c, err := dial(ctx, "udp", target)
	if err != nil {
		return err
	}
	defer c.Close()
	deadline := time.Now().Add(udpQuiet)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	c.SetDeadline(deadline)
	if _, err := c.Write(nil); err != nil {
		return udpErr(target, err)
	}
	_, err = c.Read(make([]byte, 512))
	var ne net.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ne) && ne.Timeout():
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return nil
	}
	return udpErr(target, err)
}

func udpErr(target string, err error) error {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("udp %s: refused (nothing listens there)", target)
	}
	return fmt.Errorf("udp %s: %w", target, err)
}

// maxBody is how much of an HTTP answer's body a probe reads.
const maxBody = 64 << 10

func checkHTTP(ctx context.Context, p Probe, dial DialFunc) error {
	client := &http.Client{Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true}}
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.Target, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("GET %s: reading the body: %w", p.Target, err)
	}
	switch {
	case p.Status == 0 && resp.StatusCode/100 != 2,
		p.Status != 0 && resp.StatusCode != p.Status:
		want := "a 2xx status"
		if p.Status != 0 {
			want = fmt.Sprintf("status %d", p.Status)
		}
		return fmt.Errorf("GET %s: %s, want %s: %s", p.Target, resp.Status, want, snippet(body))
	case p.Body != "":
		re, err := regexp.Compile(p.Body)
		if err != nil {
			return fmt.Errorf("body pattern %q: %w", p.Body, err)
		}
		if !re.Match(body) {
			return fmt.Errorf("GET %s: %s, but the body does not match %q: %s", p.Target, resp.Status, p.Body, snippet(body))
		}
	}
	return nil
}

// snippet is the start of a body, on one line, for an error message.
func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// checkDNS asks q over UDP and passes when the answer is NOERROR with at
// least one record for the question's type.
func checkDNS(ctx context.Context, q dnsTarget, dial DialFunc) error {
	var id [2]byte
	if _, err := rand.Read(id[:]); err != nil {
		return err
	}
	name := dnsmessage.MustNewName(q.name)
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: uint16(id[0])<<8 | uint16(id[1]), RecursionDesired: true})
	b.StartQuestions()
	b.Question(dnsmessage.Question{Name: name, Type: q.typ, Class: dnsmessage.ClassINET})
	msg, err := b.Finish()
	if err != nil {
		return err
	}
	c, err := dial(ctx, "udp", q.server.String())
	if err != nil {
		return err
	}
	defer c.Close()
	if d, ok := ctx.Deadline(); ok {
		c.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	what := fmt.Sprintf("dns %s %s @%s", strings.TrimSuffix(q.name, "."), dnsTypeName(q.typ), q.server)
	if _, err := c.Write(msg); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	buf := make([]byte, 65535)
	for {
		n, err := c.Read(buf)
		if err != nil {
			if errors.Is(err, syscall.ECONNREFUSED) {
				return fmt.Errorf("%s: refused (nothing listens there)", what)
			}
			return fmt.Errorf("%s: %w", what, err)
		}
		var p dnsmessage.Parser
		h, err := p.Start(buf[:n])
		if err != nil || !h.Response || h.ID != uint16(id[0])<<8|uint16(id[1]) {
			continue // not the answer to this question
		}
		if h.RCode != dnsmessage.RCodeSuccess {
			return fmt.Errorf("%s: %s", what, strings.TrimPrefix(h.RCode.String(), "RCode"))
		}
		if err := p.SkipAllQuestions(); err != nil {
			return fmt.Errorf("%s: malformed answer: %w", what, err)
		}
		for {
			rh, err := p.AnswerHeader()
			if errors.Is(err, dnsmessage.ErrSectionDone) {
				return fmt.Errorf("%s: no %s record in the answer", what, dnsTypeName(q.typ))
			}
			if err != nil {
				return fmt.Errorf("%s: malformed answer: %w", what, err)
			}
			if rh.Type == q.typ {
				return nil
			}
			if err := p.SkipAnswer(); err != nil {
				return fmt.Errorf("%s: malformed answer: %w", what, err)
			}
		}
	}
}
