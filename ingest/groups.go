package ingest

import (
	"strconv"
	"strings"

	"github.com/rgraph/rgraph/graph"
)

// alternativeGroups returns the explicit alternative groups of a graph's
// raw arrays (graph.CSR.Groups): one per minimization record and group
// number, holding the alternative edges of the record's service whose
// evidence cites that record's verdict "alternative (group N)" (see
// candidateEvidence). The group numbers of a record say which candidates
// are alternatives to each other; two records of one service, or two
// groups of one record, are separate groups. Releases stored before the
// graph held groups get them back this way when loaded, since the
// verdicts are part of their evidence.
func alternativeGroups(off []int32, kinds []graph.Kind, ev map[int32][]graph.Evidence) [][]int32 {
	type key struct {
		record string
		group  int
	}
	var out [][]int32
	for u := 0; u+1 < len(off); u++ {
		var index map[key]int // into out, for this source
		for e := off[u]; e < off[u+1]; e++ {
			if kinds[e] != graph.Alternative {
				continue
			}
			for _, x := range ev[e] {
				n, ok := candidateGroup(x.Detail)
				if !ok {
					continue
				}
				k := key{x.Source, n}
				i, seen := index[k]
				if !seen {
					if index == nil {
						index = map[key]int{}
					}
					i = len(out)
					index[k] = i
					out = append(out, nil)
				}
				if l := out[i]; len(l) == 0 || l[len(l)-1] != e {
					out[i] = append(l, e)
				}
			}
		}
	}
	return out
}

// candidatePrefix starts the evidence detail of a minimization verdict
// (candidateEvidence).
const candidatePrefix = "minimization: "

// candidateGroup returns the group number the detail of a minimization
// verdict's evidence cites: "minimization: alternative (group 2); ...".
func candidateGroup(detail string) (int, bool) {
	rest, ok := strings.CutPrefix(detail, candidatePrefix+"alternative (group ")
	if !ok {
		return 0, false
	}
	num, _, ok := strings.Cut(rest, ")")
	n, err := strconv.Atoi(num)
	return n, ok && err == nil && n > 0
}
