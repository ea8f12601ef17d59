// Package dnsstubtest is a fake upstream resolver for tests of the DNS
// stub and of what runs it: it answers A questions for names in one zone
// with one address, over UDP and TCP.
package dnsstubtest

import (
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"strings"

	"golang.org/x/net/dns/dnsmessage"
)

// Answer answers query: an A question for a name under zone ("example.")
// gets addr, another question for such a name no answer (NODATA), and a
// question for a name outside the zone NXDOMAIN. Names compare
// case-insensitively.
// It returns nil for messages that are not a query with one question.
func Answer(query []byte, zone string, addr netip.Addr) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil || h.Response {
		return nil
	}
	qs, err := p.AllQuestions()
	if err != nil || len(qs) != 1 {
		return nil
	}
	q := qs[0]
	name := strings.ToLower(q.Name.String())
	inZone := name == zone || strings.HasSuffix(name, "."+zone)
	known := inZone && q.Type == dnsmessage.TypeA && addr.Is4()
	rh := dnsmessage.Header{ID: h.ID, Response: true, RecursionDesired: h.RecursionDesired, RecursionAvailable: true}
	if !inZone {
		rh.RCode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, rh)
	b.StartQuestions()
	b.Question(q)
	if known {
		b.StartAnswers()
		b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60},
			dnsmessage.AResource{A: addr.As4()})
	}
	out, err := b.Finish()
	if err != nil {
		return nil
	}
	return out
}

// Serve answers queries with [Answer] on pc (UDP) and l (TCP, one or more
// queries per connection) until they are closed. Either may be nil.
func Serve(pc net.PacketConn, l net.Listener, zone string, addr netip.Addr) {
	if pc != nil {
		go func() {
			buf := make([]byte, 65535)
			for {
				n, from, err := pc.ReadFrom(buf)
				if err != nil {
					return
				}
				if resp := Answer(buf[:n], zone, addr); resp != nil {
					pc.WriteTo(resp, from)
				}
			}
		}()
	}
	if l != nil {
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				go serveConn(c, zone, addr)
			}
		}()
	}
}

func serveConn(c net.Conn, zone string, addr netip.Addr) {
	defer c.Close()
	for {
		var l [2]byte
		if _, err := io.ReadFull(c, l[:]); err != nil {
			return
		}
		msg := make([]byte, binary.BigEndian.Uint16(l[:]))
		if _, err := io.ReadFull(c, msg); err != nil {
			return
		}
		resp := Answer(msg, zone, addr)
		if resp == nil {
			return
		}
		out := binary.BigEndian.AppendUint16(nil, uint16(len(resp)))
		if _, err := c.Write(append(out, resp...)); err != nil {
			return
		}
	}
}
