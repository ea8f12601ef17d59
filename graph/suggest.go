package graph

import (
	"fmt"
	"sort"
	"strings"
)

// Closest returns the names in known that name was most likely meant to
// be: those equal to it ignoring case, else those within a small edit
// distance (a third of its length, at least 1) or that it is a prefix of,
// nearest first. It returns none when nothing is close.
func Closest(name string, known []string) []string {
	type near struct {
		name string
		d    int
	}
	var out []near
	lower := strings.ToLower(name)
	limit := max(1, len([]rune(name))/3)
	for _, k := range known {
		kl := strings.ToLower(k)
		switch d := editDistance(lower, kl); {
		case kl == lower:
			out = append(out, near{k, -1})
		case d <= limit:
			out = append(out, near{k, d})
		case len(lower) >= 3 && strings.HasPrefix(kl, lower):
			out = append(out, near{k, limit + 1})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].d < out[j].d })
	if len(out) > 0 && out[0].d < 0 {
		n := 1
		for n < len(out) && out[n].d < 0 {
			n++
		}
		out = out[:n]
	}
	names := make([]string, len(out))
	for i, n := range out {
		names[i] = n.name
	}
	return names
}

// Suggest is the end of an error about name, which is not among known:
// "; did you mean ..." with the closest names, else the known names, up
// to 10 of them; what names them (service, release) is what.
func Suggest(name, what string, known []string) string {
	if c := Closest(name, known); len(c) > 0 {
		return "; did you mean " + quoteOr(c, 3) + "?"
	}
	if len(known) == 0 {
		return ""
	}
	sorted := append([]string(nil), known...)
	sort.Strings(sorted)
	return fmt.Sprintf("; known %ss: %s", what, quoteList(sorted, 10))
}

// quoteOr quotes up to max names joined by "or".
func quoteOr(names []string, max int) string {
	if len(names) > max {
		names = names[:max]
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// editDistance is the optimal string alignment distance between a and b
// in runes: insertions, deletions, substitutions and transpositions of
// adjacent runes ("wbe" is one from "web").
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	rows := [3][]int{make([]int, len(rb)+1), make([]int, len(rb)+1), make([]int, len(rb)+1)}
	for j := range rows[0] {
		rows[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		pp, prev, cur := rows[(i+1)%3], rows[(i+2)%3], rows[i%3]
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], pp[j-2]+1)
			}
		}
	}
	return rows[len(ra)%3][len(rb)]
}
