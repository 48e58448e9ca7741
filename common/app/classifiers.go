package app

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/oauth2/google"

	"github.com/routebot/routebot/common/classify"
	"github.com/routebot/routebot/common/classify/detectintent"
	"github.com/routebot/routebot/common/classify/embedded"
	"github.com/routebot/routebot/common/classify/llm"
	"github.com/routebot/routebot/common/tenant"
)

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
	if a.llmKey == nil { // ROUTEBOT_LLM_AUTH=google, or no key
		return llm.New(cfg, t.Taxonomy)
	}
	if s := a.llmKey.peek(); s != nil { // a literal, or fetched already
		cfg.APIKey = s.Current // re-read per request: rotations apply at once
		return llm.New(cfg, t.Taxonomy)
	}
	key := a.llmKey
	cfg.APIKey = func() []byte { return key.peek().Current() } // called only once keyed.Classify has the key
	primary, err := llm.New(cfg, t.Taxonomy)
	if err != nil {
		return nil, err
	}
	return keyed{primary, key}, nil
}

// keyed is an LLM classifier whose key comes from Secret Manager: until the
// key is at hand, a classification fails at once (or when the fetch under
// way ends) and the embedded fallback answers, rather than wait for it.
type keyed struct {
	classify.Classifier
	key *lateSecret
}

func (k keyed) Classify(ctx context.Context, in classify.Input) (classify.Result, error) {
	if _, err := k.key.get(ctx); err != nil {
		return classify.Result{}, fmt.Errorf("ROUTEBOT_LLM_API_KEY: %w: %w", classify.ErrUnavailable, err)
	}
	return k.Classifier.Classify(ctx, in)
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
