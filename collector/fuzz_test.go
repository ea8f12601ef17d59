package collector

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/rgraph/rgraph/collector/decode"
)

// fuzzSeeds adds the files matching pattern as seeds; the seed corpus in
// testdata/fuzz adds the hostile ones (NUL bytes, invalid UTF-8, random
// bytes).
func fuzzSeeds(f *testing.F, pattern string) {
	f.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed files match %s", pattern)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// wantPosError fails unless err is a *decode.Error naming file and
// matching ErrMalformed.
func wantPosError(t *testing.T, err error, file string) {
	t.Helper()
	var de *decode.Error
	if !errors.As(err, &de) || de.File != file || !errors.Is(err, ErrMalformed) {
		t.Fatalf("error %q (%T) is not a *decode.Error for %s matching ErrMalformed", err, err, file)
	}
}

// FuzzDecode: decoding a record never panics, every error names the file,
// and what decodes encodes to a record that decodes again.
func FuzzDecode(f *testing.F) {
	fuzzSeeds(f, "../ingest/testdata/fleet/records/*.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Decode(b, "r.json")
		if err != nil {
			wantPosError(t, err, "r.json")
			return
		}
		var buf bytes.Buffer
		if err := Encode(&buf, r); err != nil {
			t.Fatalf("Encode of a decoded record: %v", err)
		}
		if _, err := Decode(buf.Bytes(), "again.json"); err != nil {
			t.Fatalf("a decoded record does not decode after Encode: %v\n%s", err, buf.Bytes())
		}
	})
}

// FuzzParseCatalog: parsing a catalog never panics and every error names
// the file.
func FuzzParseCatalog(f *testing.F) {
	fuzzSeeds(f, "../ingest/testdata/fleet/catalog.yaml")
	fuzzSeeds(f, "../testdata/fleet/catalog.yaml")
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := ParseCatalog(b, "c.yaml"); err != nil {
			wantPosError(t, err, "c.yaml")
		}
	})
}
