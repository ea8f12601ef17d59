package render

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rgraph/rgraph/internal/golden"
)

func TestSelectFields(t *testing.T) {
	tests := []struct {
		name    string
		fields  []string
		want    []int
		wantErr string
	}{
		{"all in order", []string{"service", "dependency", "where", "recovery-kind", "calls"}, []int{0, 1, 2, 3, 4}, ""},
		{"reordered subset", []string{"calls", "service"}, []int{4, 0}, ""},
		{"any case", []string{"Recovery-Kind"}, []int{3}, ""},
		{"none", nil, []int{}, ""},
		{"misspelt", []string{"servce"}, nil, `unknown field "servce"; did you mean "service"?`},
		{"header as written", []string{"recovery kind"}, nil, `unknown field "recovery kind"`},
		{"unlike any", []string{"zzzzzz"}, nil, `known fields: "calls", "dependency", "recovery-kind", "service", "where"`},
		{"twice", []string{"where", "where"}, nil, `field "where" named twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SelectFields(CompareColumns, tt.fields)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("SelectFields(%q) = %v, %v; want error containing %q", tt.fields, got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("SelectFields(%q) (-want +got):\n%s", tt.fields, d)
			}
		})
	}
}

// TestFields checks that Terminal.Fields chooses and orders the columns of
// each wide table, keeps each column's colours with it, leaves the other
// tables alone, and leaves plain records unchanged.
func TestFields(t *testing.T) {
	releases := [][]string{
		{"2026-12 (newest)", "2026-12-01 09:30 UTC", "44", "2", "131", "18"},
		{"2026-11", "2026-11-02 10:00 UTC", "41", "1", "120", "16"},
	}
	tests := []struct {
		name   string
		fields []string
		write  func(*bytes.Buffer, Terminal) error
	}{
		{"table", []string{"edges", "name"}, func(b *bytes.Buffer, t Terminal) error {
			return Table(b, t, []string{"NAME", "CREATED", "SERVICES", "ENDPOINTS", "EDGES", "RECORDS"}, releases)
		}},
		{"compare", []string{"calls", "where", "service", "recovery-kind"}, func(b *bytes.Buffer, t Terminal) error {
			return Compare(b, t, fleetComparison())
		}},
		{"run attempts", []string{"destination", "verdict", "failure"}, func(b *bytes.Buffer, t Terminal) error {
			return Run(b, t, recoveredRun())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got bytes.Buffer
			if err := tt.write(&got, Terminal{TTY: true, Color: true, Width: 200, Fields: tt.fields}); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, got.Bytes())

			var all, plain bytes.Buffer
			if err := tt.write(&all, Terminal{}); err != nil {
				t.Fatal(err)
			}
			if err := tt.write(&plain, Terminal{Fields: tt.fields}); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(all.String(), plain.String()); d != "" {
				t.Errorf("plain records changed by Fields (-without +with):\n%s", d)
			}

			if err := tt.write(new(bytes.Buffer), Terminal{TTY: true, Fields: []string{"nope"}}); err == nil || !strings.Contains(err.Error(), `unknown field "nope"`) {
				t.Errorf("unknown field: error %v", err)
			}
		})
	}
}
