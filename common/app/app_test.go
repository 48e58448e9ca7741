package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dialogflow "cloud.google.com/go/dialogflow/apiv2"
	"cloud.google.com/go/dialogflow/apiv2/dialogflowpb"
	"google.golang.org/api/option"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/routebot/routebot/common/app"
	"github.com/routebot/routebot/common/classify"
	"github.com/routebot/routebot/common/config"
	"github.com/routebot/routebot/common/logging"
	"github.com/routebot/routebot/examples"
	classifyfn "github.com/routebot/routebot/functions/classify"
	"github.com/routebot/routebot/functions/scenario"
	"github.com/routebot/routebot/internal/apptest"
	"github.com/routebot/routebot/internal/grpctest"
	"github.com/routebot/routebot/internal/logtest"
	"github.com/routebot/routebot/internal/openaifake"
	"github.com/routebot/routebot/internal/repodir"
	"github.com/routebot/routebot/internal/sessionsfake"
)

const (
	apiToken = "app-test-token-c0ffee"
	llmKey   = "sk-test-9f3b2a7d"
	llmModel = "gpt-test-mini"
	dfAgent  = "df-agent-7"
	// utterance is what a caller says about a delivery: the embedded
	// classifier routes it to the birth-date check (S1000), so a refund
	// notice (S0002) can only come from the backend under test.
	utterance = "택배 언제 와요"
)

// build loads env as the functions do (ROUTEBOT_API_TOKEN set, the memory
// store unless env names one) and builds the app with its logs in a buffer.
func build(t testing.TB, env map[string]string, opts ...app.Option) (*app.App, *logtest.Buffer) {
	t.Helper()
	env["ROUTEBOT_API_TOKEN"] = apiToken
	if env["ROUTEBOT_STORE"] == "" {
		env["ROUTEBOT_STORE"] = "memory"
	}
	logs := &logtest.Buffer{}
	return apptest.Build(t, env, false, logging.New(logs, slog.LevelDebug), opts...), logs
}

// demoTenants writes the demo tenants to a folder for ROUTEBOT_TENANTS, and
// checks that nexus leaves the backend to ROUTEBOT_CLASSIFIER.
func demoTenants(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	err := fs.WalkDir(examples.Tenants, "tenants", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(examples.Tenants, p)
		if err != nil {
			return err
		}
		if p == "tenants/nexus/tenant.yaml" && regexp.MustCompile(`(?m)^\s+backend:\s*\w`).Match(data) {
			return errors.New("nexus/tenant.yaml pins a classifier backend: ROUTEBOT_CLASSIFIER would not decide")
		}
		dst := filepath.Join(dir, strings.TrimPrefix(p, "tenants/"))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// nexusLevels are the names of each level of the spec's nexus taxonomy,
// sorted.
func nexusLevels(t testing.TB) [3][]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repodir.Shared(t, "spec"), "taxonomy-nexus.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Categories map[string]map[string][]string `json:"categories"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var levels [3][]string
	for c1, middles := range doc.Categories {
		levels[0] = append(levels[0], c1)
		for c2, smalls := range middles {
			levels[1] = append(levels[1], c2)
			levels[2] = append(levels[2], smalls...)
		}
	}
	for i := range levels {
		slices.Sort(levels[i])
		levels[i] = slices.Compact(levels[i])
	}
	if len(levels[2]) == 0 {
		t.Fatal("spec taxonomy of nexus has no categories")
	}
	return levels
}

// call plays a call's greeting, then the caller saying words, and returns
// the second answer and how long it took.
func call(t testing.TB, h http.Handler, callID, words string) (map[string]any, time.Duration) {
	t.Helper()
	greet(t, h, callID)
	start := time.Now()
	doc := turn(t, h, callID, map[string]any{"ScenarioCode": "greeting", "ChatMsg": words})
	return doc, time.Since(start)
}

// greet plays the first turn of callID and fails unless it is the greeting.
func greet(t testing.TB, h http.Handler, callID string) {
	t.Helper()
	if greeting := turn(t, h, callID, map[string]any{"IsFirstChat": "Y"}); greeting["ScenarioCode"] != "greeting" {
		t.Fatalf("first turn %v", greeting)
	}
}

// turn plays one turn of callID with fields and the demo caller's, and
// fails unless it is answered with TransCode 200.
func turn(t testing.TB, h http.Handler, callID string, fields map[string]any) map[string]any {
	t.Helper()
	fields["CallId"], fields["ChatBotKey"], fields["Customer"], fields["Agent"] = callID, "bot00001", "01012345678", 1000
	body, _ := json.Marshal(fields)
	r := httptest.NewRequest(http.MethodPost, "/SCENARIO01", bytes.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+apiToken)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var doc map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		t.Fatalf("answer is not JSON: %v: %s", err, w.Body)
	}
	if w.Code != http.StatusOK || doc["TransCode"] != "200" {
		t.Fatalf("HTTP %d: %s", w.Code, w.Body)
	}
	return doc
}

// routes are where SCENARIO01 sends the caller after the greeting.
var (
	toRefundNotice = map[string]any{"ServiceCode": "S0002", "ScenarioCode": "refund_notice"}
	toBirthDate    = map[string]any{"ServiceCode": "S1000", "ScenarioCode": "ask_birthdate"}
)

func checkRoute(t *testing.T, doc, want map[string]any) {
	t.Helper()
	for k, v := range want {
		if doc[k] != v {
			t.Errorf("%s %v, want %v (answer %v)", k, doc[k], v, doc)
		}
	}
}

func assertPrivate(t *testing.T, logs string, private ...string) {
	t.Helper()
	for _, s := range append([]string{apiToken, llmKey}, private...) {
		if strings.Contains(logs, s) {
			t.Errorf("logs contain %q:\n%s", s, logs)
		}
	}
}

// fakeLLM is an OpenAI chat-completions endpoint that checks each request
// and answers as its mode says.
type fakeLLM struct {
	levels [3][]string

	mode      atomic.Value // "ok", "outside", "malformed", "500", "429", "hang"
	endpoint  *openaifake.Server
	cancelled chan struct{} // a hanging request's client gave up
	stop      chan struct{}

	mu       sync.Mutex
	problems []string
	users    []string // the user messages received
}

const refundAnswer = `{"category1":"결제환불","category2":"환불","category3":"환불요청","answer":"환불 문의","confidence":0.9}`

func startLLM(t *testing.T) (*fakeLLM, string) {
	t.Helper()
	f := &fakeLLM{levels: nexusLevels(t), cancelled: make(chan struct{}, 16), stop: make(chan struct{})}
	f.mode.Store("ok")
	f.endpoint = &openaifake.Server{Answer: f.answer, Model: llmModel, Hung: f.cancelled, Stop: f.stop}
	srv := httptest.NewServer(f.endpoint)
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		close(f.stop)
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, p := range f.problems {
			t.Errorf("LLM request: %s", p)
		}
	})
	return f, srv.URL + "/v1"
}

func (f *fakeLLM) problem(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.problems = append(f.problems, fmt.Sprintf(format, args...))
}

// answer checks a request and answers as the mode says.
func (f *fakeLLM) answer(_ int, r *http.Request, body []byte) openaifake.Reply {
	var req struct {
		Model          string `json:"model"`
		ResponseFormat struct {
			Type       string `json:"type"`
			JSONSchema struct {
				Strict bool `json:"strict"`
				Schema struct {
					Properties map[string]struct {
						Enum []string `json:"enum"`
					} `json:"properties"`
				} `json:"schema"`
			} `json:"json_schema"`
		} `json:"response_format"`
		Messages []struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"messages"`
	}
	err := json.Unmarshal(body, &req)
	bad := func(format string, args ...any) openaifake.Reply {
		f.problem(format, args...)
		return openaifake.Reply{Status: http.StatusBadRequest, Body: `{"error":{"message":"bad request","type":"invalid_request_error"}}`}
	}
	switch {
	case r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions":
		return bad("%s %s, want POST /v1/chat/completions", r.Method, r.URL.Path)
	case r.Header.Get("Authorization") != "Bearer "+llmKey:
		return bad("Authorization %q, want the key of ROUTEBOT_LLM_API_KEY", r.Header.Get("Authorization"))
	case err != nil:
		return bad("body: %v", err)
	case req.Model != llmModel:
		return bad("model %q, want %q", req.Model, llmModel)
	case req.ResponseFormat.Type != "json_schema" || !req.ResponseFormat.JSONSchema.Strict:
		return bad("response_format %+v, want a strict json_schema", req.ResponseFormat)
	case len(req.Messages) != 2 || req.Messages[0].Role != "system" || req.Messages[1].Role != "user":
		return bad("messages %+v, want system then user", req.Messages)
	}
	for i, name := range []string{"category1", "category2", "category3"} {
		enum := slices.Sorted(slices.Values(req.ResponseFormat.JSONSchema.Schema.Properties[name].Enum))
		if !slices.Equal(enum, f.levels[i]) {
			return bad("%s enum %v, want the nexus taxonomy's %v", name, enum, f.levels[i])
		}
	}
	f.mu.Lock()
	f.users = append(f.users, req.Messages[1].Content)
	f.mu.Unlock()

	switch f.mode.Load() {
	case "outside":
		return openaifake.Reply{Content: `{"category1":"결제환불","category2":"환불","category3":"포인트환불","answer":"","confidence":0.9}`}
	case "malformed":
		return openaifake.Reply{Content: `환불요청입니다`}
	case "500":
		// Providers echo credentials in errors at times: the app must redact.
		return openaifake.Reply{Status: http.StatusInternalServerError,
			Body: fmt.Sprintf(`{"error":{"message":"upstream failure for key %s","type":"server_error"}}`, llmKey)}
	case "429":
		return openaifake.Reply{Status: http.StatusTooManyRequests, Header: map[string]string{"Retry-After": "30"},
			Body: `{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}`}
	case "hang":
		return openaifake.Reply{Hang: true}
	}
	return openaifake.Reply{Content: refundAnswer}
}

func (f *fakeLLM) userMessages() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.users)
}

func llmEnv(t *testing.T, baseURL string) map[string]string {
	return map[string]string{
		"ROUTEBOT_TENANTS":          demoTenants(t),
		"ROUTEBOT_CLASSIFIER":       "llm",
		"ROUTEBOT_LLM_BASE_URL":     baseURL,
		"ROUTEBOT_LLM_MODEL":        llmModel,
		"ROUTEBOT_LLM_API_KEY":      llmKey,
		"ROUTEBOT_CLASSIFY_TIMEOUT": "300ms",
		"ROUTEBOT_TURN_TIMEOUT":     "2s",
	}
}

// ready compiles the tenant and waits for its classifier, which trains in
// the background, so that a turn's budget measures the backends only.
func ready(t *testing.T, a *app.App) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.Warm(ctx); err != nil {
		t.Fatal(err)
	}
	flow, err := a.Flows.Flow(ctx, "SCENARIO01")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := flow.Tenant.Classifier.Classify(ctx, classify.Input{Text: "환불 문의요"}); err != nil {
		t.Fatal(err)
	}
}

// TestLLMClassifierRoutesLiveTurns plays a turn against each way an LLM
// fails. Only the cases about the deadline (hang, a Retry-After past it) run
// on a short classification budget; the others get a generous one, so that
// on a loaded machine (-race, emulators) what they check (three attempts on
// 500s, the fallback's reason) does not depend on how much of the budget the
// scheduler ate.
func TestLLMClassifierRoutesLiveTurns(t *testing.T) {
	const short, generous = "300ms", "10s"
	tests := []struct {
		name        string
		mode        string
		budget      string // ROUTEBOT_CLASSIFY_TIMEOUT
		want        map[string]any
		wantBackend string
		wantLLMLog  string // matches the fallback warning's error; "" when the LLM answered
		wantCalls   int    // LLM requests
	}{
		{name: "LLM answers", mode: "ok", budget: generous, want: toRefundNotice, wantBackend: "llm", wantCalls: 1},
		{name: "LLM fails with 500s", mode: "500", budget: generous, want: toBirthDate, wantBackend: "embedded",
			wantLLMLog: `HTTP 500`, wantCalls: 3}, // two retries
		{name: "LLM rate-limited past the deadline", mode: "429", budget: short, want: toBirthDate, wantBackend: "embedded",
			wantLLMLog: `HTTP 429.*Retry-After 30s ends past the deadline`, wantCalls: 1},
		{name: "LLM hangs", mode: "hang", budget: short, want: toBirthDate, wantBackend: "embedded", wantLLMLog: "deadline exceeded", wantCalls: 1},
		{name: "LLM answers outside the taxonomy", mode: "outside", budget: generous, want: toBirthDate, wantBackend: "embedded", wantLLMLog: "포인트환불", wantCalls: 1},
		{name: "LLM answers no JSON", mode: "malformed", budget: generous, want: toBirthDate, wantBackend: "embedded", wantLLMLog: "decode answer", wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, baseURL := startLLM(t)
			env := llmEnv(t, baseURL)
			env["ROUTEBOT_CLASSIFY_TIMEOUT"] = tt.budget
			env["ROUTEBOT_TURN_TIMEOUT"] = "20s"
			a, logs := build(t, env)
			ready(t, a)
			before := fake.endpoint.Requests()
			fake.mode.Store(tt.mode)

			doc, took := call(t, scenario.FromApp(a), "LLM-"+tt.mode, utterance)
			checkRoute(t, doc, tt.want)
			t.Logf("turn answered in %s", took)
			if n := fake.endpoint.Requests() - before; n != tt.wantCalls {
				t.Errorf("LLM asked %d times, want %d", n, tt.wantCalls)
			}
			if users := fake.userMessages(); len(users) == 0 || users[len(users)-1] != utterance {
				t.Errorf("LLM got user messages %q, want the caller's words %q", users, utterance)
			}
			if tt.mode == "hang" {
				select {
				case <-fake.cancelled:
				case <-time.After(2 * time.Second):
					t.Error("the hanging LLM request was never cancelled")
				}
			}

			turn := logs.Find(t, "turn")
			if turn == nil || turn["backend"] != tt.wantBackend || turn["CallId"] != "LLM-"+tt.mode {
				t.Errorf("turn log line %v, want backend %s", turn, tt.wantBackend)
			}
			warn := logs.Find(t, "classify: primary classifier failed, using the fallback")
			switch {
			case tt.wantLLMLog == "" && warn != nil:
				t.Errorf("fallback used although the LLM answered: %v", warn)
			case tt.wantLLMLog != "" && (warn == nil || warn["primary"] != "*llm.Classifier" ||
				!regexp.MustCompile(tt.wantLLMLog).MatchString(fmt.Sprint(warn["error"]))):
				t.Errorf("fallback warning %v, want the LLM's failure (%q)", warn, tt.wantLLMLog)
			}
			assertPrivate(t, logs.String(), utterance)
		})
	}
}

// TestLLMClassifiesTranscripts: the classify function on the same wiring
// sends the canonical transcript and returns the LLM's categories and summary.
func TestLLMClassifiesTranscripts(t *testing.T) {
	fake, baseURL := startLLM(t)
	a, logs := build(t, llmEnv(t, baseURL))
	body := `question=상담원:넥서스입니다\n고객:지난주에 산 교재 환불받고 싶어요.상담원:네 접수해 드리겠습니다`
	r := httptest.NewRequest(http.MethodPost, "/star-wars/chat-gpt/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Authorization", "Bearer "+apiToken)
	w := httptest.NewRecorder()
	classifyfn.FromApp(a).ServeHTTP(w, r)
	var ans classifyfn.Answer
	if err := json.Unmarshal(w.Body.Bytes(), &ans); err != nil || w.Code != http.StatusOK {
		t.Fatalf("HTTP %d %v: %s", w.Code, err, w.Body)
	}
	if ans.Category1 != "결제환불" || ans.Category2 != "환불" || ans.Category3 != "환불요청" || ans.Answer != "환불 문의" {
		t.Errorf("answer %+v, want the LLM's", ans)
	}
	want := "상담원: 넥서스입니다\n고객: 지난주에 산 교재 환불받고 싶어요.\n상담원: 네 접수해 드리겠습니다"
	if users := fake.userMessages(); !slices.Equal(users, []string{want}) {
		t.Errorf("LLM got %q, want %q", users, want)
	}
	assertPrivate(t, logs.String(), "교재 환불받고")
}

// dialogflowApp builds the app with ROUTEBOT_CLASSIFIER=dialogflow and its
// Sessions clients pointed at fake on bufconn. Tenants compile, and their
// classifiers are built, on first use.
func dialogflowApp(t *testing.T, fake *sessionsfake.Server) (*app.App, *logtest.Buffer, *[]string) {
	t.Helper()
	conn := grpctest.Dial(t, fake.Register)
	var locations []string // the locations clients were made for; the app calls under its lock
	a, logs := build(t, dialogflowEnv(t), app.WithSessionsClients(func(ctx context.Context, location string) (app.SessionsClient, error) {
		locations = append(locations, location)
		return dialogflow.NewSessionsClient(ctx, option.WithGRPCConn(conn))
	}))
	return a, logs, &locations
}

func dialogflowEnv(t *testing.T) map[string]string {
	return map[string]string{
		"ROUTEBOT_TENANTS":            demoTenants(t),
		"ROUTEBOT_CLASSIFIER":         "dialogflow",
		"GOOGLE_CLOUD_PROJECT":        "routebot-prod",
		"ROUTEBOT_DIALOGFLOW_PROJECT": dfAgent,
		"ROUTEBOT_CLASSIFY_TIMEOUT":   "5s", // generous: no case here is about the deadline
		"ROUTEBOT_TURN_TIMEOUT":       "20s",
	}
}

// closeCounter is a Sessions client that counts its Close calls.
type closeCounter struct {
	app.SessionsClient
	closed *atomic.Int32
}

func (c closeCounter) Close() error { c.closed.Add(1); return c.SessionsClient.Close() }

// TestCloseWhileClassifierBuilds: Close runs while a tenant's classifier is
// being built in the background and making its Dialogflow client, or before
// the build starts. Under -race this is clean, and every client made is
// closed.
func TestCloseWhileClassifierBuilds(t *testing.T) {
	for _, during := range []bool{true, false} {
		t.Run(fmt.Sprintf("during the build: %v", during), func(t *testing.T) {
			conn := grpctest.Dial(t, sessionsfake.New(nil).Register)
			entered, release := make(chan struct{}), make(chan struct{})
			var made, closed atomic.Int32
			a, logs := build(t, dialogflowEnv(t), app.WithSessionsClients(func(ctx context.Context, _ string) (app.SessionsClient, error) {
				close(entered)
				<-release
				c, err := dialogflow.NewSessionsClient(ctx, option.WithGRPCConn(conn))
				if err != nil {
					return nil, err
				}
				made.Add(1)
				return closeCounter{c, &closed}, nil
			}))
			close(release)
			if !during {
				if err := a.Close(); err != nil {
					t.Fatal(err)
				}
			}
			flow, err := a.Flows.Flow(context.Background(), "SCENARIO01")
			if err != nil {
				t.Fatal(err)
			}
			flow.Tenant.Classifier.(interface{ Start() }).Start()
			if during {
				<-entered // the build is making its client
				if err := a.Close(); err != nil {
					t.Fatal(err)
				}
			}
			// Classify returns once the build is done.
			_, _ = flow.Tenant.Classifier.Classify(context.Background(), classify.Input{Text: utterance})
			if made.Load() != closed.Load() {
				t.Errorf("%d Sessions clients made, %d closed", made.Load(), closed.Load())
			}
			if !during && logs.Find(t, "tenant's classifier backend cannot be built; using the embedded classifier") == nil {
				t.Errorf("a build after Close did not fall back to the embedded classifier:\n%s", logs)
			}
		})
	}
}

// TestClassifierTrainsAfterTheGreeting: compiling a tenant for its first
// turn does not build its classifier (a greeting does not classify, and must
// not share the CPU with training); the scenario handler starts the build
// once it has answered, and the next turn classifies with the built backend.
func TestClassifierTrainsAfterTheGreeting(t *testing.T) {
	conn := grpctest.Dial(t, sessionsfake.New(intent("환불요청", false)).Register)
	entered := make(chan struct{})
	var made atomic.Int32
	a, _ := build(t, dialogflowEnv(t), app.WithSessionsClients(func(ctx context.Context, _ string) (app.SessionsClient, error) {
		if made.Add(1) == 1 {
			close(entered)
		}
		return dialogflow.NewSessionsClient(ctx, option.WithGRPCConn(conn))
	}))
	flow, err := a.Flows.Flow(context.Background(), "SCENARIO01") // compiles the tenant
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := flow.Tenant.Classifier.(interface{ Start() }); !ok {
		t.Fatalf("the tenant's classifier is a %T, built at compile time, not once started", flow.Tenant.Classifier)
	}
	if n := made.Load(); n != 0 {
		t.Fatalf("%d Dialogflow clients made by compiling the tenant, want none before its first answer", n)
	}
	h := scenario.FromApp(a)
	greet(t, h, "TRAIN-1")
	select {
	case <-entered:
	case <-time.After(30 * time.Second): // a guard, not a measurement
		t.Fatal("the classifier's build did not start after the greeting was answered")
	}
	doc, _ := call(t, h, "TRAIN-2", utterance)
	checkRoute(t, doc, toRefundNotice)
	if n := made.Load(); n != 1 {
		t.Errorf("%d Dialogflow clients made, want 1", n)
	}
}

func intent(name string, fallback bool) sessionsfake.Respond {
	return func(_ context.Context, req *dialogflowpb.DetectIntentRequest) (*dialogflowpb.DetectIntentResponse, error) {
		return &dialogflowpb.DetectIntentResponse{ResponseId: "resp-1", QueryResult: &dialogflowpb.QueryResult{
			QueryText:                 req.GetQueryInput().GetText().GetText(),
			Intent:                    &dialogflowpb.Intent{Name: "projects/" + dfAgent + "/agent/intents/42", DisplayName: name, IsFallback: fallback},
			IntentDetectionConfidence: 0.87,
		}}, nil
	}
}

func textQuery(session, text string) *dialogflowpb.DetectIntentRequest {
	return &dialogflowpb.DetectIntentRequest{
		Session: session,
		QueryInput: &dialogflowpb.QueryInput{Input: &dialogflowpb.QueryInput_Text{
			Text: &dialogflowpb.TextInput{Text: text, LanguageCode: "ko"},
		}},
	}
}

func TestDialogflowClassifierRoutesLiveTurns(t *testing.T) {
	tests := []struct {
		name        string
		respond     sessionsfake.Respond
		want        map[string]any
		wantBackend string
		wantCalls   int
	}{
		{name: "intent named like a small category", respond: intent("환불요청", false), want: toRefundNotice, wantBackend: "dialogflow", wantCalls: 1},
		{name: "fallback intent", respond: intent("Default Fallback Intent", true), want: toBirthDate, wantBackend: "embedded", wantCalls: 1},
		{name: "intent outside the taxonomy", respond: intent("날씨문의", false), want: toBirthDate, wantBackend: "embedded", wantCalls: 1},
		{name: "Dialogflow unavailable", respond: func(context.Context, *dialogflowpb.DetectIntentRequest) (*dialogflowpb.DetectIntentResponse, error) {
			return nil, status.Error(codes.Unavailable, "backend down")
		}, want: toBirthDate, wantBackend: "embedded", wantCalls: 2}, // retried once
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := sessionsfake.New(tt.respond)
			a, logs, locations := dialogflowApp(t, fake)
			// The classifier builds in the background: waiting for it here
			// keeps its training (slow under -race) out of the turn's budget,
			// which must leave room for the retry of an unavailable backend.
			ready(t, a)
			fake.Reset()
			callID := "DF-CALL-1"
			doc, took := call(t, scenario.FromApp(a), callID, utterance)
			checkRoute(t, doc, tt.want)
			t.Logf("turn answered in %s", took)

			want := textQuery("projects/"+dfAgent+"/agent/sessions/"+callID, utterance)
			got := fake.Requests()
			if len(got) != tt.wantCalls {
				t.Fatalf("DetectIntent called %d times, want %d", len(got), tt.wantCalls)
			}
			for _, req := range got {
				if !proto.Equal(req, want) {
					t.Errorf("DetectIntent request\n%s\nwant\n%s", prototext.Format(req), prototext.Format(want))
				}
			}
			if !slices.Equal(*locations, []string{"global"}) {
				t.Errorf("Sessions clients made for %q, want one for global", *locations)
			}
			if turn := logs.Find(t, "turn"); turn == nil || turn["backend"] != tt.wantBackend {
				t.Errorf("turn log line %v, want backend %s", turn, tt.wantBackend)
			}
			assertPrivate(t, logs.String(), utterance)
		})
	}
}

// TestDialogflowClassifiesTranscripts: Dialogflow gets the customer's turns
// and gives the categories; the summary, which Dialogflow has none of, comes
// from the embedded classifier.
func TestDialogflowClassifiesTranscripts(t *testing.T) {
	fake := sessionsfake.New(intent("환불요청", false))
	a, logs, _ := dialogflowApp(t, fake)
	body := `question=상담원:넥서스입니다\n고객:지난주에 산 교재 환불받고 싶어요.상담원:네 접수해 드리겠습니다\n고객:네 감사합니다`
	r := httptest.NewRequest(http.MethodPost, "/star-wars/chat-gpt", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Authorization", "Bearer "+apiToken)
	w := httptest.NewRecorder()
	classifyfn.FromApp(a).ServeHTTP(w, r)
	var ans classifyfn.Answer
	if err := json.Unmarshal(w.Body.Bytes(), &ans); err != nil || w.Code != http.StatusOK {
		t.Fatalf("HTTP %d %v: %s", w.Code, err, w.Body)
	}
	if ans.Category1 != "결제환불" || ans.Category2 != "환불" || ans.Category3 != "환불요청" || ans.Answer == "" {
		t.Errorf("answer %+v, want Dialogflow's categories and a summary", ans)
	}
	got := fake.Requests()
	if len(got) != 1 {
		t.Fatalf("DetectIntent called %d times, want once", len(got))
	}
	// No call id on a post-call request: a random session.
	session := got[0].GetSession()
	if !regexp.MustCompile(`^projects/` + dfAgent + `/agent/sessions/[0-9a-f]{32}$`).MatchString(session) {
		t.Errorf("session %q", session)
	}
	if want := textQuery(session, "지난주에 산 교재 환불받고 싶어요. 네 감사합니다"); !proto.Equal(got[0], want) {
		t.Errorf("DetectIntent request\n%s\nwant\n%s", prototext.Format(got[0]), prototext.Format(want))
	}
	assertPrivate(t, logs.String(), "교재 환불받고", ans.Answer)
}

// brokenTenant writes a tenant whose flow has a wrong service code in step
// hello (line 4).
func brokenTenant(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"broken/tenant.yaml": "apiVersion: routebot/v1\nid: broken\nname: 망가진\nbots: [bot09999]\nqueues:\n  general: \"60001\"\n",
		"broken/taxonomy.yaml": "fallback: 기타/기타/상담원연결\ncategories:\n  - path: 기타/기타/상담원연결\n" +
			"    examples:\n      - 상담원 연결해 주세요\n",
		"broken/flows/BROKEN01.yaml": "code: BROKEN01\nstart: hello\nsteps:\n  hello:\n    prompt: 안녕하세요\n    service: S9999\n",
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestMisconfigurationFailsAtStart: every misconfiguration stops the start
// (config.Load or app.Build) with a message naming what to fix.
func TestMisconfigurationFailsAtStart(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-folder")
	empty := t.TempDir()
	tests := []struct {
		name    string
		env     map[string]string
		wantErr []string
	}{
		{name: "Firestore without a project", env: map[string]string{"ROUTEBOT_STORE": "firestore"},
			wantErr: []string{"ROUTEBOT_STORE=firestore", "GOOGLE_CLOUD_PROJECT"}},
		{name: "unknown classifier", env: map[string]string{"ROUTEBOT_CLASSIFIER": "gpt"}, wantErr: []string{"ROUTEBOT_CLASSIFIER"}},
		{name: "LLM without a URL", env: map[string]string{"ROUTEBOT_CLASSIFIER": "llm", "ROUTEBOT_LLM_MODEL": llmModel},
			wantErr: []string{"ROUTEBOT_LLM_BASE_URL"}},
		{name: "Dialogflow without a project", env: map[string]string{"ROUTEBOT_CLASSIFIER": "dialogflow"},
			wantErr: []string{"ROUTEBOT_DIALOGFLOW_PROJECT"}},
		{name: "bad duration", env: map[string]string{"ROUTEBOT_SESSION_TTL": "a day"}, wantErr: []string{"ROUTEBOT_SESSION_TTL"}},
		{name: "classify timeout not shorter than the turn", env: map[string]string{"ROUTEBOT_CLASSIFY_TIMEOUT": "3s", "ROUTEBOT_TURN_TIMEOUT": "3s"},
			wantErr: []string{"ROUTEBOT_CLASSIFY_TIMEOUT", "ROUTEBOT_TURN_TIMEOUT"}},
		{name: "broken tenant", env: map[string]string{"ROUTEBOT_TENANTS": brokenTenant(t)},
			wantErr: []string{"ROUTEBOT_TENANTS", "broken/flows/BROKEN01.yaml:6", "S9999"}},
		{name: "missing tenants folder", env: map[string]string{"ROUTEBOT_TENANTS": missing},
			wantErr: []string{"ROUTEBOT_TENANTS", missing}},
		{name: "tenants folder without tenants", env: map[string]string{"ROUTEBOT_TENANTS": empty},
			wantErr: []string{"ROUTEBOT_TENANTS", empty, "no tenant folders"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.env["ROUTEBOT_API_TOKEN"] = apiToken
			if tt.env["ROUTEBOT_STORE"] == "" {
				tt.env["ROUTEBOT_STORE"] = "memory"
			}
			cfg, err := config.Load(func(k string) string { return tt.env[k] }, false)
			if err == nil {
				var a *app.App
				if a, err = app.Build(context.Background(), cfg, logging.New(&logtest.Buffer{}, nil)); err == nil {
					a.Close()
					t.Fatal("the app started")
				}
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not mention %q:\n%v", want, err)
				}
			}
			if strings.Contains(err.Error(), apiToken) {
				t.Errorf("error echoes the API token: %v", err)
			}
		})
	}
}

// TestDemoTenantsServeEveryScenario: with nothing configured but the token,
// the embedded demo tenants compile and answer a first turn on each of
// their scenario codes.
func TestDemoTenantsServeEveryScenario(t *testing.T) {
	a, _ := build(t, map[string]string{})
	codes := slices.Sorted(slices.Values(a.ScenarioCodes()))
	if want := []string{"HANBIT01", "SCENARIO01", "star-wars"}; !slices.Equal(codes, want) {
		t.Errorf("scenario codes %v, want %v", codes, want)
	}
	if err := a.Warm(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, code := range codes {
		if _, err := a.Flows.Flow(context.Background(), code); err != nil {
			t.Errorf("%s: %v", code, err)
		}
	}
}

// A tenant choosing a backend the deployment cannot build still classifies
// (with its examples), and the mistake is logged.
func TestUnbuildableBackendFallsBackToEmbedded(t *testing.T) {
	dir := demoTenants(t)
	path := filepath.Join(dir, "nexus", "tenant.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data = regexp.MustCompile(`(?m)^(\s+backend:).*$`).ReplaceAll(data, []byte(`$1 llm`))
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	a, logs := build(t, map[string]string{"ROUTEBOT_TENANTS": dir}) // no ROUTEBOT_LLM_BASE_URL
	doc, _ := call(t, scenario.FromApp(a), "UNBUILT-1", "지난주에 산 책 환불받고 싶어요")
	if doc["TransCode"] != "200" || doc["ServiceCode"] != "S0002" {
		t.Fatalf("turn answered %v, want the refund notice from the embedded classifier", doc)
	}
	if logs.Find(t, "tenant's classifier backend cannot be built; using the embedded classifier") == nil {
		t.Errorf("the unbuildable backend was not logged:\n%s", logs.String())
	}
}
