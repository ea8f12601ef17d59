package ingest

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/graph"
)

// A release's snapshot is stored as sections, each a byte stream split
// into chunks (see store.go for keys). The encodings, all integers
// little-endian or unsigned varints (uv):
//
//	names     uv count, count × uv length, then the names' bytes back to back
//	info      uv strings, strings × (uv len, bytes)       owner/tier table
//	          uv entries, entries × (uv node delta, type byte,
//	          uv owner+1, uv tier+1, uv recovery ns)    nodes with any info
//	offsets   (nodes+1) × int32                          CSR row offsets
//	targets   edges × int32                              CSR targets
//	kinds     edges × byte                               graph.Kind
//	evidence  uv entries, entries × (uv edge, uv n, n × 5 × (uv len, bytes)),
//	          then (since store format 3) uv origins, origins × 6 × (uv len, bytes):
//	          the source (record ID) and its origin's file, host, job, shard, signer
//	records   uv count, count × (uv len, record JSON)
//	catalog   catalog JSON (absent without a catalog)
//	mapped    the records as mapped, for ingest --from (incremental.go);
//	          absent in releases stored before store format 3
//	summary   uv graph.SummaryVersion, uv kinds, uv components,
//	          nodes × int32 (Order), components × uv size,
//	          uv loops, loops × uv node, components × uv wave,
//	          components × uv (closure<<1 | estimated):
//	          the graph's summary over graph.DefaultKinds (graph.Summarize);
//	          absent in releases stored before it, which are analysed
//	          without it
const (
	secNames    byte = 'N'
	secInfo     byte = 'I'
	secOffsets  byte = 'O'
	secTargets  byte = 'T'
	secKinds    byte = 'K'
	secEvidence byte = 'E'
	secRecords  byte = 'R'
	secCatalog  byte = 'C'
	secMapped   byte = 'M'
	secSummary  byte = 'S'
)

// sections lists the sections in the order they are written.
var sections = []byte{secNames, secInfo, secOffsets, secTargets, secKinds, secEvidence, secRecords, secCatalog, secMapped, secSummary}

// graphSections are the sections [Store.Load] reads.
var graphSections = []byte{secNames, secInfo, secOffsets, secTargets, secKinds, secEvidence}

// encodeSection writes section sec of snap to w.
func encodeSection(w io.Writer, sec byte, snap *Snapshot) error {
	e := &encoder{w: w}
	c := snap.Graph.CSR()
	switch sec {
	case secNames:
		e.uvarint(uint64(len(c.Names)))
		for _, n := range c.Names {
			e.uvarint(uint64(len(n)))
		}
		for _, n := range c.Names {
			e.raw(n)
		}
	case secInfo:
		encodeInfo(e, c.Info)
	case secOffsets:
		e.int32s(c.Off)
	case secTargets:
		e.int32s(c.Dst)
	case secKinds:
		for _, k := range c.Kinds {
			e.byte(byte(k))
		}
	case secEvidence:
		encodeEvidence(e, c.Evidence)
	case secRecords:
		if snap.contribs != nil {
			e.uvarint(uint64(len(snap.contribs)))
			for _, c := range snap.contribs {
				e.uvarint(uint64(len(c.raw)))
				e.raw(string(c.raw))
			}
			break
		}
		e.uvarint(uint64(len(snap.Records)))
		var buf bytes.Buffer
		for _, r := range snap.Records {
			buf.Reset()
			if err := collector.Encode(&buf, r); err != nil {
				return fmt.Errorf("encoding record %s: %w", r.ID, err)
			}
			e.uvarint(uint64(buf.Len()))
			e.raw(buf.String())
		}
	case secCatalog:
		if snap.Catalog != nil {
			b, err := json.Marshal(snap.Catalog)
			if err != nil {
				return fmt.Errorf("encoding catalog: %w", err)
			}
			e.raw(string(b))
		}
	case secMapped:
		if snap.contribs != nil {
			encodeMapped(e, snap)
		}
	case secSummary:
		encodeSummary(e, graph.Summarize(snap.Graph, graph.DefaultKinds))
	}
	return e.flush()
}

func encodeSummary(e *encoder, sum *graph.Summary) {
	nc := len(sum.Off) - 1
	e.uvarint(graph.SummaryVersion)
	e.uvarint(uint64(sum.Kinds))
	e.uvarint(uint64(nc))
	e.int32s(sum.Order)
	for c := range nc {
		e.uvarint(uint64(sum.Off[c+1] - sum.Off[c]))
	}
	e.uvarint(uint64(len(sum.Loops)))
	for _, v := range sum.Loops {
		e.uvarint(uint64(v))
	}
	for _, w := range sum.Wave {
		e.uvarint(uint64(w))
	}
	for c, n := range sum.Closure {
		x := uint64(n) << 1
		if sum.Estimated[c] {
			x |= 1
		}
		e.uvarint(x)
	}
}

func encodeInfo(e *encoder, info []graph.NodeInfo) {
	idx := map[string]uint64{}
	var table []string
	str := func(s string) uint64 {
		if s == "" {
			return 0
		}
		i, ok := idx[s]
		if !ok {
			table = append(table, s)
			i = uint64(len(table))
			idx[s] = i
		}
		return i
	}
	type entry struct {
		node         int
		typ          graph.NodeType
		owner, tier  uint64
		recoveryTime time.Duration
	}
	var entries []entry
	for v, in := range info {
		if in != (graph.NodeInfo{}) {
			entries = append(entries, entry{v, in.Type, str(in.Owner), str(in.Tier), in.RecoveryTime})
		}
	}
	e.uvarint(uint64(len(table)))
	for _, s := range table {
		e.string(s)
	}
	e.uvarint(uint64(len(entries)))
	prev := 0
	for _, en := range entries {
		e.uvarint(uint64(en.node - prev))
		prev = en.node
		e.byte(byte(en.typ))
		e.uvarint(en.owner)
		e.uvarint(en.tier)
		e.uvarint(uint64(en.recoveryTime))
	}
}

func encodeEvidence(e *encoder, ev map[int32][]graph.Evidence) {
	edges := make([]int32, 0, len(ev))
	for k := range ev {
		edges = append(edges, k)
	}
	slices.Sort(edges)
	e.uvarint(uint64(len(edges)))
	for _, k := range edges {
		e.uvarint(uint64(k))
		e.uvarint(uint64(len(ev[k])))
		for _, x := range ev[k] {
			e.string(x.Source)
			e.string(x.Scenario)
			e.string(x.Process)
			e.string(x.Endpoint)
			e.string(x.Detail)
		}
	}
	// Then the origin of every record cited, once.
	type origin struct {
		source string
		o      *graph.Origin
	}
	var origins []origin
	seen := map[string]bool{}
	for _, k := range edges {
		for _, x := range ev[k] {
			if x.Origin != nil && !seen[x.Source] {
				seen[x.Source] = true
				origins = append(origins, origin{x.Source, x.Origin})
			}
		}
	}
	slices.SortFunc(origins, func(a, b origin) int { return strings.Compare(a.source, b.source) })
	e.uvarint(uint64(len(origins)))
	for _, o := range origins {
		for _, s := range []string{o.source, o.o.File, o.o.Host, o.o.Job, o.o.Shard, o.o.Signer} {
			e.string(s)
		}
	}
}

// encoder writes varints and raw bytes to w through a small buffer.
type encoder struct {
	w   io.Writer
	buf []byte
	err error
}

func (e *encoder) maybeFlush() {
	if len(e.buf) >= 64<<10 {
		_ = e.flush()
	}
}

func (e *encoder) flush() error {
	if e.err == nil && len(e.buf) > 0 {
		_, e.err = e.w.Write(e.buf)
	}
	e.buf = e.buf[:0]
	return e.err
}

func (e *encoder) uvarint(v uint64) {
	e.buf = binary.AppendUvarint(e.buf, v)
	e.maybeFlush()
}

func (e *encoder) byte(b byte) {
	e.buf = append(e.buf, b)
	e.maybeFlush()
}

func (e *encoder) raw(s string) {
	if len(s) > 32<<10 {
		_ = e.flush()
		if e.err == nil {
			_, e.err = io.WriteString(e.w, s)
		}
		return
	}
	e.buf = append(e.buf, s...)
	e.maybeFlush()
}

func (e *encoder) string(s string) {
	e.uvarint(uint64(len(s)))
	e.raw(s)
}

func (e *encoder) int32s(v []int32) {
	for _, x := range v {
		e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(x))
		if len(e.buf) >= 64<<10 {
			_ = e.flush()
		}
	}
}

// decoder reads what encoder wrote, turning any overrun into an error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
	}
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		d.b = nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a count of items of at least min bytes each, bounded by
// what is left, so corrupt data cannot ask for huge allocations.
func (d *decoder) count(min int) int {
	v := d.uvarint()
	if v > uint64(len(d.b)/max(min, 1)) {
		d.fail("count %d exceeds the data", v)
		return 0
	}
	return int(v)
}

func (d *decoder) bytes(n int) []byte {
	if n < 0 || n > len(d.b) {
		d.fail("length %d exceeds the data", n)
		d.b = nil
		return nil
	}
	out := d.b[:n:n]
	d.b = d.b[n:]
	return out
}

func (d *decoder) byte() byte {
	b := d.bytes(1)
	if b == nil {
		return 0
	}
	return b[0]
}

func (d *decoder) string() string { return string(d.bytes(d.count(1))) }

func (d *decoder) done(what string) error {
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes in %s", len(d.b), what)
	}
	if d.err != nil {
		return fmt.Errorf("decoding %s: %w", what, d.err)
	}
	return nil
}

// decodeGraph rebuilds a graph from its sections; nodes and edges are the
// counts the manifest promises. The large sections are decoded as they
// are read (see stream.go).
func decodeGraph(src sectionSource, nodes, edges int) (*graph.Graph, error) {
	var c graph.CSR
	br := bufio.NewReaderSize(nil, 64<<10)

	s := newStream(src, secNames, br)
	n := s.count(1)
	if n != nodes {
		s.fail("%d names for %d nodes", n, nodes)
		n = 0
	}
	lens := make([]int32, n)
	var total int64
	for i := range lens {
		l := s.uvarint()
		if l > uint64(s.left) {
			s.fail("name of %d bytes exceeds the data", l)
			break
		}
		lens[i] = int32(l)
		total += int64(l)
	}
	blob := s.string(int(min(total, s.left+1))) // one allocation for every name
	if err := s.done("names"); err != nil {
		return nil, err
	}
	c.Names = make([]string, n)
	for i, l := range lens {
		c.Names[i], blob = blob[:l], blob[l:]
	}

	b, err := src.readAll(secInfo)
	if err != nil {
		return nil, err
	}
	d := &decoder{b: b}
	table := make([]string, d.count(1)+1)
	for i := 1; i < len(table); i++ {
		table[i] = d.string()
	}
	entries := d.count(5)
	if entries > 0 {
		c.Info = make([]graph.NodeInfo, n)
	}
	v := 0
	str := func(i uint64) string {
		if i >= uint64(len(table)) {
			d.fail("string %d of %d", i, len(table))
			return ""
		}
		return table[i]
	}
	for range entries {
		v += int(d.uvarint())
		typ, owner, tier, rt := d.byte(), d.uvarint(), d.uvarint(), d.uvarint()
		if v < 0 || v >= n || typ > byte(graph.Endpoint) {
			d.fail("info entry for node %d of %d", v, n)
			break
		}
		c.Info[v] = graph.NodeInfo{Type: graph.NodeType(typ), Owner: str(owner), Tier: str(tier), RecoveryTime: time.Duration(rt)}
	}
	if err := d.done("node info"); err != nil {
		return nil, err
	}

	s = newStream(src, secOffsets, br)
	c.Off = s.int32s(n + 1)
	if s.err == nil { // graph.FromCSR checks the rest, but indexes rows before it sees a decrease
		for i, o := range c.Off {
			if o < 0 || int(o) > edges || (i > 0 && o < c.Off[i-1]) {
				s.fail("offset %d of node %d out of order", o, i)
				break
			}
		}
	}
	if err := s.done("offsets"); err != nil {
		return nil, err
	}
	s = newStream(src, secTargets, br)
	c.Dst = s.int32s(edges)
	if err := s.done("targets"); err != nil {
		return nil, err
	}
	s = newStream(src, secKinds, br)
	if int64(edges) <= s.left {
		c.Kinds = make([]graph.Kind, 0, edges)
	}
	s.pieces(int64(edges), func(b []byte) {
		for _, k := range b {
			c.Kinds = append(c.Kinds, graph.Kind(k))
		}
	})
	if err := s.done("kinds"); err != nil {
		return nil, err
	}

	if b, err = src.readAll(secEvidence); err != nil {
		return nil, err
	}
	d = &decoder{b: b}
	if ne := d.count(2); ne > 0 {
		c.Evidence = make(map[int32][]graph.Evidence, ne)
		for range ne {
			e := int32(d.uvarint())
			k := d.count(5)
			list := make([]graph.Evidence, k)
			for j := range list {
				list[j] = graph.Evidence{Source: d.string(), Scenario: d.string(), Process: d.string(), Endpoint: d.string(), Detail: d.string()}
			}
			c.Evidence[e] = list
		}
	}
	if len(d.b) > 0 && d.err == nil { // store format 3: origins
		n := d.count(6)
		origins := make(map[string]*graph.Origin, n)
		for range n {
			src := d.string()
			origins[src] = &graph.Origin{File: d.string(), Host: d.string(), Job: d.string(), Shard: d.string(), Signer: d.string()}
		}
		for _, list := range c.Evidence {
			for j := range list {
				list[j].Origin = origins[list[j].Source]
			}
		}
	}
	if err := d.done("evidence"); err != nil {
		return nil, err
	}

	c.Groups = alternativeGroups(c.Off, c.Kinds, c.Evidence)
	g, err := graph.FromCSR(c)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return g, nil
}

// decodeSummary decodes the summary section of src for a graph of nodes
// nodes; a summary of another graph.SummaryVersion gives nil.
func decodeSummary(src sectionSource, nodes int) (*graph.Summary, error) {
	s := newStream(src, secSummary, bufio.NewReaderSize(nil, 64<<10))
	if v := s.uvarint(); v != graph.SummaryVersion || s.err != nil {
		return nil, s.err
	}
	kinds := s.uvarint()
	if kinds == 0 || kinds&^uint64(graph.AllKindsSet) != 0 {
		s.fail("kind set %#x", kinds)
	}
	nc := s.count(1)
	sum := &graph.Summary{Kinds: graph.KindSet(kinds)}
	sum.Order = s.int32s(nodes)
	sum.Off = make([]int32, nc+1)
	for c := range nc {
		size := s.uvarint()
		if size > uint64(nodes)-uint64(sum.Off[c]) {
			s.fail("component %d of %d nodes", c, size)
			break
		}
		sum.Off[c+1] = sum.Off[c] + int32(size)
	}
	sum.Loops = make([]int32, s.count(1))
	for i := range sum.Loops {
		sum.Loops[i] = int32(min(s.uvarint(), uint64(nodes)))
	}
	sum.Wave = make([]int32, nc)
	for c := range sum.Wave {
		sum.Wave[c] = int32(min(s.uvarint(), uint64(nodes)))
	}
	sum.Closure = make([]int32, nc)
	sum.Estimated = make([]bool, nc)
	for c := range nc {
		x := s.uvarint()
		sum.Closure[c], sum.Estimated[c] = int32(min(x>>1, uint64(math.MaxInt32))), x&1 == 1
	}
	if err := s.done("summary"); err != nil {
		return nil, err
	}
	return sum, nil
}

func decodeRecords(b []byte) ([]*collector.Record, error) {
	d := &decoder{b: b}
	out := make([]*collector.Record, d.count(1))
	for i := range out {
		doc := d.bytes(d.count(1))
		if d.err != nil {
			break
		}
		r, err := collector.Decode(doc, "stored record")
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		out[i] = r
	}
	if err := d.done("records"); err != nil {
		return nil, err
	}
	return out, nil
}

func decodeCatalog(b []byte) (*collector.Catalog, error) {
	if len(b) == 0 {
		return nil, nil
	}
	c, err := collector.ParseCatalog(b, "stored catalog")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return c, nil
}
