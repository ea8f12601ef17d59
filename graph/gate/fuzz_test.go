package gate_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/rgraph/rgraph/collector/decode"
	"github.com/rgraph/rgraph/graph/gate"
)

// FuzzParseBaseline: parsing a baseline never panics, every error names
// the file, and a parsed baseline survives WriteBaseline.
func FuzzParseBaseline(f *testing.F) {
	f.Add([]byte("version: 1\naccepted:\n  - key: cycle:ca+1-b379a4f0\n    reason: jumpstart\n    expires: 2027-03-31\n"))
	f.Add([]byte(`{"version": 1, "accepted": [{"key": "edge:a->b", "reason": "ok"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		bl, err := gate.ParseBaseline("b.yaml", b)
		if err != nil {
			var de *decode.Error
			if !errors.As(err, &de) || de.File != "b.yaml" || !errors.Is(err, gate.ErrInvalidBaseline) {
				t.Fatalf("error %q (%T) is not a *decode.Error for b.yaml", err, err)
			}
			return
		}
		var out bytes.Buffer
		if err := gate.WriteBaseline(&out, bl.Entries); err != nil {
			t.Fatal(err)
		}
		again, err := gate.ParseBaseline("again.yaml", out.Bytes())
		if err != nil || len(again.Entries) != len(bl.Entries) {
			t.Fatalf("written baseline reads back as %v, %v:\n%s", again, err, out.Bytes())
		}
	})
}
