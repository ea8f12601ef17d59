package decode

import (
	"fmt"
	"strings"
)

// Error is a problem at a position in an input file. Its text is
// "FILE:LINE: FIELD: MSG", with ":COL" after the line when the column is
// known and the parts that are unknown left out.
type Error struct {
	// File names the input as the caller gave it; empty when a value is
	// decoded outside any file.
	File string
	// Line is 1-based; 0 when unknown.
	Line int
	// Col is the 1-based byte column, 0 when unknown. JSON errors carry
	// one (a record may be a single long line); YAML errors do not.
	Col int
	// Field is the path of the field at fault, such as
	// "attempts[0].port"; empty for the document as a whole.
	Field string
	// Msg says what was wanted and what was got.
	Msg string
	// Kind is the sentinel the error matches with errors.Is; nil for none.
	Kind error
	// Err is the cause, if any: a file that could not be read, or the
	// error of a document this one names.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		if e.File == "" {
			b.WriteString("line ")
		} else {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%d", e.Line)
		if e.Col > 0 {
			fmt.Fprintf(&b, ":%d", e.Col)
		}
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns Kind and Err, so that errors.Is matches the sentinel and
// errors.As finds the cause.
func (e *Error) Unwrap() []error {
	var out []error
	if e.Kind != nil {
		out = append(out, e.Kind)
	}
	if e.Err != nil {
		out = append(out, e.Err)
	}
	return out
}

// Join appends key to a field path: Join("", "a") is "a", Join("a", "b")
// is "a.b".
func Join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Index appends an index to a field path: Index("attempts", 2) is
// "attempts[2]".
func Index(path string, i int) string {
	return fmt.Sprintf("%s[%d]", path, i)
}

// step is one step of a field path: a key, or an index when key is empty
// and index >= 0.
type step struct {
	key   string
	index int
}

// splitPath splits "a.b[2].c" into its steps. A malformed index ends the
// path there.
func splitPath(path string) []step {
	var out []step
	for path != "" {
		switch path[0] {
		case '.':
			path = path[1:]
		case '[':
			end := strings.IndexByte(path, ']')
			if end < 0 {
				return out
			}
			i := 0
			for _, c := range path[1:end] {
				if c < '0' || c > '9' {
					return out
				}
				i = i*10 + int(c-'0')
			}
			out = append(out, step{index: i})
			path = path[end+1:]
		default:
			end := strings.IndexAny(path, ".[")
			if end < 0 {
				end = len(path)
			}
			out = append(out, step{key: path[:end], index: -1})
			path = path[end:]
		}
	}
	return out
}
