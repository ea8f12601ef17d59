package sandbox

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/rgraph/rgraph/collector/decode"
)

// FuzzParseScenario: parsing a scenario never panics and every error is a
// *decode.Error naming the file and matching ErrInvalidScenario.
func FuzzParseScenario(f *testing.F) {
	f.Add([]byte(minimal))
	for _, p := range []string{"../testdata/fleet/scenarios/web.yaml", "../testdata/fleet/scenarios/logd.yaml"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	path := filepath.Join("testdata", "api.yaml")
	f.Fuzz(func(t *testing.T, b []byte) {
		// A scenario may name files to read (catalog, files[].from);
		// devices and kernel files are not what this target explores.
		for _, dir := range []string{"dev/", "proc/", "sys/"} {
			if bytes.Contains(b, []byte(dir)) {
				t.Skip()
			}
		}
		_, err := ParseScenario(b, path)
		if err == nil {
			return
		}
		var de *decode.Error
		if !errors.As(err, &de) || de.File != path || !errors.Is(err, ErrInvalidScenario) {
			t.Fatalf("error %q (%T) is not a *decode.Error for %s matching ErrInvalidScenario", err, err, path)
		}
	})
}
