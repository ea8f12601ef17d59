package ingest

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Format says how an [Input] is read.
type Format uint8

// Input formats.
const (
	// FormatAuto picks the format from the file name's extension and, for
	// other names, from the content: a document starting with '{' is JSON
	// (a record, or a catalog when its kind is "catalog"), one whose first
	// line is "---" or starts with "schemaVersion:" or "kind:" is a YAML
	// catalog, anything else is an edge list.
	FormatAuto Format = iota
	// FormatJSON is a run or minimization record, or a catalog in JSON.
	FormatJSON
	// FormatCatalog is a service catalog in YAML or JSON.
	FormatCatalog
	// FormatEdges is an edge list: from<TAB>to[<TAB>kind] per line.
	FormatEdges
)

func (f Format) String() string {
	switch f {
	case FormatJSON:
		return "json"
	case FormatCatalog:
		return "catalog"
	case FormatEdges:
		return "edges"
	}
	return "auto"
}

// Input is one thing to ingest: a file by Path, or bytes in Data.
type Input struct {
	// Name is used in errors and in the release's list of inputs; it
	// defaults to Path.
	Name string
	// Path is read when Data is nil.
	Path   string
	Data   []byte
	Format Format
	// Optional inputs were found by walking a directory or unpacking an
	// archive: a YAML file that is not a catalog (a scenario, say) is
	// skipped instead of refused.
	Optional bool
	// Signature is the record's detached signature, when it came from an
	// archive; for a Path, the file next to it is read instead (see
	// [ParseOptions.TrustedKeys]).
	Signature []byte

	archive bool // Path is an archive still to be unpacked
}

func (in Input) name() string {
	if in.Name != "" {
		return in.Name
	}
	return in.Path
}

// Extensions read when walking a directory, and the format of each.
var walkFormats = map[string]Format{
	".json":  FormatJSON,
	".yaml":  FormatCatalog,
	".yml":   FormatCatalog,
	".tsv":   FormatEdges,
	".edges": FormatEdges,
	".txt":   FormatEdges,
}

// Files turns paths into inputs. A file is taken whatever its name (its
// format is [FormatAuto]); a directory is walked recursively in lexical
// order, skipping names that start with '.', and contributes the files
// ending in .json (records or a catalog), .yaml or .yml (a catalog; other
// YAML documents are skipped) and .tsv, .edges or .txt (edge lists). An
// archive (.tar, .tar.gz, .tgz), named or found in a directory, is read
// as a directory would be (see [Archive]). A file named twice is read
// once. Paths that do not exist are an error.
func Files(paths ...string) ([]Input, error) {
	var out []Input
	seen := map[string]bool{}
	add := func(in Input) {
		key := in.Path
		if abs, err := filepath.Abs(in.Path); err == nil {
			key = abs
		}
		if !seen[key] {
			seen[key] = true
			out = append(out, in)
		}
	}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("reading input: %w", err)
		}
		if !st.IsDir() {
			if isArchive(p) {
				ins, err := Archive(p)
				if err != nil {
					return nil, err
				}
				out = append(out, ins...)
				continue
			}
			add(Input{Path: p})
			continue
		}
		var found []Input
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if path != p && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				return nil
			}
			if f, ok := walkFormats[strings.ToLower(filepath.Ext(path))]; ok {
				found = append(found, Input{Path: path, Format: f, Optional: true})
			} else if isArchive(path) {
				found = append(found, Input{Path: path, Optional: true, archive: true})
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("walking %s: %w", p, err)
		}
		sort.Slice(found, func(i, j int) bool { return found[i].Path < found[j].Path })
		for _, in := range found {
			if in.archive {
				ins, err := Archive(in.Path)
				if err != nil {
					return nil, err
				}
				out = append(out, ins...)
				continue
			}
			add(in)
		}
	}
	return out, nil
}
