package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Production addresses of the fleet; catalog.yaml says the same.
const (
	dnsAddr          = "10.99.0.53:53"
	caAddr           = "10.99.0.10:8443"
	schedulerAddr    = "10.99.0.11:8080"
	coordAddr        = "10.99.0.12:2379"
	configAddr       = "10.99.0.20:8080"
	discoveryAddr    = "10.99.0.30:8080"
	discoveryDNSAddr = "10.99.0.30:53"
	pkgstoreAddr     = "10.99.0.40:8080"
	webAddr          = "10.99.0.80:8080"
	logdSocket       = "/run/rgraph-fleet/logd.sock"
	zone             = "fleet.internal."
	svcZone          = "svc.fleet.internal."
)

// Client timeouts are short so that a blackholed dependency fails fast.
const (
	dialTimeout = 300 * time.Millisecond
	callTimeout = 800 * time.Millisecond
)

// zoneRecords is the authoritative part of fleet.internal the dns role
// serves: NAME.fleet.internal for every service.
var zoneRecords = map[string]string{
	"dns":       "10.99.0.53",
	"ca":        "10.99.0.10",
	"scheduler": "10.99.0.11",
	"coord":     "10.99.0.12",
	"config":    "10.99.0.20",
	"discovery": "10.99.0.30",
	"pkgstore":  "10.99.0.40",
	"web":       "10.99.0.80",
}

// coordData is what the coordination store holds.
var coordData = map[string]string{
	"scheduler/jobs":     "ca=node-1,web=node-2",
	"config/data":        "pkgstore=mirror:enabled,web=theme:dark",
	"discovery/services": "config=10.99.0.20,pkgstore=10.99.0.40,web=10.99.0.80,ca=10.99.0.10",
}

// health is a service's state: recovering, healthy, or unhealthy with a
// reason.
type health struct {
	mu     sync.Mutex
	state  string
	reason error
}

func (h *health) set(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.reason = err
	h.state = "healthy"
	if err != nil {
		h.state = "unhealthy"
	}
}

// check returns nil when healthy, else why not.
func (h *health) check() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch h.state {
	case "healthy":
		return nil
	case "unhealthy":
		return fmt.Errorf("unhealthy: %w", h.reason)
	}
	return errors.New("recovering")
}

// dialer creates connections with the fleet's short timeout.
var dialer = &net.Dialer{Timeout: dialTimeout}

// dialFunc creates a connection; the production fleet's health checks
// pass one that dials from inside its network namespace.
type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// httpGet fetches url and returns the body of a 200 response.
func httpGet(ctx context.Context, url string) (string, error) {
	return httpGetWith(ctx, dialer.DialContext, url)
}

// httpGetWith is httpGet with connections made by dial. (http.Transport
// dials from a goroutine of its own, so a thread's namespace does not
// carry over to it.)
func httpGetWith(ctx context.Context, dial dialFunc, url string) (string, error) {
	client := &http.Client{
		Timeout:   callTimeout,
		Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s: %s", url, resp.Status, strings.TrimSpace(string(b)))
	}
	return string(b), nil
}

// lineCall sends one line to a line-protocol server and returns the
// answer line.
func lineCall(ctx context.Context, network, addr, line string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	c, err := dialer.DialContext(ctx, network, addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	if d, ok := ctx.Deadline(); ok {
		c.SetDeadline(d)
	}
	if _, err := fmt.Fprintf(c, "%s\n", line); err != nil {
		return "", err
	}
	resp, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("reading from %s: %w", addr, err)
	}
	return strings.TrimSpace(resp), nil
}

// coordGet reads a key from the coordination store.
func coordGet(ctx context.Context, key string) (string, error) {
	resp, err := lineCall(ctx, "tcp", coordAddr, "GET "+key)
	if err != nil {
		return "", fmt.Errorf("coord: %w", err)
	}
	v, ok := strings.CutPrefix(resp, "VALUE ")
	if !ok {
		return "", fmt.Errorf("coord: GET %s: %s", key, resp)
	}
	return v, nil
}

// logLine sends a line to the local log daemon and waits for its ack.
func logLine(ctx context.Context, socket, msg string) error {
	resp, err := lineCall(ctx, "unix", socket, "LOG "+msg)
	if err != nil {
		return fmt.Errorf("logd: %w", err)
	}
	if resp != "OK" {
		return fmt.Errorf("logd: %s", resp)
	}
	return nil
}

// readCache reads a file of the service's local cache.
func readCache(state, name string) (string, error) {
	b, err := os.ReadFile(filepath.Join(state, name))
	if err != nil {
		return "", fmt.Errorf("no local cache: %w", err)
	}
	return string(b), nil
}

// parsePairs parses "a=b,c=d".
func parsePairs(s string) map[string]string {
	m := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}
