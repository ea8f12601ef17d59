package sandbox

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestStretched(t *testing.T) {
	sc := &Scenario{
		Timeout: 20 * time.Second,
		Runbook: []Step{{Name: "start", Timeout: time.Second}},
		Validation: Validation{
			Retries: 30, Interval: 100 * time.Millisecond, Deadline: 3 * time.Second, Timeout: 2 * time.Second,
		},
	}
	tests := []struct {
		name string
		f    float64
		want *Scenario
	}{
		{"1 changes nothing", 1, sc},
		{"less than 1 changes nothing", 0.5, sc},
		{"10: durations, not the interval; retries", 10, &Scenario{
			Timeout: 200 * time.Second,
			Runbook: []Step{{Name: "start", Timeout: 10 * time.Second}},
			Validation: Validation{
				Retries: 300, Interval: 100 * time.Millisecond, Deadline: 30 * time.Second, Timeout: 20 * time.Second,
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, sc.stretched(tt.f), cmp.AllowUnexported(Scenario{}, Validation{}, Step{})); diff != "" {
				t.Errorf("stretched(%v) (-want +got):\n%s", tt.f, diff)
			}
			if sc.Runbook[0].Timeout != time.Second || sc.Validation.Retries != 30 {
				t.Errorf("stretched(%v) changed the scenario it copied", tt.f)
			}
		})
	}
}
