package decode

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// JSON decodes the one JSON document in b into the value v points to.
// Unknown fields, values of the wrong type, anything after the document
// and text that is not UTF-8 are errors at their line and column, with the
// path of the field ("attempts[0].port").
//
// Valid documents cost one pass of encoding/json; only a document it
// refuses is walked again, token by token, to place the error.
func (d *Decoder) JSON(b []byte, v any) error {
	if err := d.Text(b); err != nil {
		return err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return d.Errorf(0, 0, "", "empty document")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return d.jsonError(b, reflect.TypeOf(v).Elem(), err)
	}
	if off := skipSpace(b, dec.InputOffset()); off < int64(len(b)) {
		line, col := lineCol(b, off)
		return d.Errorf(line, col, "", "unexpected data after the JSON document")
	}
	return nil
}

// JSONPos returns the line and column of the value at a field path in the
// JSON document b, or of the deepest value on the way there when the path
// leads nowhere; for [Decoder.Place].
func (d *Decoder) JSONPos(b []byte) func(path string) (int, int) {
	return func(path string) (int, int) {
		return lineCol(b, jsonFind(b, path))
	}
}

// jsonError places an error of encoding/json: the walk finds the first
// problem with its path; when it finds none, the error's own offset is
// used.
func (d *Decoder) jsonError(b []byte, t reflect.Type, err error) error {
	w := &jsonWalker{src: b, dec: json.NewDecoder(bytes.NewReader(b))}
	w.dec.UseNumber()
	off, field, msg, found := w.value(t, "")
	var se *json.SyntaxError
	if errors.As(err, &se) {
		// The decoder's offset is where the syntax broke; the walk's
		// tokenizer may stop earlier. Its path is kept.
		if !found || !strings.HasPrefix(msg, "invalid JSON") {
			field = ""
		}
		line, col := lineCol(b, se.Offset-1)
		return d.Errorf(line, col, field, "invalid JSON: %v", se)
	}
	if found {
		line, col := lineCol(b, off)
		return d.Errorf(line, col, field, "%s", msg)
	}
	if errors.As(err, new(*json.UnmarshalTypeError)) || errors.Is(err, io.ErrUnexpectedEOF) {
		return d.JSONErr(b, 0, err)
	}
	// Errors of UnmarshalText and UnmarshalJSON carry no position.
	return d.Errorf(0, 0, "", "%s", strings.TrimPrefix(err.Error(), "json: "))
}

// jsonWalker walks a JSON document against a Go type to find where and
// why encoding/json refused it.
type jsonWalker struct {
	src []byte
	dec *json.Decoder
}

var (
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	rawType             = reflect.TypeFor[json.RawMessage]()
)

// value walks the next value, of type t at path; found reports a problem
// at offset off.
func (w *jsonWalker) value(t reflect.Type, path string) (off int64, field, msg string, found bool) {
	off = skipSpace(w.src, w.dec.InputOffset())
	if bytes.HasPrefix(w.src[off:], []byte("null")) {
		_, err := w.dec.Token()
		return w.syntax(off, path, err)
	}
	pt := reflect.PointerTo(t)
	leaf := t == rawType || t.Kind() == reflect.Interface ||
		pt.Implements(jsonUnmarshalerType) || pt.Implements(textType)
	switch {
	case leaf:
	case t.Kind() == reflect.Pointer:
		return w.value(t.Elem(), path)
	case t.Kind() == reflect.Struct:
		fields := structFields(t, "json", func(s string) string { return s })
		return w.object(off, t, path, func(key string) (reflect.Type, bool) {
			if f, ok := fields[key]; ok {
				return f.typ, true
			}
			for name, f := range fields { // encoding/json folds case
				if strings.EqualFold(name, key) {
					return f.typ, true
				}
			}
			return nil, false
		}, func() []string { return slices.Sorted(maps.Keys(fields)) })
	case t.Kind() == reflect.Map:
		return w.object(off, t, path, func(string) (reflect.Type, bool) { return t.Elem(), true }, nil)
	case t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8, t.Kind() == reflect.Array:
		tok, err := w.dec.Token()
		if err != nil {
			return w.syntax(off, path, err)
		}
		if tok != json.Delim('[') {
			return off, path, fmt.Sprintf("want a list, got %s", describe(tok)), true
		}
		for i := 0; w.dec.More(); i++ {
			if off, field, msg, found := w.value(t.Elem(), Index(path, i)); found {
				return off, field, msg, true
			}
		}
		_, err = w.dec.Token()
		return w.syntax(off, path, err)
	}
	var raw json.RawMessage
	if err := w.dec.Decode(&raw); err != nil {
		return w.syntax(off, path, err)
	}
	if err := json.Unmarshal(raw, reflect.New(t).Interface()); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return off, path, fmt.Sprintf("want %s, got %s", want(t), describeRaw(raw)), true
		}
		text := string(raw)
		if s, err := strconv.Unquote(text); err == nil {
			text = s
		}
		return off, path, valueMsg(t, text, err), true
	}
	return 0, "", "", false
}

// object walks an object whose fields have the types field returns;
// known lists the field names for an unknown one.
func (w *jsonWalker) object(off int64, t reflect.Type, path string, field func(string) (reflect.Type, bool), known func() []string) (int64, string, string, bool) {
	tok, err := w.dec.Token()
	if err != nil {
		return w.syntax(off, path, err)
	}
	if tok != json.Delim('{') {
		return off, path, fmt.Sprintf("want an object, got %s", describe(tok)), true
	}
	for w.dec.More() {
		koff := skipSpace(w.src, w.dec.InputOffset())
		tok, err := w.dec.Token()
		if err != nil {
			return w.syntax(koff, path, err)
		}
		key, _ := tok.(string)
		ft, ok := field(key)
		if !ok {
			return koff, Join(path, key), fmt.Sprintf("unknown field (want one of %s)", strings.Join(known(), ", ")), true
		}
		if off, f, msg, found := w.value(ft, Join(path, key)); found {
			return off, f, msg, true
		}
	}
	_, err = w.dec.Token()
	return w.syntax(off, path, err)
}

// syntax turns a token error into a problem; nil is no problem.
func (w *jsonWalker) syntax(off int64, path string, err error) (int64, string, string, bool) {
	if err == nil {
		return 0, "", "", false
	}
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return max(se.Offset-1, 0), path, "invalid JSON: " + se.Error(), true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return int64(len(w.src)), path, "invalid JSON: unexpected end of the document", true
	}
	return off, path, "invalid JSON: " + strings.TrimPrefix(err.Error(), "json: "), true
}

// describe names a token for "got ...".
func describe(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' {
			return "an object"
		}
		return "a list"
	case string:
		return strconv.Quote(v)
	case nil:
		return "null"
	}
	return fmt.Sprint(tok)
}

// describeRaw names a raw value for "got ...": strings quoted, numbers
// and literals as written, objects and lists by kind.
func describeRaw(raw json.RawMessage) string {
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "a list"
	}
	return string(raw)
}

// skipSpace returns the offset of the next value from off: past white
// space and the ',' and ':' between values.
func skipSpace(b []byte, off int64) int64 {
	for off < int64(len(b)) && strings.IndexByte(" \t\r\n,:", b[off]) >= 0 {
		off++
	}
	return off
}

// jsonFind returns the offset of the value at path in b, or of the deepest
// value on the way there.
func jsonFind(b []byte, path string) int64 {
	dec := json.NewDecoder(bytes.NewReader(b))
	for _, s := range splitPath(path) {
		at := skipSpace(b, dec.InputOffset())
		tok, err := dec.Token()
		if err != nil {
			return at
		}
		found := false
		switch {
		case tok == json.Delim('{') && s.index < 0:
			for !found && dec.More() {
				tok, err := dec.Token()
				if err != nil {
					return at
				}
				if k, _ := tok.(string); k == s.key || strings.EqualFold(k, s.key) {
					found = true
				} else if skipValue(dec) != nil {
					return at
				}
			}
		case tok == json.Delim('[') && s.index >= 0:
			found = true
			for i := 0; found && i < s.index; i++ {
				found = dec.More() && skipValue(dec) == nil
			}
			found = found && dec.More()
		}
		if !found {
			return at
		}
	}
	return skipSpace(b, dec.InputOffset())
}

func skipValue(dec *json.Decoder) error {
	var raw json.RawMessage
	return dec.Decode(&raw)
}

// At returns an error about field at byte offset off of the document b.
func (d *Decoder) At(b []byte, off int64, field, format string, args ...any) *Error {
	line, col := lineCol(b, off)
	return d.Errorf(line, col, field, format, args...)
}

// JSONErr places an error of an encoding/json Decoder reading b, for
// callers that walk a stream with Token and Decode themselves: a syntax
// or type error at its own offset, anything else at off (the decoder's
// InputOffset).
func (d *Decoder) JSONErr(b []byte, off int64, err error) *Error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return d.At(b, max(se.Offset-1, 0), "", "invalid JSON: %v", se)
	case errors.As(err, &te):
		return d.At(b, te.Offset, te.Field, "want %s, got %s", want(te.Type), te.Value)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return d.At(b, int64(len(b)), "", "invalid JSON: unexpected end of the document")
	}
	return d.At(b, off, "", "invalid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
}
