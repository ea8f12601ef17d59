package ingest

import (
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDocsRecords keeps docs/records.md honest: its examples are the test
// fleet's files, and its worked example is what ingesting them gives.
func TestDocsRecords(t *testing.T) {
	b, err := os.ReadFile("../docs/records.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	blocks := map[string][]string{} // language -> fenced blocks in order
	for _, m := range regexp.MustCompile("(?ms)^```(\\w+)\\n(.*?)^```$").FindAllStringSubmatch(doc, -1) {
		blocks[m[1]] = append(blocks[m[1]], m[2])
	}

	same := func(what, got, file string) {
		want := readFixture(t, file)
		if got != want {
			t.Errorf("docs/records.md: the %s differs from testdata/fleet/%s:\n%s", what, file, cmp.Diff(want, got))
		}
	}
	if len(blocks["yaml"]) != 1 || len(blocks["tsv"]) != 1 || len(blocks["json"]) != 2 {
		t.Fatalf("docs/records.md has %d yaml, %d tsv and %d json blocks; want 1, 1 and 2", len(blocks["yaml"]), len(blocks["tsv"]), len(blocks["json"]))
	}
	same("catalog", blocks["yaml"][0], "catalog.yaml")
	same("edge list", blocks["tsv"][0], "legacy.tsv")
	same("run record", blocks["json"][0], "records/run-web-1.json")

	var full struct {
		Minimization any `json:"minimization"`
	}
	if err := json.Unmarshal([]byte(readFixture(t, "records/min-config.json")), &full); err != nil {
		t.Fatal(err)
	}
	var shown any
	if err := json.Unmarshal([]byte(blocks["json"][1]), &shown); err != nil {
		t.Fatalf("docs/records.md: minimization example: %v", err)
	}
	if !reflect.DeepEqual(full.Minimization, shown) {
		t.Errorf("docs/records.md: the minimization example differs from min-config.json:\n%s", cmp.Diff(full.Minimization, shown))
	}

	// The worked example's table: | `from` | `to` | kind | why |
	_, example, ok := strings.Cut(doc, "## Worked example")
	if !ok {
		t.Fatal("docs/records.md has no worked example")
	}
	var documented []string
	row := regexp.MustCompile("(?m)^\\| `([^`]+)` \\| `([^`]+)` \\| (\\w+) \\|")
	for _, m := range row.FindAllStringSubmatch(example, -1) {
		documented = append(documented, m[1]+" -> "+m[2]+" "+m[3])
	}
	sort.Strings(documented)
	if d := cmp.Diff(edgeList(fleetSnapshot(t).Graph), documented); d != "" {
		t.Errorf("docs/records.md: worked example edges (-ingested +documented):\n%s", d)
	}
}
