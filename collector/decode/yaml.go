package decode

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// YAML parses b as one YAML document and returns its top node, or nil for
// a document that holds nothing (empty, or only comments). Text that is
// not UTF-8, syntax errors and a second document are errors.
func (d *Decoder) YAML(b []byte) (n *yaml.Node, err error) {
	if off, msg := badText(b, true); off >= 0 {
		line, col := lineCol(b, int64(off))
		return nil, d.Errorf(line, col, "", "%s", msg)
	}
	defer func() {
		// yaml.v3 is not ours; a panic on hostile input is still an error
		// in the input.
		if r := recover(); r != nil {
			n, err = nil, d.Errorf(0, 0, "", "invalid YAML: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		line, msg := yamlError(err)
		return nil, d.Errorf(line, 0, "", "invalid YAML: %s", msg)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		line := extra.Line
		if err != nil {
			line, _ = yamlError(err)
		}
		return nil, d.Errorf(line, 0, "", "one document per file: a second YAML document follows")
	}
	if len(root.Content) == 0 {
		return nil, nil
	}
	return root.Content[0], nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): `)

// yamlError splits a yaml.v3 parse error into its line (0 when it names
// none) and its message.
func yamlError(err error) (int, string) {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return line, msg[len(m[0]):]
	}
	return 0, strings.TrimPrefix(msg, "yaml: ")
}

// NodeErrorf returns an error at n's line (0 for a nil node) about field.
func (d *Decoder) NodeErrorf(n *yaml.Node, field, format string, args ...any) *Error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return d.Errorf(line, 0, field, format, args...)
}

// Field decodes the value of one mapping key; path is the key's field
// path.
type Field func(n *yaml.Node, path string) error

// Fields decodes the mapping n by calling the handler registered for each
// key. A key without a handler is an unknown field, and a key given twice
// is an error. It returns the key nodes present, by key, so that callers
// can check required fields and place later errors.
func (d *Decoder) Fields(n *yaml.Node, path string, handlers map[string]Field) (map[string]*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, d.NodeErrorf(n, path, "want a mapping, got %s", KindName(n))
	}
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		field := Join(path, k.Value)
		h, ok := handlers[k.Value]
		if !ok {
			return nil, d.unknownField(k, field, slices.Collect(maps.Keys(handlers)))
		}
		if _, dup := seen[k.Value]; dup {
			return nil, d.NodeErrorf(k, field, "given twice")
		}
		seen[k.Value] = k
		if err := h(v, field); err != nil {
			return nil, err
		}
	}
	return seen, nil
}

func (d *Decoder) unknownField(k *yaml.Node, field string, known []string) error {
	slices.Sort(known)
	return d.NodeErrorf(k, field, "unknown field (want one of %s)", strings.Join(known, ", "))
}

// Scalar returns the value of a scalar node; anything else is an error.
func (d *Decoder) Scalar(n *yaml.Node, path string) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", d.NodeErrorf(n, path, "want a single value, got %s", KindName(n))
	}
	return n.Value, nil
}

// String returns a handler that stores a scalar in dst.
func (d *Decoder) String(dst *string) Field {
	return func(n *yaml.Node, path string) error {
		v, err := d.Scalar(n, path)
		*dst = v
		return err
	}
}

// Bool returns a handler that stores true or false in dst.
func (d *Decoder) Bool(dst *bool) Field {
	return func(n *yaml.Node, path string) error {
		v, err := d.Scalar(n, path)
		if err != nil {
			return err
		}
		switch v {
		case "true":
			*dst = true
		case "false":
			*dst = false
		default:
			return d.NodeErrorf(n, path, "want true or false, got %q", v)
		}
		return nil
	}
}

// Count returns a handler that stores a whole number >= 0 in dst.
func (d *Decoder) Count(dst *int) Field {
	return func(n *yaml.Node, path string) error {
		v, err := d.Scalar(n, path)
		if err != nil {
			return err
		}
		i, err := strconv.Atoi(v)
		if err != nil || i < 0 {
			return d.NodeErrorf(n, path, "want a whole number >= 0, got %q", v)
		}
		*dst = i
		return nil
	}
}

// Duration returns a handler that stores a positive duration in dst.
func (d *Decoder) Duration(dst *time.Duration) Field {
	return func(n *yaml.Node, path string) error {
		v, err := d.Scalar(n, path)
		if err != nil {
			return err
		}
		t, err := time.ParseDuration(v)
		if err != nil || t <= 0 {
			return d.NodeErrorf(n, path, "want a positive duration such as 500ms, 5s or 2m, got %q", v)
		}
		*dst = t
		return nil
	}
}

// List decodes a sequence by calling item for each element with its
// indexed path. A single scalar counts as a list of one; null as an empty
// list.
func (d *Decoder) List(n *yaml.Node, path string, item func(n *yaml.Node, path string) error) error {
	if n.Kind == yaml.ScalarNode {
		if n.Tag == "!!null" {
			return nil
		}
		return item(n, Index(path, 0))
	}
	if n.Kind != yaml.SequenceNode {
		return d.NodeErrorf(n, path, "want a list, got %s", KindName(n))
	}
	for i, c := range n.Content {
		if err := item(c, Index(path, i)); err != nil {
			return err
		}
	}
	return nil
}

// Strings returns a handler that appends a list of scalars to dst.
func (d *Decoder) Strings(dst *[]string) Field {
	return func(n *yaml.Node, path string) error {
		return d.List(n, path, func(c *yaml.Node, p string) error {
			v, err := d.Scalar(c, p)
			*dst = append(*dst, v)
			return err
		})
	}
}

// StringMap returns a handler that decodes a mapping of names matching
// keyRE to scalar values; what names the keys in errors.
func (d *Decoder) StringMap(dst *map[string]string, keyRE *regexp.Regexp, what string) Field {
	return func(n *yaml.Node, path string) error {
		if n.Kind != yaml.MappingNode {
			return d.NodeErrorf(n, path, "want a mapping of %s to values, got %s", what, KindName(n))
		}
		*dst = map[string]string{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			field := Join(path, k.Value)
			if !keyRE.MatchString(k.Value) {
				return d.NodeErrorf(k, field, "invalid %s %q", what, k.Value)
			}
			if _, dup := (*dst)[k.Value]; dup {
				return d.NodeErrorf(k, field, "given twice")
			}
			s, err := d.Scalar(v, field)
			if err != nil {
				return err
			}
			(*dst)[k.Value] = s
		}
		return nil
	}
}

// KindName describes what a node holds, for "want X, got Y" messages.
func KindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	if n.Tag == "!!null" {
		return "nothing"
	}
	return fmt.Sprintf("%q", n.Value)
}

// Unmarshaler is implemented by types that decode themselves from a YAML
// node in [Decoder.Decode], reporting errors through d.
type Unmarshaler interface {
	UnmarshalNode(d *Decoder, n *yaml.Node, path string) error
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	textType     = reflect.TypeFor[encoding.TextUnmarshaler]()
	nodeType     = reflect.TypeFor[Unmarshaler]()
)

// Decode decodes n into the value v points to, by the yaml tags of its
// structs (a field without one is named in lower case, as yaml.v3 does).
// Unknown fields, keys given twice, a scalar where a list belongs and
// values of the wrong kind are errors at their line, with path leading the
// field paths. It reads strings, booleans, integers, floats, time.Duration,
// types implementing encoding.TextUnmarshaler or [Unmarshaler], pointers,
// slices and structs; null leaves a value as it is. Other types panic.
func (d *Decoder) Decode(n *yaml.Node, path string, v any) error {
	return d.value(n, path, reflect.ValueOf(v).Elem())
}

func (d *Decoder) value(n *yaml.Node, path string, v reflect.Value) error {
	t := v.Type()
	if reflect.PointerTo(t).Implements(nodeType) {
		return v.Addr().Interface().(Unmarshaler).UnmarshalNode(d, n, path)
	}
	if n.Kind == yaml.AliasNode {
		return d.NodeErrorf(n, path, "want %s, got an alias (anchors and aliases are not read)", want(t))
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if t.Kind() == reflect.Pointer {
		if v.IsNil() {
			v.Set(reflect.New(t.Elem()))
		}
		return d.value(n, path, v.Elem())
	}
	if reflect.PointerTo(t).Implements(textType) {
		s, err := d.wantScalar(n, path, t)
		if err != nil {
			return err
		}
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			return d.NodeErrorf(n, path, "%s", valueMsg(t, s, err))
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		return d.structValue(n, path, v)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return d.NodeErrorf(n, path, "want a list, got %s", KindName(n))
		}
		out := reflect.MakeSlice(t, len(n.Content), len(n.Content))
		for i, c := range n.Content {
			if err := d.value(c, Index(path, i), out.Index(i)); err != nil {
				return err
			}
		}
		v.Set(out)
		return nil
	}
	s, err := d.wantScalar(n, path, t)
	if err != nil {
		return err
	}
	bad := func() error { return d.NodeErrorf(n, path, "want %s, got %q", want(t), s) }
	switch t.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		switch s {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			return bad()
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if t == durationType {
			x, err := time.ParseDuration(s)
			if err != nil {
				return bad()
			}
			v.SetInt(int64(x))
			return nil
		}
		x, err := strconv.ParseInt(s, 10, t.Bits())
		if err != nil {
			return bad()
		}
		v.SetInt(x)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		x, err := strconv.ParseUint(s, 10, t.Bits())
		if err != nil {
			return bad()
		}
		v.SetUint(x)
	case reflect.Float32, reflect.Float64:
		x, err := strconv.ParseFloat(s, t.Bits())
		if err != nil {
			return bad()
		}
		v.SetFloat(x)
	default:
		panic("decode: cannot decode YAML into " + t.String())
	}
	return nil
}

// wantScalar is [Decoder.Scalar] with a message that says what t wants.
func (d *Decoder) wantScalar(n *yaml.Node, path string, t reflect.Type) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", d.NodeErrorf(n, path, "want %s, got %s", want(t), KindName(n))
	}
	return n.Value, nil
}

func (d *Decoder) structValue(n *yaml.Node, path string, v reflect.Value) error {
	if n.Kind != yaml.MappingNode {
		return d.NodeErrorf(n, path, "want a mapping, got %s", KindName(n))
	}
	fields := structFields(v.Type(), "yaml", strings.ToLower)
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		field := Join(path, k.Value)
		f, ok := fields[k.Value]
		if !ok {
			return d.unknownField(k, field, slices.Collect(maps.Keys(fields)))
		}
		if seen[k.Value] {
			return d.NodeErrorf(k, field, "given twice")
		}
		seen[k.Value] = true
		if err := d.value(val, field, v.FieldByIndex(f.index)); err != nil {
			return err
		}
	}
	return nil
}

// Find returns the node at a field path below n ("services[1].name"), or
// the deepest node on the way there when the path leads nowhere, so that
// an error about a missing field points at the mapping that lacks it.
func (d *Decoder) Find(n *yaml.Node, path string) *yaml.Node {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, s := range splitPath(path) {
		next := (*yaml.Node)(nil)
		switch {
		case s.index < 0 && n.Kind == yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == s.key {
					next = n.Content[i+1]
				}
			}
		case s.index >= 0 && n.Kind == yaml.SequenceNode && s.index < len(n.Content):
			next = n.Content[s.index]
		}
		if next == nil {
			return n
		}
		n = next
	}
	return n
}

// YAMLPos returns the line of the node at a field path below n (see
// [Decoder.Find]); for [Decoder.Place].
func (d *Decoder) YAMLPos(n *yaml.Node) func(path string) (int, int) {
	return func(path string) (int, int) {
		if f := d.Find(n, path); f != nil {
			return f.Line, 0
		}
		return 0, 0
	}
}
