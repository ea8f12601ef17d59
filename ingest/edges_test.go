package ingest

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseEdges(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"default kind", "a\tb\n", []string{"a -> b declared"}},
		{"kinds", "a\tb\thard\na\tc\tsoft\na\td\tdeclared\na\te\talternative\na\tf\tobserved\n",
			[]string{"a -> b hard", "a -> c soft", "a -> d declared", "a -> e alternative", "a -> f observed"}},
		{"kind spelling", "a\tb\tHARD\n", []string{"a -> b hard"}},
		{"comments and blank lines", "# header\n\n   \n\t\n  # indented\na\tb\n", []string{"a -> b declared"}},
		{"no final newline", "a\tb\nb\tc", []string{"a -> b declared", "b -> c declared"}},
		{"crlf and spaces", "a \t b \t soft \r\n", []string{"a -> b soft"}},
		{"trailing tab is default kind", "a\tb\t\n", []string{"a -> b declared"}},
		{"duplicates keep precedence", "a\tb\tobserved\na\tb\thard\na\tb\tsoft\n", []string{"a -> b hard"}},
		{"self loop", "a\ta\thard\n", []string{"a -> a hard"}},
		{"endpoints", "a\tdns:x.example\n", []string{"a -> dns:x.example declared"}},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap, err := parseData(t, Input{Name: "e.tsv", Data: []byte(tt.in), Format: FormatEdges})
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, edgeList(snap.Graph)); d != "" {
				t.Errorf("edges of %q (-want +got):\n%s", tt.in, d)
			}
		})
	}
}

func TestParseEdgesErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"unknown kind", "a\tb\n# c\nc\td\thrad\n", `e.tsv:3: kind: unknown edge kind "hrad"`},
		{"one field", "a\tb\nab\n", "e.tsv:2: want from<TAB>to[<TAB>kind], got one field (fields are separated by tabs)"},
		{"spaces not tabs", "a b\n", "e.tsv:1: want from<TAB>to[<TAB>kind], got one field"},
		{"too many fields", "a\tb\thard\tx\n", "e.tsv:1: too many fields"},
		{"empty from", "\tb\n", "e.tsv:1: from: empty"},
		{"empty to", "a\t \thard\n", "e.tsv:1: to: empty"},
		{"line too long", "a\t" + strings.Repeat("b", maxLine+10) + "\n", "e.tsv:1: line longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseData(t, Input{Name: "e.tsv", Data: []byte(tt.in), Format: FormatEdges})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse error = %v, want it to contain %q", err, tt.want)
			}
			if !errors.Is(err, ErrInvalidInput) {
				t.Errorf("error %v does not wrap ErrInvalidInput", err)
			}
		})
	}
}

// oneByteReader returns one byte per Read, to exercise buffer refills.
type oneByteReader struct{ r io.Reader }

func (o oneByteReader) Read(p []byte) (int, error) { return o.r.Read(p[:1]) }

func TestParseEdgesSmallReads(t *testing.T) {
	in := "# x\na\tb\thard\nb\tc\n\nc\ta\tsoft"
	b := newBuilder()
	n, err := parseEdges(context.Background(), oneByteReader{strings.NewReader(in)}, "x", b, nil)
	if err != nil || n != 3 {
		t.Fatalf("parseEdges = %d, %v; want 3 edges", n, err)
	}
	g, err := b.build()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a -> b hard", "b -> c declared", "c -> a soft"}
	if d := cmp.Diff(want, edgeList(g)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestParseEdgesCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	in := strings.Repeat("a\tb\n", progressEvery+1)
	_, err := parseEdges(ctx, strings.NewReader(in), "x", newBuilder(), nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("parseEdges on a cancelled context = %v, want context.Canceled", err)
	}
}
