package decode

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

var errTest = errors.New("test: invalid")

func TestErrorText(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{File: "a.yaml", Line: 3, Field: "x.y", Msg: "bad"}, "a.yaml:3: x.y: bad"},
		{&Error{File: "a.json", Line: 3, Col: 7, Field: "x[0]", Msg: "bad"}, "a.json:3:7: x[0]: bad"},
		{&Error{File: "a.yaml", Msg: "empty document"}, "a.yaml: empty document"},
		{&Error{File: "a.yaml", Col: 4, Msg: "m"}, "a.yaml: m"},
		{&Error{Line: 2, Field: "f", Msg: "m"}, "line 2: f: m"},
		{&Error{Field: "f", Msg: "m"}, "f: m"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	cause := errors.New("cause")
	err := error(&Error{File: "f", Msg: "m", Kind: errTest, Err: cause})
	if !errors.Is(err, errTest) || !errors.Is(err, cause) {
		t.Errorf("errors.Is(%v, kind and cause) = false", err)
	}
}

func TestText(t *testing.T) {
	tests := []struct {
		name, in string
		yaml     bool
		want     string // "" for no error
	}{
		{"plain", "a\tb\r\nc ü €\n", false, ""},
		{"nul", "ab\nc\x00d", false, "f:2:2: want UTF-8 text, got a NUL byte"},
		{"bad utf8", "ok\n\xffx", false, "f:2:1: want UTF-8 text, got the byte 0xff"},
		{"truncated utf8", "é\xc3", false, "f:1:3: want UTF-8 text, got the byte 0xc3"},
		{"escape", "a\x1b[31m", false, "f:1:2: want UTF-8 text without control characters, got U+001B"},
		{"del json", "a\x7f", false, ""},
		{"del yaml", "a\x7f", true, "f:1:2: want UTF-8 text without control characters, got U+007F"},
		{"c1 yaml", "a: \u0090", true, "f:1:4: want UTF-8 text without control characters, got U+0090"},
		{"nel yaml", "a: \u0085", true, ""},
		{"fffe yaml", "a: \ufffe", true, "f:1:4: want UTF-8 text without control characters, got U+FFFE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			off, msg := badText([]byte(tt.in), tt.yaml)
			if off >= 0 {
				line, col := lineCol([]byte(tt.in), int64(off))
				got = New("f", nil).Errorf(line, col, "", "%s", msg).Error()
			}
			if got != tt.want {
				t.Errorf("badText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCheckName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"web", ""},
		{"dns:ü.example", ""},
		{"a\x00b", `"a\x00b" contains a NUL byte`},
		{"a\xffb", `"a\xffb" is not UTF-8 text (byte 0xff)`},
		{"a\u0085", `"a\u0085" contains the control character U+0085`},
		{"a\tb", `"a\tb" contains the control character U+0009`},
		{"a\ufffdb", ""}, // a replacement character written as such is text
	}
	for _, tt := range tests {
		got := ""
		if err := CheckName(tt.in); err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("CheckName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

type inner struct {
	Name  string        `yaml:"name" json:"name"`
	Port  uint16        `yaml:"port,omitempty" json:"port,omitempty"`
	Wait  time.Duration `yaml:"wait" json:"-"`
	Addr  netip.Addr    `yaml:"addr" json:"addr,omitzero"`
	On    bool          `yaml:"on" json:"on"`
	Tags  []string      `yaml:"tags" json:"tags"`
	Lower int
}

type outer struct {
	Version int       `yaml:"version" json:"version"`
	Items   []inner   `yaml:"items" json:"items"`
	Ptr     *inner    `yaml:"ptr" json:"ptr"`
	When    time.Time `yaml:"-" json:"when,omitzero"`
}

func TestDecodeYAML(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{"ok", "version: 1\nitems:\n  - name: a\n    port: 80\n    wait: 2s\n    addr: 10.0.0.1\n    on: true\n    tags: [x, y]\n    lower: 3\nptr: {name: b}\n", ""},
		{"unknown", "version: 1\nitems:\n  - name: a\n    colour: red\n", "f:4: items[0].colour: unknown field (want one of addr, lower, name, on, port, tags, wait)"},
		{"twice", "version: 1\nversion: 2\n", "f:2: version: given twice"},
		{"port", "items:\n  - port: '80x'\n", `f:2: items[0].port: want a whole number from 0 to 65535, got "80x"`},
		{"port range", "items:\n  - port: 70000\n", `f:2: items[0].port: want a whole number from 0 to 65535, got "70000"`},
		{"duration", "items:\n  - wait: soon\n", `f:2: items[0].wait: want a duration such as 500ms, 5s or 2m, got "soon"`},
		{"addr", "ptr:\n  addr: nowhere\n", `f:2: ptr.addr: want an IP address, got "nowhere"`},
		{"bool", "ptr: {on: yes}\n", `f:1: ptr.on: want true or false, got "yes"`},
		{"list as string", "items:\n  - tags: x\n", `f:2: items[0].tags: want a list, got "x"`},
		{"string as list", "items:\n  - name: [a]\n", `f:2: items[0].name: want a string, got a list`},
		{"struct as scalar", "items: [x]\n", `f:1: items[0]: want a mapping, got "x"`},
		{"alias", "version: &v 1\nitems:\n  - lower: *v\n", `f:3: items[0].lower: want a whole number, got an alias (anchors and aliases are not read)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := New("f", errTest)
			n, err := d.YAML([]byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			var v outer
			err = d.Decode(n, "", &v)
			got := ""
			if err != nil {
				got = err.Error()
				if !errors.Is(err, errTest) {
					t.Errorf("error %v does not match the decoder's kind", err)
				}
			}
			if got != tt.want {
				t.Errorf("Decode error = %q, want %q", got, tt.want)
			}
			if tt.want == "" && (v.Items[0].Port != 80 || v.Items[0].Wait != 2*time.Second || v.Items[0].Lower != 3 || v.Ptr.Name != "b" || len(v.Items[0].Tags) != 2) {
				t.Errorf("Decode = %+v", v)
			}
		})
	}
}

func TestYAMLDocument(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{"empty", "", "<nil>"},
		{"comments", "# nothing\n", "<nil>"},
		{"syntax", "a: [1\n", "f:1: invalid YAML: did not find expected ',' or ']'"},
		{"tab", "a: b\n\tc: d\n", "f:2: invalid YAML: found a tab character that violates indentation"},
		{"second", "a: 1\n---\nb: 2\n", "f:2: one document per file: a second YAML document follows"},
		{"nul", "a: 1\nb: \x00\n", "f:2:4: want UTF-8 text, got a NUL byte"},
		{"utf16", "\xff\xfea\x00", "f:1:1: want UTF-8 text, got the byte 0xff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New("f", nil).YAML([]byte(tt.doc))
			if got := fmt.Sprint(err); got != tt.want {
				t.Errorf("YAML(%q) error = %q, want %q", tt.doc, got, tt.want)
			}
		})
	}
}

func TestFind(t *testing.T) {
	d := New("f", nil)
	n, err := d.YAML([]byte("a:\n  - x: 1\n  - x: 2\n    y: [p, q]\nb: 3\n"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		line int
	}{
		{"", 1}, {"a", 2}, {"a[1]", 3}, {"a[1].x", 3}, {"a[1].y[1]", 4}, {"b", 5},
		{"a[1].z", 3}, {"a[7]", 2}, {"c", 1},
	}
	for _, tt := range tests {
		if got := d.Find(n, tt.path).Line; got != tt.line {
			t.Errorf("Find(%q) is at line %d, want %d", tt.path, got, tt.line)
		}
	}
}

func TestJSON(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{"ok", `{"version": 1, "items": [{"name": "a", "port": 80, "addr": "10.0.0.1"}], "when": "2026-11-20T09:00:00Z"}`, ""},
		{"unknown nested", "{\"items\": [\n  {\"name\": \"a\"},\n  {\"name\": \"b\", \"colour\": 1}]}", "f:3:17: items[1].colour: unknown field (want one of Lower, addr, name, on, port, tags)"},
		{"port string", "{\"items\": [{\"port\": \"80\"}]}", `f:1:21: items[0].port: want a whole number from 0 to 65535, got "80"`},
		{"port range", "{\"items\": [{\"port\": 70000}]}", `f:1:21: items[0].port: want a whole number from 0 to 65535, got 70000`},
		{"time", "{\n \"when\": \"yesterday\"}", `f:2:10: when: want an RFC 3339 time such as 2026-11-20T09:00:00Z, got "yesterday"`},
		{"addr", `{"ptr": {"addr": "10.0.0.999"}}`, `f:1:18: ptr.addr: want an IP address, got "10.0.0.999"`},
		{"object as list", `{"items": {"name": "a"}}`, `f:1:11: items: want a list, got an object`},
		{"list as object", `{"ptr": [1]}`, `f:1:9: ptr: want an object, got a list`},
		{"syntax", "{\n\"version\": 1,\n}", "f:3:1: invalid JSON: invalid character '}' looking for beginning of object key string"},
		{"truncated", "{\"items\": [", "f:1:12: items: invalid JSON: unexpected end of the document"},
		{"trailing", "{}\n{}", "f:2:1: unexpected data after the JSON document"},
		{"empty", " \n", "f: empty document"},
		{"nul", "{\"version\": 1}\x00", "f:1:15: want UTF-8 text, got a NUL byte"},
		{"case folded", `{"VERSION": 1}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v outer
			err := New("f", errTest).JSON([]byte(tt.doc), &v)
			got := ""
			if err != nil {
				got = err.Error()
				if !errors.Is(err, errTest) {
					t.Errorf("error %v does not match the decoder's kind", err)
				}
			}
			if got != tt.want {
				t.Errorf("JSON error = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestJSONPos(t *testing.T) {
	doc := []byte("{\n  \"a\": [\n    {\"x\": 1},\n    {\"x\": 2, \"y\": \"z\"}\n  ],\n  \"b\": {\"c\": true}\n}")
	tests := []struct {
		path      string
		line, col int
	}{
		{"", 1, 1}, {"a", 2, 8}, {"a[1]", 4, 5}, {"a[1].y", 4, 19}, {"b.c", 6, 14},
		{"a[1].missing", 4, 5}, {"a[5]", 2, 8}, {"missing", 1, 1},
	}
	pos := New("f", nil).JSONPos(doc)
	for _, tt := range tests {
		if line, col := pos(tt.path); line != tt.line || col != tt.col {
			t.Errorf("JSONPos(%q) = %d:%d, want %d:%d", tt.path, line, col, tt.line, tt.col)
		}
	}
}

func TestPlace(t *testing.T) {
	d := New("f.yaml", errTest)
	n, _ := d.YAML([]byte("a:\n  b: 1\n"))
	err := d.Place(&Error{Field: "a.b", Msg: "bad"}, d.YAMLPos(n))
	if got := err.Error(); got != "f.yaml:2: a.b: bad" || !errors.Is(err, errTest) {
		t.Errorf("Place = %q", got)
	}
	other := errors.New("x")
	if d.Place(other, nil) != other {
		t.Errorf("Place changed an error that is not a *Error")
	}
	var _ *yaml.Node = n
}
