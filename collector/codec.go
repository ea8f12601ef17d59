package collector

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"unicode"
)

// ErrMalformed is wrapped by every error [Decode] returns for a document
// that is not a valid record.
var ErrMalformed = errors.New("collector: malformed record")

// DecodeError describes what is wrong with a record document.
type DecodeError struct {
	File  string // file name, or "" when decoding a stream
	Line  int    // 1-based line, 0 when unknown
	Field string // dotted path of the field at fault, "" when unknown
	Msg   string
}

func (e *DecodeError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap makes errors.Is(err, [ErrMalformed]) hold.
func (e *DecodeError) Unwrap() error { return ErrMalformed }

// ReadFile decodes the record in the named file.
func ReadFile(path string) (*Record, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading record: %w", err)
	}
	return Decode(b, path)
}

// Decode parses and validates one record document. name is used in errors.
// Unknown fields, unknown schema versions and invalid values are rejected
// with a [*DecodeError] naming the field.
func Decode(b []byte, name string) (*Record, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, &DecodeError{File: name, Msg: "empty document"}
	}
	var head struct {
		SchemaVersion *int       `json:"schemaVersion"`
		Kind          RecordKind `json:"kind"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, jsonError(b, name, err)
	}
	switch {
	case head.SchemaVersion == nil:
		return nil, &DecodeError{File: name, Field: "schemaVersion", Msg: "missing"}
	case *head.SchemaVersion != SchemaVersion:
		return nil, &DecodeError{File: name, Field: "schemaVersion",
			Msg: fmt.Sprintf("unsupported version %d (this rgraph reads %d)", *head.SchemaVersion, SchemaVersion)}
	case head.Kind != KindRun && head.Kind != KindMinimization:
		return nil, &DecodeError{File: name, Field: "kind",
			Msg: fmt.Sprintf("unknown kind %q (want %q or %q)", head.Kind, KindRun, KindMinimization)}
	}
	var r Record
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, jsonError(b, name, err)
	}
	if dec.More() {
		return nil, &DecodeError{File: name, Msg: "trailing data after the record"}
	}
	if err := r.Validate(); err != nil {
		var de *DecodeError
		if errors.As(err, &de) {
			de.File = name
		}
		return nil, err
	}
	return &r, nil
}

// Validate checks the fields of a record that JSON decoding alone does not.
func (r *Record) Validate() error {
	bad := func(field, format string, args ...any) error {
		return &DecodeError{Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	switch {
	case r.SchemaVersion != SchemaVersion:
		return bad("schemaVersion", "unsupported version %d", r.SchemaVersion)
	case r.Kind != KindRun && r.Kind != KindMinimization:
		return bad("kind", "unknown kind %q", r.Kind)
	case r.ID == "":
		return bad("id", "missing")
	case r.Service == "":
		return bad("service", "missing")
	case strings.ContainsAny(r.Service, " \t:/"):
		return bad("service", "invalid service name %q", r.Service)
	case r.Scenario == "":
		return bad("scenario", "missing")
	}
	if _, err := ParseFaultMode(string(r.FaultMode)); err != nil {
		return bad("faultMode", "%v", err)
	}
	for i, c := range r.Allowlist {
		if err := c.Validate(); err != nil {
			return bad(fmt.Sprintf("allowlist[%d]", i), "%v", err)
		}
	}
	for i, a := range r.Attempts {
		if err := a.validate(); err != nil {
			return bad(fmt.Sprintf("attempts[%d]", i)+err.field, "%s", err.msg)
		}
	}
	if p := r.Provenance; p != nil {
		for _, f := range [][2]string{{"host", p.Host}, {"job", p.Job}, {"shard", p.Shard}, {"tool", p.Tool}} {
			if strings.ContainsFunc(f[1], unicode.IsControl) {
				return bad("provenance."+f[0], "control characters in %q", f[1])
			}
		}
	}
	if (r.Kind == KindMinimization) != (r.Minimization != nil) {
		return bad("minimization", "must be present exactly when kind is %q", KindMinimization)
	}
	if m := r.Minimization; m != nil {
		for i, c := range m.Candidates {
			if err := c.Capability.Validate(); err != nil {
				return bad(fmt.Sprintf("minimization.candidates[%d].capability", i), "%v", err)
			}
			switch c.Class {
			case Hard, Soft, Alternative:
			default:
				return bad(fmt.Sprintf("minimization.candidates[%d].class", i), "unknown class %q (want hard, soft or alternative)", c.Class)
			}
		}
		for i, c := range m.Minimal {
			if err := c.Validate(); err != nil {
				return bad(fmt.Sprintf("minimization.minimal[%d]", i), "%v", err)
			}
		}
		for i, t := range m.Trials {
			for _, k := range t.Allowed {
				if k < 0 || k >= len(m.Candidates) {
					return bad(fmt.Sprintf("minimization.trials[%d].allowed", i), "candidate index %d out of range", k)
				}
			}
		}
	}
	return nil
}

type fieldErr struct{ field, msg string }

func (a Attempt) validate() *fieldErr {
	switch a.Protocol {
	case TCP, UDP:
		if !a.Address.IsValid() {
			return &fieldErr{".address", "missing for " + string(a.Protocol)}
		}
	case Unix:
		if a.Path == "" {
			return &fieldErr{".path", "missing for unix"}
		}
	case DNS:
		if a.DNSName == "" {
			return &fieldErr{".dnsName", "missing for dns"}
		}
	case Raw:
	default:
		return &fieldErr{".protocol", fmt.Sprintf("unknown protocol %q (want tcp, udp, unix, dns or raw)", a.Protocol)}
	}
	switch a.Verdict {
	case Allowed, Denied, Redirected:
	default:
		return &fieldErr{".verdict", fmt.Sprintf("unknown verdict %q (want allowed, denied or redirected)", a.Verdict)}
	}
	return nil
}

// jsonError turns an encoding/json error into a *DecodeError with a line
// number and, where known, the field.
func jsonError(b []byte, name string, err error) error {
	de := &DecodeError{File: name, Msg: err.Error()}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		de.Line = lineOf(b, syn.Offset)
		de.Msg = "invalid JSON: " + syn.Error()
	case errors.As(err, &typ):
		de.Line = lineOf(b, typ.Offset)
		de.Field = typ.Field
		de.Msg = fmt.Sprintf("cannot use %s as %s", typ.Value, typ.Type)
	case errors.Is(err, io.EOF):
		de.Msg = "empty document"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		de.Field = strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		de.Msg = "unknown field"
	default:
		// Errors from UnmarshalText (durations, addresses, ports) carry no
		// offset; strip the json: prefix.
		de.Msg = strings.TrimPrefix(err.Error(), "json: ")
	}
	return de
}

func lineOf(b []byte, off int64) int {
	if off > int64(len(b)) {
		off = int64(len(b))
	}
	return bytes.Count(b[:off], []byte("\n")) + 1
}

// Encode writes r as indented JSON, with attempts sorted and the current
// schema version set.
func Encode(w io.Writer, r *Record) error {
	out := *r
	out.SchemaVersion = SchemaVersion
	out.Attempts = SortAttempts(r.Attempts)
	if out.Attempts == nil {
		out.Attempts = []Attempt{}
	}
	if out.Allowlist == nil {
		out.Allowlist = Allowlist{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(&out)
}

// WriteFile encodes r into the named file, replacing it atomically.
func WriteFile(path string, r *Record) error {
	var buf bytes.Buffer
	if err := Encode(&buf, r); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing record: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing record: %w", err)
	}
	return nil
}

// SortAttempts returns attempts merged by destination, verdict and
// process name (counts summed, earliest first-seen kept) and sorted.
func SortAttempts(in []Attempt) []Attempt {
	if len(in) == 0 {
		return nil
	}
	idx := map[string]int{}
	var out []Attempt
	for _, a := range in {
		k := a.key()
		if i, ok := idx[k]; ok {
			o := &out[i]
			o.Count += a.Count
			if !a.FirstSeen.IsZero() && (o.FirstSeen.IsZero() || a.FirstSeen.Before(o.FirstSeen)) {
				o.FirstSeen, o.Process = a.FirstSeen, a.Process
			}
			if o.Failure == "" {
				o.Failure = a.Failure
			}
			continue
		}
		idx[k] = len(out)
		out = append(out, a)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Less(out[j]) })
	return out
}

// AttemptWriter writes attempts as JSON Lines, one per line, as a
// streaming recorder does.
type AttemptWriter struct{ enc *json.Encoder }

// NewAttemptWriter returns a writer of JSON Lines to w.
func NewAttemptWriter(w io.Writer) *AttemptWriter { return &AttemptWriter{json.NewEncoder(w)} }

// Write writes one attempt.
func (w *AttemptWriter) Write(a Attempt) error { return w.enc.Encode(a) }

// ReadAttempts reads JSON Lines attempts; blank lines are skipped and
// errors name the line.
func ReadAttempts(r io.Reader, name string) ([]Attempt, error) {
	var out []Attempt
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var a Attempt
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&a); err != nil {
			de := jsonError(b, name, err).(*DecodeError)
			de.Line = line
			return nil, de
		}
		if fe := a.validate(); fe != nil {
			return nil, &DecodeError{File: name, Line: line, Field: strings.TrimPrefix(fe.field, "."), Msg: fe.msg}
		}
		out = append(out, a)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return out, nil
}
