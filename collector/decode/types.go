package decode

import (
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"time"
)

// fieldInfo is one field of a struct as a document names it.
type fieldInfo struct {
	index []int
	typ   reflect.Type
}

type fieldsKey struct {
	t   reflect.Type
	tag string
}

var fieldCache sync.Map // fieldsKey -> map[string]fieldInfo

// structFields maps the names the given tag ("yaml", "json") gives the
// exported fields of struct type t to the fields; a field without a name
// in its tag is named by untagged(field name). Embedded structs without a
// tag name are flattened, as both encoders do.
func structFields(t reflect.Type, tag string, untagged func(string) string) map[string]fieldInfo {
	key := fieldsKey{t, tag}
	if m, ok := fieldCache.Load(key); ok {
		return m.(map[string]fieldInfo)
	}
	m := map[string]fieldInfo{}
	var add func(t reflect.Type, index []int)
	add = func(t reflect.Type, index []int) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get(tag), ",")
			if name == "-" {
				continue
			}
			idx := append(append([]int(nil), index...), i)
			if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
				add(f.Type, idx)
				continue
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = untagged(f.Name)
			}
			if _, dup := m[name]; !dup {
				m[name] = fieldInfo{idx, f.Type}
			}
		}
	}
	add(t, nil)
	fieldCache.Store(key, m)
	return m
}

var (
	timeType     = reflect.TypeFor[time.Time]()
	addrType     = reflect.TypeFor[netip.Addr]()
	prefixType   = reflect.TypeFor[netip.Prefix]()
	addrPortType = reflect.TypeFor[netip.AddrPort]()
)

// want says what a value of type t must look like, for "want X, got Y".
func want(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case timeType:
		return "an RFC 3339 time such as 2026-11-20T09:00:00Z"
	case addrType:
		return "an IP address"
	case prefixType:
		return "a CIDR such as 10.0.0.0/24"
	case addrPortType:
		return "ADDR:PORT"
	case durationType:
		return "a duration such as 500ms, 5s or 2m"
	}
	if reflect.PointerTo(t).Implements(textType) {
		return "a string"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return fmt.Sprintf("a whole number from 0 to %d", uint64(1)<<t.Bits()-1)
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "a value"
}

// valueMsg is the message for text that a value of type t could not be
// parsed from: a "want X, got Y" for the types [want] knows, otherwise the
// type's own error.
func valueMsg(t reflect.Type, text string, err error) string {
	switch t {
	case timeType, addrType, prefixType, addrPortType, durationType:
		return fmt.Sprintf("want %s, got %q", want(t), text)
	}
	return err.Error()
}
