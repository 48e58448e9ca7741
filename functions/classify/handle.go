package classify

import (
	"net/http"

	"github.com/routebot/routebot/common/app"
)

// FromApp builds the handler from assembled dependencies.
func FromApp(a *app.App) *Handler {
	c := a.Config
	return New(a.Flows, a.Auth, a.Logger, Options{Project: c.Project, Timeout: c.PostCallTimeout, TimeZone: c.TimeZone,
		Transcripts: a.Transcripts, CallOwners: a.Conversations})
}

// deployed is the Cloud Function's handler, built on its first request.
var deployed = app.NewDeployed("classify", func(a *app.App) http.Handler { return FromApp(a) },
	func(w http.ResponseWriter, _ error) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"Result":"N","TransCode":"601","Description":"InternalSystemErrorException: the function cannot start; see its logs"}`))
	})

// Handle is the Classify function's entry point.
func Handle(w http.ResponseWriter, r *http.Request) { deployed.ServeHTTP(w, r) }
