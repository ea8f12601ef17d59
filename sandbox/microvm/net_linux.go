package microvm

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/rgraph/rgraph/internal/netnspin"
	"github.com/rgraph/rgraph/internal/nsthread"
)

// Interface names inside a run's namespace.
const (
	tapName = "tap0"
	upName  = "eth0"
)

// runNS is a run's namespaces on the host: a network namespace whose
// only links are the tap to the VM and a veth pair to the upstream, and
// a mount namespace holding the share (a tmpfs with the shared paths
// bound read-only into it). qemu is started from the thread, so it lives
// in both, and both end with it.
type runNS struct {
	t    *nsthread.Thread
	nsFD int
}

// startRunNS creates the namespaces on a thread of their own and builds
// the share at view.
func startRunNS(view string, binds []bind) (*runNS, error) {
	r := &runNS{nsFD: -1}
	t, err := nsthread.Start(func() error {
		if err := unix.Unshare(unix.CLONE_NEWNET | unix.CLONE_NEWNS); err != nil {
			return permErr(fmt.Errorf("creating namespaces: %w", err))
		}
		if err := unix.Mount("", "/", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("making the run's mounts private: %w", err)
		}
		// The copy of /run/netns would keep other runs' namespaces alive.
		if err := unix.Unmount(netnspin.Dir, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("detaching %s: %w", netnspin.Dir, err)
		}
		if err := buildShare(view, binds); err != nil {
			return err
		}
		fd, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("opening the run's network namespace: %w", err)
		}
		r.nsFD = fd
		return nil
	})
	if err != nil {
		return nil, err
	}
	r.t = t
	return r, nil
}

// buildShare mounts a tmpfs at view and binds each source read-only at
// its place in it.
func buildShare(view string, binds []bind) error {
	if err := os.MkdirAll(view, 0o755); err != nil {
		return err
	}
	if err := unix.Mount("rgraph-share", view, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755,size=1m"); err != nil {
		return fmt.Errorf("mounting the share: %w", err)
	}
	for _, b := range binds {
		dst := filepath.Join(view, b.Rel)
		st, err := os.Stat(b.Source)
		if err != nil {
			return err
		}
		if st.IsDir() {
			err = os.MkdirAll(dst, 0o755)
		} else if err = os.MkdirAll(filepath.Dir(dst), 0o755); err == nil {
			err = os.WriteFile(dst, nil, 0o644)
		}
		if err != nil {
			return err
		}
		if err := unix.Mount(b.Source, dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("sharing %s: %w", b.Source, err)
		}
		if err := unix.Mount("", dst, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV, ""); err != nil {
			return fmt.Errorf("sharing %s read-only: %w", b.Source, err)
		}
	}
	return unix.Mount("", view, "", unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV, "mode=0755,size=1m")
}

func (r *runNS) close() {
	if r.t != nil {
		r.t.Stop()
	}
	if r.nsFD >= 0 {
		unix.Close(r.nsFD)
		r.nsFD = -1
	}
}

// netPlan is a run's network.
type netPlan struct {
	id       string
	addrs    runAddrs
	upstream string // upstream namespace name, "" or "host" for rgraph's own
	routes   []netip.Prefix
	filter   filterSpec
}

// wire builds the run's network on its thread: loopback, the veth pair
// to the upstream with a route back to the VM's link there, the tap (its
// descriptor is returned, for qemu), routes to the upstream, forwarding,
// and the filter.
func (r *runNS) wire(p netPlan) (tap *os.File, err error) {
	// Opened here: the run's thread no longer sees the pins of
	// /run/netns.
	upFD, err := openUpstream(p.upstream)
	if err != nil {
		return nil, err
	}
	defer unix.Close(upFD)
	err = r.t.Do(func() error {
		var err error
		if err := wireOuter(upFD, p); err != nil {
			return err
		}
		if tap, err = openTap(tapName); err != nil {
			return err
		}
		if err := wireTap(p); err != nil {
			return err
		}
		if err := os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("1"), 0); err != nil {
			return fmt.Errorf("turning forwarding on: %w", err)
		}
		return loadFilter(nftRuleset(p.filter))
	})
	if err != nil && tap != nil {
		tap.Close()
		tap = nil
	}
	return tap, err
}

func wireOuter(upFD int, p netPlan) error {
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("finding loopback: %w", err)
	}
	if err := netlink.LinkSetUp(lo); err != nil {
		return err
	}
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: upName}, PeerName: vethName(p.id), PeerNamespace: netlink.NsFd(upFD)}
	if err := netlink.LinkAdd(veth); err != nil {
		return permErr(fmt.Errorf("creating veth pair %s/%s: %w", upName, vethName(p.id), err))
	}
	eth, err := netlink.LinkByName(upName)
	if err != nil {
		return err
	}
	if err := netlink.AddrAdd(eth, &netlink.Addr{IPNet: ipnet(p.addrs.outer)}); err != nil {
		return fmt.Errorf("addressing %s: %w", upName, err)
	}
	if err := netlink.LinkSetUp(eth); err != nil {
		return err
	}
	up, err := netlink.NewHandleAt(netnsHandle(upFD))
	if err != nil {
		return fmt.Errorf("opening netlink upstream: %w", err)
	}
	defer up.Close()
	peer, err := up.LinkByName(vethName(p.id))
	if err != nil {
		return fmt.Errorf("finding %s upstream: %w", vethName(p.id), err)
	}
	if err := up.AddrAdd(peer, &netlink.Addr{IPNet: ipnet(p.addrs.upstream)}); err != nil {
		return fmt.Errorf("addressing %s upstream: %w", vethName(p.id), err)
	}
	if err := up.LinkSetUp(peer); err != nil {
		return err
	}
	// The upstream answers the VM through the run's namespace.
	if err := up.RouteAdd(&netlink.Route{LinkIndex: peer.Attrs().Index, Dst: ipnet(p.addrs.vmNet), Gw: p.addrs.outer.Addr().AsSlice()}); err != nil {
		return fmt.Errorf("routing %s upstream: %w", p.addrs.vmNet, err)
	}
	routes := p.routes
	if len(routes) == 0 {
		routes = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}
	}
	for _, rt := range routes {
		if !rt.Addr().Is4() {
			continue // the link to the upstream is IPv4 only
		}
		if err := netlink.RouteAdd(&netlink.Route{LinkIndex: eth.Attrs().Index, Dst: ipnet(rt), Gw: p.addrs.upstream.Addr().AsSlice()}); err != nil {
			return fmt.Errorf("routing %s to the upstream: %w", rt, err)
		}
	}
	return nil
}

// netnsHandle names the namespace of descriptor fd for netlink.
func netnsHandle(fd int) netns.NsHandle { return netns.NsHandle(fd) }

// openTap creates a tap device in the calling thread's namespace; it
// lives as long as a descriptor of it is open (qemu's).
func openTap(name string) (*os.File, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("opening /dev/net/tun: %w", err)
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	ifr.SetUint16(unix.IFF_TAP | unix.IFF_NO_PI | unix.IFF_VNET_HDR)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		return nil, permErr(fmt.Errorf("creating tap %s: %w", name, err))
	}
	return os.NewFile(uintptr(fd), "/dev/net/tun"), nil
}

func wireTap(p netPlan) error {
	tap, err := netlink.LinkByName(tapName)
	if err != nil {
		return err
	}
	if err := netlink.AddrAdd(tap, &netlink.Addr{IPNet: ipnet(p.addrs.tap)}); err != nil {
		return fmt.Errorf("addressing %s: %w", tapName, err)
	}
	return netlink.LinkSetUp(tap)
}

// loadFilter loads an nftables ruleset with nft, in the calling thread's
// network namespace.
func loadFilter(ruleset string) error {
	nft, err := exec.LookPath("nft")
	if err != nil {
		return fmt.Errorf("the host's filter needs nft (apt-get install nftables): %w", err)
	}
	cmd := exec.Command(nft, "-f", "-")
	cmd.Stdin = strings.NewReader(ruleset)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("loading the host's filter: %v: %s", err, strings.TrimSpace(out.String()))
	}
	return nil
}

// listen opens a TCP listener in the run's network namespace.
func (r *runNS) listen(addr netip.AddrPort) (net.Listener, error) {
	var l net.Listener
	err := r.t.Do(func() error {
		var err error
		l, err = net.Listen("tcp", addr.String())
		return err
	})
	return l, err
}

// openUpstream returns a descriptor of the upstream network namespace:
// /run/netns/NAME, or rgraph's own for "" and "host".
func openUpstream(name string) (int, error) {
	p := "/proc/self/ns/net"
	if name != "" && name != "host" {
		p = netnspin.Path(name)
	}
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		return -1, fmt.Errorf("upstream network namespace %q does not exist (no %s; create it or pass --upstream-netns)", name, p)
	}
	if err != nil {
		return -1, permErr(fmt.Errorf("opening upstream network namespace %q: %w", name, err))
	}
	return fd, nil
}

// deleteVeth deletes the upstream end of a run's veth pair and reports
// whether it existed.
func deleteVeth(upstream, name string, dryRun bool) (bool, error) {
	fd, err := openUpstream(upstream)
	if err != nil {
		return false, nil // the upstream is gone, and the veth with it
	}
	defer unix.Close(fd)
	h, err := netlink.NewHandleAt(netnsHandle(fd))
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

func ipnet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}
