package render

import (
	"fmt"
	"slices"
	"strings"

	"github.com/charmbracelet/lipgloss"

	"github.com/rgraph/rgraph/graph"
)

// Columns of the wide tables whose columns [Terminal.Fields] chooses, as
// their headers read; [FieldNames] gives the names --fields takes.
var (
	// CompareColumns are the columns of [Compare]'s table.
	CompareColumns = []string{"SERVICE", "DEPENDENCY", "WHERE", "RECOVERY KIND", "CALLS"}
	// AttemptColumns are the columns of [Run]'s attempts table.
	AttemptColumns = []string{"VERDICT", "DESTINATION", "SERVICE", "PROCESS", "COUNT", "FAILURE"}
)

// FieldName is the name a column goes by in a field list: its header in
// lower case with spaces as dashes ("RECOVERY KIND" is recovery-kind).
func FieldName(header string) string {
	return strings.ReplaceAll(strings.ToLower(header), " ", "-")
}

// FieldNames returns the field names of a table's header, in its order.
func FieldNames(header []string) []string {
	names := make([]string, len(header))
	for i, h := range header {
		names[i] = FieldName(h)
	}
	return names
}

// SelectFields returns the indexes of header's columns that fields name,
// in the order fields gives them. It fails on an unknown field, naming the
// known ones, and on a field named twice.
func SelectFields(header, fields []string) ([]int, error) {
	names := FieldNames(header)
	idx := make([]int, 0, len(fields))
	for _, f := range fields {
		i := slices.Index(names, strings.ToLower(f))
		if i < 0 {
			return nil, fmt.Errorf("unknown field %q%s", f, graph.Suggest(f, "field", names))
		}
		if slices.Contains(idx, i) {
			return nil, fmt.Errorf("field %q named twice", f)
		}
		idx = append(idx, i)
	}
	return idx, nil
}

// wideTable is [printer.table] for a table whose columns the reader
// chooses with [Terminal.Fields]: only the columns named, in that order.
// An unknown field is the printer's error and writes nothing. cell sees
// the column's index in header, as without a choice.
func (p *printer) wideTable(indent int, header []string, rows [][]string, cell func(row, col int) lipgloss.Style) {
	if len(p.t.Fields) == 0 {
		p.table(indent, header, rows, cell)
		return
	}
	idx, err := SelectFields(header, p.t.Fields)
	if err != nil {
		if p.err == nil {
			p.err = fmt.Errorf("fields: %w", err)
		}
		return
	}
	pick := func(r []string) []string {
		out := make([]string, len(idx))
		for i, c := range idx {
			out[i] = r[c]
		}
		return out
	}
	picked := make([][]string, len(rows))
	for i, r := range rows {
		picked[i] = pick(r)
	}
	var style func(row, col int) lipgloss.Style
	if cell != nil {
		style = func(row, col int) lipgloss.Style { return cell(row, idx[col]) }
	}
	p.table(indent, pick(header), picked, style)
}
