package session

import (
	"maps"
	"slices"
	"strings"
)

// Vars are a call's global $ variables, in the order they were first set. A
// call has a handful (name, category1..3, answer, captured digits), so a
// slice searched in order is cheaper than a map to decode, fill and encode on
// every turn, and it encodes the same way every time. Names are unique: Set
// keeps them so.
type Vars []Var

// Var is one $ variable.
type Var struct{ Name, Value string }

// Get returns the value of name; "" when it is unset.
func (vs Vars) Get(name string) string {
	for _, v := range vs {
		if v.Name == name {
			return v.Value
		}
	}
	return ""
}

// Set sets name to value, in place when name is set already.
func (vs *Vars) Set(name, value string) {
	for i := range *vs {
		if (*vs)[i].Name == name {
			(*vs)[i].Value = value
			return
		}
	}
	*vs = append(*vs, Var{Name: name, Value: value})
}

// Map returns the variables as a map (a Firestore document's field); nil
// when there are none.
func (vs Vars) Map() map[string]string {
	if len(vs) == 0 {
		return nil
	}
	m := make(map[string]string, len(vs))
	for _, v := range vs {
		if _, ok := m[v.Name]; !ok { // the first, as Get has it, should a literal repeat a name
			m[v.Name] = v.Value
		}
	}
	return m
}

// VarsOf returns m's variables, ordered by name (a map has no order of its
// own); nil when m is empty.
func VarsOf(m map[string]string) Vars {
	if len(m) == 0 {
		return nil
	}
	vs := make(Vars, 0, len(m)+4) // room for a turn's category1..3 and answer
	for _, name := range slices.Sorted(maps.Keys(m)) {
		vs = append(vs, Var{Name: name, Value: m[name]})
	}
	return vs
}

// Sorted returns a copy of vs ordered by name: two Vars holding the same
// variables set in different orders are equal sorted.
func (vs Vars) Sorted() Vars {
	if vs == nil {
		return nil
	}
	out := slices.Clone(vs)
	slices.SortFunc(out, func(a, b Var) int { return strings.Compare(a.Name, b.Name) })
	return out
}
