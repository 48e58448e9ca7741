// Package gateway serves every URL shape the AI Gateway calls on one base
// URL, as the Node-RED server did: POST /{scenarioCode} (a call turn) and
// POST /{scenarioCode}/chat-gpt[/] (classification). Deploy it as the
// Gateway function when the gateway is configured with a single base URL;
// Scenario and Classify remain available as separate functions.
package gateway

import (
	"net/http"

	"github.com/routebot/routebot/common/app"
	"github.com/routebot/routebot/functions/classify"
	"github.com/routebot/routebot/functions/internal/edge"
	"github.com/routebot/routebot/functions/scenario"
)

// Mux routes the seed's URL shapes to the functions' handlers.
func Mux(a *app.App) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/", scenario.FromApp(a))
	cls := classify.FromApp(a)
	mux.Handle("/{code}/chat-gpt", cls)
	mux.Handle("/{code}/chat-gpt/{$}", cls)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	return mux
}

// deployed is the Cloud Function's handler, built on its first request.
var deployed = app.NewDeployed("gateway", func(a *app.App) http.Handler { return Mux(a) },
	edge.StartFailed)

// Handle is the Gateway function's entry point.
func Handle(w http.ResponseWriter, r *http.Request) { deployed.ServeHTTP(w, r) }
