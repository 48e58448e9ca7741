package scenario

import (
	"net/http"

	"github.com/routebot/routebot/common/app"
	"github.com/routebot/routebot/functions/internal/edge"
)

// FromApp builds the handler from assembled dependencies.
func FromApp(a *app.App) *Handler { return FromAppWith(a, OptionsOf(a)) }

// OptionsOf are the deployed handler's options for a.
func OptionsOf(a *app.App) Options {
	c := a.Config
	return Options{Project: c.Project, TurnTimeout: c.TurnTimeout, ClassifyTimeout: c.ClassifyTimeout,
		SessionTTL: c.SessionTTL, RequestKeys: a.RequestKeys, LookUpDuringRead: c.Store == "firestore"}
}

// FromAppWith builds the handler from a's dependencies with opts (a
// benchmark's variant of OptionsOf(a)).
func FromAppWith(a *app.App, opts Options) *Handler {
	return New(a.Flows, a.Sessions, a.Directory, a.Auth, a.Logger, opts)
}

// deployed is the Cloud Function's handler, built on its first request.
var deployed = app.NewDeployed("scenario", func(a *app.App) http.Handler { return FromApp(a) },
	edge.StartFailed)

// Handle is the Scenario function's entry point.
func Handle(w http.ResponseWriter, r *http.Request) { deployed.ServeHTTP(w, r) }
