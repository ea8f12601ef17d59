package graph

import (
	"fmt"
	"sort"
	"strings"
)

// Kind classifies an edge A -> B by how rgraph knows that A needs B.
type Kind uint8

// Edge kinds. When the same edge arrives with several kinds, the one with
// the highest precedence is kept: hard, alternative, soft, declared,
// observed. Measured kinds outrank what an owner declared.
const (
	// Hard: A does not recover without B (proven by minimization).
	Hard Kind = iota + 1
	// Soft: A tried to reach B but recovers without it (cache, fallback).
	Soft
	// Declared: an owner says A needs B (scenario allowlist, edge list).
	Declared
	// Alternative: B is one of several that A needs any one of.
	Alternative
	// Observed: A reached B in a run that did not tell whether it was needed.
	Observed
)

var kindNames = [...]string{Hard: "hard", Soft: "soft", Declared: "declared", Alternative: "alternative", Observed: "observed"}

// precedence ranks kinds for merging duplicate edges; higher wins.
var precedence = [...]int{Hard: 5, Alternative: 4, Soft: 3, Declared: 2, Observed: 1}

// AllKinds lists every kind in precedence order.
var AllKinds = []Kind{Hard, Alternative, Soft, Declared, Observed}

func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Valid reports whether k is one of the defined kinds.
func (k Kind) Valid() bool { return k >= Hard && k <= Observed }

// Outranks reports whether k wins over o when the same edge has both.
func (k Kind) Outranks(o Kind) bool { return precedence[k] > precedence[o] }

// ParseKind parses a kind name.
func ParseKind(s string) (Kind, error) {
	for k, n := range kindNames {
		if n != "" && n == strings.ToLower(strings.TrimSpace(s)) {
			return Kind(k), nil
		}
	}
	return 0, fmt.Errorf("unknown edge kind %q (want hard, soft, declared, alternative or observed)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (k Kind) MarshalText() ([]byte, error) {
	if !k.Valid() {
		return nil, fmt.Errorf("invalid edge kind %d", k)
	}
	return []byte(k.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *Kind) UnmarshalText(b []byte) error {
	v, err := ParseKind(string(b))
	*k = v
	return err
}

// KindSet is a set of kinds; analyses use only edges whose kind is in it.
type KindSet uint8

// DefaultKinds are the kinds analyses use unless told otherwise: what
// recovery needs (hard, and any one of each set of alternatives) and what
// an owner declared.
const DefaultKinds = KindSet(1<<Hard | 1<<Alternative | 1<<Declared)

// AllKindsSet contains every kind.
const AllKindsSet = KindSet(1<<Hard | 1<<Soft | 1<<Declared | 1<<Alternative | 1<<Observed)

// Kinds returns a set holding ks.
func Kinds(ks ...Kind) KindSet {
	var s KindSet
	for _, k := range ks {
		s |= 1 << k
	}
	return s
}

// OrDefault returns s, or DefaultKinds when s is empty: the kinds an
// analysis given s uses.
func (s KindSet) OrDefault() KindSet {
	if s == 0 {
		return DefaultKinds
	}
	return s
}

// Has reports whether k is in the set.
func (s KindSet) Has(k Kind) bool { return s&(1<<k) != 0 }

// List returns the kinds in the set, sorted by name.
func (s KindSet) List() []Kind {
	var out []Kind
	for _, k := range AllKinds {
		if s.Has(k) {
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

func (s KindSet) String() string {
	var names []string
	for _, k := range s.List() {
		names = append(names, k.String())
	}
	return strings.Join(names, ",")
}

// ParseKinds parses a comma-separated list of kind names ("hard,soft");
// "all" selects every kind.
func ParseKinds(s string) (KindSet, error) {
	if strings.TrimSpace(s) == "all" {
		return AllKindsSet, nil
	}
	var set KindSet
	for _, f := range strings.Split(s, ",") {
		k, err := ParseKind(f)
		if err != nil {
			return 0, err
		}
		set |= 1 << k
	}
	return set, nil
}
