package gate

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

	"github.com/rgraph/rgraph/collector/decode"
	"github.com/rgraph/rgraph/graph"
	"github.com/rgraph/rgraph/internal/atomicfile"
)

// ErrInvalidBaseline is matched by every error about the content of a
// baseline file: a *decode.Error naming the file, line and field.
var ErrInvalidBaseline = errors.New("gate: invalid baseline")

// Baseline is a set of accepted findings, loaded from a file that reviewers
// commit next to the code (see the package documentation). A finding whose
// Key matches an entry that has not expired is accepted (see [Apply]).
type Baseline struct {
	File    string  `json:"-"`
	Entries []Entry `json:"accepted"`
}

// Entry accepts the finding with Key, for Reason, until Expires.
type Entry struct {
	Key    string `json:"key"`
	Reason string `json:"reason"`
	// Expires is the last day (UTC) the entry holds; zero means never. A
	// date-only expiry holds through the end of that day.
	Expires time.Time `json:"expires,omitzero"`
	// Line is where the entry starts in its file (0 when not loaded).
	Line int `json:"-"`
}

// Expired reports whether the entry no longer holds at now.
func (e Entry) Expired(now time.Time) bool {
	return !e.Expires.IsZero() && now.After(e.Expires)
}

// keyPrefixes are the finding key forms a baseline may accept, with the
// category of the findings that have them.
var keyPrefixes = []struct {
	prefix   string
	category graph.Category
}{
	{"cycle:", graph.CategoryNewCycle},
	{"hard-edge:", graph.CategoryNewHardEdge},
	{"edge:", graph.CategoryNewEdge},
	{"kind:", graph.CategoryKindChange},
	{"wave:", graph.CategoryLaterWave},
	{"growth:", graph.CategoryClosureGrowth},
}

// LoadBaseline reads and parses the baseline file at path (see
// [ParseBaseline]).
func LoadBaseline(path string) (*Baseline, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading baseline: %w", err)
	}
	return ParseBaseline(path, data)
}

// ParseBaseline parses a baseline; file names it in errors. Text that is
// not UTF-8, unknown fields, entries without key or reason, malformed
// keys, dates that are not YYYY-MM-DD or RFC 3339, and duplicate keys are
// errors naming the line and field, matching [ErrInvalidBaseline]. An
// empty file accepts nothing.
func ParseBaseline(file string, data []byte) (*Baseline, error) {
	d := decode.New(file, ErrInvalidBaseline)
	b := &Baseline{File: file, Entries: []Entry{}}
	root, err := d.YAML(data)
	if err != nil {
		return nil, err
	}
	if root == nil {
		return b, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, d.NodeErrorf(root, "", "want a mapping with version and accepted")
	}
	var items []*yaml.Node
	_, err = d.Fields(root, "", map[string]decode.Field{
		"version": func(n *yaml.Node, path string) error {
			if v, err := d.Scalar(n, path); err != nil || v != "1" {
				return d.NodeErrorf(n, path, "unsupported version %q (want 1)", n.Value)
			}
			return nil
		},
		"accepted": func(n *yaml.Node, path string) error {
			if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
				return nil
			}
			if n.Kind != yaml.SequenceNode {
				return d.NodeErrorf(n, path, "want a list of entries, got %s", decode.KindName(n))
			}
			items = n.Content
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	first := map[string]int{}
	for i, item := range items {
		at := decode.Index("accepted", i)
		e := Entry{Line: item.Line}
		var expires string
		seen, err := d.Fields(item, at, map[string]decode.Field{
			"key":     d.String(&e.Key),
			"reason":  d.String(&e.Reason),
			"expires": d.String(&expires),
		})
		if err != nil {
			return nil, err
		}
		e.Key, e.Reason = strings.TrimSpace(e.Key), strings.TrimSpace(e.Reason)
		keyAt := item
		if k := seen["key"]; k != nil {
			keyAt = k
		}
		switch {
		case e.Key == "":
			return nil, d.NodeErrorf(item, at+".key", "missing")
		case !validKey(e.Key):
			return nil, d.NodeErrorf(keyAt, at+".key", "%q is not a finding key (want %s...)", e.Key, keyForms())
		case e.Reason == "":
			return nil, d.NodeErrorf(item, at+".reason", "missing: say why %s is accepted", e.Key)
		}
		if err := decode.CheckName(e.Key); err != nil {
			return nil, d.NodeErrorf(keyAt, at+".key", "%v", err)
		}
		if expires != "" {
			if e.Expires, err = parseExpiry(expires); err != nil {
				return nil, d.NodeErrorf(seen["expires"], at+".expires", "%v", err)
			}
		}
		if l, dup := first[e.Key]; dup {
			return nil, d.NodeErrorf(keyAt, at+".key", "%q already accepted at line %d", e.Key, l)
		}
		first[e.Key] = keyAt.Line
		b.Entries = append(b.Entries, e)
	}
	return b, nil
}

// keyForms lists the key prefixes for messages.
func keyForms() string {
	forms := make([]string, len(keyPrefixes))
	for i, p := range keyPrefixes {
		forms[i] = p.prefix
	}
	return strings.Join(forms, "..., ")
}

func validKey(k string) bool {
	_, ok := keyCategory(k)
	return ok
}

// keyCategory returns the category of the findings with key k.
func keyCategory(k string) (graph.Category, bool) {
	for _, p := range keyPrefixes {
		if rest, ok := strings.CutPrefix(k, p.prefix); ok && rest != "" {
			return p.category, true
		}
	}
	return "", false
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

// Apply splits findings into those still open and those the baseline
// accepts, and returns the baseline's expired entries, sorted by key. A
// finding matched only by an expired entry is open. A nil baseline accepts
// nothing.
func Apply(findings []graph.Finding, b *Baseline, now time.Time) (open, accepted []graph.Finding, expired []Entry) {
	open, accepted, expired = []graph.Finding{}, []graph.Finding{}, []Entry{}
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
	slices.SortFunc(expired, func(x, y Entry) int { return strings.Compare(x.Key, y.Key) })
	return open, accepted, expired
}

// ExpiredFindings turns expired baseline entries into findings of
// [graph.CategoryExpiredBaseline], so that a gate can fail on them.
func ExpiredFindings(expired []Entry) []graph.Finding {
	out := make([]graph.Finding, len(expired))
	for i, e := range expired {
		out[i] = graph.Finding{
			Key:      "baseline:" + e.Key,
			Category: graph.CategoryExpiredBaseline,
			Message:  fmt.Sprintf("baseline entry %s expired on %s (%s)", e.Key, e.Expires.UTC().Format(time.DateOnly), e.Reason),
		}
	}
	return out
}

// WriteBaseline writes entries as a baseline file [ParseBaseline] reads
// back, sorted by key; zero Expires is left out.
func WriteBaseline(w io.Writer, entries []Entry) error {
	sorted := slices.Clone(entries)
	slices.SortFunc(sorted, func(x, y Entry) int { return strings.Compare(x.Key, y.Key) })
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

// WriteBaselineFile writes findings to path as a baseline to start from,
// each entry with a reason to be edited by whoever accepts it; findings
// about expired entries are left out. The file is replaced atomically.
func WriteBaselineFile(path string, findings []graph.Finding, release string) error {
	entries := make([]Entry, 0, len(findings))
	for _, f := range findings {
		if f.Category == graph.CategoryExpiredBaseline {
			continue
		}
		entries = append(entries, Entry{Key: f.Key, Reason: fmt.Sprintf("accepted as of release %s: %s", release, f.Message)})
	}
	var buf bytes.Buffer
	if err := WriteBaseline(&buf, entries); err != nil {
		return fmt.Errorf("writing baseline %s: %w", path, err)
	}
	if err := atomicfile.Write(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing baseline: %w", err)
	}
	return nil
}
