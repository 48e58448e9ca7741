package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var (
	now         = time.Unix(1_700_000_000, 0)
	clock       = WithClock(func() time.Time { return now })
	staticToken = []byte("static-token-current-0123456789")
	oldToken    = []byte("static-token-previous-987654321")
	jwtKey      = []byte("jwt-key-current-0123456789abcdef")
	oldJWTKey   = []byte("jwt-key-previous-0123456789abcde")
	keys        = Keys{Tokens: [][]byte{staticToken, oldToken}, JWTKeys: [][]byte{jwtKey, oldJWTKey}}
)

func sign(t testing.TB, method jwt.SigningMethod, key any, claims jwt.Claims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}

func hs256(t testing.TB, key []byte, claims jwt.Claims) string {
	return sign(t, jwt.SigningMethodHS256, key, claims)
}

func at(d time.Duration) *jwt.NumericDate { return jwt.NewNumericDate(now.Add(d)) }

// handMade builds a JWT from raw header and claims JSON, HMAC-SHA256-signed
// with key whatever the header says, encoded with enc.
func handMade(header, claims string, key []byte, enc *base64.Encoding) string {
	input := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(claims))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(input))
	return input + "." + enc.EncodeToString(mac.Sum(nil))
}

func TestVerify(t *testing.T) {
	good := hs256(t, jwtKey, jwt.RegisteredClaims{ExpiresAt: at(time.Hour), IssuedAt: at(-time.Minute), Issuer: "gateway", Audience: jwt.ClaimStrings{"routebot"}})
	tests := []struct {
		name   string
		keys   *Keys // nil: keys
		opts   []Option
		header string
		want   error // nil: authenticated
	}{
		{name: "good static token", header: "Bearer " + string(staticToken)},
		{name: "previous static token during rotation", header: "Bearer " + string(oldToken)},
		{name: "wrong static token", header: "Bearer not-the-token", want: errUnknownToken},
		{name: "static token prefix", header: "Bearer " + string(staticToken[:10]), want: errUnknownToken},
		{name: "empty header", header: "", want: errNoHeader},
		{name: "blank header", header: "   ", want: errNoHeader},
		{name: "missing Bearer", header: string(staticToken), want: errNotBearer},
		{name: "Basic scheme", header: "Basic " + string(staticToken), want: errNotBearer},
		{name: "Bearer without token", header: "Bearer   ", want: errEmptyToken},
		{name: "lowercase bearer", header: "bearer " + string(staticToken)},
		{name: "uppercase bearer and surrounding spaces", header: "  BEARER   " + string(staticToken) + "  "},
		{name: "token with inner space", header: "Bearer static token", want: errMalformedToken},
		{name: "absurdly long header", header: "Bearer " + strings.Repeat("a", MaxHeaderLen), want: errHeaderTooLong},
		{name: "no keys configured", keys: &Keys{}, header: "Bearer " + string(staticToken), want: errUnknownToken},
		{name: "empty configured token never matches", keys: &Keys{Tokens: [][]byte{{}}}, header: "Bearer x", want: errUnknownToken},

		{name: "good JWT", header: "Bearer " + good},
		// Without exp, iat bounds the token's life (DefaultMaxAge, or WithMaxAge).
		{name: "JWT without exp or iat", header: "Bearer " + hs256(t, jwtKey, jwt.RegisteredClaims{Subject: "gw"}), want: errJWTNoLifetime},
		{name: "JWT without exp, iat a minute ago", header: "Bearer " + hs256(t, jwtKey, jwt.RegisteredClaims{IssuedAt: at(-time.Minute)})},
		{name: "JWT without exp, iat just within the default max age and leeway", header: "Bearer " + hs256(t, jwtKey, jwt.RegisteredClaims{IssuedAt: at(-DefaultMaxAge - 29*time.Second)})},
		{name: "JWT without exp, iat beyond the default max age", header: "Bearer " + hs256(t, jwtKey, jwt.RegisteredClaims{IssuedAt: at(-DefaultMaxAge - time.Minute)}), want: errJWTTooOld},
		{name: "JWT without exp, iat within a longer max age", opts: []Option{WithMaxAge(24 * time.Hour)}, header: "Bearer " + hs256(t, jwtKey, jwt.RegisteredClaims{IssuedAt: at(-23 * time.Hour)})},
		{name: "JWT without exp, iat beyond a shorter max age", opts: []Option{WithMaxAge(time.Minute)}, header: "Bearer " + hs256(t, jwtKey, jwt.RegisteredClaims{IssuedAt: at(-2 * time.Minute)}), want: errJWTTooOld},
		{name: "JWT with exp and an old iat is the issuer's choice", header: "Bearer " + hs256(t, jwtKey, jwt.RegisteredClaims{IssuedAt: at(-48 * time.Hour), ExpiresAt: at(time.Hour)})},
		{name: "a fixed JWT configured as a static token", keys: &Keys{Tokens: [][]byte{[]byte(hs256(t, jwtKey, jwt.RegisteredClaims{Subject: "gw"}))}},
			header: "Bearer " + hs256(t, jwtKey, jwt.RegisteredClaims{Subject: "gw"})},
		{name: "expired JWT", header: "Bearer " + hs256(t, jwtKey, jwt.RegisteredClaims{ExpiresAt: at(-time.Minute)}), want: errJWTExpired},
		{name: "expired within leeway", header: "Bearer " + hs256(t, jwtKey, jwt.RegisteredClaims{ExpiresAt: at(-10 * time.Second)})},
		{name: "expired beyond a smaller leeway", opts: []Option{WithLeeway(5 * time.Second)}, header: "Bearer " + hs256(t, jwtKey, jwt.RegisteredClaims{ExpiresAt: at(-10 * time.Second)}), want: errJWTExpired},
		{name: "nbf in the future", header: "Bearer " + hs256(t, jwtKey, jwt.RegisteredClaims{NotBefore: at(time.Minute)}), want: errJWTNotYetValid},
		{name: "nbf within leeway", header: "Bearer " + hs256(t, jwtKey, jwt.RegisteredClaims{NotBefore: at(20 * time.Second), IssuedAt: at(-time.Minute)})},
		{name: "iat in the future", header: "Bearer " + hs256(t, jwtKey, jwt.RegisteredClaims{IssuedAt: at(time.Hour)}), want: errJWTIssuedFuture},
		{name: "wrong key", header: "Bearer " + hs256(t, []byte("some-other-key-0123456789abcdef!"), jwt.RegisteredClaims{}), want: errJWTSignature},
		{name: "signed with the previous key during rotation", header: "Bearer " + hs256(t, oldJWTKey, jwt.RegisteredClaims{ExpiresAt: at(time.Hour)})},
		{name: "tampered claims", header: "Bearer " + tamper(good), want: errJWTSignature},
		{name: "alg none", header: "Bearer " + sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, jwt.RegisteredClaims{}), want: errJWTAlg},
		{name: "RS256 header with HMAC key", header: "Bearer " + handMade(`{"alg":"RS256","typ":"JWT"}`, `{"sub":"gw"}`, jwtKey, base64.RawURLEncoding), want: errJWTAlg},
		{name: "HS512 with the right key", header: "Bearer " + sign(t, jwt.SigningMethodHS512, jwtKey, jwt.RegisteredClaims{}), want: errJWTAlg},
		{name: "missing alg", header: "Bearer " + handMade(`{"typ":"JWT"}`, `{"sub":"gw"}`, jwtKey, base64.RawURLEncoding), want: errJWTAlg},
		{name: "seed-style header with spaces", header: "Bearer " + handMade(`{ "alg": "HS256", "typ": "JWT" }`, `{ "sub": "gw", "iat": 1700000000 }`, jwtKey, base64.RawURLEncoding)},
		{name: "padded base64url segments", header: "Bearer " + handMade(`{"alg":"HS256"}`, `{"sub":"g","iat":1700000000}`, jwtKey, base64.URLEncoding)},
		{name: "garbage with two dots", header: "Bearer abc.def.ghi", want: errJWTMalformed},
		{name: "empty segments", header: "Bearer ..", want: errJWTMalformed},
		{name: "JWT but no JWT key configured", keys: &Keys{Tokens: keys.Tokens}, header: "Bearer " + good, want: errNoJWTKey},
		{name: "issuer checked", opts: []Option{WithIssuer("gateway")}, header: "Bearer " + good},
		{name: "issuer mismatch", opts: []Option{WithIssuer("someone-else")}, header: "Bearer " + good, want: errJWTIssuer},
		{name: "audience checked", opts: []Option{WithAudience("routebot")}, header: "Bearer " + good},
		{name: "audience mismatch", opts: []Option{WithAudience("other")}, header: "Bearer " + good, want: errJWTAudience},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := keys
			if tc.keys != nil {
				k = *tc.keys
			}
			v := NewVerifier(StaticKeys(k), append([]Option{clock}, tc.opts...)...)
			err := v.Verify(tc.header)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Verify = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
			if !errors.Is(err, ErrUnauthorized) {
				t.Errorf("Verify = %v, does not wrap ErrUnauthorized", err)
			}
			if tok := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(tc.header), "Bearer")); len(tok) > 8 && strings.Contains(err.Error(), tok) {
				t.Errorf("Verify error %q echoes the token", err)
			}
		})
	}
}

// tamper swaps the claims for other valid ones and keeps the signature.
func tamper(token string) string {
	parts := strings.Split(token, ".")
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"admin"}`))
	return strings.Join(parts, ".")
}

func TestVerifyFollowsKeySource(t *testing.T) {
	src := &swappable{k: Keys{Tokens: [][]byte{oldToken}}}
	v := NewVerifier(src, clock)
	if err := v.Verify("Bearer " + string(staticToken)); !errors.Is(err, errUnknownToken) {
		t.Fatalf("before rotation: Verify = %v, want %v", err, errUnknownToken)
	}
	src.k = Keys{Tokens: [][]byte{staticToken, oldToken}}
	if err := v.Verify("Bearer " + string(staticToken)); err != nil {
		t.Fatalf("after rotation: Verify = %v, want nil", err)
	}
	// The rotation ends: the previous token, accepted until now, is not.
	src.k = Keys{Tokens: [][]byte{staticToken}}
	if err := v.Verify("Bearer " + string(oldToken)); !errors.Is(err, errUnknownToken) {
		t.Fatalf("after the rotation ended: Verify(previous) = %v, want %v", err, errUnknownToken)
	}
}

type swappable struct{ k Keys }

func (s *swappable) Keys() Keys { return s.k }

func TestKeysDoNotFormatValues(t *testing.T) {
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%d", "%q"} {
		s := fmt.Sprintf(verb, keys)
		for _, secret := range [][]byte{staticToken, oldToken, jwtKey, oldJWTKey} {
			if strings.Contains(s, string(secret)) {
				t.Fatalf("Keys formatted as %q, reveals a value", s)
			}
		}
	}
}

func TestNewVerifierNilSource(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("NewVerifier(nil) did not panic")
		}
	}()
	NewVerifier(nil)
}

func TestStaticPathAllocations(t *testing.T) {
	v := NewVerifier(StaticKeys(keys), clock)
	header := "Bearer " + string(staticToken)
	allocs := testing.AllocsPerRun(100, func() {
		if err := v.Verify(header); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1 { // the token's []byte conversion for hashing
		t.Fatalf("static Verify allocates %v times, want <= 1", allocs)
	}
}

func BenchmarkVerify(b *testing.B) {
	v := NewVerifier(StaticKeys(keys), clock)
	benches := []struct {
		name   string
		header string
	}{
		{name: "static", header: "Bearer " + string(staticToken)},
		{name: "static_previous", header: "Bearer " + string(oldToken)},
		{name: "jwt", header: "Bearer " + hs256(b, jwtKey, jwt.RegisteredClaims{ExpiresAt: at(time.Hour), IssuedAt: at(0)})},
		{name: "jwt_previous_key", header: "Bearer " + hs256(b, oldJWTKey, jwt.RegisteredClaims{ExpiresAt: at(time.Hour), IssuedAt: at(0)})},
		{name: "rejected", header: "Bearer wrong-token"},
	}
	for _, bc := range benches {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = v.Verify(bc.header)
			}
		})
	}
}

func FuzzVerify(f *testing.F) {
	f.Add("Bearer " + string(staticToken))
	f.Add("bearer " + hs256(f, jwtKey, jwt.RegisteredClaims{ExpiresAt: at(time.Hour)}))
	f.Add("Bearer " + sign(f, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, jwt.RegisteredClaims{}))
	f.Add("Bearer a.b.c")
	f.Add("Bearer eyAiYWxnIjogIkhTMjU2IiB9.e30.")
	f.Add("")
	f.Add("Bearer")
	f.Add("Basic dXNlcjpwYXNz")
	v := NewVerifier(StaticKeys(keys), clock)
	f.Fuzz(func(t *testing.T, header string) {
		err := v.Verify(header)
		if err != nil && !errors.Is(err, ErrUnauthorized) {
			t.Fatalf("Verify = %v, does not wrap ErrUnauthorized", err)
		}
	})
}
