// Command local runs all of routebot in one process on an embedded store:
// POST /{scenarioCode} (the scenario function), POST
// /{scenarioCode}/chat-gpt (the classify function), GET|PUT
// /tenants/{tenant}/profile (the profile function, on Dialogflow or on the
// fake ROUTEBOT_DIALOGFLOW_ENDPOINT names) and GET /v1/stream (the stream
// service), serving the demo tenants (or ROUTEBOT_TENANTS) with no cloud
// account.
package main

import (
	"context"
	"errors"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/routebot/routebot/common/app"
	"github.com/routebot/routebot/common/config"
	"github.com/routebot/routebot/common/logging"
	"github.com/routebot/routebot/common/stream"
	"github.com/routebot/routebot/functions/gateway"
	"github.com/routebot/routebot/functions/profile"
)

func main() {
	start := time.Now()
	if os.Getenv("GOGC") == "" {
		// Sessions are long-lived and turns allocate little: a larger heap
		// goal trades memory (plenty on a laptop) for a quarter of the GC work.
		debug.SetGCPercent(400)
	}
	cfg, err := config.Load(os.Getenv, true)
	if err != nil {
		log.Fatal(err)
	}
	streamOpts, err := stream.LoadOptions(os.Getenv)
	if err != nil {
		log.Fatal(err)
	}
	logs := logging.NewBuffered(os.Stderr, 100*time.Millisecond)
	defer logs.Close()
	logger := logging.New(logs, cfg.LogLevel)
	slog.SetDefault(logger)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	a, err := app.Build(ctx, cfg, logger)
	if err != nil {
		log.Fatal(err)
	}
	defer a.Close()
	if cfg.DevToken {
		logger.Warn("ROUTEBOT_API_TOKEN is unset: accepting the development token; never expose this server",
			"token", config.DevToken)
	}

	streams, err := a.StreamServer(streamOpts)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{
		Handler:           handler(a, streams),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      cfg.PostCallTimeout + 5*time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	ln, err := net.Listen("tcp", ":"+cfg.Port)
	if err != nil {
		log.Fatal(err)
	}
	logger.Info("routebot local run is serving", "addr", ln.Addr().String(), "store", cfg.Store,
		"scenarios", a.ScenarioCodes(), "startup_ms", time.Since(start).Milliseconds())
	go func() {
		// Compile tenants while the listener is already accepting: a call
		// arriving meanwhile waits only for its own tenant.
		if err := a.Warm(ctx); err != nil {
			logger.Error("warming tenants", "error", err)
		}
	}()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = streams.Shutdown(shutdown) // its sockets are hijacked: srv.Shutdown does not see them
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logs.Close()
		log.Fatal(err)
	}
}

// handler is every function of the local run on one mux: the gateway's URL
// shapes, the profile function and the stream service.
func handler(a *app.App, streams *stream.Server) *http.ServeMux {
	mux := gateway.Mux(a)
	mux.Handle("/tenants/{tenant}/profile", profile.FromApp(a))
	streams.Register(mux)
	return mux
}
