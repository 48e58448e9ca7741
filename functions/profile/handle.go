package profile

import (
	"net/http"

	"github.com/routebot/routebot/common/app"
	"github.com/routebot/routebot/common/dialogflow"
)

// FromApp builds the handler from assembled dependencies.
func FromApp(a *app.App) *Handler {
	rec := dialogflow.NewReconciler(a.Dialogflow, a.Tenants, a.ProfileNames, a.Config.DFProject)
	return New(rec, a.Auth, a.Logger, DefaultTimeout)
}

// deployed is the Cloud Function's handler, built on its first request.
var deployed = app.NewDeployed("profile", func(a *app.App) http.Handler { return FromApp(a) },
	func(w http.ResponseWriter, _ error) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Retry-After", "5")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"error":{"code":503,"status":"UNAVAILABLE","message":"the function cannot start; see its logs"}}` + "\n"))
	})

// Handle is the Profile function's entry point.
func Handle(w http.ResponseWriter, r *http.Request) { deployed.ServeHTTP(w, r) }
