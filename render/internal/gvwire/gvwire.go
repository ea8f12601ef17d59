// Package gvwire is the protocol between render and the Graphviz worker
// process (render/graphviz, run as cmd/rgraph-graphviz): a request is an
// operation byte and the DOT source, a reply a status byte and the drawing
// or an error message, both framed by a big-endian uint32 length. The
// worker reads requests on its standard input and writes replies on file
// descriptor 3, leaving standard output and standard error to whatever
// Graphviz prints.
package gvwire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ErrGraphviz is wrapped by errors about DOT that Graphviz cannot parse,
// lay out or render; render exports it as render.ErrGraphviz.
var ErrGraphviz = errors.New("render: graphviz")

// Requests.
const (
	OpSVG byte = 's'
	OpPNG byte = 'p'
)

// Replies.
const (
	ReplyOK       byte = 0
	ReplyGraphviz byte = 1 // the message of an error wrapping ErrGraphviz, without its prefix
	ReplyError    byte = 2
)

// MaxFrame is the largest body a frame may carry.
const MaxFrame = 1 << 30

// Op is the request byte of a drawing format ("svg" or "png"), false for
// any other format.
func Op(format string) (byte, bool) {
	switch format {
	case "svg":
		return OpSVG, true
	case "png":
		return OpPNG, true
	}
	return 0, false
}

// Format is the drawing format of request op, "" for an unknown one.
func Format(op byte) string {
	switch op {
	case OpSVG:
		return "svg"
	case OpPNG:
		return "png"
	}
	return ""
}

// WriteFrame writes one frame of the given kind.
func WriteFrame(w io.Writer, kind byte, body []byte) error {
	if len(body) > MaxFrame {
		return fmt.Errorf("render: %d bytes are too many for the graphviz worker", len(body))
	}
	var hdr [5]byte
	hdr[0] = kind
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(body)))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := w.Write(body)
	return err
}

// ReadFrame reads one frame; it returns io.EOF only when r ends before a
// frame begins.
func ReadFrame(r io.Reader) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > MaxFrame {
		return 0, nil, fmt.Errorf("frame of %d bytes", n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, nil, io.ErrUnexpectedEOF
	}
	return hdr[0], body, nil
}
