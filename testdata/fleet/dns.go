package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// dnsHandler answers one DNS message; nil means no answer.
type dnsHandler func(ctx context.Context, req []byte) []byte

// serveDNS answers DNS over UDP and TCP on addr until ctx ends.
func serveDNS(ctx context.Context, addr string, h dnsHandler, logf func(string, ...any)) error {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		pc.Close()
		return err
	}
	context.AfterFunc(ctx, func() { pc.Close(); l.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			req := append([]byte(nil), buf[:n]...)
			go func() {
				if resp := h(ctx, req); resp != nil {
					pc.WriteTo(resp, from)
				}
			}()
		}
	}()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				for {
					req, err := readTCPMsg(c)
					if err != nil {
						return
					}
					resp := h(ctx, req)
					if resp == nil {
						return
					}
					if err := writeTCPMsg(c, resp); err != nil {
						logf("dns: writing over tcp: %v", err)
						return
					}
				}
			}()
		}
	}()
	return nil
}

func readTCPMsg(r io.Reader) ([]byte, error) {
	var n [2]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint16(n[:]))
	_, err := io.ReadFull(r, b)
	return b, err
}

func writeTCPMsg(w io.Writer, msg []byte) error {
	b := make([]byte, 2+len(msg))
	binary.BigEndian.PutUint16(b, uint16(len(msg)))
	copy(b[2:], msg)
	_, err := w.Write(b)
	return err
}

// reply builds a response to req with rcode and, for an A question, the
// given address.
func reply(req dnsmessage.Message, rcode dnsmessage.RCode, a netip.Addr) []byte {
	resp := dnsmessage.Message{
		Header: dnsmessage.Header{
			ID: req.ID, Response: true, Authoritative: rcode != dnsmessage.RCodeRefused,
			RecursionDesired: req.RecursionDesired, RCode: rcode,
		},
		Questions: req.Questions,
	}
	if a.IsValid() && len(req.Questions) == 1 && req.Questions[0].Type == dnsmessage.TypeA {
		q := req.Questions[0]
		resp.Answers = []dnsmessage.Resource{{
			Header: dnsmessage.ResourceHeader{Name: q.Name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: 30},
			Body:   &dnsmessage.AResource{A: a.As4()},
		}}
	}
	b, err := resp.Pack()
	if err != nil {
		log.Printf("dns: packing a response: %v", err)
		return nil
	}
	return b
}

// answerFrom answers A questions for names in table (name relative to
// suffix); AAAA and other types for known names get an empty answer,
// unknown names NXDOMAIN.
func answerFrom(req dnsmessage.Message, suffix string, table map[string]string) []byte {
	q := req.Questions[0]
	label, ok := strings.CutSuffix(strings.ToLower(q.Name.String()), "."+suffix)
	ip, known := table[label]
	switch {
	case !ok || !known:
		return reply(req, dnsmessage.RCodeNameError, netip.Addr{})
	case q.Type != dnsmessage.TypeA:
		return reply(req, dnsmessage.RCodeSuccess, netip.Addr{})
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return reply(req, dnsmessage.RCodeServerFailure, netip.Addr{})
	}
	return reply(req, dnsmessage.RCodeSuccess, a)
}

// parseQuery decodes a query with exactly one question.
func parseQuery(b []byte) (dnsmessage.Message, bool) {
	var m dnsmessage.Message
	if err := m.Unpack(b); err != nil || m.Response || len(m.Questions) != 1 {
		return m, false
	}
	return m, true
}

// exchangeUDP sends a DNS message to server over UDP and returns the
// response.
func exchangeUDP(ctx context.Context, server string, msg []byte) ([]byte, error) {
	return exchange(ctx, "udp", server, msg)
}

// exchange sends a DNS message to server over network (udp or tcp) and
// returns the response.
func exchange(ctx context.Context, network, server string, msg []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	c, err := dialer.DialContext(ctx, network, server)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if d, ok := ctx.Deadline(); ok {
		c.SetDeadline(d)
	}
	if network == "tcp" {
		if err := writeTCPMsg(c, msg); err != nil {
			return nil, err
		}
		resp, err := readTCPMsg(c)
		if err != nil {
			return nil, fmt.Errorf("asking %s: %w", server, err)
		}
		return resp, nil
	}
	if _, err := c.Write(msg); err != nil {
		return nil, err
	}
	buf := make([]byte, 1500)
	n, err := c.Read(buf)
	if err != nil {
		return nil, fmt.Errorf("asking %s: %w", server, err)
	}
	return buf[:n], nil
}

// lookupA asks server directly (not through /etc/resolv.conf) over
// network (udp or tcp) for the A record of name, as programs with a
// hard-wired resolver do.
func lookupA(ctx context.Context, network, server, name string) (netip.Addr, error) {
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	n, err := dnsmessage.NewName(name)
	if err != nil {
		return netip.Addr{}, err
	}
	q := dnsmessage.Message{
		Header:    dnsmessage.Header{ID: uint16(rand.Uint32()), RecursionDesired: true},
		Questions: []dnsmessage.Question{{Name: n, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}},
	}
	b, err := q.Pack()
	if err != nil {
		return netip.Addr{}, err
	}
	resp, err := exchange(ctx, network, server, b)
	if err != nil {
		return netip.Addr{}, err
	}
	var m dnsmessage.Message
	if err := m.Unpack(resp); err != nil {
		return netip.Addr{}, fmt.Errorf("bad answer from %s: %w", server, err)
	}
	if m.RCode != dnsmessage.RCodeSuccess {
		return netip.Addr{}, fmt.Errorf("%s: %s from %s", name, m.RCode, server)
	}
	for _, a := range m.Answers {
		if r, ok := a.Body.(*dnsmessage.AResource); ok {
			return netip.AddrFrom4(r.A), nil
		}
	}
	return netip.Addr{}, fmt.Errorf("%s: no address from %s", name, server)
}

// systemLookup resolves name through /etc/resolv.conf with Go's own
// resolver, or through server when it is set.
func systemLookup(ctx context.Context, server, name string) (netip.Addr, error) {
	r := &net.Resolver{PreferGo: true}
	if server != "" {
		r.Dial = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, server)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 2*callTimeout)
	defer cancel()
	addrs, err := r.LookupNetIP(ctx, "ip4", name)
	if err != nil {
		return netip.Addr{}, err
	}
	if len(addrs) == 0 {
		return netip.Addr{}, errors.New("no address for " + name)
	}
	return addrs[0].Unmap(), nil
}
