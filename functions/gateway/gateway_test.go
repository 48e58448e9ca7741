package gateway

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/routebot/routebot/internal/apptest"
)

const token = "gateway-test-token"

// TestMethods: on both URL shapes a method other than POST is HTTP 405 with
// Allow: POST and the envelope (TransCode 412); the health check is GET.
func TestMethods(t *testing.T) {
	mux := New(apptest.Build(t, map[string]string{"ROUTEBOT_API_TOKEN": token}, true, nil))
	tests := []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/SCENARIO01", http.StatusMethodNotAllowed},
		{http.MethodPut, "/SCENARIO01", http.StatusMethodNotAllowed},
		{http.MethodHead, "/SCENARIO01", http.StatusMethodNotAllowed},
		{http.MethodGet, "/star-wars/chat-gpt/", http.StatusMethodNotAllowed},
		{http.MethodPut, "/star-wars/chat-gpt", http.StatusMethodNotAllowed},
		{http.MethodHead, "/star-wars/chat-gpt", http.StatusMethodNotAllowed},
		{http.MethodPost, "/SCENARIO01", http.StatusOK},
		{http.MethodGet, "/healthz", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			body := `{"CallId":"M1","ChatBotKey":"bot00001","Customer":"01012345678","Agent":1000}`
			r := httptest.NewRequest(tt.method, tt.path, strings.NewReader(body))
			r.Header.Set("Authorization", "Bearer "+token)
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Fatalf("HTTP %d %s, want %d", w.Code, w.Body, tt.want)
			}
			if tt.want != http.StatusMethodNotAllowed {
				return
			}
			if got := w.Header().Get("Allow"); got != "POST" {
				t.Errorf("Allow %q, want POST", got)
			}
			var doc map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil || doc["TransCode"] != "412" || doc["Result"] != "N" {
				t.Errorf("body %s, want the envelope with TransCode 412", w.Body)
			}
		})
	}
}

// named answers with its name, so a test can tell which handler ran.
type named string

func (n named) ServeHTTP(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(n)) }

// TestRouterMatchesMux: the router's short cut for call turns reaches the
// handler the mux would have chosen, for every kind of path, with the local
// run's extra routes mounted, and with a route that claims one-segment
// paths too (which turns the short cut off).
func TestRouterMatchesMux(t *testing.T) {
	local := newRouter(named("turn"), named("classify"))
	local.Handle("/tenants/{tenant}/profile", named("profile"))
	local.Handle("POST /v1/calls/{callId}/complete", named("complete"))
	local.HandleFunc("GET /v1/stream", named("stream").ServeHTTP)
	claiming := newRouter(named("turn"), named("classify"))
	claiming.Handle("/debug", named("debug"))
	paths := []struct{ method, path string }{
		{http.MethodPost, "/SCENARIO01"},
		{http.MethodPost, "/healthz"},
		{http.MethodGet, "/healthz"},
		{http.MethodGet, "/SCENARIO01"},
		{http.MethodPost, "/SCENARIO01/chat-gpt"},
		{http.MethodPost, "/SCENARIO01/chat-gpt/"},
		{http.MethodPost, "/SCENARIO01/"},
		{http.MethodPost, "/"},
		{http.MethodPost, "/."},
		{http.MethodPost, "/.."},
		{http.MethodPost, "//SCENARIO01"},
		{http.MethodPost, "/a%2Fb"},
		{http.MethodPost, "/%ED%85%8C%EC%8A%A4%ED%8A%B8"},
		{http.MethodPost, "/tenants/nexus/profile"},
		{http.MethodPost, "/v1/calls/C1/complete"},
		{http.MethodGet, "/v1/stream"},
		{http.MethodPost, "/debug"},
		{http.MethodPost, "/debug/"},
	}
	for name, g := range map[string]*Router{"local run's routes": local, "a route claiming /debug": claiming} {
		for _, tt := range paths {
			t.Run(name+"/"+tt.method+" "+tt.path, func(t *testing.T) {
				direct := httptest.NewRecorder()
				g.ServeHTTP(direct, httptest.NewRequest(tt.method, tt.path, nil))
				viaMux := httptest.NewRecorder()
				g.mux.ServeHTTP(viaMux, httptest.NewRequest(tt.method, tt.path, nil))
				if direct.Code != viaMux.Code || direct.Body.String() != viaMux.Body.String() || direct.Header().Get("Location") != viaMux.Header().Get("Location") {
					t.Errorf("router: HTTP %d %q, mux: HTTP %d %q", direct.Code, direct.Body, viaMux.Code, viaMux.Body)
				}
			})
		}
	}
	if !local.short || claiming.short {
		t.Errorf("short cut taken: %v with the local run's routes (want true), %v with /debug (want false)", local.short, claiming.short)
	}
}

func TestClaimsTurns(t *testing.T) {
	tests := []struct {
		pattern string
		want    bool
	}{
		{"/x", true}, {"/{x}", true}, {"/x/", true}, {"/x/{$}", true}, {"POST /x", true}, {"example.com/x", true},
		{"/{rest...}", true},
		{"GET /healthz", false}, {"/v1/stream", false}, {"POST /v1/calls/{callId}/complete", false},
		{"/tenants/{tenant}/profile", false}, {"/{code}/chat-gpt", false}, {"/{$}", false},
	}
	for _, tt := range tests {
		if got := claimsTurns(tt.pattern); got != tt.want {
			t.Errorf("claimsTurns(%q) = %v, want %v", tt.pattern, got, tt.want)
		}
	}
}

// BenchmarkRoute compares routing a call turn through the router with
// routing it through the mux alone.
func BenchmarkRoute(b *testing.B) {
	nothing := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	g := newRouter(nothing, nothing)
	r := httptest.NewRequest(http.MethodPost, "/SCENARIO01", nil)
	w := httptest.NewRecorder()
	for _, bb := range []struct {
		name string
		h    http.Handler
	}{{"router", g}, {"mux", g.mux}} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bb.h.ServeHTTP(w, r)
			}
		})
	}
}
