package ingest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/rgraph/rgraph/collector/decode"
	"github.com/rgraph/rgraph/graph"
)

// DefaultEdgeKind is the kind of an edge-list line without a third field.
const DefaultEdgeKind = graph.Declared

// maxLine bounds one edge-list line; longer lines are an error.
const maxLine = 1 << 20

// progressEvery is how many edge-list lines pass between progress calls.
const progressEvery = 1 << 20

// WriteEdges writes g's edges to w as an edge list, the format ingest
// reads back (see [FormatEdges]): from<TAB>to<TAB>kind per line, in the
// order of g's nodes and, for each, of its edges. Evidence, node types and
// recovery times are not part of the format.
func WriteEdges(w io.Writer, g *graph.Graph) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	for v := int32(0); v < int32(g.Len()); v++ {
		targets, kinds := g.Out(v)
		for i, t := range targets {
			bw.WriteString(g.Name(v))
			bw.WriteByte('\t')
			bw.WriteString(g.Name(t))
			bw.WriteByte('\t')
			bw.WriteString(kinds[i].String())
			bw.WriteByte('\n')
		}
	}
	return bw.Flush()
}

// parseEdges reads an edge list (from<TAB>to[<TAB>kind] per line, # comments
// and blank lines ignored) from r into b. name is used in errors, which
// are [*decode.Error]s naming the line and field. It returns the number of
// edges read. Names that are not UTF-8 or hold control characters are
// refused: the store, JSON and TSV would each render them differently.
//
// The reader works on a reused buffer and interns names without
// allocating for names it has seen, so a line costs two map lookups at
// most (one when it has the same source as the line before).
func parseEdges(ctx context.Context, r io.Reader, name string, b *builder, tick func(edges int64)) (int64, error) {
	d := decode.New(name, ErrInvalidInput)
	buf := make([]byte, 256<<10)
	start, end := 0, 0 // unread bytes are buf[start:end]
	line := 0
	var edges int64
	var lastFrom []byte // the previous line's source, copied
	lastFromID := int32(-1)
	eof := false
	for {
		nl := bytes.IndexByte(buf[start:end], '\n')
		if nl < 0 {
			if eof {
				if start == end {
					return edges, nil
				}
				nl = end - start // last line without a newline
			} else {
				// Move the partial line to the front and read more.
				if start > 0 {
					copy(buf, buf[start:end])
					end -= start
					start = 0
				}
				if end == len(buf) {
					if len(buf) >= maxLine {
						return edges, d.Errorf(line+1, 0, "", "line longer than %d bytes", maxLine)
					}
					buf = append(buf, make([]byte, len(buf))...)
				}
				n, err := r.Read(buf[end:])
				end += n
				if errors.Is(err, io.EOF) {
					eof = true
				} else if err != nil {
					return edges, fmt.Errorf("reading %s: %w", name, err)
				}
				continue
			}
		}
		text := buf[start : start+nl]
		start += nl
		if start < end {
			start++ // the newline
		}
		line++
		if line%progressEvery == 0 {
			if err := ctx.Err(); err != nil {
				return edges, err
			}
			if tick != nil {
				tick(edges)
			}
		}

		text = trimSpace(text)
		if blankOrComment(text) {
			continue
		}
		from, rest, twoFields := bytes.Cut(text, tab)
		if !twoFields {
			return edges, d.Errorf(line, 0, "", "want from<TAB>to[<TAB>kind], got one field (fields are separated by tabs)")
		}
		to, kindText, hasKind := bytes.Cut(rest, tab)
		from, to, kindText = trimSpace(from), trimSpace(to), trimSpace(kindText)
		switch {
		case len(from) == 0:
			return edges, d.Errorf(line, 0, "from", "empty")
		case len(to) == 0:
			return edges, d.Errorf(line, 0, "to", "empty")
		case bytes.IndexByte(kindText, '\t') >= 0:
			return edges, d.Errorf(line, 0, "", "too many fields (want from<TAB>to[<TAB>kind])")
		}
		kind := DefaultEdgeKind
		if hasKind && len(kindText) > 0 {
			k, ok := edgeKind(kindText)
			if !ok {
				_, err := graph.ParseKind(string(kindText))
				return edges, d.Errorf(line, 0, "kind", "%v", err)
			}
			kind = k
		}

		// A name is checked the first time it is seen.
		u := lastFromID
		if u < 0 || !bytes.Equal(from, lastFrom) {
			var added bool
			if u, added = b.internNew(from, nameSeen(from)); added {
				if err := decode.CheckName(b.names[u]); err != nil {
					return edges, d.Errorf(line, 0, "from", "%v", err)
				}
			}
			lastFrom = append(lastFrom[:0], from...)
			lastFromID = u
		}
		v, added := b.internNew(to, nameSeen(to))
		if added {
			if err := decode.CheckName(b.names[v]); err != nil {
				return edges, d.Errorf(line, 0, "to", "%v", err)
			}
		}
		b.addEdge(u, v, kind)
		edges++
	}
}

var tab = []byte{'\t'}

// blankOrComment reports whether a line holds only white space or starts,
// after white space, with '#'.
func blankOrComment(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r':
			continue
		case '#':
			return true
		}
		return false
	}
	return true
}

// edgeKind parses a lower-case kind name without allocating.
func edgeKind(b []byte) (graph.Kind, bool) {
	switch string(b) {
	case "hard":
		return graph.Hard, true
	case "soft":
		return graph.Soft, true
	case "declared":
		return graph.Declared, true
	case "alternative":
		return graph.Alternative, true
	case "observed":
		return graph.Observed, true
	}
	k, err := graph.ParseKind(string(b)) // other spellings ("Hard")
	return k, err == nil
}

// nameSeen classifies an edge-list node name: service names never contain
// ':' or '/' (the catalog forbids them), so a name that does is an
// endpoint ("10.0.0.1:53/udp", "dns:example.org", "unix:/run/x.sock").
func nameSeen(name []byte) uint8 {
	for _, c := range name {
		if c == ':' || c == '/' {
			return seenEndpoint
		}
	}
	return seenService
}

// trimSpace trims ASCII spaces and carriage returns; tabs separate fields
// and are kept.
func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\r') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
