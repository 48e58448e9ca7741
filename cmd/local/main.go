// Command local runs all of routebot in one process: POST /{scenarioCode}
// (the scenario function), POST /{scenarioCode}/chat-gpt (the classify
// function), GET|PUT /tenants/{tenant}/profile (the profile function, on
// Dialogflow or on the fake ROUTEBOT_DIALOGFLOW_ENDPOINT names), GET
// /v1/stream (the stream service) and /studio/ (the flow studio), serving the
// demo tenants (or ROUTEBOT_TENANTS) with no cloud account.
//
// The store is the embedded one (ROUTEBOT_STORE=memory, the default),
// Firestore (ROUTEBOT_STORE=firestore, with GOOGLE_CLOUD_PROJECT and a token),
// or ROUTEBOT_STORE=emulator: Google's Firestore emulator, started for this
// run (or the one FIRESTORE_EMULATOR_HOST names), with the tenants pushed to
// it as routebotctl push does.
//
// Without ROUTEBOT_API_TOKEN or ROUTEBOT_JWT_KEY it accepts the public
// development token, and so listens on 127.0.0.1 only; ROUTEBOT_LISTEN_HOST
// chooses another interface (* for every one).
package main

import (
	"context"
	"errors"
	"fmt"
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
	"github.com/routebot/routebot/functions/studio"
)

func main() {
	start := time.Now()
	if os.Getenv("GOGC") == "" {
		// Sessions are long-lived and turns allocate little: a larger heap
		// goal trades memory (plenty on a laptop) for a quarter of the GC work.
		debug.SetGCPercent(400)
	}
	getenv, stopEmulator, err := storeEnv(os.Getenv)
	if err != nil {
		log.Fatal(err)
	}
	cfg, err := config.Load(getenv, true)
	if err != nil {
		stopEmulator()
		log.Fatal(err)
	}
	streamOpts, err := stream.LoadOptions(getenv)
	if err != nil {
		stopEmulator()
		log.Fatal(err)
	}
	logs := logging.NewBuffered(os.Stderr, 100*time.Millisecond)
	logger := logging.New(logs, cfg.LogLevel)
	servePprof(logger)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, cfg, streamOpts, logger, start, os.Getenv("ROUTEBOT_STORE") == "emulator")
	stop()
	logs.Close()
	stopEmulator()
	if err != nil {
		log.Fatal(err)
	}
}

// run serves until ctx is done, first pushing the tenants when push is set
// (the emulator).
func run(ctx context.Context, cfg config.Config, streamOpts stream.Options, logger *slog.Logger, start time.Time, push bool) error {
	if push {
		if err := pushTenants(ctx, cfg, os.Getenv("ROUTEBOT_TENANTS"), logger); err != nil {
			return err
		}
	}
	a, err := app.Build(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	streams, err := a.StreamServer(streamOpts)
	if err != nil {
		return err
	}
	studioHandler, studioDev, err := studio.FromApp(ctx, a, os.Getenv, true)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           studioHandler.Wrap(handler(a, streams)),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      cfg.PostCallTimeout + 5*time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	ln, err := net.Listen("tcp", cfg.ListenAddr())
	if err != nil {
		return fmt.Errorf("net.Listen: %w", err)
	}
	if cfg.DevToken {
		logger.Warn("no ROUTEBOT_API_TOKEN or ROUTEBOT_JWT_KEY: accepting the public development token; set one before exposing this server",
			"token", config.DevToken, "addr", ln.Addr().String())
	}
	if studioDev {
		logger.Warn("ROUTEBOT_STUDIO_TOKENS is unset: the studio at /studio/ accepts the development author token for every tenant",
			"token", studio.DevToken)
	}
	logger.Info("routebot local run is serving", servingAttrs(a, ln.Addr(), start)...)
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
		return fmt.Errorf("http.Server.Serve: %w", err)
	}
	return nil
}

// servingAttrs are the start-up line's attributes. Scenario codes are known
// at start only on the embedded store; Firestore resolves them per call.
func servingAttrs(a *app.App, addr net.Addr, start time.Time) []any {
	attrs := []any{"addr", addr.String(), "store", a.Config.Store}
	if codes := a.ScenarioCodes(); len(codes) > 0 {
		attrs = append(attrs, "scenarios", codes)
	}
	return append(attrs, "startup_ms", time.Since(start).Milliseconds())
}

// handler is every function of the local run on one router: the gateway's
// URL shapes, the profile function and the stream service.
func handler(a *app.App, streams *stream.Server) http.Handler {
	g := gateway.New(a)
	g.Handle("/tenants/{tenant}/profile", profile.FromApp(a))
	streams.Register(g)
	return g
}
