package render

import (
	"cmp"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/rgraph/rgraph/graph"
)

// categoryTitles say in a few words what a finding category is, for the
// rules and test names of the CI formats.
var categoryTitles = map[graph.Category]string{
	graph.CategoryNewCycle:        "new bootstrap cycle",
	graph.CategoryNewHardEdge:     "new hard dependency",
	graph.CategoryNewEdge:         "new dependency of another kind",
	graph.CategoryKindChange:      "dependency kind changed",
	graph.CategoryLaterWave:       "service recovers in a later wave",
	graph.CategoryClosureGrowth:   "service needs more services transitively",
	graph.CategoryExpiredBaseline: "baseline entry expired",
}

// ciFinding is an open finding and whether it fails the gate.
type ciFinding struct {
	graph.Finding
	failing bool
}

// ciFindings are r's open findings in report order, each marked failing
// when the gate fails on it.
func (r DiffReport) ciFindings() []ciFinding {
	failing := map[string]bool{}
	for _, f := range r.Failing {
		failing[f.Key] = true
	}
	out := make([]ciFinding, len(r.Open))
	for i, f := range r.Open {
		out[i] = ciFinding{f, failing[f.Key]}
	}
	slices.SortStableFunc(out, func(a, b ciFinding) int {
		return cmp.Or(cmp.Compare(slices.Index(graph.Categories, a.Category), slices.Index(graph.Categories, b.Category)),
			cmp.Compare(a.Key, b.Key))
	})
	return out
}

// DiffJUnit writes r as a JUnit XML report, the input CI systems show as
// test results: one test suite for the diff, one test case per finding
// category (stable names across runs), failed when open findings of that
// category fail the gate, and each open finding in the case's output.
func DiffJUnit(w io.Writer, r DiffReport) error {
	type failure struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	}
	type testcase struct {
		Name      string   `xml:"name,attr"`
		Classname string   `xml:"classname,attr"`
		Failure   *failure `xml:"failure,omitempty"`
		SystemOut string   `xml:"system-out,omitempty"`
	}
	type testsuite struct {
		XMLName  xml.Name   `xml:"testsuite"`
		Name     string     `xml:"name,attr"`
		Tests    int        `xml:"tests,attr"`
		Failures int        `xml:"failures,attr"`
		Cases    []testcase `xml:"testcase"`
	}
	suite := testsuite{Name: fmt.Sprintf("rgraph diff %s %s", r.Old, r.New), Tests: len(graph.Categories)}
	findings := r.ciFindings()
	for _, c := range graph.Categories {
		tc := testcase{Name: string(c) + ": " + categoryTitles[c], Classname: "rgraph.diff"}
		var out, failed []string
		for _, f := range findings {
			if f.Category != c {
				continue
			}
			out = append(out, f.Message+" ("+f.Key+")")
			if f.failing {
				failed = append(failed, f.Message+" ("+f.Key+")")
			}
		}
		if len(failed) > 0 {
			suite.Failures++
			tc.Failure = &failure{Message: fmt.Sprintf("%s fail the gate", Plural(len(failed), "finding", "findings")),
				Type: string(c), Text: strings.Join(failed, "\n")}
		}
		tc.SystemOut = strings.Join(out, "\n")
		suite.Cases = append(suite.Cases, tc)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(suite); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// DiffSARIF writes r as a SARIF 2.1.0 log for code-scanning UIs: one rule
// per finding category, one result per open finding, an error when it
// fails the gate and a warning otherwise, fingerprinted by the finding's
// key (which a baseline accepts). Findings are about releases, not source
// lines, so a result's location is logical: the finding's key, in the
// new release.
func DiffSARIF(w io.Writer, r DiffReport) error {
	type text struct {
		Text string `json:"text"`
	}
	type rule struct {
		ID               string `json:"id"`
		ShortDescription text   `json:"shortDescription"`
	}
	type logical struct {
		Name               string `json:"name"`
		FullyQualifiedName string `json:"fullyQualifiedName"`
		Kind               string `json:"kind"`
	}
	type location struct {
		LogicalLocations []logical `json:"logicalLocations"`
	}
	type result struct {
		RuleID              string            `json:"ruleId"`
		Level               string            `json:"level"`
		Message             text              `json:"message"`
		Locations           []location        `json:"locations"`
		PartialFingerprints map[string]string `json:"partialFingerprints"`
	}
	var rules []rule
	for _, c := range graph.Categories {
		rules = append(rules, rule{ID: string(c), ShortDescription: text{categoryTitles[c]}})
	}
	results := []result{}
	for _, f := range r.ciFindings() {
		level := "warning"
		if f.failing {
			level = "error"
		}
		results = append(results, result{
			RuleID: string(f.Category), Level: level, Message: text{f.Message},
			Locations:           []location{{[]logical{{Name: f.Key, FullyQualifiedName: r.New + "/" + f.Key, Kind: "module"}}}},
			PartialFingerprints: map[string]string{"rgraphFindingKey/v1": f.Key},
		})
	}
	log := map[string]any{
		"$schema": "https://json.schemastore.org/sarif-2.1.0.json",
		"version": "2.1.0",
		"runs": []any{map[string]any{
			"tool":    map[string]any{"driver": map[string]any{"name": "rgraph", "rules": rules}},
			"results": results,
			"properties": map[string]any{
				"old": r.Old, "new": r.New, "accepted": r.Accepted, "gated": r.Gated,
			},
		}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(log)
}

// DiffGitHub writes r as GitHub Actions workflow commands: an ::error
// annotation per open finding that fails the gate, a ::warning per other
// open finding, and a ::notice with the verdict.
func DiffGitHub(w io.Writer, r DiffReport) error {
	var b strings.Builder
	for _, f := range r.ciFindings() {
		level := "warning"
		if f.failing {
			level = "error"
		}
		fmt.Fprintf(&b, "::%s title=%s::%s\n", level, ghProperty("rgraph diff: "+categoryTitles[f.Category]),
			ghData(f.Message+" ("+f.Key+")"))
	}
	fmt.Fprintf(&b, "::notice title=%s::%s\n", ghProperty(fmt.Sprintf("rgraph diff %s %s", r.Old, r.New)), ghData(r.verdict().text()))
	_, err := io.WriteString(w, b.String())
	return err
}

// ghData escapes the message of a workflow command.
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// ghProperty escapes a property value of a workflow command.
func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
