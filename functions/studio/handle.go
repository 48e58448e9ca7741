package studio

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/routebot/routebot/common/app"
	"github.com/routebot/routebot/common/store/fsstore"
	"github.com/routebot/routebot/common/studio"
)

// DevToken is the local run's author token (every tenant) when
// ROUTEBOT_STUDIO_TOKENS is unset. It is public: never use it in production.
const DevToken = "routebot-studio-dev-token"

// FromApp builds the studio over the App's store, classifiers and secrets.
// Author tokens come from ROUTEBOT_STUDIO_TOKENS (read with getenv, once);
// unset is refused unless local, where the development token is accepted
// (devToken reports it, for a warning).
func FromApp(ctx context.Context, a *app.App, getenv func(string) string, local bool) (h *Handler, devToken bool, err error) {
	tokens := strings.TrimSpace(getenv(studio.TokensEnv))
	st, ok := a.Tenants.(studio.Store)
	if !ok {
		return nil, false, fmt.Errorf("studio: the %s store cannot publish tenants", a.Config.Store)
	}
	if tokens == "" && local {
		tokens, devToken = "*:"+DevToken, true
	}
	specs, err := studio.ParseTokens(tokens)
	if err != nil {
		return nil, false, fmt.Errorf("studio: %w", err)
	}
	authors, err := studio.NewAuthors(ctx, specs, a.Secret)
	if err != nil {
		return nil, false, fmt.Errorf("studio: %w", err)
	}
	history, err := historyFor(ctx, a)
	if err != nil {
		return nil, false, err
	}
	svc := studio.New(st, history, a.Classifier, nil)
	return New(svc, authors, a.Logger), devToken, nil
}

// historyFor keeps versions where the tenants are: in memory for the
// embedded store, in Firestore beside the tenants otherwise.
func historyFor(ctx context.Context, a *app.App) (studio.History, error) {
	if a.Config.Store != "firestore" {
		return studio.NewMemoryHistory(), nil
	}
	// The client lives as long as the process, as the App's own does.
	client, _, err := fsstore.NewClient(ctx, a.Config.Project, a.Config.FirestoreHost)
	if err != nil {
		return nil, fmt.Errorf("studio: history: %w", err)
	}
	return studio.NewFirestoreHistory(client, ""), nil
}

// deployed is the Cloud Function's handler, built on its first request.
var deployed = app.NewDeployed("studio", func(a *app.App) http.Handler { return &lazy{app: a} },
	func(w http.ResponseWriter, _ error) {
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "the studio cannot start; see its logs"})
	})

// retryAfter spaces attempts to build the studio after a failure.
const retryAfter = 5 * time.Second

// lazy builds the deployed studio on first use and again, at most every
// retryAfter, after a failure: a Secret Manager outage at a cold start must
// not leave the instance broken.
type lazy struct {
	app *app.App

	mu      sync.Mutex
	handler http.Handler
	tried   time.Time
}

func (l *lazy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	if l.handler == nil && time.Since(l.tried) >= retryAfter {
		l.tried = time.Now()
		h, _, err := FromApp(context.WithoutCancel(r.Context()), l.app, os.Getenv, false)
		if err != nil {
			l.app.Logger.Error("studio function cannot start; will retry", "error", err)
		} else {
			// Deployed, the function is served at /: its root opens the page.
			l.handler = h.Wrap(http.RedirectHandler("/studio/", http.StatusFound))
		}
	}
	h := l.handler
	l.mu.Unlock()
	if h == nil {
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "the studio cannot start; see its logs"})
		return
	}
	h.ServeHTTP(w, r)
}

// Handle is the Studio function's entry point (behind IAP in production).
func Handle(w http.ResponseWriter, r *http.Request) { deployed.ServeHTTP(w, r) }
