package collector

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/rgraph/rgraph/collector/decode"
	"github.com/rgraph/rgraph/internal/golden"
)

func sampleRecord() *Record {
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	return &Record{
		SchemaVersion: SchemaVersion,
		Kind:          KindRun,
		ID:            "run-1",
		Scenario:      "web/recover",
		Service:       "web",
		FaultMode:     FaultReject,
		Allowlist:     Allowlist{{Service: "config"}, {DNS: "*"}},
		Outcome: Outcome{
			Recovered: true, StartedAt: t0, Duration: Duration(1500 * time.Millisecond),
			Steps:      []StepResult{{Name: "start", Command: "fleet web", Duration: Duration(time.Second)}},
			Validation: StepResult{Name: "validate", Command: "fleet check web", Tries: 2},
		},
		Attempts: []Attempt{
			{Process: Process{PID: 7, Comm: "fleet"}, Protocol: TCP, Address: netip.MustParseAddr("10.99.0.20"), Port: 8080, Verdict: Allowed, Count: 1, FirstSeen: t0},
			{Process: Process{PID: 7, Comm: "fleet"}, Protocol: DNS, Address: netip.MustParseAddr("10.99.0.53"), Port: 53, DNSName: "config.svc.fleet.internal", DNSType: "A", Verdict: Allowed, Count: 2, FirstSeen: t0},
			{Process: Process{PID: 8, Comm: "fleet"}, Protocol: Unix, Path: "/run/fleet/logd.sock", Verdict: Denied, Failure: "eperm", Count: 1, FirstSeen: t0},
		},
		Collection: Collection{Complete: true},
	}
}

func TestRecordRoundTrip(t *testing.T) {
	r := sampleRecord()
	var buf bytes.Buffer
	if err := Encode(&buf, r); err != nil {
		t.Fatal(err)
	}
	got, err := Decode(buf.Bytes(), "x.json")
	if err != nil {
		t.Fatal(err)
	}
	want := *r
	want.Attempts = SortAttempts(r.Attempts)
	if d := cmp.Diff(&want, got, addrCmp); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
}

// TestDecodeErrors checks that every mistake in a record names the file,
// the line and column, and the field, against
// testdata/TestDecodeErrors/*.golden.
func TestDecodeErrors(t *testing.T) {
	var good bytes.Buffer
	if err := Encode(&good, sampleRecord()); err != nil {
		t.Fatal(err)
	}
	edit := func(old, new string) string {
		s := good.String()
		if !strings.Contains(s, old) {
			t.Fatalf("sample does not contain %q", old)
		}
		return strings.Replace(s, old, new, 1)
	}
	tests := []struct{ name, doc string }{
		{"empty", ""},
		{"syntax", "{\n\"schemaVersion\": 1,\n}"},
		{"truncated", good.String()[:200]},
		{"missing_version", `{"kind":"run"}`},
		{"future_version", edit(`"schemaVersion": 1`, `"schemaVersion": 9`)},
		{"version_as_string", edit(`"schemaVersion": 1`, `"schemaVersion": "1"`)},
		{"unknown_kind", edit(`"kind": "run"`, `"kind": "walk"`)},
		{"unknown_field", edit(`"scenario"`, `"scenery": "x", "scenario"`)},
		{"unknown_field_in_attempt", edit(`"protocol": "tcp"`, `"protocol": "tcp", "colour": "red"`)},
		{"wrong_type", edit(`"exitCode": 0`, `"exitCode": "zero"`)},
		{"port_as_string", edit(`"port": 8080`, `"port": "80"`)},
		{"port_out_of_range", edit(`"port": 8080`, `"port": 80800`)},
		{"bad_time", edit(`"firstSeen": "2026-11-01T12:00:00Z"`, `"firstSeen": "yesterday"`)},
		{"bad_address", edit(`"10.99.0.20"`, `"10.99.0.999"`)},
		{"bad_duration", edit(`"1.5s"`, `"long"`)},
		{"missing_id", edit(`"id": "run-1"`, `"id": ""`)},
		{"nul_in_id", edit(`"id": "run-1"`, `"id": "run\u00001"`)},
		{"missing_service", edit(`"service": "web"`, `"service": ""`)},
		{"bad_service", edit(`"service": "web"`, `"service": "web/api"`)},
		{"escape_in_service", edit(`"service": "web"`, `"service": "w\u001beb"`)},
		{"invalid_utf8", edit(`"service": "web"`, "\"service\": \"w\xffeb\"")},
		{"raw_nul", edit(`"service": "web"`, "\"service\": \"w\x00eb\"")},
		{"bad_fault", edit(`"faultMode": "reject"`, `"faultMode": "explode"`)},
		{"bad_verdict", edit(`"verdict": "denied"`, `"verdict": "maybe"`)},
		{"bad_upstream", edit(`"verdict": "denied"`, `"verdict": "denied", "upstream": "gone"`)},
		{"bad_protocol", edit(`"protocol": "unix"`, `"protocol": "sctp"`)},
		{"nul_in_path", edit(`"/run/fleet/logd.sock"`, `"/run/fleet/logd\u0000.sock"`)},
		{"bad_allowlist", edit(`"service": "config"`, `"service": "config", "dns": "x"`)},
		{"minimization_missing", edit(`"kind": "run"`, `"kind": "minimization"`)},
		{"trailing", good.String() + "{}"},
		{"one_line", `{"schemaVersion":1,"kind":"run","id":"r","scenario":"s","service":"web","faultMode":"reject","allowlist":[],"outcome":{"recovered":true,"startedAt":"2026-11-01T12:00:00Z","duration":"1s","steps":[],"validation":{"name":"v","command":"c","exitCode":0,"duration":"1s"}},"attempts":[{"process":{"pid":1,"comm":"x"},"protocol":"tcp","address":"10.0.0.1","port":"80","verdict":"allowed","count":1,"firstSeen":"2026-11-01T12:00:00Z"}],"collection":{"complete":true,"lost":0}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.doc), "bad.json")
			if err == nil {
				t.Fatalf("Decode(%q) = nil error, want one", tt.doc)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("Decode error %v does not match ErrMalformed", err)
			}
			var de *decode.Error
			if !errors.As(err, &de) || de.File != "bad.json" || (de.Line == 0) != (tt.name == "empty") {
				t.Errorf("Decode error %#v is not a *decode.Error naming the file and line", err)
			}
			golden.Check(t, []byte(err.Error()+"\n"))
		})
	}
}

func TestSortAttemptsMerges(t *testing.T) {
	t0 := time.Unix(100, 0).UTC()
	a := Attempt{Process: Process{PID: 2, Comm: "sh"}, Protocol: TCP, Address: netip.MustParseAddr("10.0.0.1"), Port: 80, Verdict: Denied, Count: 2, FirstSeen: t0.Add(time.Second)}
	b := a
	b.Process.PID, b.Count, b.FirstSeen = 1, 3, t0
	got := SortAttempts([]Attempt{a, b})
	if len(got) != 1 || got[0].Count != 5 || got[0].Process.PID != 1 || !got[0].FirstSeen.Equal(t0) {
		t.Errorf("SortAttempts merged to %+v", got)
	}
}

func TestAttemptsJSONLines(t *testing.T) {
	var buf bytes.Buffer
	w := NewAttemptWriter(&buf)
	for _, a := range sampleRecord().Attempts {
		if err := w.Write(a); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ReadAttempts(&buf, "a.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(sampleRecord().Attempts, got, addrCmp); d != "" {
		t.Errorf("JSON Lines round trip (-want +got):\n%s", d)
	}
	for _, tt := range []struct{ in, want string }{
		{"\n{\"protocol\":\"tcp\",\"verdict\":\"allowed\"}\n", "a.jsonl:2:1: address: missing for tcp"},
		{"{\"protocol\":\"dns\",\"verdict\":\"allowed\"}\n\n{\"protocol\":\"tcp\",\"port\":\"80\"}\n", "a.jsonl:1:1: dnsName: missing for dns"},
		{"\n\n{\"protocol\":\"tcp\",\"port\":\"80\"}\n", `a.jsonl:3:26: port: want a whole number from 0 to 65535, got "80"`},
	} {
		_, err = ReadAttempts(strings.NewReader(tt.in), "a.jsonl")
		if err == nil || err.Error() != tt.want || !errors.Is(err, ErrMalformed) {
			t.Errorf("ReadAttempts(%q) error = %v, want %s", tt.in, err, tt.want)
		}
	}
}

var addrCmp = cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{})

// BenchmarkDecode decodes a fleet run record: the cost ingest pays per
// record, and per stored record read back.
func BenchmarkDecode(b *testing.B) {
	doc, err := os.ReadFile("../ingest/testdata/fleet/records/run-web-1.json")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if _, err := Decode(doc, "run-web-1.json"); err != nil {
			b.Fatal(err)
		}
	}
}
