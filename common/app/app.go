// Package app assembles routebot's dependencies from a Config, once per
// process: the store (embedded or Firestore), the tenant registry with each
// tenant's classifier, the bearer-token verifier with its secrets. The
// functions and the local run share it so that they behave the same.
package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	secretmanager "cloud.google.com/go/secretmanager/apiv1"
	"golang.org/x/oauth2/google"

	"github.com/routebot/routebot/common/auth"
	"github.com/routebot/routebot/common/classify"
	"github.com/routebot/routebot/common/classify/detectintent"
	"github.com/routebot/routebot/common/classify/embedded"
	"github.com/routebot/routebot/common/classify/llm"
	"github.com/routebot/routebot/common/config"
	"github.com/routebot/routebot/common/dialogflow"
	"github.com/routebot/routebot/common/secrets"
	"github.com/routebot/routebot/common/session"
	"github.com/routebot/routebot/common/store"
	"github.com/routebot/routebot/common/store/fsstore"
	"github.com/routebot/routebot/common/store/memstore"
	"github.com/routebot/routebot/common/tenant"
	"github.com/routebot/routebot/examples"
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

	newSessions func(ctx context.Context, location string) (SessionsClient, error)
	codes       []string // every scenario code known at start (memory store)
	secrets     *secrets.Cache
	llmKey      *secrets.Secret
	httpClient  *http.Client

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
	var st Store
	switch cfg.Store {
	case "memory":
		ms, codes, err := memoryStore(cfg)
		if err != nil {
			return nil, err
		}
		st, a.codes = ms, codes
		a.sweepEvery(ms, time.Minute)
		a.ProfileNames, a.Conversations = memstore.NewProfileNames(), memstore.NewConversations(nil)
	case "firestore":
		fs, err := a.firestoreStore(ctx)
		if err != nil {
			a.Close()
			return nil, err
		}
		st = fs
		a.ProfileNames, a.Conversations = fs, fs
	default:
		return nil, fmt.Errorf("app: ROUTEBOT_STORE=%q: want memory or firestore", cfg.Store)
	}
	a.Sessions, a.Directory, a.Tenants = st, st, st
	dfc, err := dialogflow.NewClients(dialogflow.Options{Endpoint: cfg.DFEndpoint})
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("app: ROUTEBOT_DIALOGFLOW_ENDPOINT: %w", err)
	}
	a.Dialogflow = dfc
	a.closers = append(a.closers, dfc.Close)

	verifier, err := a.verifier(ctx)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.Auth = verifier
	if a.RequestKeys, err = a.requestKeys(ctx); err != nil {
		a.Close()
		return nil, err
	}
	if cfg.LLMAPIKey != "" {
		if a.llmKey, err = a.resolve(ctx, cfg.LLMAPIKey); err != nil {
			a.Close()
			return nil, fmt.Errorf("app: ROUTEBOT_LLM_API_KEY: %w", err)
		}
	}
	// One pooled client for every tenant's LLM calls.
	a.httpClient = &http.Client{Transport: &http.Transport{
		Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second,
		TLSHandshakeTimeout: 5 * time.Second, ForceAttemptHTTP2: true,
	}}

	build := func(t *tenant.Tenant) error {
		t.Classifier = classify.Background(func() (classify.Classifier, error) { return a.classifier(t) })
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

// onClose adds f to what Close releases.
func (a *App) onClose(f func() error) {
	a.mu.Lock()
	a.closers = append(a.closers, f)
	a.mu.Unlock()
}

// firestoreStore connects to Firestore, or to the emulator the configuration
// names (FIRESTORE_EMULATOR_HOST), and waits for the tenant index's first
// snapshot.
func (a *App) firestoreStore(ctx context.Context) (*fsstore.Store, error) {
	client, closeClient, err := fsstore.NewClient(ctx, a.Config.Project, a.Config.FirestoreHost)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	a.onClose(closeClient)
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	st, err := fsstore.New(sctx, client, fsstore.Options{Logger: a.Logger})
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	a.onClose(st.Close)
	return st, nil
}

// sweepEvery drops expired sessions of the embedded store periodically, so a
// long local run's memory stays bounded by the session TTL.
func (a *App) sweepEvery(ms *memstore.Store, every time.Duration) {
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				ms.Sweep()
			case <-stop:
				return
			}
		}
	}()
	a.onClose(func() error { close(stop); return nil })
}

// ScenarioCodes lists the scenario codes known at start (memory store only).
func (a *App) ScenarioCodes() []string { return a.codes }

// Warm compiles every known tenant now (and builds its classifier), so the
// first call does not pay for it.
func (a *App) Warm(ctx context.Context) error {
	for _, code := range a.codes {
		if _, err := a.Flows.Flow(ctx, code); err != nil {
			return fmt.Errorf("app: warm %s: %w", code, err)
		}
	}
	return nil
}

// memoryStore loads tenant folders (ROUTEBOT_TENANTS, or the embedded demo
// tenants) into an embedded store, validating all of them first.
func memoryStore(cfg config.Config) (*memstore.Store, []string, error) {
	fsys, root := fs.FS(examples.Tenants), "tenants"
	// Errors name the folder: os.DirFS's own say only ".".
	source := "the embedded demo tenants (ROUTEBOT_TENANTS unset)"
	if cfg.Tenants != "" {
		fsys, root = os.DirFS(cfg.Tenants), "."
		source = fmt.Sprintf("ROUTEBOT_TENANTS=%q", cfg.Tenants)
	}
	tfs, err := tenant.ReadFS(fsys, root)
	if err != nil {
		return nil, nil, fmt.Errorf("app: %s: %w", source, err)
	}
	parsed, err := tenant.ParseAll(tfs)
	if err != nil {
		return nil, nil, fmt.Errorf("app: %s: %w", source, err)
	}
	ms := memstore.New(nil)
	var codes []string
	for i, t := range parsed {
		if _, _, err := ms.PutTenant(context.Background(), tfs[i], t.ScenarioCodes(), t.Customers); err != nil {
			return nil, nil, fmt.Errorf("app: %w", err)
		}
		codes = append(codes, t.ScenarioCodes()...)
	}
	return ms, codes, nil
}

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

// classifier builds a tenant's classifier: its own backend choice, else the
// deployment's default; every non-embedded backend falls back to the embedded
// one built from the tenant's examples (on failure, or an answer outside the
// taxonomy).
func (a *App) classifier(t *tenant.Tenant) (classify.Classifier, error) {
	emb, err := embedded.New(t.Taxonomy)
	if err != nil {
		return nil, err
	}
	backend := t.ClassifierSpec.Backend
	if backend == "" {
		backend = a.Config.Classifier
	}
	var primary classify.Classifier
	switch backend {
	case "embedded":
		return emb, nil
	case "llm":
		primary, err = a.llm(t)
	case "dialogflow":
		primary, err = a.dialogflow(t)
	default:
		err = fmt.Errorf("classifier backend %q: want embedded, llm or dialogflow", backend)
	}
	if err != nil {
		// Calls must not suffer for a deployment mistake: classify with the
		// tenant's examples, and say so loudly, once per tenant version.
		a.Logger.Error("tenant's classifier backend cannot be built; using the embedded classifier",
			"tenant", t.ID, "version", t.Version, "backend", backend, "error", err)
		return emb, nil
	}
	return classify.WithFallback(primary, emb, a.Logger), nil
}

func (a *App) llm(t *tenant.Tenant) (classify.Classifier, error) {
	c := a.Config
	if c.LLMBaseURL == "" {
		return nil, fmt.Errorf("tenant %q uses the llm classifier: set ROUTEBOT_LLM_BASE_URL and ROUTEBOT_LLM_MODEL", t.ID)
	}
	model := c.LLMModel
	if t.ClassifierSpec.LLM.Model != "" {
		model = t.ClassifierSpec.LLM.Model
	}
	cfg := llm.Config{BaseURL: c.LLMBaseURL, Model: model, Timeout: c.PostCallTimeout, MaxRetries: 2,
		HTTPClient: a.httpClient, Logger: a.Logger}
	switch c.LLMAuth {
	case "google":
		ts, err := google.DefaultTokenSource(context.Background(), "https://www.googleapis.com/auth/cloud-platform")
		if err != nil {
			return nil, fmt.Errorf("ROUTEBOT_LLM_AUTH=google: google.DefaultTokenSource: %w", err)
		}
		cfg.TokenSource = func(context.Context) (string, error) {
			tok, err := ts.Token()
			if err != nil {
				return "", err
			}
			return tok.AccessToken, nil
		}
	case "api-key":
		cfg.APIKeyHeader = "api-key"
	}
	if c.LLMAuth != "google" && a.llmKey != nil {
		cfg.APIKey = a.llmKey.Current // re-read per request: rotations apply at once
	}
	return llm.New(cfg, t.Taxonomy)
}

func (a *App) dialogflow(t *tenant.Tenant) (classify.Classifier, error) {
	spec := t.ClassifierSpec.Dialogflow
	cfg := detectintent.Config{Project: spec.Project, Location: spec.Location, LanguageCode: spec.Language,
		IntentMap: spec.Intents, MinConfidence: float32(t.ClassifierSpec.MinConfidence), MaxRetries: 1}
	if cfg.Project == "" {
		cfg.Project = a.Config.DFProject
	}
	if cfg.Location == "" {
		cfg.Location = a.Config.DFLocation
	}
	if cfg.LanguageCode == "" {
		cfg.LanguageCode = a.Config.DFLanguage
	}
	if cfg.Project == "" {
		return nil, fmt.Errorf("tenant %q uses Dialogflow: set classifier.dialogflow.project or ROUTEBOT_DIALOGFLOW_PROJECT", t.ID)
	}
	sessions, err := a.sessionsClient(cfg.Location)
	if err != nil {
		return nil, err
	}
	return detectintent.New(sessions, cfg, t.Taxonomy)
}

// sessionsClient returns the Dialogflow Sessions client of a location,
// created once and shared by every tenant there.
func (a *App) sessionsClient(location string) (detectintent.Sessions, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.dfClients[location]; ok {
		return c, nil
	}
	if a.closed {
		return nil, errors.New("app closed: no Dialogflow client")
	}
	c, err := a.newSessions(context.Background(), location)
	if err != nil {
		return nil, err
	}
	if a.dfClients == nil {
		a.dfClients = map[string]SessionsClient{}
	}
	a.dfClients[location] = c
	a.closers = append(a.closers, c.Close)
	return c, nil
}

// SessionsClient is a Dialogflow Sessions client (detectintent.Sessions that
// can be closed).
type SessionsClient interface {
	detectintent.Sessions
	Close() error
}
