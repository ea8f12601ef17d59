package graphviz

import (
	"bytes"
	"strings"
	"testing"

	"github.com/rgraph/rgraph/render/internal/gvwire"
)

func TestServe(t *testing.T) {
	var in, out bytes.Buffer
	gvwire.WriteFrame(&in, 'x', []byte("digraph { a }"))
	gvwire.WriteFrame(&in, gvwire.OpSVG, []byte("digraph { a -> "))
	if err := serve(&in, &out); err != nil {
		t.Fatalf("serve() = %v at the end of its input, want nil", err)
	}
	for _, want := range []struct {
		kind byte
		msg  string
	}{{gvwire.ReplyError, `unknown graphviz request 'x'`}, {gvwire.ReplyGraphviz, "parsing DOT"}} {
		kind, body, err := gvwire.ReadFrame(&out)
		if err != nil || kind != want.kind || !strings.Contains(string(body), want.msg) {
			t.Errorf("reply = %d %q (%v), want %d containing %q", kind, body, err, want.kind, want.msg)
		}
	}
	in.Reset()
	gvwire.WriteFrame(&in, gvwire.OpSVG, []byte("digraph { a }"))
	in.Truncate(in.Len() - 1)
	if err := serve(&in, &out); err == nil {
		t.Error("serve() of a truncated request = nil, want an error")
	}
}
