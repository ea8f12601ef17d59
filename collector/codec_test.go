package collector

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
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
	tests := []struct {
		name, doc, want string
	}{
		{"empty", "", "bad.json: empty document"},
		{"syntax", "{\n\"schemaVersion\": 1,\n}", "bad.json:3: invalid JSON"},
		{"missing version", `{"kind":"run"}`, "bad.json: schemaVersion: missing"},
		{"future version", edit(`"schemaVersion": 1`, `"schemaVersion": 9`), "bad.json: schemaVersion: unsupported version 9"},
		{"unknown kind", edit(`"kind": "run"`, `"kind": "walk"`), `bad.json: kind: unknown kind "walk"`},
		{"unknown field", edit(`"scenario"`, `"scenery": "x", "scenario"`), "bad.json: scenery: unknown field"},
		{"wrong type", edit(`"exitCode": 0`, `"exitCode": "zero"`), "outcome.steps.exitCode: cannot use string"},
		{"bad address", edit(`"10.99.0.20"`, `"10.99.0.999"`), "ParseAddr"},
		{"bad duration", edit(`"1.5s"`, `"long"`), `invalid duration "long"`},
		{"missing service", edit(`"service": "web"`, `"service": ""`), "bad.json: service: missing"},
		{"bad fault", edit(`"faultMode": "reject"`, `"faultMode": "explode"`), "bad.json: faultMode: unknown fault mode"},
		{"bad verdict", edit(`"verdict": "denied"`, `"verdict": "maybe"`), `attempts[2].verdict: unknown verdict "maybe"`},
		{"bad protocol", edit(`"protocol": "unix"`, `"protocol": "sctp"`), `attempts[2].protocol: unknown protocol "sctp"`},
		{"bad allowlist", edit(`"service": "config"`, `"service": "config", "dns": "x"`), "allowlist[0]: capability"},
		{"minimization missing", edit(`"kind": "run"`, `"kind": "minimization"`), "minimization: must be present"},
		{"trailing", good.String() + "{}", "invalid JSON: invalid character '{' after top-level value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.doc), "bad.json")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Decode error = %v, want it to contain %q", err, tt.want)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("Decode error %v does not wrap ErrMalformed", err)
			}
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
	_, err = ReadAttempts(strings.NewReader("\n{\"protocol\":\"tcp\",\"verdict\":\"allowed\"}\n"), "a.jsonl")
	if err == nil || !strings.Contains(err.Error(), "a.jsonl:2: address: missing for tcp") {
		t.Errorf("ReadAttempts error = %v", err)
	}
}

func TestWriteFileAtomic(t *testing.T) {
	p := filepath.Join(t.TempDir(), "r.json")
	if err := WriteFile(p, sampleRecord()); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(p); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p + ".tmp"); !os.IsNotExist(err) {
		t.Errorf("temporary file left behind: %v", err)
	}
}

var addrCmp = cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{})
