package ingest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/collector/decode"
	"github.com/rgraph/rgraph/collector/sign"
	"github.com/rgraph/rgraph/graph"
)

// Snapshot is everything one release holds: the recovery graph, the
// records it was built from and the catalog that resolved them.
type Snapshot struct {
	Graph *graph.Graph
	// Records are the records read from the inputs that the release
	// keeps, sorted by ID. With a base release ([Options.From]) the
	// records carried over from it are kept too, but not decoded.
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
	// Federation says which records were read twice, superseded by newer
	// ones, or disagree.
	Federation Federation

	// contribs are the release's records as mapped, sorted by ID; nil
	// for a snapshot built by hand (then Records are all there is).
	contribs []*contribution
	// edgeLists is set when edge lists contributed edges.
	edgeLists bool
}

// recordCount is how many records the release holds.
func (s *Snapshot) recordCount() int {
	if s.contribs != nil {
		return len(s.contribs)
	}
	return len(s.Records)
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
	// Prefer chooses the record a release keeps of each scenario and kind
	// when there are several; the default is [PreferNewest].
	Prefer Prefer
	// KeepAll keeps every record, however many a scenario has, as rgraph
	// did before federation: each gives its edges.
	KeepAll bool
	// TrustedKeys, when set, makes every record need a valid signature by
	// one of its keys ([sign.Keyring.Verify]): the input's Signature, or
	// the file next to its Path named with [sign.Ext] added. Edge lists,
	// and catalogs other than one named outright (not found in a
	// directory or an archive), are refused then: nothing signs them.
	TrustedKeys *sign.Keyring
}

// Parse reads and validates every input and assembles the snapshot. It
// writes nothing. At most one catalog may be among the inputs. Malformed
// input gives an error wrapping [ErrInvalidInput] that names the file and,
// where known, the line and field; it is a [*decode.Error], and a record's
// or catalog's also matches collector.ErrMalformed; a signature's errors
// match the errors of package sign.
//
// Records are federated: one read twice (same ID, same content) counts
// once, two different records with one ID are an error, and of the
// records of one scenario and kind the release keeps one, chosen by
// opts.Prefer, unless opts.KeepAll. Snapshot.Federation reports what was
// left out and which records disagree.
func Parse(ctx context.Context, inputs []Input, opts ParseOptions) (*Snapshot, error) {
	return parse(ctx, inputs, opts, nil)
}

// parse is Parse starting from base, when not nil: its records are
// candidates alongside the inputs', and those it keeps are reused as
// mapped, without decoding.
func parse(ctx context.Context, inputs []Input, opts ParseOptions, b *base) (*Snapshot, error) {
	p := parser{ctx: ctx, b: newBuilder(), opts: opts, snap: &Snapshot{}}
	p.prog.FilesTotal = len(inputs)
	p.prog.Phase = PhaseRead
	if b != nil {
		p.snap.Inputs = append(p.snap.Inputs, "release "+b.name)
	}
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

	cat := p.snap.Catalog
	all := p.entries
	if b != nil {
		remap := b.decoded != nil
		switch {
		case cat == nil:
			cat = b.catalog
			p.snap.Catalog = cat
		case !sameCatalog(cat, b.catalog):
			remap = true
			p.snap.Warnings = append(p.snap.Warnings, fmt.Sprintf("the catalog differs from release %s's: its %d records are mapped again", b.name, len(b.contribs)))
		}
		all = make([]*entry, 0, len(b.contribs)+len(p.entries))
		for _, c := range b.contribs {
			e := &entry{meta: &c.meta, base: c, raw: c.raw, file: "release " + b.name, fromBase: true}
			if remap {
				r, err := b.record(c)
				if err != nil {
					return nil, err
				}
				e.rec, e.base = r, nil
			}
			all = append(all, e)
		}
		all = append(all, p.entries...)
	}
	entries, err := dedupe(all, &p.snap.Federation)
	if err != nil {
		return nil, err
	}
	kept, fed := choose(entries, orPrefer(opts.Prefer), opts.KeepAll)
	p.snap.Federation.Superseded, p.snap.Federation.Conflicts = fed.Superseded, fed.Conflicts

	m := newMapper(cat)
	addCatalog(p.b, cat)
	before := len(p.b.src)
	contribs := make([]*contribution, len(kept))
	for i, e := range kept {
		c := e.base
		if c == nil {
			c = m.mapRecord(e.rec, e.file, e.meta.Origin)
			c.meta, c.raw = *e.meta, e.raw
			if !e.fromBase {
				p.snap.Records = append(p.snap.Records, e.rec)
			}
		}
		contribs[i] = c
		c.apply(p.b)
		p.snap.SelfAttempts += c.self
	}
	recoveryTimes(p.b, cat, contribs)
	p.snap.contribs = contribs
	p.prog.Edges += int64(len(p.b.src) - before)
	p.report()

	g, err := p.b.build()
	if err != nil {
		return nil, fmt.Errorf("building graph: %w", err)
	}
	p.snap.Graph = g
	p.snap.Warnings = append(p.snap.Warnings, m.warnings...)
	return p.snap, nil
}

func orPrefer(p Prefer) Prefer {
	if p == "" {
		return PreferNewest
	}
	return p
}

// dedupe drops records read more than once (same ID, same content),
// noting them in fed, and refuses two different records with one ID.
func dedupe(all []*entry, fed *Federation) ([]*entry, error) {
	byID := make(map[string]*entry, len(all))
	out := make([]*entry, 0, len(all))
	for _, e := range all {
		first, dup := byID[e.meta.ID]
		switch {
		case !dup:
			byID[e.meta.ID] = e
			e.files = []string{e.file}
			out = append(out, e)
		case first.meta.Digest == e.meta.Digest:
			first.files = append(first.files, e.file)
		default:
			return nil, invalidf("%s: id: record %q is also in %s, with different content; two records cannot share an ID", e.file, e.meta.ID, first.file)
		}
	}
	for _, e := range out {
		if len(e.files) > 1 {
			fed.Duplicates = append(fed.Duplicates, Duplicate{ID: e.meta.ID, Files: e.files})
		}
	}
	return out, nil
}

type parser struct {
	ctx       context.Context
	b         *builder
	opts      ParseOptions
	prog      Progress
	snap      *Snapshot
	catalogIn string
	entries   []*entry // records read, in input order
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
	if f == FormatCatalog && p.opts.TrustedKeys != nil && in.Optional {
		return invalidf("%s: with trusted keys, only signed records are read from directories and archives; name the catalog with --catalog", name)
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
			if p.opts.TrustedKeys != nil && in.Optional {
				return invalidf("%s: with trusted keys, only signed records are read from directories and archives; name the catalog with --catalog", name)
			}
			return p.readCatalog(b, name)
		}
		return p.readRecord(in, b, name)
	default: // FormatCatalog
		d := decode.New(name, ErrInvalidInput)
		doc, err := d.YAML(b)
		if err != nil {
			return err
		}
		if kind, n := yamlKind(doc); kind != collector.CatalogKind {
			if in.Optional {
				p.snap.Skipped = append(p.snap.Skipped, name)
				return nil
			}
			return d.NodeErrorf(n, "kind", "%q is not %q (YAML inputs are service catalogs)", kind, collector.CatalogKind)
		}
		return p.readCatalog(b, name)
	}
}

func (p *parser) readCatalog(b []byte, name string) error {
	if p.catalogIn != "" {
		return invalidf("%s: a second catalog (the first is %s); give one catalog per release", name, p.catalogIn)
	}
	c, err := collector.ParseCatalog(b, name)
	if err != nil {
		return invalid(err)
	}
	p.catalogIn = name
	p.snap.Catalog = c
	p.snap.Inputs = append(p.snap.Inputs, name)
	return nil
}

// readRecord decodes, verifies and keeps one record.
func (p *parser) readRecord(in Input, b []byte, name string) error {
	r, err := collector.Decode(b, name)
	if err != nil {
		return invalid(err)
	}
	signer := ""
	if kr := p.opts.TrustedKeys; kr != nil {
		sig := in.Signature
		sigName := name + sign.Ext
		if sig == nil && in.Data == nil && in.Path != "" {
			sig, err = os.ReadFile(in.Path + sign.Ext)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("reading signature: %w", err)
			}
		}
		if signer, err = kr.Verify(b, sig); err != nil {
			if errors.Is(err, sign.ErrUnsigned) {
				return invalidf("%s: %w (no %s)", name, err, sigName)
			}
			return invalidf("%s: %w", name, err)
		}
	}
	raw, digest, err := encodeRecord(r)
	if err != nil {
		return fmt.Errorf("%s: encoding record: %w", name, err)
	}
	meta := newRecordMeta(r, originOf(r, name, signer))
	meta.Digest = digest
	p.entries = append(p.entries, &entry{meta: &meta, rec: r, file: name, raw: raw})
	p.snap.Inputs = append(p.snap.Inputs, name)
	p.prog.Records++
	return nil
}

func (p *parser) readEdges(in Input, name string) error {
	if p.opts.TrustedKeys != nil {
		return invalidf("%s: an edge list cannot be signed; with trusted keys only signed records (and the catalog) are read", name)
	}
	p.snap.edgeLists = true
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

// yamlKind returns the kind field of a YAML document and the node that
// holds it (the document when there is none).
func yamlKind(doc *yaml.Node) (string, *yaml.Node) {
	if doc == nil || doc.Kind != yaml.MappingNode {
		return "", doc
	}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		if k, v := doc.Content[i], doc.Content[i+1]; k.Value == "kind" && v.Kind == yaml.ScalarNode {
			return v.Value, v
		}
	}
	return "", doc
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
