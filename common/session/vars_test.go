package session

import (
	"reflect"
	"testing"
)

func TestVars(t *testing.T) {
	tests := []struct {
		name       string
		set        [][2]string
		want       Vars
		wantSorted Vars
	}{
		{"none", nil, nil, nil},
		{"in the order first set", [][2]string{{"name", "김민수"}, {"category1", "배송"}},
			Vars{{"name", "김민수"}, {"category1", "배송"}}, Vars{{"category1", "배송"}, {"name", "김민수"}}},
		{"set again in place", [][2]string{{"name", "a"}, {"answer", "x"}, {"name", "b"}},
			Vars{{"name", "b"}, {"answer", "x"}}, Vars{{"answer", "x"}, {"name", "b"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var vs Vars
			for _, kv := range tt.set {
				vs.Set(kv[0], kv[1])
			}
			if !reflect.DeepEqual(vs, tt.want) {
				t.Fatalf("Vars %v, want %v", vs, tt.want)
			}
			for _, v := range tt.want {
				if got := vs.Get(v.Name); got != v.Value {
					t.Errorf("Get(%q) = %q, want %q", v.Name, got, v.Value)
				}
			}
			if got := vs.Get("unset"); got != "" {
				t.Errorf("Get(unset) = %q", got)
			}
			if got := vs.Sorted(); !reflect.DeepEqual(got, tt.wantSorted) {
				t.Errorf("Sorted() = %v, want %v", got, tt.wantSorted)
			}
			if got := VarsOf(vs.Map()); !reflect.DeepEqual(got, tt.wantSorted) {
				t.Errorf("VarsOf(Map()) = %v, want %v: through a Firestore map, by name", got, tt.wantSorted)
			}
		})
	}
}
