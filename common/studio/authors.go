package studio

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/routebot/routebot/common/secrets"
)

// TokensEnv names the variable that lists author tokens and their tenants.
const TokensEnv = "ROUTEBOT_STUDIO_TOKENS"

// Author is an authenticated author: who (a label for logs, never the
// token) and which tenants they may see and change.
type Author struct {
	Name    string
	tenants map[string]bool // "*": every tenant
}

// May reports whether the author may see and change tenant id.
func (a Author) May(id string) bool { return a.tenants["*"] || a.tenants[id] }

// TokenSpec is one entry of ROUTEBOT_STUDIO_TOKENS before its token is
// resolved: "nexus|hanbit:VALUE" or "*:projects/P/secrets/S/versions/V".
type TokenSpec struct {
	Tenants []string
	Value   string // the token, or a Secret Manager version name
}

// minTokenLength refuses tokens short enough to guess.
const minTokenLength = 12

var tenantIDPattern = regexp.MustCompile(`^(\*|[A-Za-z0-9][A-Za-z0-9_.-]{0,99})$`)

// ParseTokens reads ROUTEBOT_STUDIO_TOKENS: comma-separated entries, each
// TENANTS:TOKEN where TENANTS is tenant ids joined by '|' (or '*' for all)
// and TOKEN a value or a Secret Manager version name. Errors name the entry
// by position, never by its token.
func ParseTokens(v string) ([]TokenSpec, error) {
	var out []TokenSpec
	for i, entry := range strings.Split(v, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		scope, value, ok := strings.Cut(entry, ":")
		if !ok || strings.TrimSpace(value) == "" {
			return nil, fmt.Errorf("%s entry %d: want TENANT[|TENANT…]:TOKEN", TokensEnv, i+1)
		}
		spec := TokenSpec{Value: strings.TrimSpace(value)}
		for _, id := range strings.Split(scope, "|") {
			id = strings.TrimSpace(id)
			if !tenantIDPattern.MatchString(id) {
				return nil, fmt.Errorf("%s entry %d: %q is not a tenant id or *", TokensEnv, i+1, id)
			}
			spec.Tenants = append(spec.Tenants, id)
		}
		if len(spec.Value) < minTokenLength && !secrets.IsVersionName(spec.Value) {
			return nil, fmt.Errorf("%s entry %d: the token is shorter than %d characters", TokensEnv, i+1, minTokenLength)
		}
		out = append(out, spec)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s is empty: give at least one TENANT:TOKEN", TokensEnv)
	}
	return out, nil
}

// Resolver turns a configured value into a secret (app.App.Secret).
type Resolver func(ctx context.Context, value string) (*secrets.Secret, error)

// Authors checks bearer tokens against the configured author tokens.
type Authors struct {
	entries []authorEntry
}

type authorEntry struct {
	secret *secrets.Secret
	author Author
}

// NewAuthors resolves each spec's token (fetching Secret Manager names once;
// the Secret keeps itself current).
func NewAuthors(ctx context.Context, specs []TokenSpec, resolve Resolver) (*Authors, error) {
	a := &Authors{}
	for i, spec := range specs {
		sec, err := resolve(ctx, spec.Value)
		if err != nil {
			return nil, fmt.Errorf("%s entry %d: %w", TokensEnv, i+1, err)
		}
		tenants := map[string]bool{}
		for _, t := range spec.Tenants {
			tenants[t] = true
		}
		name := fmt.Sprintf("token %d (%s)", i+1, strings.Join(spec.Tenants, "|"))
		a.entries = append(a.entries, authorEntry{secret: sec, author: Author{Name: name, tenants: tenants}})
	}
	return a, nil
}

// ErrUnauthenticated reports a missing or unknown token.
var ErrUnauthenticated = errors.New("unauthenticated")

// Authenticate returns the author of an Authorization header
// ("Bearer TOKEN"). Every configured token is compared in constant time.
func (a *Authors) Authenticate(authorization string) (Author, error) {
	token, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok || token == "" {
		return Author{}, fmt.Errorf("%w: send Authorization: Bearer <author token>", ErrUnauthenticated)
	}
	found := -1
	for i, e := range a.entries {
		for _, v := range e.secret.Accepted() {
			if subtle.ConstantTimeCompare(v, []byte(token)) == 1 && found < 0 {
				found = i
			}
		}
	}
	if found < 0 {
		return Author{}, fmt.Errorf("%w: unknown author token", ErrUnauthenticated)
	}
	return a.entries[found].author, nil
}
