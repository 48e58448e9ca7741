// Package funcmount carries the gateway's URL shapes through the functions
// framework's all-functions mode. Deployed, or run with FUNCTION_TARGET, a
// function is served at / and sees the gateway's own paths
// (/{scenarioCode}, /{scenarioCode}/chat-gpt). Without FUNCTION_TARGET,
// functions-framework-go mounts every registered function at exactly
// /{Name} and nothing below it, so the path the gateway would have sent
// travels in the query instead: POST /Scenario?path=/SCENARIO01,
// POST /Classify?path=/star-wars/chat-gpt.
package funcmount

import (
	"net/http"
	"strings"
)

// PathParam is the query parameter holding the gateway's path.
const PathParam = "path"

// Handler wraps fn, registered as the function name: a request to
// /{name}?path=P reaches fn as a request to P. Every other request reaches fn
// unchanged, so a function served at / (and a scenario that happens to be
// called like the function) behaves as deployed.
func Handler(name string, fn http.HandlerFunc) http.HandlerFunc {
	mount := "/" + name
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != mount || !strings.Contains(r.URL.RawQuery, PathParam+"=") {
			fn(w, r)
			return
		}
		p := r.URL.Query().Get(PathParam)
		if p == "" {
			fn(w, r)
			return
		}
		if !strings.HasPrefix(p, "/") {
			p = "/" + p
		}
		// A shallow copy with its own URL, as http.StripPrefix does.
		r2 := new(http.Request)
		*r2 = *r
		u := *r.URL
		u.Path, u.RawPath, u.RawQuery = p, "", ""
		r2.URL = &u
		r2.RequestURI = u.RequestURI()
		fn(w, r2)
	}
}
