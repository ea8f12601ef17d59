package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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

// TestWriteEdges checks that an edge list written by WriteEdges reads
// back as the same graph, and that its lines are the format's.
func TestWriteEdges(t *testing.T) {
	in := "web\tconfig\thard\nweb\tdns:x.example\tsoft\nconfig\tcoord\tdeclared\ncoord\tca\talternative\nca\tcoord\tobserved\n"
	snap, err := parseData(t, Input{Name: "in.tsv", Data: []byte(in), Format: FormatEdges})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := WriteEdges(&out, snap.Graph); err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		if f := strings.Split(l, "\t"); len(f) != 3 {
			t.Errorf("line %q has %d fields, want from, to and kind", l, len(f))
		}
	}
	back, err := parseData(t, Input{Name: "out.tsv", Data: out.Bytes(), Format: FormatEdges})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(edgeList(snap.Graph), edgeList(back.Graph)); d != "" {
		t.Errorf("edges after a round trip (-want +got):\n%s", d)
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
		{"NUL in from", "a\tb\na\x00\tb\n", `e.tsv:2: from: "a\x00" contains a NUL byte`},
		{"NUL in to, from seen", "a\tb\na\tb\x00\n", `e.tsv:2: to: "b\x00" contains a NUL byte`},
		{"invalid UTF-8", "a\tb\xc3\n", `e.tsv:1: to: "b\xc3" is not UTF-8 text (byte 0xc3)`},
		{"escape sequence", "\x1b[2Ja\tb\n", `e.tsv:1: from: "\x1b[2Ja" contains the control character U+001B`},
		{"carriage return inside", "a\rb\tc\n", `e.tsv:1: from: "a\rb" contains the control character U+000D`},
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

// BenchmarkParseEdges reads a 500,000-line edge list over 100,000 names:
// the edge-list reader alone, without the store.
func BenchmarkParseEdges(b *testing.B) {
	var in strings.Builder
	const n = 100_000
	for i := range 5 * n {
		fmt.Fprintf(&in, "svc-%06d\tsvc-%06d\thard\n", i/5, (i*7+1)%n)
	}
	data := []byte(in.String())
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := parseEdges(context.Background(), bytes.NewReader(data), "x", newBuilder(), nil); err != nil {
			b.Fatal(err)
		}
	}
}
