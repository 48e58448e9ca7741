package studio_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/routebot/routebot/common/app"
	"github.com/routebot/routebot/common/config"
	"github.com/routebot/routebot/common/logging"
	"github.com/routebot/routebot/functions/gateway"
	"github.com/routebot/routebot/functions/studio"
	"github.com/routebot/routebot/internal/logtest"
)

const (
	nexusToken = "nexus-author-token-0123"
	adminToken = "admin-author-token-0123"
	callToken  = "gateway-token-0123456789"
)

// server is the local run: the gateway's URLs and the studio on one server
// over the embedded demo tenants, as cmd/local serves them.
func server(t *testing.T) *httptest.Server {
	t.Helper()
	env := map[string]string{
		"ROUTEBOT_API_TOKEN":     callToken,
		"ROUTEBOT_STUDIO_TOKENS": "nexus:" + nexusToken + ",*:" + adminToken,
	}
	getenv := func(k string) string { return env[k] }
	cfg, err := config.Load(getenv, true)
	if err != nil {
		t.Fatal(err)
	}
	logs := &logtest.Buffer{}
	logger := logging.New(logs, slog.LevelInfo)
	ctx := context.Background()
	a, err := app.Build(ctx, cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	h, dev, err := studio.FromApp(ctx, a, getenv, true)
	if err != nil || dev {
		t.Fatalf("FromApp: dev token %v, %v", dev, err)
	}
	srv := httptest.NewServer(h.Wrap(gateway.New(a)))
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return srv
}

func call(t *testing.T, srv *httptest.Server, method, path, token string, body any) (int, map[string]any, string) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out, string(raw)
}

func TestAPI(t *testing.T) {
	srv := server(t)
	_, _, raw := call(t, srv, "GET", "/studio/api/tenants/nexus/draft", nexusToken, nil)
	var draft map[string]any
	if err := json.Unmarshal([]byte(raw), &draft); err != nil {
		t.Fatal(err)
	}
	files := draft["files"].(map[string]any)
	flow := files["flows/SCENARIO01.yaml"].(string)
	withFlow := func(content string, base any) map[string]any {
		f := map[string]any{}
		for k, v := range files {
			f[k] = v
		}
		f["flows/SCENARIO01.yaml"] = content
		return map[string]any{"files": f, "baseVersion": base}
	}
	badRoute := strings.Replace(flow, "to: refund_notice", "to: nowhere", 1)
	newPrompt := strings.Replace(flow, "무엇을 도와드릴까요?\n    router: main\n\n  ask", "어떤 도움이 필요하세요?\n    router: main\n\n  ask", 1)
	if newPrompt == flow {
		t.Fatal("the demo flow changed: the test's edit does not apply")
	}

	tests := []struct {
		name, method, path, token string
		body                      any
		status                    int
		want                      string // in the body
	}{
		{"page", "GET", "/studio/", "", nil, 200, "<div id=\"root\">"},
		{"no token", "GET", "/studio/api/tenants", "", nil, 401, "Bearer"},
		{"wrong token", "GET", "/studio/api/tenants", "nope", nil, 401, "unknown author token"},
		{"scoped list", "GET", "/studio/api/tenants", nexusToken, nil, 200, `"id":"nexus"`},
		{"another tenant's draft", "GET", "/studio/api/tenants/hanbit/draft", nexusToken, nil, 403, "not one of yours"},
		{"another tenant's publish", "POST", "/studio/api/tenants/hanbit/publish", nexusToken, map[string]any{"draft": withFlow(flow, 1)}, 403, "not one of yours"},
		{"unknown tenant", "GET", "/studio/api/tenants/nobody/draft", adminToken, nil, 404, "nobody"},
		{"unknown API", "GET", "/studio/api/nothing", adminToken, nil, 404, "no such studio API"},
		{"not JSON", "POST", "/studio/api/tenants/nexus/validate", nexusToken, "{files:", 400, "not the JSON"},
		{"unknown field", "POST", "/studio/api/tenants/nexus/validate", nexusToken, `{"filez":{}}`, 400, "filez"},
		{"oversized", "POST", "/studio/api/tenants/nexus/validate", nexusToken, `{"files":{"flows/X.yaml":"` + strings.Repeat("a", studio.MaxBody) + `"}}`, 413, "over"},
		{"valid", "POST", "/studio/api/tenants/nexus/validate", nexusToken, withFlow(flow, 1), 200, `"valid":true`},
		{"points nowhere", "POST", "/studio/api/tenants/nexus/validate", nexusToken, withFlow(badRoute, 1), 200, `unknown step \"nowhere\"`},
		{"diff", "POST", "/studio/api/tenants/nexus/diff", nexusToken, withFlow(newPrompt, 1), 200, "넥서스 고객센터입니다. 어떤 도움이 필요하세요?"},
		{"simulate", "POST", "/studio/api/tenants/nexus/simulate", nexusToken, map[string]any{"draft": withFlow(newPrompt, 1), "scenario": "SCENARIO01",
			"turns": []map[string]string{{"kind": "say", "text": "상담원 연결해 주세요"}}}, 200, `"transferNumber":"40001"`},
		{"invalid publish", "POST", "/studio/api/tenants/nexus/publish", nexusToken, map[string]any{"draft": withFlow(badRoute, 1)}, 422, `"problems":[`},
		{"publish", "POST", "/studio/api/tenants/nexus/publish", nexusToken, map[string]any{"draft": withFlow(newPrompt, 1), "note": "t"}, 200, `"version":2`},
		{"stale publish", "POST", "/studio/api/tenants/nexus/publish", nexusToken, map[string]any{"draft": withFlow(flow, 1)}, 409, "is at version 2, but this draft started from version 1"},
		{"versions", "GET", "/studio/api/tenants/nexus/versions", nexusToken, nil, 200, `"version":2`},
		{"stale rollback", "POST", "/studio/api/tenants/nexus/rollback", nexusToken, map[string]any{"version": 1, "baseVersion": 1}, 409, "version 2"},
		{"rollback", "POST", "/studio/api/tenants/nexus/rollback", nexusToken, map[string]any{"version": 1, "baseVersion": 2}, 200, `"version":3`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, raw := call(t, srv, tt.method, tt.path, tt.token, tt.body)
			if status != tt.status || !strings.Contains(raw, tt.want) {
				t.Errorf("%s %s: got %d %.300s, want %d with %q", tt.method, tt.path, status, raw, tt.status, tt.want)
			}
		})
	}
}

// TestPageHeaders checks that the page may load only its own scripts.
func TestPageHeaders(t *testing.T) {
	srv := server(t)
	resp, err := srv.Client().Get(srv.URL + "/studio/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for header, want := range map[string]string{
		"Content-Security-Policy": "default-src 'self'",
		"X-Content-Type-Options":  "nosniff",
		"Content-Type":            "text/html",
	} {
		if got := resp.Header.Get(header); !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q in it", header, got, want)
		}
	}
}

// TestPublishReachesCalls checks that the running server answers the next
// call with a published prompt, with no restart.
func TestPublishReachesCalls(t *testing.T) {
	srv := server(t)
	if got := greeting(t, srv.URL, "call-1"); !strings.HasPrefix(got, "안녕하세요 김민수님") {
		t.Fatalf("before: %q", got)
	}
	_, _, raw := call(t, srv, "GET", "/studio/api/tenants/nexus/draft", adminToken, nil)
	var d map[string]any
	_ = json.Unmarshal([]byte(raw), &d)
	files := d["files"].(map[string]any)
	files["flows/SCENARIO01.yaml"] = strings.Replace(files["flows/SCENARIO01.yaml"].(string), "안녕하세요 ${name}님", "반갑습니다 ${name}님", 1)
	if status, _, raw := call(t, srv, "POST", "/studio/api/tenants/nexus/publish", adminToken, map[string]any{"draft": d}); status != 200 {
		t.Fatalf("publish: %d %s", status, raw)
	}
	if got := greeting(t, srv.URL, "call-2"); !strings.HasPrefix(got, "반갑습니다 김민수님") {
		t.Errorf("after publishing, the next call hears %q", got)
	}
}
