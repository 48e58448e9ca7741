package scenario

import (
	"net/http"

	"github.com/routebot/routebot/common/app"
	"github.com/routebot/routebot/common/wire"
)

// FromApp builds the handler from assembled dependencies.
func FromApp(a *app.App) *Handler {
	c := a.Config
	return New(a.Flows, a.Sessions, a.Directory, a.Auth, a.Logger, Options{Project: c.Project,
		TurnTimeout: c.TurnTimeout, ClassifyTimeout: c.ClassifyTimeout, SessionTTL: c.SessionTTL,
		RequestKeys: a.RequestKeys})
}

// deployed is the Cloud Function's handler, built on its first request.
var deployed = app.NewDeployed("scenario", func(a *app.App) http.Handler { return FromApp(a) },
	func(w http.ResponseWriter, _ error) {
		resp := wire.ErrorResponse(wire.Request{}, wire.Errorf(wire.InternalError, "the function cannot start; see its logs"))
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write(resp.AppendJSON(nil))
	})

// Handle is the Scenario function's entry point.
func Handle(w http.ResponseWriter, r *http.Request) { deployed.ServeHTTP(w, r) }
