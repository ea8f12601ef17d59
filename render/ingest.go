package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/rgraph/rgraph/graph"
)

// IngestLine is the one-line summary of an ingest: what was stored, with
// the edges by kind.
func IngestLine(d IngestDoc) string {
	verb := "stored"
	if d.Replaced {
		verb = "replaced"
	}
	var kinds []string
	for _, k := range graph.AllKinds {
		if n := d.EdgesByKind[k.String()]; n > 0 {
			kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
		}
	}
	byKind := ""
	if len(kinds) > 0 {
		byKind = " (" + strings.Join(kinds, ", ") + ")"
	}
	return fmt.Sprintf("%s release %s: %s, %s%s, %s, %s",
		verb, d.Release, plurals(d.Services, "service"), plurals(d.Edges, "edge"), byKind,
		plurals(d.Records, "record"), plurals(d.Endpoints, "unmapped endpoint"))
}

// Ingest writes the text summary of an ingest to w: [IngestLine], and a
// line counting what federating the records found, if anything. Warnings
// and conflicts in detail are the caller's to report as they happen.
func Ingest(w io.Writer, d IngestDoc) error {
	if _, err := fmt.Fprintln(w, IngestLine(d)); err != nil {
		return err
	}
	f := d.Federation
	if f == nil || len(f.Duplicates)+len(f.Superseded)+len(f.Conflicts) == 0 {
		return nil
	}
	_, err := fmt.Fprintf(w, "records: %s read twice, %s superseded by newer ones, %s\n",
		plurals(len(f.Duplicates), "record"), plurals(len(f.Superseded), "record"), plurals(len(f.Conflicts), "conflict"))
	return err
}

// RuntimeIngest writes the one-line text summary of a runtime ingest to w.
func RuntimeIngest(w io.Writer, d RuntimeIngestDoc) error {
	_, err := fmt.Fprintf(w, "stored the runtime graph of release %s: %s between %s, from %s\n",
		d.Release, plurals(d.Edges, "edge"), plurals(d.Services, "service"), strings.Join(d.Inputs, ", "))
	return err
}

// plurals is [Plural] for nouns whose plural takes an s.
func plurals(n int, noun string) string { return plural(n, noun, noun+"s") }
