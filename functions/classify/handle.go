package classify

import (
	"net/http"
	"time"

	"github.com/routebot/routebot/common/app"
	"github.com/routebot/routebot/common/classify"
	"github.com/routebot/routebot/functions/internal/edge"
)

// FromApp builds the handler from assembled dependencies.
func FromApp(a *app.App) *Handler {
	c := a.Config
	return New(a.Flows, a.Auth, a.Logger, Options{Project: c.Project, Timeout: c.PostCallTimeout, TimeZone: c.TimeZone,
		Transcripts: a.Transcripts, CallOwners: a.Conversations})
}

// deployed is the Cloud Function's handler, built on its first request.
var deployed = app.NewDeployed("classify", func(a *app.App) http.Handler { return FromApp(a) },
	startFailed)

// startFailed is the classify envelope (with create_time) for a function that
// cannot start. Its configuration, time zone included, may be what failed, so
// create_time is in ROUTEBOT_TIMEZONE's default zone.
func startFailed(w http.ResponseWriter, _ error) {
	zone, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		zone = time.UTC
	}
	writeAnswer(w, classify.Result{}, edge.CannotStart, time.Now().In(zone))
}

// Handle is the Classify function's entry point.
func Handle(w http.ResponseWriter, r *http.Request) { deployed.ServeHTTP(w, r) }
