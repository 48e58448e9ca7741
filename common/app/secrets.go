package app

import (
	"context"
	"fmt"
	"sync"
	"time"

	secretmanager "cloud.google.com/go/secretmanager/apiv1"

	"github.com/routebot/routebot/common/auth"
	"github.com/routebot/routebot/common/secrets"
	"github.com/routebot/routebot/common/session"
)

// verifier builds the bearer-token check from ROUTEBOT_API_TOKEN and
// ROUTEBOT_JWT_KEY, each a value or a Secret Manager version name.
func (a *App) verifier(ctx context.Context) (*auth.Verifier, error) {
	var tokens, keys []*secrets.Secret
	var tokensErr, keysErr error
	var wg sync.WaitGroup
	wg.Go(func() { tokens, tokensErr = a.resolveAll(ctx, a.Config.APITokens) })
	wg.Go(func() { keys, keysErr = a.resolveAll(ctx, a.Config.JWTKeys) })
	wg.Wait()
	if tokensErr != nil {
		return nil, fmt.Errorf("app: ROUTEBOT_API_TOKEN: %w", tokensErr)
	}
	if keysErr != nil {
		return nil, fmt.Errorf("app: ROUTEBOT_JWT_KEY: %w", keysErr)
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

// resolveAll resolves values at once (each perhaps a Secret Manager fetch);
// the error is the first value's that failed.
func (a *App) resolveAll(ctx context.Context, values []string) ([]*secrets.Secret, error) {
	out, errs := make([]*secrets.Secret, len(values)), make([]error, len(values))
	var wg sync.WaitGroup
	for i, v := range values {
		wg.Go(func() { out[i], errs[i] = a.resolve(ctx, v) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// resolve turns a configured value into a Secret: literal, or fetched from
// Secret Manager (the client is made only when some value names a secret).
func (a *App) resolve(ctx context.Context, value string) (*secrets.Secret, error) {
	if !secrets.IsVersionName(value) {
		return secrets.Literal([]byte(value)), nil
	}
	cache, err := a.secretCache(ctx)
	if err != nil {
		return nil, err
	}
	return cache.Resolve(ctx, value)
}

func (a *App) secretCache(ctx context.Context) (*secrets.Cache, error) {
	a.secretsMu.Lock()
	defer a.secretsMu.Unlock()
	if a.secrets != nil {
		return a.secrets, nil
	}
	acc := a.secretManager
	if acc == nil {
		client, err := secretmanager.NewClient(ctx)
		if err != nil {
			return nil, fmt.Errorf("secretmanager.NewClient: %w", err)
		}
		a.onClose(client.Close)
		acc = client
	}
	a.secrets = secrets.NewCache(acc, a.Config.SecretRefresh, a.Logger)
	return a.secrets, nil
}

// lateSecret is a configured value fetched in the background, retried
// until it is at hand.
type lateSecret struct {
	mu      sync.Mutex
	s       *secrets.Secret
	err     error         // the last attempt's failure
	attempt chan struct{} // closed when the attempt under way ends; nil between attempts
}

func newLateSecret() *lateSecret { return &lateSecret{attempt: make(chan struct{})} }

// set makes s the value.
func (l *lateSecret) set(s *secrets.Secret) { l.end(s, nil) }

// end ends the attempt under way, if any, with its value or its failure.
func (l *lateSecret) end(s *secrets.Secret, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.s, l.err = s, err
	if l.attempt != nil {
		close(l.attempt)
		l.attempt = nil
	}
}

// fetch resolves the value with resolve until an attempt succeeds or ctx
// ends, backing off between attempts and telling failed about each failure.
func (l *lateSecret) fetch(ctx context.Context, resolve func(context.Context) (*secrets.Secret, error), failed func(err error, retry time.Duration)) {
	const minBackoff, maxBackoff = time.Second, 30 * time.Second
	for backoff := minBackoff; ; backoff = min(2*backoff, maxBackoff) {
		s, err := resolve(ctx)
		if err == nil {
			l.set(s)
			return
		}
		l.end(nil, err)
		if ctx.Err() != nil {
			return
		}
		failed(err, backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		l.mu.Lock()
		l.attempt = make(chan struct{})
		l.mu.Unlock()
	}
}

// peek returns the value if it is at hand, else nil.
func (l *lateSecret) peek() *secrets.Secret {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s
}

// get returns the value, waiting within ctx for an attempt under way; between
// attempts it returns the last failure at once.
func (l *lateSecret) get(ctx context.Context) (*secrets.Secret, error) {
	l.mu.Lock()
	s, err, attempt := l.s, l.err, l.attempt
	l.mu.Unlock()
	if s != nil || attempt == nil {
		return s, err
	}
	select {
	case <-attempt:
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.s != nil {
			return l.s, nil
		}
		return nil, l.err
	case <-ctx.Done():
		return nil, fmt.Errorf("still fetching: %w", ctx.Err())
	}
}
