package decode

import (
	"bytes"
	"fmt"
	"unicode/utf8"
)

// Decoder decodes the documents of one file; every error it returns is an
// [*Error] naming File and matching Kind.
type Decoder struct {
	// File names the input in errors.
	File string
	// Kind is the sentinel errors match (see [Error.Kind]); may be nil.
	Kind error
}

// New returns a decoder for the named file whose errors match kind.
func New(file string, kind error) *Decoder { return &Decoder{File: file, Kind: kind} }

// Errorf returns an error at line and column col (0 when unknown) about
// field.
func (d *Decoder) Errorf(line, col int, field, format string, args ...any) *Error {
	return &Error{File: d.File, Line: line, Col: col, Field: field, Msg: fmt.Sprintf(format, args...), Kind: d.Kind}
}

// Wrap returns an error about field at line whose message is err's and
// whose cause is err.
func (d *Decoder) Wrap(line int, field string, err error) *Error {
	return &Error{File: d.File, Line: line, Field: field, Msg: err.Error(), Kind: d.Kind, Err: err}
}

// Place completes an error about a field that was found after decoding
// (by validation, say): a [*Error] without a file gets d's file and kind,
// and a line and column from pos, called with its field path. Other
// errors are returned as they are.
func (d *Decoder) Place(err error, pos func(field string) (line, col int)) error {
	e, ok := err.(*Error) //nolint:errorlint // only an error that is not wrapped yet is placed
	if !ok || e.File != "" {
		return err
	}
	out := *e
	out.File = d.File
	if out.Kind == nil {
		out.Kind = d.Kind
	}
	if out.Line == 0 && pos != nil {
		out.Line, out.Col = pos(out.Field)
	}
	return &out
}

// Text checks that b is UTF-8 text without NUL bytes or control
// characters other than tab, line feed and carriage return; the error
// names the line and column of the first byte that is not.
func (d *Decoder) Text(b []byte) error {
	if off, msg := badText(b, false); off >= 0 {
		line, col := lineCol(b, int64(off))
		return d.Errorf(line, col, "", "%s", msg)
	}
	return nil
}

// badText returns the offset of the first byte of b that is not text,
// and what is wrong with it; -1 when b is text. yaml also refuses DEL,
// the C1 controls but NEL, and U+FFFE and U+FFFF, as YAML does.
func badText(b []byte, yaml bool) (int, string) {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			switch {
			case c == 0:
				return i, "want UTF-8 text, got a NUL byte"
			case c < 0x20 && c != '\t' && c != '\n' && c != '\r', yaml && c == 0x7f:
				return i, fmt.Sprintf("want UTF-8 text without control characters, got %U", rune(c))
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return i, fmt.Sprintf("want UTF-8 text, got the byte 0x%02x", c)
		case yaml && (r >= 0x80 && r < 0xa0 && r != 0x85 || r == 0xfffe || r == 0xffff):
			return i, fmt.Sprintf("want UTF-8 text without control characters, got %U", r)
		}
		i += size
	}
	return -1, ""
}

// CheckName reports what makes s unusable as a name (a service, an
// endpoint, an ID): invalid UTF-8, a NUL byte or any control character.
// Names are printed in terminals and written to other formats, which would
// otherwise treat them differently.
func CheckName(s string) error {
	for i, r := range s {
		switch {
		case r == utf8.RuneError:
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return fmt.Errorf("%q is not UTF-8 text (byte 0x%02x)", s, s[i])
			}
		case r == 0:
			return fmt.Errorf("%q contains a NUL byte", s)
		case r < 0x20 || r >= 0x7f && r < 0xa0:
			return fmt.Errorf("%q contains the control character %U", s, r)
		}
	}
	return nil
}

// lineCol returns the 1-based line and byte column of offset off in b.
func lineCol(b []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(b)))
	head := b[:off]
	line = bytes.Count(head, []byte{'\n'}) + 1
	col = int(off) - (bytes.LastIndexByte(head, '\n') + 1) + 1
	return line, col
}
