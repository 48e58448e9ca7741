// Command stream is the stream service's Cloud Run container: GET
// /v1/stream (each call leg's audio over a WebSocket, relayed to Dialogflow
// BidiStreamingAnalyzeContent; docs/stream.md) and POST
// /v1/calls/{callId}/complete, on PORT. On SIGTERM every open leg is
// flushed within Cloud Run's 10 seconds: its last results are delivered and
// its client told to resume elsewhere (close 1012), or sent end if it had
// stopped.
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
	"syscall"
	"time"

	"github.com/routebot/routebot/common/app"
	"github.com/routebot/routebot/common/config"
	"github.com/routebot/routebot/common/logging"
	"github.com/routebot/routebot/common/stream"
)

// shutdownBudget is Cloud Run's grace after SIGTERM less a margin for the
// HTTP server's own shutdown.
const shutdownBudget = 8 * time.Second

func main() {
	cfg, err := config.Load(os.Getenv, false)
	if err != nil {
		log.Fatal(err)
	}
	opts, err := stream.LoadOptions(os.Getenv)
	if err != nil {
		log.Fatal(err)
	}
	logger := logging.New(os.Stderr, cfg.LogLevel)
	slog.SetDefault(logger)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	a, err := app.Build(ctx, cfg, logger)
	if err != nil {
		log.Fatal(err)
	}
	defer a.Close()
	srv, err := a.StreamServer(opts)
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	srv.Register(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	hs := &http.Server{
		Handler: mux,
		// Sockets live for the whole call: no read or write timeout here;
		// the service bounds each frame and each write itself.
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	ln, err := net.Listen("tcp", ":"+cfg.Port)
	if err != nil {
		log.Fatal(err)
	}
	logger.Info("stream service is serving", "addr", ln.Addr().String(), "store", cfg.Store)
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		log.Fatal(err)
	case <-ctx.Done():
	}
	logger.Info("stream service: SIGTERM; flushing open legs", "legs", srv.Streams())
	sctx, cancel := context.WithTimeout(context.Background(), shutdownBudget)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Error("stream service: shutdown", "error", err)
	}
	hctx, hcancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer hcancel()
	if err := hs.Shutdown(hctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Error("stream service: http shutdown", "error", err)
	}
}
