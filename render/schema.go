package render

import (
	"cmp"
	"io"
	"slices"
	"time"

	"github.com/rgraph/rgraph/graph"
)

// The JSON documents of the verbs that are not analyses: what cmd fills
// in from ingest, the store and the sandbox drivers, each written by a
// typed helper that sorts its lists and writes empty ones as []. Their
// kinds are listed, with every other document's, in docs/json.md.

// KindCounts returns the number of edges of every kind, keyed by its name;
// every kind is a key, so that scripts need not test for one.
func KindCounts(m map[graph.Kind]int) map[string]int {
	out := make(map[string]int, len(graph.AllKinds))
	for _, k := range graph.AllKinds {
		out[k.String()] = m[k]
	}
	return out
}

// IngestDoc is the payload of "ingest" documents (rgraph ingest -o json).
type IngestDoc struct {
	Release      string         `json:"release"`
	Created      time.Time      `json:"created"`
	Replaced     bool           `json:"replaced"`
	Services     int            `json:"services"`
	Endpoints    int            `json:"endpoints"`
	Edges        int            `json:"edges"`
	EdgesByKind  map[string]int `json:"edgesByKind"`
	Records      int            `json:"records"`
	SelfAttempts int            `json:"selfAttempts"`
	Inputs       []string       `json:"inputs"`
	Skipped      []string       `json:"skipped"`
	Warnings     []string       `json:"warnings"`
	// Federation is present when records were read twice, superseded or
	// disagree.
	Federation *FederationDoc `json:"federation,omitempty"`
}

// FederationDoc says how records from many producers became one release.
type FederationDoc struct {
	Duplicates []DuplicateDoc  `json:"duplicates,omitempty"`
	Superseded []SupersededDoc `json:"superseded,omitempty"`
	Conflicts  []ConflictDoc   `json:"conflicts,omitempty"`
}

// RecordRefDoc names one record of a federation.
type RecordRefDoc struct {
	ID        string       `json:"id"`
	StartedAt time.Time    `json:"startedAt"`
	Recovered bool         `json:"recovered"`
	Origin    graph.Origin `json:"origin"`
}

// DuplicateDoc is a record read more than once, with every input it was
// read from (the first is cited).
type DuplicateDoc struct {
	ID    string   `json:"id"`
	Files []string `json:"files"`
}

// SupersededDoc is a record left out for a newer (or preferred) one.
type SupersededDoc struct {
	Record RecordRefDoc `json:"record"`
	By     string       `json:"by"`
}

// ConflictDoc is a disagreement between records of one scenario and kind
// made for the same release label.
type ConflictDoc struct {
	Service   string         `json:"service"`
	Scenario  string         `json:"scenario"`
	Kind      string         `json:"kind"`
	Release   string         `json:"release,omitempty"`
	Preferred RecordRefDoc   `json:"preferred"`
	Others    []RecordRefDoc `json:"others"`
}

// IngestJSON writes d as an "ingest" document, its name lists sorted.
func IngestJSON(w io.Writer, d IngestDoc) error {
	d.Inputs, d.Skipped, d.Warnings = sortedStrings(d.Inputs), sortedStrings(d.Skipped), sortedStrings(d.Warnings)
	if d.EdgesByKind == nil {
		d.EdgesByKind = KindCounts(nil)
	}
	return JSON(w, "ingest", d)
}

// ReleasesDoc is the payload of "releases" documents (rgraph releases
// -o json): the releases newest first, then by name.
type ReleasesDoc struct {
	Releases []ReleaseDoc `json:"releases"`
}

// ReleaseDoc is one stored release.
type ReleaseDoc struct {
	Name        string         `json:"name"`
	Created     time.Time      `json:"created"`
	Services    int            `json:"services"`
	Endpoints   int            `json:"endpoints"`
	Edges       int            `json:"edges"`
	EdgesByKind map[string]int `json:"edgesByKind"`
	Records     int            `json:"records"`
	// Size is the release's size in the store, in bytes.
	Size int64 `json:"size"`
}

// ReleasesJSON writes rs as a "releases" document, newest first.
func ReleasesJSON(w io.Writer, rs []ReleaseDoc) error {
	rs = slices.Clone(rs)
	slices.SortStableFunc(rs, func(a, b ReleaseDoc) int {
		return cmp.Or(b.Created.Compare(a.Created), cmp.Compare(a.Name, b.Name))
	})
	if rs == nil {
		rs = []ReleaseDoc{}
	}
	return JSON(w, "releases", ReleasesDoc{Releases: rs})
}

// RuntimeDoc is the payload of "runtime" documents (rgraph runtime show
// -o json): the runtime graph stored with a release.
type RuntimeDoc struct {
	Release string    `json:"release"`
	Created time.Time `json:"created"`
	Inputs  []string  `json:"inputs"`
	// Edges are sorted by caller, then callee.
	Edges []RuntimeEdgeDoc `json:"edges"`
}

// RuntimeEdgeDoc is one edge of a runtime graph: From called To Calls
// times (0 when the input gave no count).
type RuntimeEdgeDoc struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Calls uint64 `json:"calls"`
}

// RuntimeJSON writes a release's runtime graph as a "runtime" document.
func RuntimeJSON(w io.Writer, release string, created time.Time, inputs []string, calls []graph.Call) error {
	d := RuntimeDoc{Release: release, Created: created, Inputs: sortedStrings(inputs), Edges: make([]RuntimeEdgeDoc, len(calls))}
	for i, c := range calls {
		d.Edges[i] = RuntimeEdgeDoc{From: c.From, To: c.To, Calls: c.Calls}
	}
	slices.SortFunc(d.Edges, func(a, b RuntimeEdgeDoc) int { return cmp.Or(cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To)) })
	return JSON(w, "runtime", d)
}

// RuntimeIngestDoc is the payload of "runtimeIngest" documents (rgraph
// runtime ingest -o json): what was stored.
type RuntimeIngestDoc struct {
	Release  string    `json:"release"`
	Created  time.Time `json:"created"`
	Inputs   []string  `json:"inputs"`
	Edges    int       `json:"edges"`
	Services int       `json:"services"`
	Size     int64     `json:"size"`
}

// RuntimeIngestJSON writes d as a "runtimeIngest" document.
func RuntimeIngestJSON(w io.Writer, d RuntimeIngestDoc) error {
	d.Inputs = sortedStrings(d.Inputs)
	return JSON(w, "runtimeIngest", d)
}

// GraphDoc is the payload of "graph" documents (rgraph export -o json):
// every node with what the catalog says of it, and every edge with its
// evidence.
type GraphDoc struct {
	Release string       `json:"release"`
	Nodes   []GraphNode  `json:"nodes"`
	Edges   []graph.Edge `json:"edges"`
}

// GraphNode is one node of a [GraphDoc].
type GraphNode struct {
	Name                string         `json:"name"`
	Type                graph.NodeType `json:"type"`
	Owner               string         `json:"owner,omitempty"`
	Tier                string         `json:"tier,omitempty"`
	RecoveryTimeSeconds float64        `json:"recoveryTimeSeconds,omitempty"`
}

// GraphJSON writes g as a "graph" document: nodes in name order, each
// node's edges by target.
func GraphJSON(w io.Writer, release string, g *graph.Graph) error {
	d := GraphDoc{Release: release, Nodes: []GraphNode{}, Edges: []graph.Edge{}}
	for v := int32(0); v < int32(g.Len()); v++ {
		info := g.Info(v)
		d.Nodes = append(d.Nodes, GraphNode{Name: g.Name(v), Type: info.Type, Owner: info.Owner,
			Tier: info.Tier, RecoveryTimeSeconds: info.RecoveryTime.Round(time.Millisecond).Seconds()})
		lo, hi := g.OutRange(v)
		for e := lo; e < hi; e++ {
			d.Edges = append(d.Edges, g.EdgeOf(v, e))
		}
	}
	return JSON(w, "graph", d)
}

// SandboxCheckDoc is the payload of "sandboxCheck" documents (rgraph
// sandbox check -o json): each driver with its requirements in the order
// it checks them.
type SandboxCheckDoc struct {
	Drivers []DriverCheckDoc `json:"drivers"`
}

// DriverCheckDoc is what one sandbox driver needs and whether it has it.
type DriverCheckDoc struct {
	Name    string `json:"name"`
	Default bool   `json:"default"`
	Ready   bool   `json:"ready"`
	// Error is the first missing requirement's sentence.
	Error        string           `json:"error,omitempty"`
	Requirements []RequirementDoc `json:"requirements"`
}

// RequirementDoc is one requirement of a driver; Fix says how to get it
// when it is missing.
type RequirementDoc struct {
	Name     string `json:"name"`
	OK       bool   `json:"ok"`
	Optional bool   `json:"optional"`
	Detail   string `json:"detail"`
	Fix      string `json:"fix,omitempty"`
}

// SandboxCheckJSON writes drivers, in the order given, as a
// "sandboxCheck" document.
func SandboxCheckJSON(w io.Writer, drivers []DriverCheckDoc) error {
	d := SandboxCheckDoc{Drivers: slices.Clone(drivers)}
	if d.Drivers == nil {
		d.Drivers = []DriverCheckDoc{}
	}
	for i := range d.Drivers {
		if d.Drivers[i].Requirements == nil {
			d.Drivers[i].Requirements = []RequirementDoc{}
		}
	}
	return JSON(w, "sandboxCheck", d)
}
