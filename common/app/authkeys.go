package app

import (
	"sync/atomic"

	"github.com/routebot/routebot/common/auth"
	"github.com/routebot/routebot/common/secrets"
)

// accepted is a secret's accepted values (secrets.Secret): replaced when the
// secret rotates, never modified in place.
type accepted interface {
	Accepted() [][]byte
}

// authKeys is an auth.KeySource accepting every value the given secrets
// accept now: static bearer tokens and HS256 JWT keys. Nil secrets are skipped.
func authKeys(tokens, jwtKeys []*secrets.Secret) auth.KeySource {
	return newAuthKeys(acceptedOf(tokens), acceptedOf(jwtKeys))
}

func acceptedOf(secrets []*secrets.Secret) []accepted {
	out := make([]accepted, 0, len(secrets))
	for _, s := range secrets {
		if s != nil {
			out = append(out, s)
		}
	}
	return out
}

func newAuthKeys(tokens, jwtKeys []accepted) *authKeySource {
	return &authKeySource{tokens: tokens, jwtKeys: jwtKeys}
}

type authKeySource struct {
	tokens, jwtKeys []accepted
	snap            atomic.Pointer[authSnapshot]
}

// authSnapshot is the auth.Keys built from the secrets' values at one time,
// so that Keys, called on every request, does not allocate until a secret
// changes.
type authSnapshot struct {
	from []valuesID // each secret's values, tokens then JWT keys
	keys auth.Keys
}

// valuesID identifies one set of accepted values: a rotation replaces the
// slice, so a new first element (or length) means new values.
type valuesID struct {
	first *[]byte
	n     int
}

func idOf(values [][]byte) valuesID {
	if len(values) == 0 {
		return valuesID{}
	}
	return valuesID{first: &values[0], n: len(values)}
}

func (a *authKeySource) Keys() auth.Keys {
	if snap := a.snap.Load(); snap != nil && a.unchanged(snap) {
		return snap.keys
	}
	snap := &authSnapshot{}
	snap.keys.Tokens = collect(a.tokens, snap)
	snap.keys.JWTKeys = collect(a.jwtKeys, snap)
	a.snap.Store(snap)
	return snap.keys
}

func collect(secrets []accepted, snap *authSnapshot) [][]byte {
	var out [][]byte
	for _, s := range secrets {
		values := s.Accepted()
		snap.from = append(snap.from, idOf(values))
		out = append(out, values...)
	}
	return out
}

func (a *authKeySource) unchanged(snap *authSnapshot) bool {
	i := 0
	for _, group := range [2][]accepted{a.tokens, a.jwtKeys} {
		for _, s := range group {
			if idOf(s.Accepted()) != snap.from[i] {
				return false
			}
			i++
		}
	}
	return true
}
