package graph

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Category classifies a [Finding]; `rgraph diff --fail-on` selects
// categories that fail a CI gate.
type Category string

// Finding categories.
const (
	// CategoryNewCycle: a cycle that was not one before (key cycle:<id>).
	CategoryNewCycle Category = "new-cycle"
	// CategoryNewHardEdge: an added hard edge, or an edge whose kind became
	// hard (key hard-edge:<from>-><to>).
	CategoryNewHardEdge Category = "new-hard-edge"
	// CategoryNewEdge: an added edge of another kind (key edge:<from>-><to>).
	CategoryNewEdge Category = "new-edge"
	// CategoryKindChange: an edge whose kind changed, except to hard, which
	// is CategoryNewHardEdge (key kind:<from>-><to>).
	CategoryKindChange Category = "kind-change"
	// CategoryLaterWave: a service that recovers in a later wave (key
	// wave:<service>).
	CategoryLaterWave Category = "later-wave"
	// CategoryClosureGrowth: a service that needs more services
	// transitively (key growth:<service>).
	CategoryClosureGrowth Category = "closure-growth"
	// CategoryExpiredBaseline: a baseline entry past its expiry date (key
	// baseline:<key>); package graph/gate makes these.
	CategoryExpiredBaseline Category = "expired-baseline"
)

// Categories lists every category, in the order findings are reported.
var Categories = []Category{
	CategoryNewCycle, CategoryNewHardEdge, CategoryNewEdge, CategoryKindChange,
	CategoryLaterWave, CategoryClosureGrowth, CategoryExpiredBaseline,
}

// ParseCategories parses a comma-separated list of categories
// ("new-cycle,new-hard-edge"); "all" selects every one and "none" or ""
// none.
func ParseCategories(s string) ([]Category, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "all":
		return slices.Clone(Categories), nil
	case "", "none":
		return nil, nil
	}
	var out []Category
	for _, f := range strings.Split(s, ",") {
		c := Category(strings.TrimSpace(strings.ToLower(f)))
		if !slices.Contains(Categories, c) {
			names := make([]string, len(Categories))
			for i, c := range Categories {
				names[i] = string(c)
			}
			return nil, fmt.Errorf("unknown finding category %q (want %s, all or none)", f, strings.Join(names, ", "))
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// Finding is one thing a diff found that a reviewer may want to stop: its
// Key is stable across runs, so a baseline (package graph/gate) can accept
// it.
type Finding struct {
	Key      string   `json:"key"`
	Category Category `json:"category"`
	Message  string   `json:"message"`
}

// Findings turns a delta into findings, sorted by category (in the order
// of [Categories]) and key. Removed edges and services and resolved cycles
// are improvements, not findings.
func Findings(d Delta) []Finding { return FindingsIn(d, Categories) }

// FindingsIn is [Findings] restricted to the categories in cats: at fleet
// scale a delta can hold a million later waves and closure growths, whose
// findings a gate on other categories never needs.
func FindingsIn(d Delta, cats []Category) []Finding {
	out := []Finding{}
	for _, c := range Categories {
		if !slices.Contains(cats, c) {
			continue
		}
		start := len(out)
		add := func(key, format string, args ...any) {
			out = append(out, Finding{Key: key, Category: c, Message: fmt.Sprintf(format, args...)})
		}
		switch c {
		case CategoryNewCycle:
			for _, c := range d.NewCycles {
				add("cycle:"+c.ID, "new bootstrap cycle %s", strings.Join(append(slices.Clone(c.Services), c.Services[0]), " -> "))
			}
		case CategoryNewHardEdge:
			for _, e := range d.AddedEdges {
				if e.Kind == Hard {
					add(hardEdgeKey(e.From, e.To), "new hard dependency %s -> %s", e.From, e.To)
				}
			}
			for _, k := range d.KindChanges {
				if k.New == Hard {
					add(hardEdgeKey(k.From, k.To), "%s -> %s is now hard (was %s)", k.From, k.To, k.Old)
				}
			}
		case CategoryNewEdge:
			for _, e := range d.AddedEdges {
				if e.Kind != Hard {
					add("edge:"+e.From+"->"+e.To, "new %s dependency %s -> %s", e.Kind, e.From, e.To)
				}
			}
		case CategoryKindChange:
			for _, k := range d.KindChanges {
				if k.New != Hard {
					add("kind:"+k.From+"->"+k.To, "%s -> %s is now %s (was %s)", k.From, k.To, k.New, k.Old)
				}
			}
		case CategoryLaterWave:
			out = slices.Grow(out, len(d.LaterWave))
			for _, w := range d.LaterWave {
				add("wave:"+w.Service, "%s recovers in wave %d (was %d)", w.Service, w.New, w.Old)
			}
		case CategoryClosureGrowth:
			out = slices.Grow(out, len(d.ClosureGrowth))
			for _, g := range d.ClosureGrowth {
				est := ""
				if g.Estimated {
					est = " (estimated)"
				}
				add("growth:"+g.Service, "%s needs %d services transitively (was %d, +%d)%s", g.Service, g.New, g.Old, g.New-g.Old, est)
			}
		}
		byKey := func(x, y Finding) int { return cmp.Compare(x.Key, y.Key) }
		if cat := out[start:]; !slices.IsSortedFunc(cat, byKey) {
			slices.SortStableFunc(cat, byKey)
		}
	}
	return out
}

func hardEdgeKey(from, to string) string { return "hard-edge:" + from + "->" + to }

// Select returns the findings whose category is in cats.
func Select(findings []Finding, cats []Category) []Finding {
	out := []Finding{}
	for _, f := range findings {
		if slices.Contains(cats, f.Category) {
			out = append(out, f)
		}
	}
	return out
}

// FilterDelta returns d without the items of the given findings (typically
// those a baseline accepted), so that reports show only what is open.
// Improvements (removed edges and services, resolved cycles) are kept.
func FilterDelta(d Delta, drop []Finding) Delta {
	if len(drop) == 0 {
		return d
	}
	gone := make(map[string]bool, len(drop))
	for _, f := range drop {
		gone[f.Key] = true
	}
	keep := func(key string) bool { return !gone[key] }
	out := d
	out.NewCycles = filter(d.NewCycles, func(c Cycle) bool { return keep("cycle:" + c.ID) })
	out.AddedEdges = filter(d.AddedEdges, func(e Edge) bool {
		return keep("edge:"+e.From+"->"+e.To) && keep(hardEdgeKey(e.From, e.To))
	})
	out.KindChanges = filter(d.KindChanges, func(k KindChange) bool {
		return keep("kind:"+k.From+"->"+k.To) && keep(hardEdgeKey(k.From, k.To))
	})
	out.LaterWave = filter(d.LaterWave, func(w WaveShift) bool { return keep("wave:" + w.Service) })
	out.ClosureGrowth = filter(d.ClosureGrowth, func(g Growth) bool { return keep("growth:" + g.Service) })
	return out
}

func filter[T any](xs []T, keep func(T) bool) []T {
	out := make([]T, 0, len(xs))
	for _, x := range xs {
		if keep(x) {
			out = append(out, x)
		}
	}
	return out
}
