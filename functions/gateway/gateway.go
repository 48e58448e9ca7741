// Package gateway serves every URL shape the AI Gateway calls on one base
// URL, as the Node-RED server did: POST /{scenarioCode} (a call turn) and
// POST /{scenarioCode}/chat-gpt[/] (classification). Deploy it as the
// Gateway function when the gateway is configured with a single base URL;
// Scenario and Classify remain available as separate functions.
package gateway

import (
	"net/http"
	"strings"

	"github.com/routebot/routebot/common/app"
	"github.com/routebot/routebot/functions/classify"
	"github.com/routebot/routebot/functions/internal/edge"
	"github.com/routebot/routebot/functions/scenario"
)

// Router routes the seed's URL shapes to the functions' handlers. A call
// turn, most of what the gateway sends, goes straight to the scenario
// function: the mux's pattern matching is otherwise a few percent of a
// turn's CPU. Everything else goes through the embedded ServeMux, where the
// local run adds its own routes; both reach the same handler for every
// request (TestRouterMatchesMux).
type Router struct {
	*http.ServeMux
	turn http.Handler
}

// New returns the gateway's routes for a.
func New(a *app.App) *Router { return newRouter(scenario.FromApp(a), classify.FromApp(a)) }

func newRouter(turn, cls http.Handler) *Router {
	mux := http.NewServeMux()
	mux.Handle("/", turn)
	mux.Handle("/{code}/chat-gpt", cls)
	mux.Handle("/{code}/chat-gpt/{$}", cls)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	return &Router{ServeMux: mux, turn: turn}
}

// ServeHTTP implements http.Handler.
func (g *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && isTurnPath(r.URL.Path) {
		g.turn.ServeHTTP(w, r)
		return
	}
	g.ServeMux.ServeHTTP(w, r)
}

// isTurnPath reports whether p is /{scenarioCode}: one clean segment, which
// the mux would route to "/" too (no route of its own has one segment and
// POST, and a clean path is never redirected).
func isTurnPath(p string) bool {
	return len(p) > 1 && p[0] == '/' && strings.IndexByte(p[1:], '/') < 0 && p != "/." && p != "/.."
}

// deployed is the Cloud Function's handler, built on its first request.
var deployed = app.NewDeployed("gateway", func(a *app.App) http.Handler { return New(a) },
	edge.StartFailed)

// Handle is the Gateway function's entry point.
func Handle(w http.ResponseWriter, r *http.Request) { deployed.ServeHTTP(w, r) }
