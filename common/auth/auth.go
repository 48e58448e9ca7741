// Package auth authenticates the AI Gateway's requests: it checks the
// `Authorization: Bearer <token>` header against the configured static tokens
// and HS256-signed JWTs.
//
// The accepted values come from a KeySource on every call, so a source backed
// by Secret Manager (see package secrets) can rotate them without a restart:
// during a rotation both the previous and the current value are accepted.
//
// Security choices, and why:
//   - Static tokens are compared by SHA-256 digest with crypto/subtle, against
//     every configured token without early exit, so neither the content nor the
//     length of a configured token leaks through timing.
//   - A JWT is only accepted when signed with HS256 by one of the configured
//     keys; any other "alg" (none, RS*, ES*, even HS384/HS512) is rejected, which
//     rules out algorithm-confusion attacks.
//   - "exp", "nbf" and "iat" are enforced with a leeway (default 30s) when present.
//     A token without "exp" must carry "iat" and is accepted only while it is
//     younger than the maximum age (WithMaxAge, default 1h), so a leaked
//     token without an expiry does not work for ever. A gateway that sends one fixed,
//     never-expiring JWT configures it as a static token instead: static
//     tokens are compared before any JWT parsing.
//   - Errors wrap ErrUnauthorized and say why, but never echo the token.
package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// MaxHeaderLen bounds the Authorization header; longer headers are rejected
// before any parsing or hashing.
const MaxHeaderLen = 8 << 10

// DefaultLeeway is the clock skew tolerated on exp, nbf and iat.
const DefaultLeeway = 30 * time.Second

// DefaultMaxAge is how long after its "iat" a JWT without "exp" is accepted.
const DefaultMaxAge = time.Hour

// ErrUnauthorized is wrapped by every error Verify returns.
var ErrUnauthorized = errors.New("unauthorized")

// Reasons Verify gives. Built once so that a rejection does not allocate, and
// fixed strings so that no part of the token reaches an error message.
var (
	errNoHeader        = reason("missing Authorization header")
	errHeaderTooLong   = reason("Authorization header too long")
	errNotBearer       = reason("Authorization scheme is not Bearer")
	errEmptyToken      = reason("empty bearer token")
	errMalformedToken  = reason("malformed bearer token")
	errUnknownToken    = reason("token matches no configured token")
	errNoJWTKey        = reason("token looks like a JWT but no JWT key is configured")
	errJWTMalformed    = reason("malformed JWT")
	errJWTAlg          = reason("JWT algorithm not allowed (only HS256)")
	errJWTSignature    = reason("JWT signature matches no configured key")
	errJWTExpired      = reason("JWT expired")
	errJWTNotYetValid  = reason("JWT not valid yet (nbf)")
	errJWTIssuedFuture = reason("JWT issued in the future (iat)")
	errJWTMissingClaim = reason("JWT lacks a required claim")
	errJWTNoLifetime   = reason("JWT has neither exp nor iat")
	errJWTTooOld       = reason("JWT without exp is older than the maximum age (iat)")
	errJWTIssuer       = reason("JWT issuer not accepted")
	errJWTAudience     = reason("JWT audience not accepted")
	errJWTClaims       = reason("JWT claims invalid")
)

func reason(why string) error { return fmt.Errorf("%w: %s", ErrUnauthorized, why) }

// Keys are the values currently accepted: during a rotation, the previous and
// the current one. Empty values are ignored. A KeySource hands out the same
// slices to every caller: they must not be modified.
type Keys struct {
	Tokens  [][]byte // static bearer tokens
	JWTKeys [][]byte // HMAC keys of HS256 JWTs
}

// String keeps key material out of logs and %v formatting.
func (k Keys) String() string {
	return fmt.Sprintf("auth.Keys{%d tokens, %d JWT keys}", len(k.Tokens), len(k.JWTKeys))
}

// Format prints String whatever the verb, so %v, %#v or %x never print a key.
func (k Keys) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }

// KeySource yields the keys accepted right now. It is called on every
// request, so it must be cheap and safe for concurrent use.
type KeySource interface {
	Keys() Keys
}

type staticKeys Keys

func (s staticKeys) Keys() Keys { return Keys(s) }

// StaticKeys is a KeySource whose keys never change.
func StaticKeys(k Keys) KeySource { return staticKeys(k) }

// Option configures a Verifier.
type Option func(*options)

type options struct {
	leeway   time.Duration
	maxAge   time.Duration
	now      func() time.Time
	issuer   string
	audience string
}

// WithLeeway sets the clock skew tolerated on exp, nbf and iat (default 30s).
func WithLeeway(d time.Duration) Option { return func(o *options) { o.leeway = d } }

// WithMaxAge sets how long after its "iat" a JWT without "exp" is accepted
// (default DefaultMaxAge); d <= 0 keeps the default.
func WithMaxAge(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.maxAge = d
		}
	}
}

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithIssuer requires JWTs to carry this "iss".
func WithIssuer(iss string) Option { return func(o *options) { o.issuer = iss } }

// WithAudience requires JWTs to carry this value in "aud".
func WithAudience(aud string) Option { return func(o *options) { o.audience = aud } }

// Verifier checks Authorization headers. It is safe for concurrent use; build
// one per process.
type Verifier struct {
	src    KeySource
	parser *jwt.Parser
	opts   options
	// digests of the static tokens last seen, hashed once per key set
	// rather than once per request.
	digests atomic.Pointer[tokenDigests]
}

// tokenDigests are the SHA-256 digests of a KeySource's static tokens.
type tokenDigests struct {
	tokens [][]byte
	sums   [][sha256.Size]byte
}

// tokenDigests returns the digests of tokens, computed again only when the source
// hands out other tokens (KeySource's slices are never modified, so the
// same backing arrays mean the same tokens).
func (v *Verifier) tokenDigests(tokens [][]byte) [][sha256.Size]byte {
	if d := v.digests.Load(); d != nil && sameTokens(d.tokens, tokens) {
		return d.sums
	}
	d := &tokenDigests{tokens: tokens}
	for _, t := range tokens {
		if len(t) > 0 {
			d.sums = append(d.sums, sha256.Sum256(t))
		}
	}
	v.digests.Store(d)
	return d.sums
}

func sameTokens(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) || len(a[i]) > 0 && &a[i][0] != &b[i][0] {
			return false
		}
	}
	return true
}

// NewVerifier returns a Verifier accepting what src yields at each call.
// It panics when src is nil: that is a wiring bug, not a runtime condition.
func NewVerifier(src KeySource, opts ...Option) *Verifier {
	if src == nil {
		panic("auth.NewVerifier: nil KeySource")
	}
	o := options{leeway: DefaultLeeway, maxAge: DefaultMaxAge, now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	popts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithLeeway(o.leeway),
		jwt.WithTimeFunc(o.now),
		jwt.WithIssuedAt(),
		// The RFC says unpadded base64url, but hand-rolled issuers (the seed's
		// header has spaces in its JSON) sometimes pad; the signature still
		// covers the segments exactly as sent.
		jwt.WithPaddingAllowed(),
	}
	if o.issuer != "" {
		popts = append(popts, jwt.WithIssuer(o.issuer))
	}
	if o.audience != "" {
		popts = append(popts, jwt.WithAudience(o.audience))
	}
	return &Verifier{src: src, parser: jwt.NewParser(popts...), opts: o}
}

// Verify authenticates an Authorization header value. It returns nil when the
// bearer token is one of the configured static tokens or an HS256 JWT signed
// by one of the configured keys whose time claims are valid; otherwise an
// error wrapping ErrUnauthorized that says why without echoing the token.
func (v *Verifier) Verify(authorization string) error {
	if len(authorization) > MaxHeaderLen {
		return errHeaderTooLong
	}
	token, err := bearerToken(authorization)
	if err != nil {
		return err
	}
	keys := v.src.Keys()
	if matchStatic(token, v.tokenDigests(keys.Tokens)) {
		return nil
	}
	if strings.Count(token, ".") != 2 {
		return errUnknownToken
	}
	return v.verifyJWT(token, keys.JWTKeys)
}

func bearerToken(header string) (string, error) {
	header = strings.TrimSpace(header)
	if header == "" {
		return "", errNoHeader
	}
	scheme, token, _ := strings.Cut(header, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", errNotBearer
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return "", errEmptyToken
	}
	if strings.ContainsAny(token, " \t\r\n") {
		return "", errMalformedToken
	}
	return token, nil
}

// matchStatic compares digests so that the time taken depends neither on the
// configured tokens' content nor on their length, and visits every token.
// matchStatic compares token's digest with every accepted digest (empty
// tokens are left out of them), without early exit.
func matchStatic(token string, accepted [][sha256.Size]byte) bool {
	if len(accepted) == 0 {
		return false
	}
	got := sha256.Sum256([]byte(token))
	match := 0
	for i := range accepted {
		match |= subtle.ConstantTimeCompare(got[:], accepted[i][:])
	}
	return match == 1
}

func (v *Verifier) verifyJWT(token string, accepted [][]byte) error {
	set := jwt.VerificationKeySet{Keys: make([]jwt.VerificationKey, 0, len(accepted))}
	for _, k := range accepted {
		if len(k) > 0 {
			set.Keys = append(set.Keys, k)
		}
	}
	if len(set.Keys) == 0 {
		return errNoJWTKey
	}
	var claims jwt.RegisteredClaims
	parsed, err := v.parser.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return set, nil })
	if err != nil {
		return jwtReason(parsed, err)
	}
	if claims.ExpiresAt == nil { // signed by us, without an expiry: bound its age
		if claims.IssuedAt == nil {
			return errJWTNoLifetime
		}
		if v.opts.now().Sub(claims.IssuedAt.Time) > v.opts.maxAge+v.opts.leeway {
			return errJWTTooOld
		}
	}
	return nil
}

// jwtReason maps the library's error to one of ours: its messages may quote
// decoded parts of the token.
func jwtReason(parsed *jwt.Token, err error) error {
	if errors.Is(err, jwt.ErrTokenInvalidClaims) { // only reached with a good signature
		switch {
		case errors.Is(err, jwt.ErrTokenExpired):
			return errJWTExpired
		case errors.Is(err, jwt.ErrTokenNotValidYet):
			return errJWTNotYetValid
		case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
			return errJWTIssuedFuture
		case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
			return errJWTMissingClaim
		case errors.Is(err, jwt.ErrTokenInvalidIssuer):
			return errJWTIssuer
		case errors.Is(err, jwt.ErrTokenInvalidAudience):
			return errJWTAudience
		default:
			return errJWTClaims
		}
	}
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return errJWTMalformed
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		// The parser reports an alg outside WithValidMethods as a bad signature.
		if parsed != nil && parsed.Method != nil && parsed.Method.Alg() != jwt.SigningMethodHS256.Alg() {
			return errJWTAlg
		}
		return errJWTSignature
	default: // ErrTokenUnverifiable: unknown or missing alg
		return errJWTAlg
	}
}
