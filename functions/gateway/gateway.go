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
// turn's CPU. Everything else goes through the mux, where the local run adds
// its own routes. The short cut is taken only while no route added could
// claim a call turn's path (Handle turns it off when one does), so that both
// reach the same handler (TestRouterMatchesMux).
type Router struct {
	mux   *http.ServeMux
	turn  http.Handler
	short bool
}

// New returns the gateway's routes for a.
func New(a *app.App) *Router { return newRouter(scenario.FromApp(a), classify.FromApp(a)) }

func newRouter(turn, cls http.Handler) *Router {
	mux := http.NewServeMux()
	mux.Handle("/", turn)
	mux.Handle("/{code}/chat-gpt", cls)
	mux.Handle("/{code}/chat-gpt/{$}", cls)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	return &Router{mux: mux, turn: turn, short: true}
}

// Handle adds a route, as http.ServeMux.Handle does.
func (g *Router) Handle(pattern string, h http.Handler) {
	g.mux.Handle(pattern, h)
	if claimsTurns(pattern) {
		g.short = false
	}
}

// HandleFunc adds a route, as http.ServeMux.HandleFunc does.
func (g *Router) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	g.Handle(pattern, http.HandlerFunc(h))
}

// ServeHTTP implements http.Handler.
func (g *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if g.short && r.Method == http.MethodPost && isTurnPath(r.URL.Path) {
		g.turn.ServeHTTP(w, r)
		return
	}
	g.mux.ServeHTTP(w, r)
}

// isTurnPath reports whether p is /{scenarioCode}: one clean segment, which
// the mux routes to "/" while no route claims it (a clean path is never
// redirected).
func isTurnPath(p string) bool {
	return len(p) > 1 && p[0] == '/' && strings.IndexByte(p[1:], '/') < 0 && p != "/." && p != "/.."
}

// claimsTurns reports whether a mux pattern could match a POST to a
// one-segment path, or redirect one: any method or POST, and a path of one
// segment ("/x", "/{x}", "/x/", "/x/{$}"), host or not.
func claimsTurns(pattern string) bool {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		method, path = "", pattern
	}
	if method != "" && method != http.MethodPost {
		return false
	}
	if i := strings.IndexByte(path, '/'); i > 0 {
		path = path[i:] // after the host
	}
	path = strings.TrimSuffix(strings.TrimSuffix(path, "{$}"), "/")
	return len(path) > 1 && strings.Count(path, "/") == 1
}

// deployed is the Cloud Function's handler, built on its first request.
var deployed = app.NewDeployed("gateway", func(a *app.App) http.Handler { return New(a) },
	edge.StartFailed)

// Handle is the Gateway function's entry point.
func Handle(w http.ResponseWriter, r *http.Request) { deployed.ServeHTTP(w, r) }
