package dnsstub

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"

	"github.com/rgraph/rgraph/collector"
)

// ErrNoUpstream is returned by [Forwarder.Exchange] when there is nowhere
// to send a query: the caller addressed the stub itself and no Upstream
// is set.
var ErrNoUpstream = errors.New("dnsstub: no upstream resolver")

// Forwarder sends queries to real resolvers. The zero value sends each
// query to the resolver the caller addressed, with a [net.Dialer].
type Forwarder struct {
	// Dial creates the connection to a resolver; the sandbox passes one
	// that creates its sockets inside the run's network namespace.
	// Default: (&net.Dialer{}).DialContext.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
	// Upstream, when set, receives every query instead of the resolver
	// the caller addressed.
	Upstream netip.AddrPort
}

// Exchange sends query over proto (UDP or TCP) to resolver (or Upstream)
// and returns the response. ctx bounds the exchange.
func (f Forwarder) Exchange(ctx context.Context, proto collector.Protocol, resolver netip.AddrPort, query []byte) ([]byte, error) {
	to := resolver
	if f.Upstream.IsValid() {
		to = f.Upstream
	}
	if !to.IsValid() {
		return nil, ErrNoUpstream
	}
	dial := f.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	network := "udp"
	if proto == collector.TCP {
		network = "tcp"
	}
	c, err := dial(ctx, network, to.String())
	if err != nil {
		return nil, fmt.Errorf("forwarding to %v: %w", to, err)
	}
	defer c.Close()
	if d, ok := ctx.Deadline(); ok {
		c.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if network == "tcp" {
		return exchangeTCP(c, query)
	}
	return exchangeUDP(c, query)
}

func exchangeUDP(c net.Conn, query []byte) ([]byte, error) {
	if _, err := c.Write(query); err != nil {
		return nil, fmt.Errorf("sending query: %w", err)
	}
	buf := make([]byte, 65535)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return nil, fmt.Errorf("reading response: %w", err)
		}
		// Ignore stray datagrams whose ID does not match.
		if n >= 2 && len(query) >= 2 && buf[0] == query[0] && buf[1] == query[1] {
			return buf[:n], nil
		}
	}
}

func exchangeTCP(c net.Conn, query []byte) ([]byte, error) {
	if err := writeTCP(c, query); err != nil {
		return nil, fmt.Errorf("sending query: %w", err)
	}
	resp, err := readTCP(c)
	if err != nil {
		return nil, fmt.Errorf("reading response: %w", err)
	}
	return resp, nil
}

// writeTCP writes one length-prefixed DNS message.
func writeTCP(w io.Writer, msg []byte) error {
	if len(msg) > 65535 {
		return errors.New("message longer than 65535 bytes")
	}
	b := make([]byte, 2+len(msg))
	binary.BigEndian.PutUint16(b, uint16(len(msg)))
	copy(b[2:], msg)
	_, err := w.Write(b)
	return err
}

// readTCP reads one length-prefixed DNS message.
func readTCP(r io.Reader) ([]byte, error) {
	var l [2]byte
	if _, err := io.ReadFull(r, l[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	return b, nil
}
