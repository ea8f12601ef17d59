package ingest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/rgraph/rgraph/collector/sign"
)

// Limits on what [Archive] unpacks, so that a hostile artifact cannot
// exhaust memory.
const (
	maxArchiveMember = 64 << 20 // one file
	maxArchiveTotal  = 4 << 30  // every file of one archive
)

// isArchive reports whether name ends in .tar, .tar.gz or .tgz.
func isArchive(name string) bool {
	n := strings.ToLower(name)
	return strings.HasSuffix(n, ".tar") || strings.HasSuffix(n, ".tar.gz") || strings.HasSuffix(n, ".tgz")
}

// Archive reads a tar archive, gzip-compressed or not (CI artifacts,
// say), and returns its files as inputs, as [Files] would a directory's:
// the regular files ending in .json, .yaml, .yml, .tsv, .edges or .txt,
// in name order, skipping names with a part that starts with '.'. Each is
// named "ARCHIVE:MEMBER" and carries the signature of the member named
// with [sign.Ext] added, if the archive holds one. Archives inside the
// archive are not opened. A member larger than 64 MiB, or members adding
// up to more than 4 GiB, are an error.
func Archive(name string) ([]Input, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("reading input: %w", err)
	}
	defer f.Close()
	var r io.Reader = f
	if n := strings.ToLower(name); strings.HasSuffix(n, ".gz") || strings.HasSuffix(n, ".tgz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, invalidf("%s: %v", name, err)
		}
		defer zr.Close()
		r = zr
	}
	tr := tar.NewReader(r)
	files := map[string][]byte{}
	var total int64
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, invalidf("%s: %v", name, err)
		}
		member := path.Clean(strings.TrimPrefix(h.Name, "./"))
		if h.Typeflag != tar.TypeReg || hidden(member) {
			continue
		}
		if _, ok := walkFormats[strings.ToLower(path.Ext(member))]; !ok && !strings.HasSuffix(member, sign.Ext) {
			continue
		}
		if h.Size > maxArchiveMember {
			return nil, invalidf("%s:%s: %d bytes, more than the %d an archive member may have", name, member, h.Size, maxArchiveMember)
		}
		if total += h.Size; total > maxArchiveTotal {
			return nil, invalidf("%s: more than %d bytes of files", name, int64(maxArchiveTotal))
		}
		var buf bytes.Buffer
		if _, err := io.CopyN(&buf, tr, h.Size); err != nil {
			return nil, invalidf("%s:%s: %v", name, member, err)
		}
		files[member] = buf.Bytes()
	}
	var members []string
	for m := range files {
		if _, ok := walkFormats[strings.ToLower(path.Ext(m))]; ok {
			members = append(members, m)
		}
	}
	sort.Strings(members)
	out := make([]Input, 0, len(members))
	for _, m := range members {
		out = append(out, Input{
			Name:      name + ":" + m,
			Data:      files[m],
			Format:    walkFormats[strings.ToLower(path.Ext(m))],
			Optional:  true,
			Signature: files[m+sign.Ext],
		})
	}
	return out, nil
}

// hidden reports whether a slash-separated path has a part starting with '.'.
func hidden(p string) bool {
	for _, part := range strings.Split(p, "/") {
		if strings.HasPrefix(part, ".") {
			return true
		}
	}
	return false
}
