package render

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/rgraph/rgraph/graph"
)

// SchemaVersion is the version of every JSON document render writes. It
// changes only when a field is removed, renamed or changes meaning; new
// fields may appear without a new version.
const SchemaVersion = 1

// ErrPayload is returned by [JSON] for a payload that does not encode as
// a JSON object, or that has a top-level field render reserves.
var ErrPayload = errors.New("render: JSON payload must be an object without schemaVersion or kind fields")

// JSON writes payload as one indented JSON document whose first two
// fields are "schemaVersion" ([SchemaVersion]) and "kind" (what the
// document is: "cycles", "order", "releases", ...), followed by the
// payload's own fields in their declared order. Keys are lowerCamelCase by
// convention (set json tags accordingly); HTML characters are not escaped;
// the document ends with a newline. Sort arrays before passing them in;
// the typed helpers ([CyclesJSON], [OrderJSON], [WhyJSON], [DiffJSON]) do.
func JSON(w io.Writer, kind string, payload any) error {
	body, err := marshal(payload)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", kind, err)
	}
	body = bytes.TrimSpace(body)
	if len(body) < 2 || body[0] != '{' {
		return fmt.Errorf("encoding %s: %w", kind, ErrPayload)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return fmt.Errorf("encoding %s: %w", kind, err)
	}
	if _, ok := fields["schemaVersion"]; ok {
		return fmt.Errorf("encoding %s: %w", kind, ErrPayload)
	}
	if _, ok := fields["kind"]; ok {
		return fmt.Errorf("encoding %s: %w", kind, ErrPayload)
	}
	head, err := marshal(kind)
	if err != nil {
		return err
	}
	var doc bytes.Buffer
	fmt.Fprintf(&doc, `{"schemaVersion":%d,"kind":%s`, SchemaVersion, bytes.TrimSpace(head))
	if rest := bytes.TrimSpace(body[1:]); len(rest) > 1 { // not just "}"
		doc.WriteByte(',')
	}
	doc.Write(body[1:])
	var out bytes.Buffer
	if err := json.Indent(&out, doc.Bytes(), "", "  "); err != nil {
		return fmt.Errorf("encoding %s: %w", kind, err)
	}
	out.WriteByte('\n')
	_, err = w.Write(out.Bytes())
	return err
}

func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// CyclesDoc is the payload of "cycles" documents.
type CyclesDoc struct {
	// Components are the bootstrap cycles, largest first, then by first
	// member. Each has sorted members, an ordered witness cycle and ranked
	// cuts.
	Components []graph.Component `json:"components"`
}

// CyclesJSON writes comps as a "cycles" document:
//
//	{"schemaVersion":1,"kind":"cycles","components":[{"id":…,"members":[…],
//	 "witness":{"id":…,"services":[…],"edges":[{"from","to","kind","evidence"}]},
//	 "cuts":[{"edges":[…],"cost":…,"exact":…}]}]}
func CyclesJSON(w io.Writer, comps []graph.Component) error {
	doc := CyclesDoc{Components: sortedComponents(comps)}
	for i := range doc.Components {
		c := &doc.Components[i]
		c.Witness = normalizedCycle(c.Witness)
		if c.Cuts == nil {
			c.Cuts = []graph.Cut{}
		}
		c.Cycles = append([]graph.Cycle(nil), c.Cycles...)
		for j := range c.Cycles {
			c.Cycles[j] = normalizedCycle(c.Cycles[j])
		}
	}
	return JSON(w, "cycles", doc)
}

func normalizedCycle(c graph.Cycle) graph.Cycle {
	if c.Services == nil {
		c.Services = []string{}
	}
	if c.Edges == nil {
		c.Edges = []graph.Edge{}
	}
	return c
}

// OrderDoc is the payload of "order" documents.
type OrderDoc struct {
	// Waves in recovery order. Each lists every service recovered in it,
	// jumpstart group members included, sorted.
	Waves []WaveDoc `json:"waves"`
	// CriticalPath is the chain that bounds recovery time, in recovery order.
	CriticalPath CriticalPathDoc `json:"criticalPath"`
	// Alternatives says, for each alternative group of a service in the
	// plan, the member the service waits for ("chosen") and why
	// ("reason": earliest-wave, name, outside-cycle or in-cycle); sorted
	// by service, then members.
	Alternatives []graph.Choice `json:"alternatives"`
	// Unowned lists the endpoints no catalog service owns that services in
	// the plan need: not recovered by it, never waited for; each with the
	// services that need it and the records that mention it.
	Unowned []graph.Unowned `json:"unowned"`
	// Runbooks are the steps that bring services back, sorted by service,
	// each step exactly as typed; present when the caller had them.
	Runbooks []Runbook `json:"runbooks,omitempty"`
}

// WaveDoc is one wave of an [OrderDoc].
type WaveDoc struct {
	Index    int           `json:"index"`
	Services []string      `json:"services"`
	Groups   []graph.Group `json:"groups"`
	// OverWidth marks a wave holding a jumpstart group larger than the
	// width asked for (groups are never split).
	OverWidth bool `json:"overWidth"`
}

// CriticalPathDoc is the critical path of an [OrderDoc], with its duration
// in seconds (0 when unknown).
type CriticalPathDoc struct {
	Services        []string `json:"services"`
	DurationSeconds float64  `json:"durationSeconds"`
	Defaulted       []string `json:"defaulted"`
}

// OrderJSON writes o as an "order" document.
func OrderJSON(w io.Writer, o graph.Order, runbooks ...Runbook) error {
	o = normalizedOrder(o)
	doc := OrderDoc{
		Waves: make([]WaveDoc, len(o.Waves)),
		CriticalPath: CriticalPathDoc{
			Services:        o.CriticalPath.Services,
			DurationSeconds: o.CriticalPath.Duration.Seconds(),
			Defaulted:       o.CriticalPath.Defaulted,
		},
	}
	for i, wv := range o.Waves {
		doc.Waves[i] = WaveDoc{Index: wv.Index, Services: wv.Services, Groups: wv.Groups, OverWidth: wv.OverWidth}
	}
	doc.Alternatives, doc.Unowned = o.Alternatives, o.Unowned
	if doc.Alternatives == nil {
		doc.Alternatives = []graph.Choice{}
	}
	if doc.Unowned == nil {
		doc.Unowned = []graph.Unowned{}
	}
	doc.Runbooks = slices.SortedFunc(slices.Values(runbooks), func(a, b Runbook) int { return cmp.Compare(a.Service, b.Service) })
	return JSON(w, "order", doc)
}

// WhyDoc is the payload of "why" documents.
type WhyDoc struct {
	From string `json:"from"`
	To   string `json:"to"`
	// Paths are the chains of needs from From to To, shortest first; empty
	// when From does not need To.
	Paths []graph.Path `json:"paths"`
}

// WhyJSON writes the chains from one service to another as a "why"
// document.
func WhyJSON(w io.Writer, from, to string, paths []graph.Path) error {
	doc := WhyDoc{From: from, To: to, Paths: append([]graph.Path{}, paths...)}
	for i := range doc.Paths {
		if doc.Paths[i].Edges == nil {
			doc.Paths[i].Edges = []graph.Edge{}
		}
	}
	return JSON(w, "why", doc)
}

// DiffDoc is the payload of "diff" documents: the two releases, the
// verdict and every change, each list sorted by name.
type DiffDoc struct {
	Old string `json:"old"`
	New string `json:"new"`
	// Worse is true when the new release has new cycles, new hard
	// dependencies or services in a later wave.
	Worse    bool   `json:"worse"`
	Verdict  string `json:"verdict"`
	Accepted int    `json:"accepted"`
	// Gated says whether a CI gate was asked for; Failing lists the
	// findings that fail it, sorted by category and key.
	Gated   bool            `json:"gated"`
	Failing []graph.Finding `json:"failing"`
	graph.Delta
}

// DiffJSON writes r as a "diff" document: old, new, worse, verdict,
// accepted, gated, failing, then the fields of [graph.Delta] (addedServices,
// removedServices, addedEdges and removedEdges as objects with from, to,
// kind and evidence, kindChanges, newCycles, resolvedCycles, laterWave,
// closureGrowth), every list present and sorted.
func DiffJSON(w io.Writer, r DiffReport) error {
	v := r.verdict()
	d := normalizedDelta(r.Delta)
	for i := range d.NewCycles {
		d.NewCycles[i] = normalizedCycle(d.NewCycles[i])
	}
	for i := range d.ResolvedCycles {
		d.ResolvedCycles[i] = normalizedCycle(d.ResolvedCycles[i])
	}
	failing := append([]graph.Finding{}, r.Failing...)
	slices.SortStableFunc(failing, func(a, b graph.Finding) int {
		return cmp.Or(cmp.Compare(slices.Index(graph.Categories, a.Category), slices.Index(graph.Categories, b.Category)), cmp.Compare(a.Key, b.Key))
	})
	return JSON(w, "diff", DiffDoc{Old: r.Old, New: r.New, Worse: v.worse, Verdict: v.text(), Accepted: r.Accepted,
		Gated: r.Gated, Failing: failing, Delta: d})
}
