package llm

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/routebot/routebot/common/classify"
	"github.com/routebot/routebot/internal/openaifake"
)

const testKey = "sk-test-0123456789abcdef"

func testTaxonomy(t testing.TB) *classify.Taxonomy {
	t.Helper()
	tax, err := classify.NewTaxonomy([]classify.Category{
		{Path: classify.Path{"주문배송", "배송", "배송조회"}, Examples: []string{"배송 언제 와요", "택배 어디쯤이에요"}},
		{Path: classify.Path{"주문배송", "배송", "배송지연"}, Examples: []string{"아직 안 왔어요"}},
		{Path: classify.Path{"주문배송", "주문", "주문취소"}},
		{Path: classify.Path{"결제환불", "환불", "환불요청"}, Examples: []string{"환불해 주세요"}},
		{Path: classify.Path{"기타", "기타", "담당자확인전달요청"}},
		{Path: classify.Path{"기타", "기타", "상담원연결"}, Examples: []string{"상담원 연결해 주세요"}},
	}, classify.Path{"기타", "기타", "담당자확인전달요청"})
	if err != nil {
		t.Fatal(err)
	}
	return tax
}

// The enums the fake insists on, written out rather than derived, so a
// schema built wrong fails the test.
var (
	wantEnum1 = []string{"주문배송", "결제환불", "기타"}
	wantEnum2 = []string{"배송", "주문", "환불", "기타"}
	wantEnum3 = []string{"배송조회", "배송지연", "주문취소", "환불요청", "담당자확인전달요청", "상담원연결"}
)

// reply is one scripted answer of the fake endpoint.
type reply struct {
	status  int
	header  map[string]string
	content string // the message content of a 200
	body    string // a raw body instead of a completion
	hang    bool   // block until the client gives up
	drop    bool   // close the connection without answering
}

// fakeOpenAI speaks chat-completions and checks every request it gets.
type fakeOpenAI struct {
	t          *testing.T
	replies    []reply
	wantAuth   [2]string // header name and value
	wantPath   string
	wantQuery  string
	wantModel  string
	wantText   string
	wantSystem string // a phrase the system prompt must hold
}

// answer checks request n and answers it with the n-th reply (the last
// one again once they run out).
func (f *fakeOpenAI) answer(n int, r *http.Request, body []byte) openaifake.Reply {
	f.check(r, body)
	rep := f.replies[min(n, len(f.replies)-1)]
	return openaifake.Reply{Status: rep.status, Header: rep.header, Content: rep.content, Body: rep.body, Hang: rep.hang, Drop: rep.drop}
}

func (f *fakeOpenAI) check(r *http.Request, body []byte) {
	t := f.t
	if r.Method != http.MethodPost {
		t.Errorf("method = %s, want POST", r.Method)
	}
	if r.URL.Path != f.wantPath {
		t.Errorf("path = %s, want %s", r.URL.Path, f.wantPath)
	}
	if r.URL.RawQuery != f.wantQuery {
		t.Errorf("query = %q, want %q", r.URL.RawQuery, f.wantQuery)
	}
	if got := r.Header.Get(f.wantAuth[0]); got != f.wantAuth[1] {
		t.Errorf("header %s = %q, want %q", f.wantAuth[0], got, f.wantAuth[1])
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var req struct {
		Model          string   `json:"model"`
		Temperature    *float64 `json:"temperature"`
		ResponseFormat struct {
			Type       string `json:"type"`
			JSONSchema struct {
				Name   string `json:"name"`
				Strict bool   `json:"strict"`
				Schema struct {
					Type       string `json:"type"`
					Properties map[string]struct {
						Type        string   `json:"type"`
						Enum        []string `json:"enum"`
						Description string   `json:"description"`
					} `json:"properties"`
					Required             []string `json:"required"`
					AdditionalProperties *bool    `json:"additionalProperties"`
				} `json:"schema"`
			} `json:"json_schema"`
		} `json:"response_format"`
		Messages []chatMessage `json:"messages"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		t.Errorf("request body: %v", err)
		return
	}
	if req.Model != f.wantModel {
		t.Errorf("model = %q, want %q", req.Model, f.wantModel)
	}
	if req.Temperature == nil || *req.Temperature != 0 {
		t.Errorf("temperature = %v, want 0", req.Temperature)
	}
	rf := req.ResponseFormat
	if rf.Type != "json_schema" || rf.JSONSchema.Name != "classification" || !rf.JSONSchema.Strict {
		t.Errorf("response_format = %s/%s strict=%v", rf.Type, rf.JSONSchema.Name, rf.JSONSchema.Strict)
	}
	s := rf.JSONSchema.Schema
	if s.Type != "object" || s.AdditionalProperties == nil || *s.AdditionalProperties {
		t.Errorf("schema type %q additionalProperties %v", s.Type, s.AdditionalProperties)
	}
	for name, want := range map[string][]string{"category1": wantEnum1, "category2": wantEnum2, "category3": wantEnum3} {
		if p := s.Properties[name]; p.Type != "string" || !slices.Equal(p.Enum, want) {
			t.Errorf("schema %s = %s %v, want string %v", name, p.Type, p.Enum, want)
		}
	}
	if p := s.Properties["confidence"]; p.Type != "number" {
		t.Errorf("schema confidence type = %q", p.Type)
	}
	if p := s.Properties["answer"]; p.Type != "string" {
		t.Errorf("schema answer type = %q", p.Type)
	}
	wantRequired := []string{"answer", "category1", "category2", "category3", "confidence"}
	if got := slices.Sorted(slices.Values(s.Required)); !slices.Equal(got, wantRequired) {
		t.Errorf("schema required = %v, want %v", got, wantRequired)
	}
	if len(req.Messages) != 2 || req.Messages[0].Role != "system" || req.Messages[1].Role != "user" {
		t.Errorf("messages = %+v, want system then user", req.Messages)
		return
	}
	if req.Messages[1].Content != f.wantText {
		t.Errorf("user content = %q, want %q", req.Messages[1].Content, f.wantText)
	}
	sys := req.Messages[0].Content
	for _, leaf := range wantEnum3 {
		if !strings.Contains(sys, leaf) {
			t.Errorf("system prompt lacks category %q", leaf)
		}
	}
	if !strings.Contains(sys, f.wantSystem) {
		t.Errorf("system prompt lacks %q:\n%s", f.wantSystem, sys)
	}
}

const (
	utterance  = "택배가 아직 안 왔어요"
	transcript = "상담원:안녕하세요 넥서스입니다\n고객:봉투 모의고사 언제 배송돼요?\n상담원:익일 발송됩니다.고객:아직 안 왔어요."
	goodAnswer = `{"answer":"","category1":"주문배송","category2":"배송","category3":"배송지연","confidence":0.92}`
)

func TestClassify(t *testing.T) {
	tax := testTaxonomy(t)
	delay := classify.Path{"주문배송", "배송", "배송지연"}
	tests := []struct {
		name         string
		cfg          func(*Config)
		in           classify.Input
		replies      []reply
		wantAuth     [2]string
		wantPath     string
		wantQuery    string
		wantSystem   string
		want         classify.Result
		wantErr      []error // every one must match; nil means success
		wantErrText  string
		wantRequests int
		wantLog      []string // substrings of the captured log
		maxTook      time.Duration
	}{
		{
			name:         "good JSON",
			replies:      []reply{{content: goodAnswer}},
			want:         classify.Result{Path: delay, Confidence: 0.92, Backend: "llm"},
			wantRequests: 1,
			wantLog:      []string{`"prompt_tokens":321`, `"completion_tokens":45`, `"level":"INFO"`},
		},
		{
			name:         "transcript asks for and trims a summary",
			cfg:          func(c *Config) { c.SummaryMaxRunes = 10 },
			in:           classify.Input{Text: transcript, Transcript: true},
			wantSystem:   "요약하세요",
			replies:      []reply{{content: `{"answer":"  고객이 모의고사 배송 지연을 문의함  ","category1":"주문배송","category2":"배송","category3":"배송지연","confidence":0.8}`}},
			want:         classify.Result{Path: delay, Confidence: 0.8, Summary: "고객이 모의고사 배", Backend: "llm"},
			wantRequests: 1,
			wantLog:      []string{`"prompt_tokens":321`},
		},
		{
			name:         "code-fenced JSON with prose around",
			replies:      []reply{{content: "분류 결과입니다.\n```json\n" + goodAnswer + "\n```\n감사합니다."}},
			want:         classify.Result{Path: delay, Confidence: 0.92, Backend: "llm"},
			wantRequests: 1,
			wantLog:      []string{`"prompt_tokens":321`},
		},
		{
			name:         "fallback category is flagged",
			replies:      []reply{{content: `{"answer":"","category1":"기타","category2":"기타","category3":"담당자확인전달요청","confidence":0.3}`}},
			want:         classify.Result{Path: tax.Fallback, Confidence: 0.3, Backend: "llm", Fallback: true},
			wantRequests: 1,
		},
		{
			name:         "only category3 valid: path rebuilt",
			replies:      []reply{{content: `{"answer":"","category1":"결제환불","category2":"환불","category3":"배송지연","confidence":1}`}},
			want:         classify.Result{Path: delay, Confidence: 1, Backend: "llm"},
			wantRequests: 1,
		},
		{
			name:         "category outside the taxonomy",
			replies:      []reply{{content: `{"answer":"","category1":"주문배송","category2":"배송","category3":"배송분실","confidence":0.9}`}},
			wantErr:      []error{ErrOutsideTaxonomy},
			wantRequests: 1,
			wantLog:      []string{`"prompt_tokens":321`},
		},
		{
			name:         "broken JSON",
			replies:      []reply{{content: `{"answer":"","category1":"주문배송","category2":"배송","category3":"배송지`}},
			wantErr:      []error{ErrMalformedAnswer},
			wantRequests: 1,
		},
		{
			name:         "refusal",
			replies:      []reply{{body: `{"choices":[{"message":{"role":"assistant","content":null,"refusal":"I can't help with that."},"finish_reason":"stop"}],"usage":{"prompt_tokens":300,"completion_tokens":9}}`}},
			wantErr:      []error{ErrMalformedAnswer},
			wantRequests: 1,
			wantLog:      []string{`"prompt_tokens":300`},
		},
		{
			name:         "no choices",
			replies:      []reply{{body: `{"choices":[],"usage":{"prompt_tokens":300,"completion_tokens":0}}`}},
			wantErr:      []error{ErrMalformedAnswer},
			wantRequests: 1,
		},
		{
			name:         "not a completion at all",
			replies:      []reply{{body: `<html>proxy error</html>`}},
			wantErr:      []error{classify.ErrUnavailable},
			wantRequests: 1,
		},
		{
			name: "429 then success",
			cfg:  func(c *Config) { c.MaxRetries = 2 },
			replies: []reply{
				{status: http.StatusTooManyRequests, header: map[string]string{"Retry-After-Ms": "20"}, body: `{"error":{"message":"Rate limit reached","type":"requests"}}`},
				{content: goodAnswer},
			},
			want:         classify.Result{Path: delay, Confidence: 0.92, Backend: "llm"},
			wantRequests: 2,
			wantLog:      []string{`"msg":"llm: retrying chat completion"`, `HTTP 429`, `"attempts":2`, `"prompt_tokens":321`},
		},
		{
			name:         "dropped connection then success",
			cfg:          func(c *Config) { c.MaxRetries = 1 },
			replies:      []reply{{drop: true}, {content: goodAnswer}},
			want:         classify.Result{Path: delay, Confidence: 0.92, Backend: "llm"},
			wantRequests: 2,
			wantLog:      []string{`"msg":"llm: retrying chat completion"`, `"attempts":2`},
		},
		{
			name:         "dropped connection, no retries",
			replies:      []reply{{drop: true}},
			wantErr:      []error{classify.ErrUnavailable},
			wantRequests: 1,
		},
		{
			name:         "500 until retries are spent",
			cfg:          func(c *Config) { c.MaxRetries = 2 },
			replies:      []reply{{status: http.StatusInternalServerError, body: `{"error":{"message":"upstream failed","type":"server_error"}}`}},
			wantErr:      []error{classify.ErrUnavailable},
			wantRequests: 3,
			wantLog:      []string{`HTTP 500`},
		},
		{
			name:         "429 whose Retry-After is past the deadline is not waited for",
			cfg:          func(c *Config) { c.MaxRetries = 3; c.Timeout = 2 * time.Second },
			replies:      []reply{{status: http.StatusTooManyRequests, header: map[string]string{"Retry-After": "30"}}},
			wantErr:      []error{classify.ErrUnavailable},
			wantRequests: 1,
			maxTook:      time.Second,
		},
		{
			name:         "401 is not retried and the echoed key is not repeated",
			cfg:          func(c *Config) { c.MaxRetries = 3 },
			replies:      []reply{{status: http.StatusUnauthorized, body: `{"error":{"message":"Incorrect API key provided: ` + testKey + `","type":"invalid_request_error","code":"invalid_api_key"}}`}},
			wantErr:      []error{classify.ErrUnavailable},
			wantRequests: 1,
		},
		{
			name:         "400 message is kept, key redacted",
			cfg:          func(c *Config) { c.MaxRetries = 3 },
			replies:      []reply{{status: http.StatusBadRequest, body: `{"error":{"message":"bad schema near ` + testKey + `","type":"invalid_request_error"}}`}},
			wantErr:      []error{classify.ErrUnavailable},
			wantErrText:  "llm: POST chat/completions: classifier unavailable: HTTP 400: type invalid_request_error, bad schema near [redacted] (attempt 1)",
			wantRequests: 1,
		},
		{
			name:         "hang past the deadline",
			cfg:          func(c *Config) { c.Timeout = 100 * time.Millisecond; c.MaxRetries = 5 },
			replies:      []reply{{hang: true}},
			wantErr:      []error{classify.ErrUnavailable, context.DeadlineExceeded},
			wantRequests: 1,
			maxTook:      10 * time.Second, // a generous guard: the error proves the deadline fired
		},
		{
			name: "Azure: api-key header, deployment path, api-version kept",
			cfg: func(c *Config) {
				c.BaseURL = strings.TrimSuffix(c.BaseURL, "/v1") + "/openai/deployments/gpt-4o?api-version=2024-10-21"
				c.APIKeyHeader = "api-key"
			},
			wantAuth:     [2]string{"Api-Key", testKey},
			wantPath:     "/openai/deployments/gpt-4o/chat/completions",
			wantQuery:    "api-version=2024-10-21",
			replies:      []reply{{content: goodAnswer}},
			want:         classify.Result{Path: delay, Confidence: 0.92, Backend: "llm"},
			wantRequests: 1,
		},
		{
			name: "Vertex: access token instead of the key",
			cfg: func(c *Config) {
				c.TokenSource = func(context.Context) (string, error) { return "ya29.token", nil }
			},
			wantAuth:     [2]string{"Authorization", "Bearer ya29.token"},
			replies:      []reply{{content: goodAnswer}},
			want:         classify.Result{Path: delay, Confidence: 0.92, Backend: "llm"},
			wantRequests: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			if in.Text == "" {
				in.Text = utterance
			}
			fake := &fakeOpenAI{
				t:          t,
				replies:    tt.replies,
				wantAuth:   cmp.Or(tt.wantAuth, [2]string{"Authorization", "Bearer " + testKey}),
				wantPath:   cmp.Or(tt.wantPath, "/v1/chat/completions"),
				wantQuery:  tt.wantQuery,
				wantModel:  "gpt-test",
				wantText:   in.Text,
				wantSystem: cmp.Or(tt.wantSystem, `answer는 빈 문자열`),
			}
			endpoint := &openaifake.Server{Answer: fake.answer, Model: "gpt-test"}
			srv := httptest.NewServer(endpoint)
			defer srv.Close()

			var logs bytes.Buffer
			cfg := Config{
				BaseURL: srv.URL + "/v1",
				Model:   "gpt-test",
				APIKey:  func() []byte { return []byte(testKey) },
				Timeout: 5 * time.Second,
				Logger:  slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			}
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			c, err := New(cfg, tax)
			if err != nil {
				t.Fatal(err)
			}

			start := time.Now()
			got, err := c.Classify(context.Background(), in)
			took := time.Since(start)

			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Classify: %v", err)
				}
				if got != tt.want {
					t.Errorf("Classify = %+v, want %+v", got, tt.want)
				}
			} else {
				if err == nil {
					t.Fatalf("Classify = %+v, want an error", got)
				}
				for _, want := range tt.wantErr {
					if !errors.Is(err, want) {
						t.Errorf("error %q does not wrap %q", err, want)
					}
				}
				t.Logf("error: %v", err)
				if tt.wantErrText != "" && err.Error() != tt.wantErrText {
					t.Errorf("error = %q, want %q", err, tt.wantErrText)
				}
				if !strings.HasPrefix(err.Error(), "llm: ") {
					t.Errorf("error %q does not name the package", err)
				}
				if strings.Contains(err.Error(), testKey) {
					t.Errorf("error %q holds the API key", err)
				}
			}
			if err := endpoint.Err(); err != nil {
				t.Error(err)
			}
			if n := endpoint.Requests(); n != tt.wantRequests {
				t.Errorf("requests = %d, want %d", n, tt.wantRequests)
			}
			if tt.maxTook > 0 && took > tt.maxTook {
				t.Errorf("took %v, want under %v", took, tt.maxTook)
			}
			log := logs.String()
			for _, want := range tt.wantLog {
				if !strings.Contains(log, want) {
					t.Errorf("log lacks %s:\n%s", want, log)
				}
			}
			if strings.Contains(log, testKey) || strings.Contains(log, "ya29.token") {
				t.Errorf("log holds a credential:\n%s", log)
			}
			if strings.Contains(log, in.Text) {
				t.Errorf("log holds the input text:\n%s", log)
			}
		})
	}
}

// TestClassifyCallerDeadline checks that a caller deadline shorter than
// Timeout wins.
func TestClassifyCallerDeadline(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-block:
		}
	}))
	defer srv.Close()
	defer close(block)
	c, err := New(Config{BaseURL: srv.URL, Model: "m", Timeout: time.Minute, Logger: slog.New(slog.DiscardHandler)}, testTaxonomy(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = c.Classify(ctx, classify.Input{Text: utterance})
	if !errors.Is(err, classify.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want unavailable and deadline exceeded", err)
	}
	if took := time.Since(start); took > 10*time.Second { // a guard against a hang, not a timing test
		t.Errorf("took %v", took)
	}
}

func TestNewRejects(t *testing.T) {
	tax := testTaxonomy(t)
	tests := []struct {
		name string
		cfg  Config
		tax  *classify.Taxonomy
	}{
		{name: "no taxonomy", cfg: Config{BaseURL: "http://x/v1", Model: "m"}},
		{name: "no model", cfg: Config{BaseURL: "http://x/v1"}, tax: tax},
		{name: "relative URL", cfg: Config{BaseURL: "/v1", Model: "m"}, tax: tax},
		{name: "credentials in URL", cfg: Config{BaseURL: "https://u:p@x/v1", Model: "m"}, tax: tax},
		{name: "negative retries", cfg: Config{BaseURL: "http://x/v1", Model: "m", MaxRetries: -1}, tax: tax},
		{name: "authorization in headers", cfg: Config{BaseURL: "http://x/v1", Model: "m", Headers: map[string]string{"authorization": "Bearer x"}}, tax: tax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cfg, tt.tax); err == nil {
				t.Error("New accepted it")
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2024, 4, 19, 13, 28, 28, 0, time.UTC)
	tests := []struct {
		name   string
		header map[string]string
		want   time.Duration
	}{
		{name: "absent", want: 0},
		{name: "seconds", header: map[string]string{"Retry-After": "2"}, want: 2 * time.Second},
		{name: "milliseconds first", header: map[string]string{"Retry-After-Ms": "150", "Retry-After": "2"}, want: 150 * time.Millisecond},
		{name: "HTTP date", header: map[string]string{"Retry-After": now.Add(3 * time.Second).Format(http.TimeFormat)}, want: 3 * time.Second},
		{name: "date in the past", header: map[string]string{"Retry-After": now.Add(-time.Minute).Format(http.TimeFormat)}, want: 0},
		{name: "garbage", header: map[string]string{"Retry-After": "soon"}, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			if got := retryAfter(h, now); got != tt.want {
				t.Errorf("retryAfter = %v, want %v", got, tt.want)
			}
		})
	}
}
