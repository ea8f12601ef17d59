package sandbox

import (
	"net/netip"

	"gopkg.in/yaml.v3"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/collector/decode"
)

// The scenario's own field kinds, on top of those [decode.Decoder] has.

// prefixes returns a handler that appends a list of addresses or CIDRs.
func prefixes(d *decode.Decoder, dst *[]netip.Prefix) decode.Field {
	return func(n *yaml.Node, path string) error {
		return d.List(n, path, func(c *yaml.Node, p string) error {
			v, err := d.Scalar(c, p)
			if err != nil {
				return err
			}
			pfx, err := collector.ParsePrefix(v)
			if err != nil {
				return d.NodeErrorf(c, p, "%v", err)
			}
			*dst = append(*dst, pfx)
			return nil
		})
	}
}

// addrs returns a handler that appends a list of IP addresses.
func addrs(d *decode.Decoder, dst *[]netip.Addr) decode.Field {
	return func(n *yaml.Node, path string) error {
		return d.List(n, path, func(c *yaml.Node, p string) error {
			v, err := d.Scalar(c, p)
			if err != nil {
				return err
			}
			a, err := netip.ParseAddr(v)
			if err != nil {
				return d.NodeErrorf(c, p, "want an IP address, got %q", v)
			}
			*dst = append(*dst, a.Unmap())
			return nil
		})
	}
}

// nodes returns a handler that collects the elements of a list, for
// decoding once the fields they depend on are known; null is no elements.
func nodes(d *decode.Decoder, dst *[]*yaml.Node) decode.Field {
	return func(n *yaml.Node, path string) error {
		return d.List(n, path, func(c *yaml.Node, _ string) error {
			*dst = append(*dst, c)
			return nil
		})
	}
}
