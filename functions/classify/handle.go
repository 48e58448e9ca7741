package classify

import (
	"context"
	"net/http"
	"os"
	"sync"

	"github.com/routebot/routebot/common/app"
	"github.com/routebot/routebot/common/config"
	"github.com/routebot/routebot/common/logging"
)

// FromApp builds the handler from assembled dependencies.
func FromApp(a *app.App) *Handler {
	c := a.Config
	return New(a.Flows, a.Auth, a.Logger, Options{Project: c.Project, Timeout: c.PostCallTimeout, TimeZone: c.TimeZone})
}

// deployed is the Cloud Function's handler, built on its first request from
// the environment (init does no I/O).
var deployed = sync.OnceValue(func() http.Handler {
	cfg, err := config.Load(os.Getenv, false)
	if err == nil {
		logger := logging.New(os.Stdout, cfg.LogLevel)
		var a *app.App
		if a, err = app.Build(context.Background(), cfg, logger); err == nil {
			return FromApp(a)
		}
	}
	logging.New(os.Stderr, nil).Error("classify function cannot start", "error", err)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"Result":"N","TransCode":"601","Description":"InternalSystemErrorException: the function is misconfigured; see its logs"}`))
	})
})

// Handle is the Classify function's entry point.
func Handle(w http.ResponseWriter, r *http.Request) { deployed().ServeHTTP(w, r) }
