// Package app assembles routebot's dependencies from a Config, once per
// process: the store (embedded or Firestore), the tenant registry with each
// tenant's classifier, the bearer-token verifier with its secrets. The
// functions and the local run share it so that they behave the same.
//
// app.go assembles and closes; stores.go opens the store; secrets.go resolves
// secret values and builds the bearer-token verifier (authkeys.go adapts
// secrets to auth); classifiers.go builds each tenant's classifier.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/routebot/routebot/common/auth"
	"github.com/routebot/routebot/common/classify"
	"github.com/routebot/routebot/common/classify/detectintent"
	"github.com/routebot/routebot/common/config"
	"github.com/routebot/routebot/common/dialogflow"
	"github.com/routebot/routebot/common/secrets"
	"github.com/routebot/routebot/common/session"
	"github.com/routebot/routebot/common/store"
	"github.com/routebot/routebot/common/tenant"
)

// App is the process's dependency graph.
type App struct {
	Config    config.Config
	Logger    *slog.Logger
	Flows     *tenant.Registry
	Sessions  store.Sessions
	Directory store.Directory
	Tenants   store.Tenants
	Auth      *auth.Verifier
	// RequestKeys digests each session's last request (ROUTEBOT_SESSION_KEY).
	RequestKeys *session.RequestKeys

	// Dialogflow's clients per endpoint, the tenants' profile names and the
	// calls' conversations (the profile function and the stream service).
	Dialogflow    *dialogflow.Clients
	ProfileNames  store.ProfileNames
	Conversations store.Conversations
	// Calls' final transcripts (the stream service writes, /chat-gpt reads).
	Transcripts store.Transcripts
	tenantList  tenantLister

	newSessions func(ctx context.Context, location string) (SessionsClient, error)
	codes       []string // every scenario code known at start (memory store)
	// secretsMu guards making secrets: values resolve concurrently (Build's
	// at once, the LLM key's in the background).
	secretsMu     sync.Mutex
	secrets       *secrets.Cache
	secretManager secrets.Accessor // WithSecretManager's; else a client made on first need
	llmKey        *lateSecret      // ROUTEBOT_LLM_API_KEY; nil when unset or unused
	httpClient    *http.Client

	// mu guards what the background classifier builds add after Build
	// returns: Dialogflow clients and their closers.
	mu        sync.Mutex
	closed    bool
	closers   []func() error
	dfClients map[string]SessionsClient
}

// Option changes how Build assembles the App.
type Option func(*App)

// WithSessionsClients makes Dialogflow Sessions clients with newSessions
// instead of dialling Google (tests point it at a fake). It is called at most
// once per location, from a classifier's background build.
func WithSessionsClients(newSessions func(ctx context.Context, location string) (SessionsClient, error)) Option {
	return func(a *App) { a.newSessions = newSessions }
}

// WithSecretManager reads Secret Manager through acc instead of a client
// dialling Google (tests point it at a fake); acc stays the caller's to close.
func WithSecretManager(acc secrets.Accessor) Option {
	return func(a *App) { a.secretManager = acc }
}

// Store is what a backing store offers.
type Store interface {
	store.Sessions
	store.Tenants
	store.Directory
}

// Build assembles the dependencies. It does the start-up I/O (reading tenant
// files or connecting to Firestore, fetching secrets) and fails with a clear
// message naming what is wrong.
func Build(ctx context.Context, cfg config.Config, logger *slog.Logger, opts ...Option) (*App, error) {
	a := &App{Config: cfg, Logger: logger}
	a.newSessions = func(ctx context.Context, location string) (SessionsClient, error) {
		opts, err := a.Dialogflow.ClientOptions(ctx, location)
		if err != nil {
			return nil, err
		}
		return detectintent.NewSessionsClient(ctx, opts...)
	}
	for _, o := range opts {
		o(a)
	}
	dfc, err := dialogflow.NewClients(dialogflow.Options{Endpoint: cfg.DFEndpoint})
	if err != nil {
		return nil, fmt.Errorf("app: ROUTEBOT_DIALOGFLOW_ENDPOINT: %w", err)
	}
	a.Dialogflow = dfc
	a.onClose(dfc.Close)

	// What Build starts (the tenants listener, secret refreshes, the LLM
	// key's fetch) lives until Close, also when Build fails: a deployed
	// function retries a failed start every few seconds, and each attempt's
	// refreshes would otherwise run for ever on a closed client.
	life, stop := context.WithCancel(ctx)
	a.onClose(func() error { stop(); return nil })

	// The store (on Firestore, the tenants listener's first snapshot) and
	// the secrets every turn needs (each perhaps a Secret Manager fetch) do
	// not depend on each other: a cold start waits for the slowest of them,
	// not for their sum.
	var st Store
	var storeErr, authErr, keysErr error
	var wg sync.WaitGroup
	wg.Go(func() { st, storeErr = a.openStore(life) })
	wg.Go(func() { a.Auth, authErr = a.verifier(life) })
	wg.Go(func() { a.RequestKeys, keysErr = a.requestKeys(life) })
	wg.Wait()
	if err := errors.Join(storeErr, authErr, keysErr); err != nil {
		a.Close()
		return nil, err
	}
	a.Sessions, a.Directory, a.Tenants = st, st, st
	switch {
	case cfg.LLMAPIKey == "" || cfg.LLMAuth == "google":
	case secrets.IsVersionName(cfg.LLMAPIKey):
		// Only an LLM classification needs the key, and no greeting waits
		// for Secret Manager: fetched in the background from now on.
		a.llmKey = newLateSecret()
		go a.llmKey.fetch(life, func(ctx context.Context) (*secrets.Secret, error) { return a.resolve(ctx, cfg.LLMAPIKey) },
			func(err error, retry time.Duration) {
				logger.Error("ROUTEBOT_LLM_API_KEY cannot be fetched; LLM classifications use the embedded classifier until it is",
					"error", err, "retryIn", retry.String())
			})
	default:
		a.llmKey = newLateSecret()
		a.llmKey.set(secrets.Literal([]byte(cfg.LLMAPIKey)))
	}
	// One pooled client for every tenant's LLM calls.
	a.httpClient = &http.Client{Transport: &http.Transport{
		Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second,
		TLSHandshakeTimeout: 5 * time.Second, ForceAttemptHTTP2: true,
	}}

	build := func(t *tenant.Tenant) error {
		// Trained once started (the scenario handler starts it after the
		// tenant's first turn has answered) or first used: never beside a
		// greeting, which does not classify.
		t.Classifier = classify.NewBackground(func() (classify.Classifier, error) { return a.classifier(t) })
		return nil
	}
	a.Flows = tenant.NewRegistry(st, build, func(id string, version int64, err error) {
		logger.Error("tenant version does not compile; serving the last good version if any",
			"tenant", id, "version", version, "error", err)
	})
	return a, nil
}

// Close releases what Build opened and what classifiers opened since. A
// classifier built after Close gets no Dialogflow client.
func (a *App) Close() error {
	a.mu.Lock()
	closers := a.closers
	a.closers, a.closed = nil, true
	a.mu.Unlock()
	var errs []error
	for i := len(closers) - 1; i >= 0; i-- {
		errs = append(errs, closers[i]())
	}
	return errors.Join(errs...)
}

// onClose adds f to what Close releases; after Close (a background
// resolution finishing late), it releases f at once.
func (a *App) onClose(f func() error) {
	a.mu.Lock()
	closed := a.closed
	if !closed {
		a.closers = append(a.closers, f)
	}
	a.mu.Unlock()
	if closed {
		_ = f()
	}
}

// ScenarioCodes lists the scenario codes known at start (memory store only).
func (a *App) ScenarioCodes() []string { return a.codes }

// Warm compiles every known tenant now, so the first call does not pay for
// it. Classifiers are not trained here: each starts after its tenant's first
// turn, so that training does not share the CPU with the first greeting.
func (a *App) Warm(ctx context.Context) error {
	for _, code := range a.codes {
		if _, err := a.Flows.Flow(ctx, code); err != nil {
			return fmt.Errorf("app: warm %s: %w", code, err)
		}
	}
	return nil
}
