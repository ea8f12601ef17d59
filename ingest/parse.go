package ingest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/graph"
)

// Snapshot is everything one release holds: the recovery graph, the
// records it was built from and the catalog that resolved them.
type Snapshot struct {
	Graph *graph.Graph
	// Records are sorted by ID.
	Records []*collector.Record
	// Catalog is nil when no catalog was given.
	Catalog *collector.Catalog
	// Inputs names the inputs read, in the order given.
	Inputs []string
	// Skipped names optional inputs that were not rgraph documents.
	Skipped []string
	// SelfAttempts counts attempts (and candidates) that resolved to the
	// record's own service and so gave no edge.
	SelfAttempts int
	// Warnings are things worth telling the user that do not make the
	// input invalid, such as an allowlist naming a service the catalog
	// does not know.
	Warnings []string
}

// Phase names a stage of an ingest in a [Progress] report.
type Phase string

// Phases of an ingest.
const (
	PhaseRead  Phase = "read"  // reading and parsing inputs
	PhaseBuild Phase = "build" // mapping records and building the graph
	PhaseWrite Phase = "write" // writing the release to the store
)

// Progress reports how far an ingest has come.
type Progress struct {
	Phase Phase
	// File is the input being read, in [PhaseRead].
	File string
	// Files is how many inputs have been read, of FilesTotal.
	Files, FilesTotal int
	// Edges counts edges read so far (edge-list lines and, after
	// [PhaseBuild], edges from records), before duplicates are merged.
	Edges int64
	// Records counts records read so far.
	Records int
	// Bytes counts bytes written to the store so far, in [PhaseWrite].
	Bytes int64
}

// ParseOptions configure [Parse].
type ParseOptions struct {
	// Progress, when set, is called as inputs are read: at the start of
	// every input, every million edge-list lines, and once per phase.
	Progress func(Progress)
}

// Parse reads and validates every input and assembles the snapshot. It
// writes nothing. At most one catalog may be among the inputs. Malformed
// input gives an error wrapping [ErrInvalidInput] that names the file and,
// where known, the line and field; a record's own errors also match
// *collector.DecodeError.
func Parse(ctx context.Context, inputs []Input, opts ParseOptions) (*Snapshot, error) {
	p := parser{ctx: ctx, b: newBuilder(), opts: opts, snap: &Snapshot{}, recordFile: map[string]string{}}
	p.prog.FilesTotal = len(inputs)
	p.prog.Phase = PhaseRead
	for i, in := range inputs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p.prog.File, p.prog.Files = in.name(), i
		p.report()
		if err := p.read(in); err != nil {
			return nil, err
		}
	}
	p.prog.File, p.prog.Files = "", len(inputs)
	p.prog.Phase = PhaseBuild
	p.report()

	recs := p.snap.Records
	sort.Slice(recs, func(i, j int) bool { return recs[i].ID < recs[j].ID })
	m := newMapper(p.snap.Catalog, p.b)
	m.addCatalog()
	before := len(p.b.src)
	for _, r := range recs {
		m.addRecord(r, p.recordFile[r.ID])
	}
	m.finish()
	p.prog.Edges += int64(len(p.b.src) - before)
	p.report()

	g, err := p.b.build()
	if err != nil {
		return nil, fmt.Errorf("building graph: %w", err)
	}
	p.snap.Graph = g
	p.snap.SelfAttempts = m.selfAttempts
	p.snap.Warnings = append(p.snap.Warnings, m.warnings...)
	return p.snap, nil
}

type parser struct {
	ctx        context.Context
	b          *builder
	opts       ParseOptions
	prog       Progress
	snap       *Snapshot
	catalogIn  string
	recordFile map[string]string // record ID -> input name
}

func (p *parser) report() {
	if p.opts.Progress != nil {
		p.opts.Progress(p.prog)
	}
}

func (p *parser) read(in Input) error {
	name := in.name()
	f := in.Format
	if f == FormatAuto {
		f = walkFormats[strings.ToLower(filepath.Ext(in.Path))]
	}
	if f == FormatEdges {
		return p.readEdges(in, name)
	}
	b := in.Data
	if b == nil {
		var err error
		if b, err = os.ReadFile(in.Path); err != nil {
			return fmt.Errorf("reading input: %w", err)
		}
	}
	if f == FormatAuto {
		f = sniff(b)
		if f == FormatEdges {
			in.Data = b
			return p.readEdges(in, name)
		}
	}
	switch f {
	case FormatJSON:
		var head struct {
			Kind string `json:"kind"`
		}
		if json.Unmarshal(b, &head) == nil && head.Kind == collector.CatalogKind {
			return p.readCatalog(b, name)
		}
		r, err := collector.Decode(b, name)
		if err != nil {
			return invalid(err)
		}
		if prev, dup := p.recordFile[r.ID]; dup {
			return invalidf("%s: id: record %q is also in %s", name, r.ID, prev)
		}
		p.recordFile[r.ID] = name
		p.snap.Records = append(p.snap.Records, r)
		p.snap.Inputs = append(p.snap.Inputs, name)
		p.prog.Records++
		return nil
	default: // FormatCatalog
		var head struct {
			Kind string `yaml:"kind"`
		}
		if err := yaml.Unmarshal(b, &head); err != nil {
			if in.Optional {
				return invalidf("%s: parsing YAML: %v", name, err)
			}
			return p.readCatalog(b, name) // for its error
		}
		if head.Kind != collector.CatalogKind {
			if in.Optional {
				p.snap.Skipped = append(p.snap.Skipped, name)
				return nil
			}
			return invalidf("%s: kind: %q is not %q (YAML inputs are service catalogs)", name, head.Kind, collector.CatalogKind)
		}
		return p.readCatalog(b, name)
	}
}

func (p *parser) readCatalog(b []byte, name string) error {
	if p.catalogIn != "" {
		return invalidf("%s: a second catalog (the first is %s); give one catalog per release", name, p.catalogIn)
	}
	c, err := collector.ParseCatalog(b)
	if err != nil {
		return invalidf("%s: %w", name, err)
	}
	p.catalogIn = name
	p.snap.Catalog = c
	p.snap.Inputs = append(p.snap.Inputs, name)
	return nil
}

func (p *parser) readEdges(in Input, name string) error {
	var r io.Reader
	if in.Data != nil {
		r = bytes.NewReader(in.Data)
	} else {
		f, err := os.Open(in.Path)
		if err != nil {
			return fmt.Errorf("reading input: %w", err)
		}
		defer f.Close()
		r = f
	}
	base := p.prog.Edges
	n, err := parseEdges(p.ctx, r, name, p.b, func(edges int64) {
		p.prog.Edges = base + edges
		p.report()
	})
	p.prog.Edges = base + n
	if err != nil {
		return err
	}
	p.snap.Inputs = append(p.snap.Inputs, name)
	return nil
}

// sniff guesses the format of a document whose name says nothing.
func sniff(b []byte) Format {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) // UTF-8 BOM
	if t := bytes.TrimLeft(b, " \t\r\n"); len(t) > 0 && t[0] == '{' {
		return FormatJSON
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, maxLine)
	for sc.Scan() {
		line := sc.Bytes()
		if blankOrComment(line) {
			continue
		}
		if bytes.IndexByte(line, '\t') < 0 &&
			(bytes.Equal(bytes.TrimSpace(line), []byte("---")) ||
				bytes.HasPrefix(line, []byte("schemaVersion:")) ||
				bytes.HasPrefix(line, []byte("kind:"))) {
			return FormatCatalog
		}
		break
	}
	return FormatEdges
}
