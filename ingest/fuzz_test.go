package ingest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"

	"github.com/rgraph/rgraph/collector/decode"
)

// FuzzParseEdges: reading an edge list never panics, every error names
// the file and matches ErrInvalidInput, and every name read is one the
// edge list's rules allow.
func FuzzParseEdges(f *testing.F) {
	b, err := os.ReadFile("testdata/fleet/legacy.tsv")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte("a\tb\thard\nb\tc\n# comment\n\nc\ta\tsoft\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		bld := newBuilder()
		_, err := parseEdges(context.Background(), bytes.NewReader(in), "e.tsv", bld, nil)
		if err != nil {
			var de *decode.Error
			if !errors.As(err, &de) || de.File != "e.tsv" || de.Line == 0 || !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("error %q (%T) is not a *decode.Error for e.tsv with a line", err, err)
			}
			return
		}
		for _, name := range bld.names {
			if err := decode.CheckName(name); err != nil || name == "" {
				t.Fatalf("name %q was read: %v", name, err)
			}
		}
		if _, err := bld.build(); err != nil {
			t.Fatalf("building the graph of a valid edge list: %v", err)
		}
	})
}
