package secrets

import (
	"sync/atomic"

	"github.com/routebot/routebot/common/auth"
)

// AuthKeys is an auth.KeySource accepting every value the given secrets
// accept now: static bearer tokens and HS256 JWT keys. Nil secrets are skipped.
func AuthKeys(tokens, jwtKeys []*Secret) auth.KeySource {
	return &authKeys{tokens: tokens, jwtKeys: jwtKeys}
}

type authKeys struct {
	tokens, jwtKeys []*Secret
	snap            atomic.Pointer[authSnapshot]
}

// authSnapshot is the auth.Keys built from the secrets' values at one time,
// so that Keys, called on every request, does not allocate until a secret
// changes.
type authSnapshot struct {
	from []*[][]byte // each secret's values, tokens then JWT keys
	keys auth.Keys
}

func (a *authKeys) Keys() auth.Keys {
	if snap := a.snap.Load(); snap != nil && a.unchanged(snap) {
		return snap.keys
	}
	snap := &authSnapshot{}
	snap.keys.Tokens = a.collect(a.tokens, snap)
	snap.keys.JWTKeys = a.collect(a.jwtKeys, snap)
	a.snap.Store(snap)
	return snap.keys
}

func (a *authKeys) collect(secrets []*Secret, snap *authSnapshot) [][]byte {
	var out [][]byte
	for _, s := range secrets {
		if s == nil {
			continue
		}
		values := s.values.Load()
		snap.from = append(snap.from, values)
		out = append(out, *values...)
	}
	return out
}

func (a *authKeys) unchanged(snap *authSnapshot) bool {
	i := 0
	for _, group := range [2][]*Secret{a.tokens, a.jwtKeys} {
		for _, s := range group {
			if s == nil {
				continue
			}
			if s.values.Load() != snap.from[i] {
				return false
			}
			i++
		}
	}
	return true
}
