package app

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/routebot/routebot/common/auth"
	"github.com/routebot/routebot/common/secrets"
)

// rotating is a secret whose accepted values the test replaces, as a
// Secret Manager refresh does.
type rotating struct {
	mu     sync.Mutex
	values [][]byte
}

func (r *rotating) Accepted() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.values
}

func (r *rotating) rotate(values ...string) {
	next := make([][]byte, len(values))
	for i, v := range values {
		next[i] = []byte(v)
	}
	r.mu.Lock()
	r.values = next
	r.mu.Unlock()
}

func TestAuthKeys(t *testing.T) {
	token := &rotating{}
	token.rotate("gateway-token-v1")
	jwtKey := []byte("jwt-key-0123456789abcdef01234567")
	src := newAuthKeys([]accepted{token}, acceptedOf([]*secrets.Secret{nil, secrets.Literal(jwtKey)}))
	v := auth.NewVerifier(src)
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}).SignedString(jwtKey)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}

	tests := []struct {
		name          string
		header        string
		before, after bool // accepted before and after the rotation
	}{
		{name: "previous token", header: "Bearer gateway-token-v1", before: true, after: true},
		{name: "new token", header: "Bearer gateway-token-v2", before: false, after: true},
		{name: "unknown token", header: "Bearer gateway-token-v0", before: false, after: false},
		{name: "JWT signed with the key", header: "Bearer " + signed, before: true, after: true},
	}
	check := func(when string, want func(int) bool) {
		for i, tc := range tests {
			t.Run(when+"/"+tc.name, func(t *testing.T) {
				err := v.Verify(tc.header)
				if got := err == nil; got != want(i) {
					t.Errorf("Verify = %v, want accepted=%v", err, want(i))
				}
			})
		}
	}
	check("before rotation", func(i int) bool { return tests[i].before })
	token.rotate("gateway-token-v2", "gateway-token-v1")
	check("after rotation", func(i int) bool { return tests[i].after })

	if allocs := testing.AllocsPerRun(100, func() { _ = src.Keys() }); allocs != 0 {
		t.Errorf("Keys allocates %v times per call while nothing changes, want 0", allocs)
	}
	if got := len(src.Keys().Tokens); got != 2 {
		t.Errorf("Keys has %d tokens, want 2", got)
	}
}

// TestAuthKeysDoNotPrintValues: keys built from secrets print no value.
func TestAuthKeysDoNotPrintValues(t *testing.T) {
	values := []string{"gateway-token-secret-1", "jwt-key-secret-0123456789abcdef"}
	keys := authKeys([]*secrets.Secret{secrets.Literal([]byte(values[0]))}, []*secrets.Secret{secrets.Literal([]byte(values[1]))}).Keys()
	if len(keys.Tokens) != 1 || len(keys.JWTKeys) != 1 {
		t.Fatalf("keys %d tokens, %d JWT keys, want 1 and 1", len(keys.Tokens), len(keys.JWTKeys))
	}
	text := fmt.Sprintf("%v %+v %#v %s", keys, keys, keys, keys)
	for _, v := range values {
		if strings.Contains(text, v) || strings.Contains(text, fmt.Sprintf("%x", v)) {
			t.Errorf("value %s printed: %s", v, text)
		}
	}
}

// BenchmarkVerifyWithAuthKeys measures the request path: auth.Verifier over
// secrets during a rotation (two accepted tokens).
func BenchmarkVerifyWithAuthKeys(b *testing.B) {
	current, previous := secrets.Literal([]byte("gateway-token-current-000000001")), secrets.Literal([]byte("gateway-token-previous-00000001"))
	v := auth.NewVerifier(authKeys([]*secrets.Secret{current, previous}, nil))
	header := "Bearer " + string(previous.Current())
	b.ReportAllocs()
	for b.Loop() {
		if err := v.Verify(header); err != nil {
			b.Fatal(err)
		}
	}
}
