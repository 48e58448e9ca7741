package scenario

import (
	"context"
	"net/http"
	"os"
	"sync"

	"github.com/routebot/routebot/common/app"
	"github.com/routebot/routebot/common/config"
	"github.com/routebot/routebot/common/logging"
	"github.com/routebot/routebot/common/wire"
)

// FromApp builds the handler from assembled dependencies.
func FromApp(a *app.App) *Handler {
	c := a.Config
	return New(a.Flows, a.Sessions, a.Directory, a.Auth, a.Logger, Options{Project: c.Project,
		TurnTimeout: c.TurnTimeout, ClassifyTimeout: c.ClassifyTimeout, SessionTTL: c.SessionTTL})
}

// deployed is the Cloud Function's handler, built on its first request from
// the environment (init does no I/O). A configuration error is logged and
// every request answers 601 until the function is redeployed.
var deployed = sync.OnceValue(func() http.Handler {
	cfg, err := config.Load(os.Getenv, false)
	if err == nil {
		logger := logging.New(os.Stdout, cfg.LogLevel)
		var a *app.App
		if a, err = app.Build(context.Background(), cfg, logger); err == nil {
			return FromApp(a)
		}
	}
	logging.New(os.Stderr, nil).Error("scenario function cannot start", "error", err)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp := wire.ErrorResponse(wire.Request{}, wire.Errorf(wire.InternalError, "the function is misconfigured; see its logs"))
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write(resp.AppendJSON(nil))
	})
})

// Handle is the Scenario function's entry point.
func Handle(w http.ResponseWriter, r *http.Request) { deployed().ServeHTTP(w, r) }
