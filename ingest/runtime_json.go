package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/rgraph/rgraph/collector/decode"
	"github.com/rgraph/rgraph/graph"
)

// runtimeParser reads one input.
type runtimeParser struct {
	name string
	src  []byte
	d    *decode.Decoder // for errors
	dec  *json.Decoder
	out  []graph.Call
}

// next skips white space and a comma from offset off: where the next
// value starts.
func (p *runtimeParser) next(off int64) int64 {
	for off < int64(len(p.src)) && strings.IndexByte(" \t\r\n,", p.src[off]) >= 0 {
		off++
	}
	return off
}

// lineAt returns the 1-based line of byte offset off of the input.
func (p *runtimeParser) lineAt(off int64) int {
	off = min(max(off, 0), int64(len(p.src)))
	return bytes.Count(p.src[:off], []byte{'\n'}) + 1
}

// errAt returns an error at byte offset off about field.
func (p *runtimeParser) errAt(off int64, field, format string, args ...any) error {
	return p.d.At(p.src, off, field, format, args...)
}

// jsonErr places an error of the JSON decoder.
func (p *runtimeParser) jsonErr(err error) error {
	return p.d.JSONErr(p.src, p.dec.InputOffset(), err)
}

// open starts decoding the input as JSON.
func (p *runtimeParser) open() {
	p.dec = json.NewDecoder(bytes.NewReader(p.src))
	p.dec.UseNumber()
}

// delim reads the next token, which must be delimiter want.
func (p *runtimeParser) delim(want json.Delim, field string) error {
	off := p.dec.InputOffset()
	tok, err := p.dec.Token()
	if err != nil {
		return p.jsonErr(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		what := map[json.Delim]string{'[': "an array", '{': "an object"}[want]
		return p.errAt(off, field, "want %s, got %v", what, tok)
	}
	return nil
}

// object walks the members of an object whose '{' has been read, calling
// f with each key; f must consume the value.
func (p *runtimeParser) object(f func(key string) error) error {
	for p.dec.More() {
		tok, err := p.dec.Token()
		if err != nil {
			return p.jsonErr(err)
		}
		if err := f(tok.(string)); err != nil {
			return err
		}
	}
	_, err := p.dec.Token() // '}'
	if err != nil {
		return p.jsonErr(err)
	}
	return nil
}

// array walks the elements of an array that starts at the next token,
// calling f with each index and the element's offset; f must consume the
// element. A null instead of the array is no elements.
func (p *runtimeParser) array(field string, f func(i int, off int64) error) error {
	off := p.dec.InputOffset()
	tok, err := p.dec.Token()
	if err != nil {
		return p.jsonErr(err)
	}
	if tok == nil {
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return p.errAt(off, field, "want an array, got %v", tok)
	}
	for i := 0; p.dec.More(); i++ {
		if err := f(i, p.next(p.dec.InputOffset())); err != nil {
			return err
		}
	}
	if _, err := p.dec.Token(); err != nil { // ']'
		return p.jsonErr(err)
	}
	return nil
}

// skip consumes one value.
func (p *runtimeParser) skip() error {
	var v json.RawMessage
	if err := p.dec.Decode(&v); err != nil {
		return p.jsonErr(err)
	}
	return nil
}

// decode decodes the next value into v.
func (p *runtimeParser) decode(v any) error {
	if err := p.dec.Decode(v); err != nil {
		return p.jsonErr(err)
	}
	return nil
}

// end checks that nothing but white space follows the document.
func (p *runtimeParser) end() error {
	off := p.dec.InputOffset()
	if _, err := p.dec.Token(); !errors.Is(err, io.EOF) {
		return invalidf("%s:%d: unexpected data after the JSON document", p.name, p.lineAt(off))
	}
	return nil
}

// serviceName checks a service name; the error says what is wrong with
// it, for the caller to place.
func serviceName(s *string) (string, error) {
	if s == nil {
		return "", errors.New("missing")
	}
	n := strings.TrimSpace(*s)
	if n == "" {
		return "", errors.New("empty service name")
	}
	if err := decode.CheckName(n); err != nil {
		return "", fmt.Errorf("service name %w", err)
	}
	return n, nil
}

// service checks a service name read from field at offset off.
func (p *runtimeParser) service(off int64, field string, s *string) (string, error) {
	n, err := serviceName(s)
	if err != nil {
		return "", p.errAt(off, field, "%v", err)
	}
	return n, nil
}

// count parses a call count: a non-negative integer, or a non-negative
// number that is rounded (Prometheus rates and OTLP doubles).
func callCount(text string) (uint64, error) {
	text = strings.TrimSpace(text)
	if n, err := strconv.ParseUint(text, 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsNaN(f) || f < 0 {
		return 0, fmt.Errorf("want a non-negative number, got %q", text)
	}
	if f >= math.MaxUint64 {
		return math.MaxUint64, nil
	}
	return uint64(math.Round(f)), nil
}

// raw consumes one value and returns it.
func (p *runtimeParser) raw() []byte {
	var v json.RawMessage
	if p.dec.Decode(&v) != nil {
		return nil
	}
	return v
}
