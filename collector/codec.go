package collector

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/rgraph/rgraph/collector/decode"
)

// ErrMalformed is matched by every error about a malformed record,
// catalog or capability: each is a [*decode.Error] naming the file, line
// and field.
var ErrMalformed = errors.New("collector: malformed document")

// Decode parses and validates one record document. name is used in errors.
// Unknown fields, unknown schema versions, invalid values and names that
// hold NUL bytes or control characters are rejected with a
// [*decode.Error] naming the line, column and field, which matches
// [ErrMalformed].
func Decode(b []byte, name string) (*Record, error) {
	d := decode.New(name, ErrMalformed)
	var head struct {
		SchemaVersion *int       `json:"schemaVersion"`
		Kind          RecordKind `json:"kind"`
	}
	// The version decides how to read the rest, so it is checked first; a
	// document that does not parse gets its error from d.JSON below.
	if json.Unmarshal(b, &head) == nil {
		var err error
		switch {
		case head.SchemaVersion == nil:
			err = bad("schemaVersion", "missing (want %d)", SchemaVersion)
		case *head.SchemaVersion != SchemaVersion:
			err = bad("schemaVersion", "unsupported version %d (this rgraph reads %d)", *head.SchemaVersion, SchemaVersion)
		case head.Kind != KindRun && head.Kind != KindMinimization:
			err = bad("kind", "unknown kind %q (want %q or %q)", head.Kind, KindRun, KindMinimization)
		}
		if err != nil {
			return nil, d.Place(err, d.JSONPos(b))
		}
	}
	var r Record
	if err := d.JSON(b, &r); err != nil {
		return nil, err
	}
	if err := r.Validate(); err != nil {
		return nil, d.Place(err, d.JSONPos(b))
	}
	return &r, nil
}

// bad returns a [*decode.Error] about field, without a position: the
// decoder that read the document places it.
func bad(field, format string, args ...any) error {
	return &decode.Error{Field: field, Msg: fmt.Sprintf(format, args...), Kind: ErrMalformed}
}

// Validate checks the fields of a record that JSON decoding alone does not.
// Its errors are [*decode.Error]s naming the field, without a position.
func (r *Record) Validate() error {
	switch {
	case r.SchemaVersion != SchemaVersion:
		return bad("schemaVersion", "unsupported version %d", r.SchemaVersion)
	case r.Kind != KindRun && r.Kind != KindMinimization:
		return bad("kind", "unknown kind %q", r.Kind)
	case r.ID == "":
		return bad("id", "missing")
	case r.Service == "":
		return bad("service", "missing")
	case r.Scenario == "":
		return bad("scenario", "missing")
	}
	if err := CheckServiceName(r.Service); err != nil {
		return bad("service", "%v", err)
	}
	for _, f := range []struct{ field, value string }{{"id", r.ID}, {"scenario", r.Scenario}, {"release", r.Release}} {
		if err := decode.CheckName(f.value); err != nil {
			return bad(f.field, "%v", err)
		}
	}
	if _, err := ParseFaultMode(string(r.FaultMode)); err != nil {
		return bad("faultMode", "%v", err)
	}
	for i, c := range r.Allowlist {
		if err := c.Validate(); err != nil {
			return bad(decode.Index("allowlist", i), "%v", err)
		}
	}
	for i, a := range r.Attempts {
		if err := a.validate(); err != nil {
			return bad(decode.Index("attempts", i)+"."+err.field, "%s", err.msg)
		}
	}
	if p := r.Provenance; p != nil {
		for _, f := range [][2]string{{"host", p.Host}, {"job", p.Job}, {"shard", p.Shard}, {"tool", p.Tool}} {
			if err := decode.CheckName(f[1]); err != nil {
				return bad("provenance."+f[0], "%v", err)
			}
		}
	}
	if (r.Kind == KindMinimization) != (r.Minimization != nil) {
		return bad("minimization", "must be present exactly when kind is %q", KindMinimization)
	}
	if m := r.Minimization; m != nil {
		for i, c := range m.Candidates {
			if err := c.Capability.Validate(); err != nil {
				return bad(decode.Index("minimization.candidates", i)+".capability", "%v", err)
			}
			switch c.Class {
			case Hard, Soft, Alternative:
			default:
				return bad(decode.Index("minimization.candidates", i)+".class", "unknown class %q (want hard, soft or alternative)", c.Class)
			}
		}
		for i, c := range m.Minimal {
			if err := c.Validate(); err != nil {
				return bad(decode.Index("minimization.minimal", i), "%v", err)
			}
		}
		for i, t := range m.Trials {
			for _, k := range t.Allowed {
				if k < 0 || k >= len(m.Candidates) {
					return bad(decode.Index("minimization.trials", i)+".allowed", "candidate index %d out of range", k)
				}
			}
		}
	}
	return nil
}

// fieldErr is a problem with one field of an attempt.
type fieldErr struct{ field, msg string }

func (a Attempt) validate() *fieldErr {
	switch a.Protocol {
	case TCP, UDP:
		if !a.Address.IsValid() {
			return &fieldErr{"address", "missing for " + string(a.Protocol)}
		}
	case Unix:
		if a.Path == "" {
			return &fieldErr{"path", "missing for unix"}
		}
	case DNS:
		if a.DNSName == "" {
			return &fieldErr{"dnsName", "missing for dns"}
		}
	case Raw:
	default:
		return &fieldErr{"protocol", fmt.Sprintf("unknown protocol %q (want tcp, udp, unix, dns or raw)", a.Protocol)}
	}
	switch a.Verdict {
	case Allowed, Denied, Redirected:
	default:
		return &fieldErr{"verdict", fmt.Sprintf("unknown verdict %q (want allowed, denied or redirected)", a.Verdict)}
	}
	switch a.Upstream {
	case UpstreamPresent, UpstreamAbsent, UpstreamRefused:
	default:
		return &fieldErr{"upstream", fmt.Sprintf("unknown value %q (want absent or refused, or leave it out)", a.Upstream)}
	}
	// Paths and names become the names of endpoint nodes.
	if err := decode.CheckName(a.Path); err != nil {
		return &fieldErr{"path", err.Error()}
	}
	if err := decode.CheckName(a.DNSName); err != nil {
		return &fieldErr{"dnsName", err.Error()}
	}
	return nil
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
			if o.Upstream != a.Upstream { // absent only when every part says so
				o.Upstream = UpstreamPresent
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
	d := decode.New(name, ErrMalformed)
	var out []Attempt
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		b := sc.Bytes()
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		var a Attempt
		if err := d.JSON(b, &a); err != nil {
			var de *decode.Error
			if errors.As(err, &de) {
				de.Line = line
			}
			return nil, err
		}
		if fe := a.validate(); fe != nil {
			_, col := d.JSONPos(b)(fe.field)
			return nil, d.Errorf(line, col, fe.field, "%s", fe.msg)
		}
		out = append(out, a)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return out, nil
}
