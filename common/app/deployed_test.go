package app

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestDeployed(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		wantCode int
		wantBody string
		retried  bool   // a second request rebuilds (transient failure) or not (configuration)
		wantErr  string // in the start-up error, when it fails
	}{
		{"configured", map[string]string{"ROUTEBOT_API_TOKEN": "t", "ROUTEBOT_STORE": "memory"}, http.StatusTeapot, "built", false, ""},
		{"no token: misconfigured for good", map[string]string{"ROUTEBOT_STORE": "memory"}, http.StatusInternalServerError, "failed", false, "ROUTEBOT_API_TOKEN"},
		{"store unset: Firestore, which needs a project", map[string]string{"ROUTEBOT_API_TOKEN": "t"},
			http.StatusInternalServerError, "failed", false, "ROUTEBOT_STORE is unset"},
		{"missing tenants folder: start-up failure retried", map[string]string{"ROUTEBOT_API_TOKEN": "t", "ROUTEBOT_STORE": "memory", "ROUTEBOT_TENANTS": "/nonexistent"},
			http.StatusInternalServerError, "failed", true, "/nonexistent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"ROUTEBOT_API_TOKEN", "ROUTEBOT_TENANTS", "ROUTEBOT_JWT_KEY", "ROUTEBOT_STORE", "GOOGLE_CLOUD_PROJECT"} {
				t.Setenv(k, tt.env[k])
			}
			builds := 0
			d := NewDeployed("test", func(*App) http.Handler {
				builds++
				return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					w.WriteHeader(http.StatusTeapot)
					_, _ = w.Write([]byte("built"))
				})
			}, func(w http.ResponseWriter, err error) {
				w.WriteHeader(http.StatusInternalServerError)
				_, _ = w.Write([]byte("failed"))
			})
			for i := 0; i < 2; i++ {
				w := httptest.NewRecorder()
				d.ServeHTTP(w, httptest.NewRequest("POST", "/X", nil))
				if w.Code != tt.wantCode || !strings.Contains(w.Body.String(), tt.wantBody) {
					t.Fatalf("request %d: %d %q, want %d %q", i+1, w.Code, w.Body.String(), tt.wantCode, tt.wantBody)
				}
			}
			d.tried = time.Now().Add(-time.Minute) // as if retryAfter had passed
			d.get(t.Context())
			retried := !d.tried.Before(time.Now().Add(-time.Second))
			if tt.wantCode == http.StatusTeapot {
				if builds != 1 {
					t.Errorf("built %d times, want once", builds)
				}
			} else if retried != tt.retried {
				t.Errorf("retried = %v, want %v (err %v)", retried, tt.retried, d.err)
			}
			if tt.wantErr != "" && (d.err == nil || !strings.Contains(d.err.Error(), tt.wantErr)) {
				t.Errorf("start-up error %v, want one mentioning %q", d.err, tt.wantErr)
			}
		})
	}
}
