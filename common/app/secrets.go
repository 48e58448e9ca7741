package app

import (
	"context"
	"fmt"

	secretmanager "cloud.google.com/go/secretmanager/apiv1"

	"github.com/routebot/routebot/common/auth"
	"github.com/routebot/routebot/common/secrets"
	"github.com/routebot/routebot/common/session"
)

// verifier builds the bearer-token check from ROUTEBOT_API_TOKEN and
// ROUTEBOT_JWT_KEY, each a value or a Secret Manager version name.
func (a *App) verifier(ctx context.Context) (*auth.Verifier, error) {
	tokens, err := a.resolveAll(ctx, a.Config.APITokens)
	if err != nil {
		return nil, fmt.Errorf("app: ROUTEBOT_API_TOKEN: %w", err)
	}
	keys, err := a.resolveAll(ctx, a.Config.JWTKeys)
	if err != nil {
		return nil, fmt.Errorf("app: ROUTEBOT_JWT_KEY: %w", err)
	}
	return auth.NewVerifier(authKeys(tokens, keys), auth.WithMaxAge(a.Config.JWTMaxAge)), nil
}

// requestKeys keys the sessions' request digests with ROUTEBOT_SESSION_KEY,
// or a random key of this process when it is unset (Load refuses that for
// deployed Firestore).
func (a *App) requestKeys(ctx context.Context) (*session.RequestKeys, error) {
	if a.Config.SessionKey == "" {
		return session.RandomRequestKeys(), nil
	}
	key, err := a.resolve(ctx, a.Config.SessionKey)
	if err != nil {
		return nil, fmt.Errorf("app: ROUTEBOT_SESSION_KEY: %w", err)
	}
	rk, err := session.NewRequestKeys(key)
	if err != nil {
		return nil, fmt.Errorf("app: ROUTEBOT_SESSION_KEY: %w", err)
	}
	return rk, nil
}

func (a *App) resolveAll(ctx context.Context, values []string) ([]*secrets.Secret, error) {
	out := make([]*secrets.Secret, 0, len(values))
	for _, v := range values {
		s, err := a.resolve(ctx, v)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// resolve turns a configured value into a Secret: literal, or fetched from
// Secret Manager (the client is made only when some value names a secret).
func (a *App) resolve(ctx context.Context, value string) (*secrets.Secret, error) {
	if !secrets.IsVersionName(value) {
		return secrets.Literal([]byte(value)), nil
	}
	if a.secrets == nil {
		client, err := secretmanager.NewClient(ctx)
		if err != nil {
			return nil, fmt.Errorf("secretmanager.NewClient: %w", err)
		}
		a.onClose(client.Close)
		a.secrets = secrets.NewCache(client, a.Config.SecretRefresh, a.Logger)
	}
	return a.secrets.Resolve(ctx, value)
}
