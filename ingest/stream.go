package ingest

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// A release's large sections (names, offsets, targets, kinds, summary)
// are decoded as they are read, chunk by chunk, so that no copy of a whole
// section is ever in memory beside what it decodes to: at a million
// services that is tens of megabytes a graph less to allocate and touch.

// sectionSource opens section sec of a snapshot: a reader of its bytes,
// which checks them when it reaches their end (see sectionReader), and
// their size.
type sectionSource func(sec byte) (r io.Reader, size int64, err error)

// bytesSource serves sections held in memory.
func bytesSource(secs map[byte][]byte) sectionSource {
	return func(sec byte) (io.Reader, int64, error) {
		return bytes.NewReader(secs[sec]), int64(len(secs[sec])), nil
	}
}

// readAll reads section sec whole.
func (src sectionSource) readAll(sec byte) ([]byte, error) {
	r, size, err := src(sec)
	if err != nil {
		return nil, err
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, corruptRead(sec, err)
	}
	if err := atEnd(r); err != nil {
		return nil, corruptRead(sec, err)
	}
	return b, nil
}

// atEnd reads past the last byte of r, which makes a section reader check
// the section, and fails if r has more.
func atEnd(r io.Reader) error {
	var one [1]byte
	n, err := io.ReadFull(r, one[:])
	switch {
	case n > 0:
		return errors.New("longer than its manifest says")
	case errors.Is(err, io.EOF):
		return nil
	}
	return err
}

// corruptRead is the error of a section that ended early or failed its
// checks.
func corruptRead(sec byte, err error) error {
	if errors.Is(err, ErrCorrupt) {
		return err
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = errors.New("shorter than its manifest says")
	}
	return fmt.Errorf("%w: section %q: %w", ErrCorrupt, sec, err)
}

// stream decodes one section as it reads it, turning any overrun into an
// error, like [decoder].
type stream struct {
	sec  byte
	r    *bufio.Reader
	left int64 // bytes of the section not yet decoded
	err  error
}

// newStream starts decoding section sec of src through br, which it
// resets.
func newStream(src sectionSource, sec byte, br *bufio.Reader) *stream {
	r, size, err := src(sec)
	if err != nil {
		return &stream{sec: sec, err: err}
	}
	br.Reset(r)
	return &stream{sec: sec, r: br, left: size}
}

func (s *stream) fail(format string, args ...any) {
	if s.err == nil {
		s.err = fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
	}
}

// readErr records an error of the underlying reader.
func (s *stream) readErr(err error) {
	if s.err == nil {
		s.err = corruptRead(s.sec, err)
	}
}

func (s *stream) uvarint() uint64 {
	if s.err != nil {
		return 0
	}
	var v uint64
	for shift := 0; shift < 64; shift += 7 {
		if s.left == 0 {
			s.fail("bad varint")
			return 0
		}
		b, err := s.r.ReadByte()
		if err != nil {
			s.readErr(err)
			return 0
		}
		s.left--
		v |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return v
		}
	}
	s.fail("bad varint")
	return 0
}

// count reads a count of items of at least min bytes each, bounded by
// what is left, so corrupt data cannot ask for huge allocations.
func (s *stream) count(min int) int {
	v := s.uvarint()
	if v > uint64(s.left/int64(max(min, 1))) {
		s.fail("count %d exceeds the data", v)
		return 0
	}
	return int(v)
}

// pieces hands the next n bytes to use in the pieces the reader buffers.
func (s *stream) pieces(n int64, use func([]byte)) {
	if s.err != nil {
		return
	}
	if n < 0 || n > s.left {
		s.fail("length %d exceeds the data", n)
		return
	}
	for n > 0 {
		if s.r.Buffered() == 0 {
			if _, err := s.r.Peek(1); err != nil {
				s.readErr(err)
				return
			}
		}
		b, _ := s.r.Peek(int(min(n, int64(s.r.Buffered()))))
		use(b)
		s.r.Discard(len(b))
		n -= int64(len(b))
		s.left -= int64(len(b))
	}
}

// int32s reads n little-endian int32s.
func (s *stream) int32s(n int) []int32 {
	if int64(n)*4 > s.left {
		s.fail("%d integers exceed the data", n)
		return nil
	}
	out := make([]int32, n)
	i := 0
	var part [4]byte
	np := 0
	s.pieces(int64(n)*4, func(b []byte) {
		for np > 0 && len(b) > 0 { // an integer split between pieces
			part[np], b, np = b[0], b[1:], np+1
			if np == 4 {
				out[i], np = int32(binary.LittleEndian.Uint32(part[:])), 0
				i++
			}
		}
		for len(b) >= 4 {
			out[i] = int32(binary.LittleEndian.Uint32(b))
			b = b[4:]
			i++
		}
		np = copy(part[:], b)
	})
	if s.err != nil {
		return nil
	}
	return out
}

// string reads n bytes as one string, copied once.
func (s *stream) string(n int) string {
	var b strings.Builder
	if int64(n) <= s.left {
		b.Grow(n)
	}
	s.pieces(int64(n), func(p []byte) { b.Write(p) })
	return b.String()
}

// done checks that the section was decoded whole, and lets its reader
// check it.
func (s *stream) done(what string) error {
	if s.err == nil && s.left != 0 {
		s.fail("%d trailing bytes in %s", s.left, what)
	}
	if s.err == nil {
		if err := atEnd(s.r); err != nil {
			s.readErr(err)
		}
	}
	if s.err != nil {
		return fmt.Errorf("decoding %s: %w", what, s.err)
	}
	return nil
}
