package ingest

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"

	"github.com/rgraph/rgraph/graph"
)

// edges reads caller<TAB>callee[<TAB>calls] lines.
func (p *runtimeParser) edges() error {
	sc := bufio.NewScanner(bytes.NewReader(p.src))
	sc.Buffer(nil, maxLine)
	for line := 1; sc.Scan(); line++ {
		text := trimSpace(sc.Bytes())
		if blankOrComment(text) {
			continue
		}
		fields := strings.Split(string(text), "\t")
		if len(fields) < 2 || len(fields) > 3 {
			return invalidf("%s:%d: want caller<TAB>callee[<TAB>calls], got %d field(s) (fields are separated by tabs)", p.name, line, len(fields))
		}
		from, to := strings.TrimSpace(fields[0]), strings.TrimSpace(fields[1])
		switch {
		case from == "":
			return invalidf("%s:%d: caller: empty", p.name, line)
		case to == "":
			return invalidf("%s:%d: callee: empty", p.name, line)
		}
		var n uint64 // unknown
		if len(fields) == 3 && strings.TrimSpace(fields[2]) != "" {
			var err error
			if n, err = strconv.ParseUint(strings.TrimSpace(fields[2]), 10, 64); err != nil {
				return invalidf("%s:%d: calls: want a non-negative integer, got %q", p.name, line, strings.TrimSpace(fields[2]))
			}
		}
		p.out = append(p.out, graph.Call{From: from, To: to, Calls: n})
	}
	if err := sc.Err(); err != nil {
		return invalidf("%s: %v", p.name, err)
	}
	return nil
}
