package funcmount

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	tests := []struct {
		name, function, target, want string
	}{
		{"all-functions mount with a turn path", "Scenario", "/Scenario?path=/SCENARIO01", "/SCENARIO01"},
		{"classification path", "Classify", "/Classify?path=/star-wars/chat-gpt/", "/star-wars/chat-gpt/"},
		{"percent-encoded path", "Classify", "/Classify?path=%2Fstar-wars%2Fchat-gpt", "/star-wars/chat-gpt"},
		{"path without its slash", "Scenario", "/Scenario?path=SCENARIO01", "/SCENARIO01"},
		{"served at / as deployed", "Scenario", "/SCENARIO01", "/SCENARIO01"},
		{"served at / with a path parameter elsewhere", "Scenario", "/SCENARIO01?path=/other", "/SCENARIO01"},
		{"the mount without a path: a scenario named Scenario", "Scenario", "/Scenario", "/Scenario"},
		{"empty path parameter", "Scenario", "/Scenario?path=", "/Scenario"},
		{"below the mount: never rewritten", "Scenario", "/Scenario/x?path=/SCENARIO01", "/Scenario/x"},
		{"another function's mount", "Scenario", "/Classify?path=/SCENARIO01", "/Classify"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got, uri string
			h := Handler(tt.function, func(_ http.ResponseWriter, r *http.Request) { got, uri = r.URL.Path, r.RequestURI })
			h(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, tt.target, nil))
			if got != tt.want {
				t.Errorf("%s reached the function as %q, want %q", tt.target, got, tt.want)
			}
			if uri != tt.target && uri != got { // untouched, or rewritten whole
				t.Errorf("RequestURI %q with the path %q", uri, got)
			}
		})
	}
}

func FuzzHandler(f *testing.F) {
	for _, q := range []string{"path=/SCENARIO01", "path=%2F", "path=", "path=%zz", "a=b&path=x&path=y", ";path=/x"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, query string) {
		r := httptest.NewRequest(http.MethodPost, "/Scenario", nil)
		r.URL.RawQuery = query
		h := Handler("Scenario", func(_ http.ResponseWriter, r *http.Request) {
			if !strings.HasPrefix(r.URL.Path, "/") {
				t.Fatalf("query %q reached the function as %q", query, r.URL.Path)
			}
		})
		h(httptest.NewRecorder(), r)
	})
}
