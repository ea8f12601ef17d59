package graph

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// ErrInvalidBaseline is wrapped by every error about the content of a
// baseline file (see [BaselineError]).
var ErrInvalidBaseline = errors.New("graph: invalid baseline")

// BaselineError is a problem in a baseline file, with the file, line and
// field it is about. It matches [ErrInvalidBaseline] with errors.Is.
type BaselineError struct {
	File  string
	Line  int    // 1-based; 0 when unknown
	Field string // e.g. "accepted[2].expires"; empty for the whole file
	Msg   string
}

func (e *BaselineError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Field != "" {
		b.WriteString(": " + e.Field)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

// Is reports whether target is [ErrInvalidBaseline].
func (e *BaselineError) Is(target error) bool { return target == ErrInvalidBaseline }

// Baseline is a set of accepted findings, loaded from a file that reviewers
// commit next to the code:
//
//	version: 1
//	accepted:
//	  - key: cycle:ca+1-b379a4f0
//	    reason: jumpstart runbook in INFRA-123
//	    expires: 2027-03-31   # optional
//
// JSON with the same fields is accepted too. A finding whose Key matches an
// entry that has not expired is accepted (see [ApplyBaseline]).
type Baseline struct {
	File    string          `json:"-"`
	Entries []BaselineEntry `json:"accepted"`
}

// BaselineEntry accepts the finding with Key, for Reason, until Expires.
type BaselineEntry struct {
	Key    string `json:"key"`
	Reason string `json:"reason"`
	// Expires is the last day (UTC) the entry holds; zero means never. A
	// date-only expiry holds through the end of that day.
	Expires time.Time `json:"expires,omitzero"`
	// Line is where the entry starts in its file (0 when not loaded).
	Line int `json:"-"`
}

// Expired reports whether the entry no longer holds at now.
func (e BaselineEntry) Expired(now time.Time) bool {
	return !e.Expires.IsZero() && now.After(e.Expires)
}

// keyPrefixes are the finding key forms a baseline may accept.
var keyPrefixes = []string{"cycle:", "hard-edge:", "edge:", "kind:", "wave:", "growth:"}

// LoadBaseline reads and parses the baseline file at path (see
// [ParseBaseline]).
func LoadBaseline(path string) (*Baseline, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading baseline: %w", err)
	}
	return ParseBaseline(path, data)
}

// ParseBaseline parses a baseline (see [Baseline]); file names it in
// errors. Unknown fields, entries without key or reason, malformed keys,
// dates that are not YYYY-MM-DD or RFC 3339, and duplicate keys are
// errors: a [BaselineError] naming the line and field.
func ParseBaseline(file string, data []byte) (*Baseline, error) {
	fail := func(n *yaml.Node, field, format string, args ...any) error {
		line := 0
		if n != nil {
			line = n.Line
		}
		return &BaselineError{File: file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	b := &Baseline{File: file, Entries: []BaselineEntry{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		line := 0
		if _, err := fmt.Sscanf(msg, "line %d:", &line); err == nil {
			msg = strings.TrimSpace(msg[strings.IndexByte(msg, ':')+1:])
		}
		return nil, &BaselineError{File: file, Line: line, Msg: msg}
	}
	if len(doc.Content) == 0 {
		return b, nil // empty file: accepts nothing
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fail(root, "", "want a mapping with version and accepted")
	}
	var seq *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "version":
			if v.Value != "1" {
				return nil, fail(v, "version", "unsupported version %q (want 1)", v.Value)
			}
		case "accepted":
			if v.Kind != yaml.SequenceNode && !(v.Kind == yaml.ScalarNode && v.Tag == "!!null") {
				return nil, fail(v, "accepted", "want a list of entries")
			}
			seq = v
		default:
			return nil, fail(k, k.Value, "unknown field (want version or accepted)")
		}
	}
	if seq == nil {
		return b, nil
	}
	first := map[string]int{}
	for i, item := range seq.Content {
		at := fmt.Sprintf("accepted[%d]", i)
		if item.Kind != yaml.MappingNode {
			return nil, fail(item, at, "want an entry with key and reason")
		}
		e := BaselineEntry{Line: item.Line}
		var keyNode *yaml.Node
		for j := 0; j+1 < len(item.Content); j += 2 {
			k, v := item.Content[j], item.Content[j+1]
			field := at + "." + k.Value
			if v.Kind != yaml.ScalarNode {
				return nil, fail(v, field, "want a single value")
			}
			switch k.Value {
			case "key":
				e.Key, keyNode = strings.TrimSpace(v.Value), v
			case "reason":
				e.Reason = strings.TrimSpace(v.Value)
			case "expires":
				t, err := parseExpiry(v.Value)
				if err != nil {
					return nil, fail(v, field, "%v", err)
				}
				e.Expires = t
			default:
				return nil, fail(k, field, "unknown field (want key, reason or expires)")
			}
		}
		switch {
		case e.Key == "":
			return nil, fail(item, at+".key", "missing")
		case !validKey(e.Key):
			return nil, fail(keyNode, at+".key", "%q is not a finding key (want %s...)", e.Key, strings.Join(keyPrefixes, "..., "))
		case e.Reason == "":
			return nil, fail(item, at+".reason", "missing: say why %s is accepted", e.Key)
		}
		if l, dup := first[e.Key]; dup {
			return nil, fail(keyNode, at+".key", "%q already accepted at line %d", e.Key, l)
		}
		first[e.Key] = keyNode.Line
		b.Entries = append(b.Entries, e)
	}
	return b, nil
}

func validKey(k string) bool {
	for _, p := range keyPrefixes {
		if rest, ok := strings.CutPrefix(k, p); ok && rest != "" {
			return true
		}
	}
	return false
}

// parseExpiry parses a date (through the end of that day, UTC) or an RFC
// 3339 time.
func parseExpiry(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.Add(24*time.Hour - time.Nanosecond), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("want a date like 2027-01-31, got %q", s)
}

// ApplyBaseline splits findings into those still open and those the
// baseline accepts, and returns the baseline's expired entries, sorted by
// key. A finding matched only by an expired entry is open. A nil baseline
// accepts nothing.
func ApplyBaseline(findings []Finding, b *Baseline, now time.Time) (open, accepted []Finding, expired []BaselineEntry) {
	open, accepted, expired = []Finding{}, []Finding{}, []BaselineEntry{}
	valid := map[string]bool{}
	if b != nil {
		for _, e := range b.Entries {
			if e.Expired(now) {
				expired = append(expired, e)
			} else {
				valid[e.Key] = true
			}
		}
	}
	for _, f := range findings {
		if valid[f.Key] {
			accepted = append(accepted, f)
		} else {
			open = append(open, f)
		}
	}
	slices.SortFunc(expired, func(x, y BaselineEntry) int { return strings.Compare(x.Key, y.Key) })
	return open, accepted, expired
}

// ExpiredFindings turns expired baseline entries into findings of
// [CategoryExpiredBaseline], so that a gate can fail on them.
func ExpiredFindings(expired []BaselineEntry) []Finding {
	out := make([]Finding, len(expired))
	for i, e := range expired {
		out[i] = Finding{
			Key:      "baseline:" + e.Key,
			Category: CategoryExpiredBaseline,
			Message:  fmt.Sprintf("baseline entry %s expired on %s (%s)", e.Key, e.Expires.UTC().Format(time.DateOnly), e.Reason),
		}
	}
	return out
}

// WriteBaseline writes entries as a baseline file [ParseBaseline] reads
// back, sorted by key; zero Expires is left out.
func WriteBaseline(w io.Writer, entries []BaselineEntry) error {
	sorted := slices.Clone(entries)
	slices.SortFunc(sorted, func(x, y BaselineEntry) int { return strings.Compare(x.Key, y.Key) })
	var buf bytes.Buffer
	buf.WriteString("# rgraph diff baseline: findings accepted with a reason and an optional expiry.\nversion: 1\naccepted:")
	if len(sorted) == 0 {
		buf.WriteString(" []")
	}
	buf.WriteString("\n")
	for _, e := range sorted {
		fmt.Fprintf(&buf, "  - key: %s\n    reason: %s\n", yamlString(e.Key), yamlString(e.Reason))
		if !e.Expires.IsZero() {
			fmt.Fprintf(&buf, "    expires: %s\n", e.Expires.UTC().Format(time.DateOnly))
		}
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// yamlString quotes s as a YAML double-quoted scalar; Go's escapes are a
// subset of YAML's.
func yamlString(s string) string { return strconv.Quote(s) }
