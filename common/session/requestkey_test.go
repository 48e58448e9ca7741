package session

import (
	"strings"
	"testing"

	"github.com/routebot/routebot/common/secrets"
)

func TestRequestKeys(t *testing.T) {
	key := func(s string) *RequestKeys {
		t.Helper()
		k, err := NewRequestKeys(secrets.Literal([]byte(s)))
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	a, b := key(strings.Repeat("a", 32)), key(strings.Repeat("b", 32))
	tests := []struct {
		name string
		x, y []string
		same bool
	}{
		{"same key, same fields", a.Digests("turn", "870312"), a.Digests("turn", "870312"), true},
		{"another key", a.Digests("turn", "870312"), b.Digests("turn", "870312"), false},
		{"another digit", a.Digests("turn", "870312"), a.Digests("turn", "870313"), false},
		{"fields split elsewhere", a.Digests("ab", "c"), a.Digests("a", "bc"), false},
		{"random keys differ", RandomRequestKeys().Digests("x"), RandomRequestKeys().Digests("x"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.x) != 1 || len(tt.y) != 1 || len(tt.x[0]) != 32 {
				t.Fatalf("digests %q %q: want one of 32 hex digits each", tt.x, tt.y)
			}
			if (tt.x[0] == tt.y[0]) != tt.same {
				t.Errorf("%q vs %q: same = %v, want %v", tt.x, tt.y, !tt.same, tt.same)
			}
		})
	}
	if _, err := NewRequestKeys(secrets.Literal([]byte("short-SECRET"))); err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("short key: error %v, want a refusal that does not echo it", err)
	}
}
