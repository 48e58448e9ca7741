package profile_test

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/routebot/routebot/common/auth"
	"github.com/routebot/routebot/common/dialogflow"
	"github.com/routebot/routebot/common/store"
	"github.com/routebot/routebot/common/store/memstore"
	"github.com/routebot/routebot/common/tenant"
	"github.com/routebot/routebot/examples"
	"github.com/routebot/routebot/functions/profile"
	"github.com/routebot/routebot/internal/dialogflowfake"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const token = "test-token"

type env struct {
	fake    *dialogflowfake.Server
	tenants *memstore.Store
	srv     *httptest.Server
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{fake: dialogflowfake.New(), tenants: memstore.New(nil)}
	tfs, err := tenant.ReadFS(examples.Tenants, "tenants")
	if err != nil {
		t.Fatal(err)
	}
	for _, tf := range tfs {
		e.put(t, tf)
	}
	clients, err := dialogflow.NewClients(dialogflow.Options{Dial: func(context.Context, string) (*grpc.ClientConn, error) {
		return e.fake.Dial(t), nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	rec := dialogflow.NewReconciler(clients, e.tenants, memstore.NewProfileNames(), "acme-cc")
	verifier := auth.NewVerifier(auth.StaticKeys(auth.Keys{Tokens: [][]byte{[]byte(token)}}))
	h := profile.New(rec, verifier, slog.New(slog.NewTextHandler(io.Discard, nil)), 0)
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	return e
}

// put stores a tenant as is (validation is what routebotctl push does; the
// function must cope with whatever is stored).
func (e *env) put(t *testing.T, tf store.TenantFiles) {
	t.Helper()
	if _, _, err := e.tenants.PutTenant(context.Background(), tf, nil, nil); err != nil {
		t.Fatal(err)
	}
}

func (e *env) nexus(t *testing.T, profileYAML string) {
	t.Helper()
	tf, err := e.tenants.Files(context.Background(), "nexus")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for k, v := range tf.Files {
		files[k] = v
	}
	y := string(files[tenant.TenantFile])
	files[tenant.TenantFile] = []byte(y[:strings.Index(y, "\nprofile:")+1] + profileYAML)
	e.put(t, store.TenantFiles{ID: "nexus", Files: files})
}

func (e *env) do(t *testing.T, method, path, tok string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs:\n got: %s\nwant: %s", name, got, want)
	}
}

func TestPutCreatesThenReportsUnchanged(t *testing.T) {
	e := newEnv(t)
	resp, body := e.do(t, http.MethodPut, "/tenants/nexus/profile", token)
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("PUT = %d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	golden(t, "put_created.json", body)
	resp, body = e.do(t, http.MethodPut, "/tenants/nexus/profile", token)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("second PUT = %d: %s", resp.StatusCode, body)
	}
	var out profile.ApplyResponse
	if err := json.Unmarshal(body, &out); err != nil || out.Action != "unchanged" {
		t.Errorf("second PUT = %s (%v), want unchanged", body, err)
	}
	if n := len(e.fake.Writes()); n != 1 {
		t.Errorf("%d writes, want the one create", n)
	}
}

func TestPutUpdatesAndGetShowsDrift(t *testing.T) {
	e := newEnv(t)
	if resp, body := e.do(t, http.MethodPut, "/tenants/nexus/profile", token); resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT = %d: %s", resp.StatusCode, body)
	}
	e.nexus(t, "profile:\n  displayName: nexus-agent-assist\n  languageCode: ko-KR\n  sampleRateHertz: 16000\n  audioEncoding: AUDIO_ENCODING_LINEAR_16\n")
	resp, body := e.do(t, http.MethodGet, "/tenants/nexus/profile", token)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET = %d: %s", resp.StatusCode, body)
	}
	golden(t, "get_drift.json", body)
	resp, body = e.do(t, http.MethodPut, "/tenants/nexus/profile", token)
	var out profile.ApplyResponse
	if err := json.Unmarshal(body, &out); err != nil || resp.StatusCode != http.StatusOK || out.Action != "updated" ||
		len(out.Changed) != 1 || out.Changed[0] != "stt_config" {
		t.Errorf("PUT = %d %s", resp.StatusCode, body)
	}
	_, body = e.do(t, http.MethodGet, "/tenants/nexus/profile", token)
	var rep profile.DiffResponse
	if err := json.Unmarshal(body, &rep); err != nil || !rep.InSync || len(rep.Drift) != 0 || !rep.Exists {
		t.Errorf("GET after PUT = %s", body)
	}
}

func TestGetOfAMissingProfile(t *testing.T) {
	e := newEnv(t)
	resp, body := e.do(t, http.MethodGet, "/tenants/nexus/profile", token)
	var rep profile.DiffResponse
	if err := json.Unmarshal(body, &rep); err != nil || resp.StatusCode != http.StatusOK || rep.Exists || rep.InSync || len(rep.Drift) == 0 {
		t.Errorf("GET = %d %s", resp.StatusCode, body)
	}
	if len(e.fake.Writes()) != 0 {
		t.Error("GET wrote")
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		path       string
		token      string
		setup      func(*testing.T, *env)
		wantStatus int
		wantWord   string
		wantIn     string // in the message (or a problem)
		retryAfter bool
	}{
		{name: "no token", method: "PUT", path: "/tenants/nexus/profile", wantStatus: 401, wantWord: "UNAUTHENTICATED", wantIn: "unauthorized"},
		{name: "bad token", method: "PUT", path: "/tenants/nexus/profile", token: "nope", wantStatus: 401, wantWord: "UNAUTHENTICATED"},
		{name: "unknown tenant", method: "PUT", path: "/tenants/nobody/profile", token: token, wantStatus: 404, wantWord: "NOT_FOUND", wantIn: `tenant "nobody" not found`},
		{name: "wrong method", method: "POST", path: "/tenants/nexus/profile", token: token, wantStatus: 405, wantWord: "METHOD_NOT_ALLOWED"},
		{name: "unknown route", method: "GET", path: "/tenants", token: token, wantStatus: 404, wantWord: "NOT_FOUND"},
		{name: "invalid settings", method: "PUT", path: "/tenants/nexus/profile", token: token,
			setup: func(t *testing.T, e *env) {
				e.nexus(t, "profile:\n  sampleRateHertz: 4000\n  notifications: {format: JSON}\n")
			},
			wantStatus: 400, wantWord: "INVALID_ARGUMENT", wantIn: "nexus/tenant.yaml:"},
		{name: "permission denied", method: "PUT", path: "/tenants/nexus/profile", token: token,
			setup:      failing("ListConversationProfiles", codes.PermissionDenied),
			wantStatus: 403, wantWord: "PERMISSION_DENIED", wantIn: "ListConversationProfiles"},
		{name: "not found", method: "GET", path: "/tenants/nexus/profile", token: token,
			setup: failing("ListConversationProfiles", codes.NotFound), wantStatus: 404, wantWord: "NOT_FOUND", wantIn: "ListConversationProfiles"},
		{name: "quota", method: "PUT", path: "/tenants/nexus/profile", token: token,
			setup: failing("CreateConversationProfile", codes.ResourceExhausted), wantStatus: 429, wantWord: "RESOURCE_EXHAUSTED", wantIn: "CreateConversationProfile", retryAfter: true},
		{name: "unavailable", method: "PUT", path: "/tenants/nexus/profile", token: token,
			setup: failing("ListConversationProfiles", codes.Unavailable), wantStatus: 503, wantWord: "UNAVAILABLE", wantIn: "ListConversationProfiles", retryAfter: true},
		{name: "deadline", method: "PUT", path: "/tenants/nexus/profile", token: token,
			setup: failing("CreateConversationProfile", codes.DeadlineExceeded), wantStatus: 503, wantWord: "UNAVAILABLE", wantIn: "CreateConversationProfile", retryAfter: true},
		{name: "refused settings", method: "PUT", path: "/tenants/nexus/profile", token: token,
			setup: failing("CreateConversationProfile", codes.InvalidArgument), wantStatus: 400, wantWord: "INVALID_ARGUMENT", wantIn: "CreateConversationProfile"},
		{name: "internal", method: "PUT", path: "/tenants/nexus/profile", token: token,
			setup: failing("CreateConversationProfile", codes.Internal), wantStatus: 502, wantWord: "BAD_GATEWAY", wantIn: "CreateConversationProfile", retryAfter: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			if tt.setup != nil {
				tt.setup(t, e)
			}
			resp, body := e.do(t, tt.method, tt.path, tt.token)
			var er profile.ErrorResponse
			if err := json.Unmarshal(body, &er); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			if resp.StatusCode != tt.wantStatus || er.Error.Code != tt.wantStatus || er.Error.Status != tt.wantWord {
				t.Errorf("%s %s = %d %s", tt.method, tt.path, resp.StatusCode, body)
			}
			text := er.Error.Message + " " + strings.Join(er.Error.Problems, " ")
			if !strings.Contains(text, tt.wantIn) {
				t.Errorf("answer %s does not say %q", body, tt.wantIn)
			}
			if got := resp.Header.Get("Retry-After") != ""; got != tt.retryAfter {
				t.Errorf("Retry-After %q, want present=%v", resp.Header.Get("Retry-After"), tt.retryAfter)
			}
			if strings.Contains(string(body), token) {
				t.Error("the answer echoes the token")
			}
		})
	}
}

func failing(method string, code codes.Code) func(*testing.T, *env) {
	return func(_ *testing.T, e *env) {
		err := status.Error(code, "from the fake")
		e.fake.Fail(method, err, err, err) // enough for the client's retries
	}
}

func TestInvalidSettingsListEveryProblem(t *testing.T) {
	e := newEnv(t)
	e.nexus(t, "profile:\n  sampleRateHertz: 4000\n  audioEncoding: AUDIO_ENCODING_MP3\n  humanAgentAssistant:\n    features: [{type: TELEPATHY}]\n")
	_, body := e.do(t, http.MethodPut, "/tenants/nexus/profile", token)
	var er profile.ErrorResponse
	if err := json.Unmarshal(body, &er); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"profile.sampleRateHertz", "profile.audioEncoding", "TELEPATHY"} {
		if !strings.Contains(strings.Join(er.Error.Problems, "\n"), want) {
			t.Errorf("problems %q do not name %s", er.Error.Problems, want)
		}
	}
	if len(e.fake.Calls()) != 0 {
		t.Error("Dialogflow was called")
	}
}
