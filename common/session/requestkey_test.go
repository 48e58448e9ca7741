package session

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
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
		{"same key, same fields", a.AppendDigests(nil, "turn", "870312"), a.AppendDigests(nil, "turn", "870312"), true},
		{"another key", a.AppendDigests(nil, "turn", "870312"), b.AppendDigests(nil, "turn", "870312"), false},
		{"another digit", a.AppendDigests(nil, "turn", "870312"), a.AppendDigests(nil, "turn", "870313"), false},
		{"fields split elsewhere", a.AppendDigests(nil, "ab", "c"), a.AppendDigests(nil, "a", "bc"), false},
		{"random keys differ", RandomRequestKeys().AppendDigests(nil, "x"), RandomRequestKeys().AppendDigests(nil, "x"), false},
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

// TestRequestKeysDigest pins the digest to HMAC-SHA256 of the
// length-prefixed fields, truncated to 16 bytes, also when turns digest in
// parallel on pooled hashes.
func TestRequestKeysDigest(t *testing.T) {
	key := []byte(strings.Repeat("k", 32))
	k, err := NewRequestKeys(secrets.Literal(key))
	if err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte("\x04turn\x06870312\x00"))
	want := hex.EncodeToString(m.Sum(nil)[:16])
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if got := k.AppendDigests(nil, "turn", "870312", ""); len(got) != 1 || got[0] != want {
					t.Errorf("AppendDigests = %q, want [%s]", got, want)
					return
				}
			}
		})
	}
	wg.Wait()
	// Appended after what dst holds, which stays as it was.
	dst := append(make([]string, 0, 4), "earlier")
	if got := k.AppendDigests(dst, "turn", "870312", ""); len(got) != 2 || got[0] != "earlier" || got[1] != want {
		t.Errorf("AppendDigests([earlier]) = %q, want [earlier %s]", got, want)
	}
}

func BenchmarkRequestKeys(b *testing.B) {
	k := RandomRequestKeys()
	b.ReportAllocs()
	for b.Loop() {
		k.AppendDigests(nil, "turn", "SCENARIO01", "ask_birthdate", "", "870312", "", "N", "01012345678", "bot00001", "1000")
	}
}
