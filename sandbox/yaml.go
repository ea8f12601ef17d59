package sandbox

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// ScenarioError describes what is wrong with a scenario file. Its text is
// "FILE:LINE: FIELD: MSG", the form editors jump to.
type ScenarioError struct {
	File  string // file name as given to the loader
	Line  int    // 1-based line, 0 when unknown
	Field string // dotted path of the field at fault, "" for the document
	Msg   string
}

func (e *ScenarioError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// decoder walks a YAML node tree strictly: unknown fields, wrong kinds and
// bad values are errors that name the file, line and field path.
type decoder struct{ file string }

func (d decoder) errf(n *yaml.Node, field, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &ScenarioError{File: d.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// fields decodes a mapping by calling the handler registered for each key;
// a key without a handler is an unknown field. seen records the keys
// present so callers can check required ones.
func (d decoder) fields(n *yaml.Node, path string, handlers map[string]func(*yaml.Node, string) error) (map[string]*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, d.errf(n, path, "want a mapping, got %s", kindName(n))
	}
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		field := joinPath(path, k.Value)
		h, ok := handlers[k.Value]
		if !ok {
			known := make([]string, 0, len(handlers))
			for name := range handlers {
				known = append(known, name)
			}
			slices.Sort(known)
			return nil, d.errf(k, field, "unknown field (want one of %s)", strings.Join(known, ", "))
		}
		if _, dup := seen[k.Value]; dup {
			return nil, d.errf(k, field, "given twice")
		}
		seen[k.Value] = k
		if err := h(v, field); err != nil {
			return nil, err
		}
	}
	return seen, nil
}

func (d decoder) scalar(n *yaml.Node, path string) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", d.errf(n, path, "want a single value, got %s", kindName(n))
	}
	return n.Value, nil
}

func (d decoder) str(dst *string) func(*yaml.Node, string) error {
	return func(n *yaml.Node, path string) error {
		v, err := d.scalar(n, path)
		*dst = v
		return err
	}
}

func (d decoder) boolean(dst *bool) func(*yaml.Node, string) error {
	return func(n *yaml.Node, path string) error {
		v, err := d.scalar(n, path)
		if err != nil {
			return err
		}
		switch v {
		case "true":
			*dst = true
		case "false":
			*dst = false
		default:
			return d.errf(n, path, "want true or false, got %q", v)
		}
		return nil
	}
}

func (d decoder) integer(dst *int) func(*yaml.Node, string) error {
	return func(n *yaml.Node, path string) error {
		v, err := d.scalar(n, path)
		if err != nil {
			return err
		}
		i, err := strconv.Atoi(v)
		if err != nil || i < 0 {
			return d.errf(n, path, "want a whole number >= 0, got %q", v)
		}
		*dst = i
		return nil
	}
}

func (d decoder) duration(dst *time.Duration) func(*yaml.Node, string) error {
	return func(n *yaml.Node, path string) error {
		v, err := d.scalar(n, path)
		if err != nil {
			return err
		}
		t, err := time.ParseDuration(v)
		if err != nil || t <= 0 {
			return d.errf(n, path, "want a positive duration such as 500ms, 5s or 2m, got %q", v)
		}
		*dst = t
		return nil
	}
}

// list decodes a sequence (a single scalar counts as a list of one) by
// calling item for each element with its indexed path.
func (d decoder) list(n *yaml.Node, path string, item func(*yaml.Node, string) error) error {
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		return item(n, path+"[0]")
	}
	if n.Kind != yaml.SequenceNode {
		return d.errf(n, path, "want a list, got %s", kindName(n))
	}
	for i, c := range n.Content {
		if err := item(c, fmt.Sprintf("%s[%d]", path, i)); err != nil {
			return err
		}
	}
	return nil
}

func (d decoder) strings(dst *[]string) func(*yaml.Node, string) error {
	return func(n *yaml.Node, path string) error {
		return d.list(n, path, func(c *yaml.Node, p string) error {
			v, err := d.scalar(c, p)
			*dst = append(*dst, v)
			return err
		})
	}
}

func (d decoder) prefixes(dst *[]netip.Prefix) func(*yaml.Node, string) error {
	return func(n *yaml.Node, path string) error {
		return d.list(n, path, func(c *yaml.Node, p string) error {
			v, err := d.scalar(c, p)
			if err != nil {
				return err
			}
			pfx, err := parsePrefix(v)
			if err != nil {
				return d.errf(c, p, "%v", err)
			}
			*dst = append(*dst, pfx)
			return nil
		})
	}
}

func (d decoder) addrs(dst *[]netip.Addr) func(*yaml.Node, string) error {
	return func(n *yaml.Node, path string) error {
		return d.list(n, path, func(c *yaml.Node, p string) error {
			v, err := d.scalar(c, p)
			if err != nil {
				return err
			}
			a, err := netip.ParseAddr(v)
			if err != nil {
				return d.errf(c, p, "want an IP address, got %q", v)
			}
			*dst = append(*dst, a.Unmap())
			return nil
		})
	}
}

// stringMap decodes a mapping of names to scalar values.
func (d decoder) stringMap(dst *map[string]string, keyRE *regexp.Regexp, what string) func(*yaml.Node, string) error {
	return func(n *yaml.Node, path string) error {
		if n.Kind != yaml.MappingNode {
			return d.errf(n, path, "want a mapping of %s to values, got %s", what, kindName(n))
		}
		*dst = map[string]string{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			field := joinPath(path, k.Value)
			if !keyRE.MatchString(k.Value) {
				return d.errf(k, field, "invalid %s %q", what, k.Value)
			}
			if _, dup := (*dst)[k.Value]; dup {
				return d.errf(k, field, "given twice")
			}
			s, err := d.scalar(v, field)
			if err != nil {
				return err
			}
			(*dst)[k.Value] = s
		}
		return nil
	}
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return p, fmt.Errorf("want an address or CIDR, got %q", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("want an address or CIDR, got %q", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func kindName(n *yaml.Node) string {
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

// lineRE strips the "line N: " prefix collector errors carry, since a
// ScenarioError already names the line.
var lineRE = regexp.MustCompile(`^line \d+: `)
