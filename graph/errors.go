package graph

import (
	"errors"
	"fmt"
	"strings"
)

// ErrUnknownService is wrapped by errors for a service name the graph does
// not have (see [UnknownServiceError]).
var ErrUnknownService = errors.New("graph: unknown service")

// ErrNoPath is wrapped by the error [Why] returns when the first service
// does not need the second, even transitively (see [NoPathError]).
var ErrNoPath = errors.New("graph: no path")

// UnknownServiceError names the services a graph does not have. It
// matches [ErrUnknownService] with errors.Is.
type UnknownServiceError struct {
	Names []string
	// Known are the services there are, for suggestions; nil for none.
	Known []string
}

func (e *UnknownServiceError) Error() string {
	msg := fmt.Sprintf("unknown service %s", quoteList(e.Names, 5))
	if len(e.Names) == 1 && e.Known != nil {
		msg += Suggest(e.Names[0], "service", e.Known)
	}
	return msg
}

// Is reports whether target is [ErrUnknownService].
func (e *UnknownServiceError) Is(target error) bool { return target == ErrUnknownService }

// NoPathError says that From does not need To over the kinds analysed. It
// matches [ErrNoPath] with errors.Is.
type NoPathError struct {
	From, To string
	Kinds    KindSet
}

func (e *NoPathError) Error() string {
	return fmt.Sprintf("%q does not need %q (over %s edges)", e.From, e.To, e.Kinds)
}

// Is reports whether target is [ErrNoPath].
func (e *NoPathError) Is(target error) bool { return target == ErrNoPath }

// quoteList quotes up to max names and says how many more there are.
func quoteList(names []string, max int) string {
	var b strings.Builder
	for i, n := range names {
		if i == max {
			fmt.Fprintf(&b, " and %d more", len(names)-max)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", n)
	}
	return b.String()
}

// lookup returns the IDs of names, or an [UnknownServiceError] naming
// every missing one.
func lookup(g *Graph, names []string) ([]int32, error) {
	ids := make([]int32, 0, len(names))
	var missing []string
	for _, n := range names {
		id, ok := g.ID(n)
		if !ok {
			missing = append(missing, n)
			continue
		}
		ids = append(ids, id)
	}
	if missing != nil {
		return nil, &UnknownServiceError{Names: missing, Known: g.Names()}
	}
	return ids, nil
}
