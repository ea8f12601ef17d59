package main

import (
	"strings"
	"testing"
)

// summarize keeps the reasons of top-level skipped tests only: not of
// subtests, and not of packages without tests.
func TestSummarize(t *testing.T) {
	in := strings.Join([]string{
		`{"Action":"skip","Package":"m/nofiles"}`,
		`{"Action":"run","Package":"m/p","Test":"TestPriv"}`,
		`{"Action":"output","Package":"m/p","Test":"TestPriv","Output":"=== RUN   TestPriv\n"}`,
		`{"Action":"output","Package":"m/p","Test":"TestPriv","Output":"    priv.go:12: needs root (uid 1000)\n"}`,
		`{"Action":"output","Package":"m/p","Test":"TestPriv","Output":"--- SKIP: TestPriv (0.00s)\n"}`,
		`{"Action":"skip","Package":"m/p","Test":"TestPriv"}`,
		`{"Action":"output","Package":"m/p","Test":"TestA/sub","Output":"    a.go:3: later\n"}`,
		`{"Action":"skip","Package":"m/p","Test":"TestA/sub"}`,
		`{"Action":"output","Package":"m/p","Test":"TestB","Output":"    b.go:9: want 1, got 2\n"}`,
		`{"Action":"fail","Package":"m/p","Test":"TestB"}`,
	}, "\n")
	skips := summarize(strings.NewReader(in))
	if len(skips) != 1 || skips["m/p TestPriv"] != "needs root (uid 1000)" {
		t.Errorf("skips = %q, want TestPriv's reason only", skips)
	}
}
