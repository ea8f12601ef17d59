package render

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/rgraph/rgraph/graph"
)

func ciReport() DiffReport {
	hard := graph.Finding{Key: "hard-edge:api->db", Category: graph.CategoryNewHardEdge, Message: "new hard dependency api -> db"}
	soft := graph.Finding{Key: "edge:dns->web", Category: graph.CategoryNewEdge, Message: "new soft dependency dns -> web, 50% sure:\nyes"}
	return DiffReport{Old: "r1", New: "r2", Gated: true, Open: []graph.Finding{soft, hard}, Failing: []graph.Finding{hard}}
}

func TestDiffJUnit(t *testing.T) {
	var b bytes.Buffer
	if err := DiffJUnit(&b, ciReport()); err != nil {
		t.Fatal(err)
	}
	var suite struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Cases    []struct {
			Name    string `xml:"name,attr"`
			Failure *struct {
				Type string `xml:"type,attr"`
				Text string `xml:",chardata"`
			} `xml:"failure"`
			Out string `xml:"system-out"`
		} `xml:"testcase"`
	}
	if err := xml.Unmarshal(b.Bytes(), &suite); err != nil {
		t.Fatalf("not XML: %v\n%s", err, b.Bytes())
	}
	if suite.Tests != len(graph.Categories) || len(suite.Cases) != suite.Tests || suite.Failures != 1 {
		t.Fatalf("suite = %d tests, %d cases, %d failures; want one case per category, 1 failure:\n%s", suite.Tests, len(suite.Cases), suite.Failures, b.Bytes())
	}
	for _, c := range suite.Cases {
		failed := c.Failure != nil
		if want := strings.HasPrefix(c.Name, "new-hard-edge:"); failed != want {
			t.Errorf("case %q failed = %v, want %v", c.Name, failed, want)
		}
		if strings.HasPrefix(c.Name, "new-edge:") && !strings.Contains(c.Out, "(edge:dns->web)") {
			t.Errorf("case %q output %q does not list the open finding", c.Name, c.Out)
		}
	}
}

func TestDiffSARIF(t *testing.T) {
	var b bytes.Buffer
	if err := DiffSARIF(&b, ciReport()); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Rules []struct{ ID string } `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID       string            `json:"ruleId"`
				Level        string            `json:"level"`
				Fingerprints map[string]string `json:"partialFingerprints"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b.Bytes(), &log); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 || len(log.Runs[0].Tool.Driver.Rules) != len(graph.Categories) {
		t.Fatalf("SARIF log = %+v, want version 2.1.0, one run, a rule per category", log)
	}
	res := log.Runs[0].Results
	if len(res) != 2 || res[0].RuleID != "new-hard-edge" || res[0].Level != "error" || res[1].Level != "warning" ||
		res[0].Fingerprints["rgraphFindingKey/v1"] != "hard-edge:api->db" {
		t.Errorf("results = %+v, want the failing hard edge as an error first, then the soft edge as a warning", res)
	}
}

func TestDiffGitHub(t *testing.T) {
	var b bytes.Buffer
	if err := DiffGitHub(&b, ciReport()); err != nil {
		t.Fatal(err)
	}
	want := "::error title=rgraph diff%3A new hard dependency::new hard dependency api -> db (hard-edge:api->db)\n" +
		"::warning title=rgraph diff%3A new dependency of another kind::new soft dependency dns -> web, 50%25 sure:%0Ayes (edge:dns->web)\n"
	if !strings.HasPrefix(b.String(), want) || !strings.Contains(b.String(), "::notice title=rgraph diff r1 r2::") {
		t.Errorf("annotations =\n%s\nwant them to begin with\n%s", b.String(), want)
	}
}
