package netns

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/rgraph/rgraph/internal/netnspin"
)

// netPlan is the addressing of one sandbox's link to its upstream.
type netPlan struct {
	veth     string       // upstream end's name
	upstream netip.Prefix // upstream end's address, e.g. 10.98.3.1/30
	sandbox  netip.Prefix // sandbox end's address, e.g. 10.98.3.2/30
	routes   []netip.Prefix
}

// openUpstream returns a descriptor of the upstream network namespace:
// /run/netns/NAME, or the namespace of this process for "" and "host".
func openUpstream(name string) (int, error) {
	p := "/proc/self/ns/net"
	if name != "" && name != "host" {
		p = netnspin.Path(name)
	}
	return openNetNS(name, p)
}

// openNetNS opens the network namespace pinned at path, named name in
// errors. A pin whose namespace was deleted (the file left after its
// bind mount went, say by ip netns del while a run was being set up) is
// reported as gone, not as the "invalid argument" netlink would give.
func openNetNS(name, path string) (int, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		return -1, fmt.Errorf("upstream network namespace %q does not exist (no %s; create it or pass --upstream-netns)", name, path)
	}
	if err != nil {
		return -1, permErr(fmt.Errorf("opening upstream network namespace %q: %w", name, err))
	}
	if t, err := unix.IoctlRetInt(fd, unix.NS_GET_NSTYPE); err != nil || t != unix.CLONE_NEWNET {
		unix.Close(fd)
		return -1, fmt.Errorf("upstream network namespace %q is gone: %s is no longer a network namespace (was it deleted during the run?); bring it back or pass --upstream-netns", name, path)
	}
	return fd, nil
}

// handleIn returns a netlink handle whose socket lives in the network
// namespace fd.
func handleIn(fd int) (*netlink.Handle, error) {
	var h *netlink.Handle
	err := inNetNS(fd, func() error {
		var err error
		h, err = netlink.NewHandle(unix.NETLINK_ROUTE)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("opening netlink: %w", err)
	}
	return h, nil
}

// setupNetwork wires a sandbox namespace (sb, a handle inside it) to its
// upstream: loopback up, a veth pair, addresses, routes, and a dummy
// device that swallows the blackhole addresses.
func setupNetwork(sb *netlink.Handle, upFD int, p netPlan) error {
	lo, err := sb.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("finding loopback: %w", err)
	}
	if err := sb.LinkSetUp(lo); err != nil {
		return fmt.Errorf("setting loopback up: %w", err)
	}

	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: "eth0"},
		PeerName:      p.veth,
		PeerNamespace: netlink.NsFd(upFD),
	}
	if err := sb.LinkAdd(veth); err != nil {
		return permErr(fmt.Errorf("creating veth pair eth0/%s: %w", p.veth, err))
	}
	eth, err := sb.LinkByName("eth0")
	if err != nil {
		return fmt.Errorf("finding eth0: %w", err)
	}
	if err := sb.AddrAdd(eth, addr(p.sandbox)); err != nil {
		return fmt.Errorf("addressing eth0: %w", err)
	}
	if err := sb.LinkSetUp(eth); err != nil {
		return fmt.Errorf("setting eth0 up: %w", err)
	}

	up, err := handleIn(upFD)
	if err != nil {
		return err
	}
	defer up.Close()
	peer, err := up.LinkByName(p.veth)
	if err != nil {
		return fmt.Errorf("finding %s upstream: %w", p.veth, err)
	}
	if err := up.AddrAdd(peer, addr(p.upstream)); err != nil {
		return fmt.Errorf("addressing %s upstream: %w", p.veth, err)
	}
	if err := up.LinkSetUp(peer); err != nil {
		return fmt.Errorf("setting %s up upstream: %w", p.veth, err)
	}

	gw := net.IP(p.upstream.Addr().AsSlice())
	routes := p.routes
	if len(routes) == 0 {
		routes = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}
	}
	for _, r := range routes {
		if !r.Addr().Is4() {
			continue // the link to the upstream is IPv4 only
		}
		if err := sb.RouteAdd(&netlink.Route{LinkIndex: eth.Attrs().Index, Dst: ipnet(r), Gw: gw}); err != nil {
			return fmt.Errorf("routing %s to the upstream: %w", r, err)
		}
	}

	// The blackhole device is a veth whose peer stays down: what is routed
	// to it is dropped by the driver without a trace, so callers wait as
	// in a real outage. (A dummy device would do the same, but not every
	// kernel has one built in.) No ARP, or the neighbour lookup would fail
	// with EHOSTUNREACH after three seconds instead.
	bh := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "blackhole0"}, PeerName: "blackhole1"}
	if err := sb.LinkAdd(bh); err != nil {
		return fmt.Errorf("creating the blackhole device: %w", err)
	}
	if err := sb.LinkSetARPOff(bh); err != nil {
		return fmt.Errorf("turning ARP off on the blackhole device: %w", err)
	}
	if err := sb.LinkSetUp(bh); err != nil {
		return fmt.Errorf("setting the blackhole device up: %w", err)
	}
	idx := bh.Attrs().Index
	if err := sb.RouteAdd(&netlink.Route{LinkIndex: idx, Dst: ipnet(netip.PrefixFrom(BlackholeAddr, 32)), Scope: netlink.SCOPE_LINK}); err != nil {
		return fmt.Errorf("routing %s to the blackhole device: %w", BlackholeAddr, err)
	}
	// IPv6 may be disabled; the probe then rejects IPv6 instead.
	_ = sb.RouteAdd(&netlink.Route{LinkIndex: idx, Dst: ipnet(netip.PrefixFrom(BlackholeAddr6, 128))})
	return nil
}

// deleteVeth deletes the upstream end of a run's veth pair (which deletes
// both ends) and reports whether it existed.
func deleteVeth(upstream, name string, dryRun bool) (bool, error) {
	fd, err := openUpstream(upstream)
	if err != nil {
		return false, nil // the upstream namespace is gone, and the veth with it
	}
	defer unix.Close(fd)
	h, err := handleIn(fd)
	if err != nil {
		return false, err
	}
	defer h.Close()
	l, err := h.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return false, nil
		}
		return false, err
	}
	if dryRun {
		return true, nil
	}
	if err := h.LinkDel(l); err != nil {
		return true, fmt.Errorf("deleting %s: %w", name, err)
	}
	return true, nil
}

func addr(p netip.Prefix) *netlink.Addr {
	return &netlink.Addr{IPNet: ipnet(p)}
}

func ipnet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

// readHostResolvConf returns the host's resolv.conf, or a comment when
// there is none.
func readHostResolvConf() []byte {
	b, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		return []byte("# the host has no /etc/resolv.conf\n")
	}
	return b
}
