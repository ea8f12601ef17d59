package graph

import (
	"reflect"
	"testing"
)

func TestSuggest(t *testing.T) {
	known := []string{"web", "db", "dns", "scheduler", "config", "2026-10", "2026-11"}
	tests := []struct {
		name, want string
	}{
		{"Web", `; did you mean "web"?`},
		{"wbe", `; did you mean "web"?`},
		{"schedular", `; did you mean "scheduler"?`},
		{"sched", `; did you mean "scheduler"?`},
		{"2026-1", `; did you mean "2026-10" or "2026-11"?`},
		{"zzzzzz", `; known services: "2026-10", "2026-11", "config", "db", "dns", "scheduler", "web"`},
	}
	for _, tt := range tests {
		if got := Suggest(tt.name, "service", known); got != tt.want {
			t.Errorf("Suggest(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
	if got := Suggest("x", "release", nil); got != "" {
		t.Errorf("Suggest with nothing known = %q, want empty", got)
	}
	if got := Closest("DB", []string{"db", "dB", "dbs"}); !reflect.DeepEqual(got, []string{"db", "dB"}) {
		t.Errorf("Closest(DB) = %q, want the two equal ignoring case only", got)
	}
}

func TestUnknownServiceSuggests(t *testing.T) {
	b := NewBuilder(2, 1)
	b.AddEdge("web", "db", Hard)
	_, err := Why(b.Build(), "web", "Db", WhyOptions{Kinds: Kinds(Hard)})
	if err == nil || err.Error() != `unknown service "Db"; did you mean "db"?` {
		t.Errorf("Why(web, Db) = %v, want the unknown service with a suggestion", err)
	}
}
