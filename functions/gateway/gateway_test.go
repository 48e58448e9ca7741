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
	mux := Mux(apptest.Build(t, map[string]string{"ROUTEBOT_API_TOKEN": token}, true, nil))
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
