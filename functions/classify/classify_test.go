package classify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/routebot/routebot/common/app"
	"github.com/routebot/routebot/common/auth"
	"github.com/routebot/routebot/common/classify"
	"github.com/routebot/routebot/common/logging"
	"github.com/routebot/routebot/common/tenant"
	"github.com/routebot/routebot/common/wire"
	"github.com/routebot/routebot/internal/apptest"
	"github.com/routebot/routebot/internal/logtest"
	"github.com/routebot/routebot/internal/repodir"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

const testToken = "classify-test-token-7d41c9"

// seedBody is seed 003 §1.2.2's sample request body byte for byte: posted
// with curl -d, so nothing is percent-encoded, the line breaks are the two
// characters `\n`, and two turns run onto one line ("발송됩니다.고객:").
const seedBody = `question=상담원:안녕하세요 넥서스 상담원 서민지입니다 무엇을 도와드 릴까요?\n고객:제가 봉투 모의고사 패키지를 신청했는데 언제쯤 배송될까요?\n상담원:시험일 기준 익일에 문제지, 해설지, 답 안지가 일괄 발송됩니다.고객:근데 아직 안 왔어요.\n상담원:혹시 지난 모의고사 신청하셨나요?\n고객:네 맞아요 지난번 꺼 신청했어요\n상담원:그러시면 매주 화요일 금요일에 일괄 발송되니까 조금만 더 기다려주세요\n고객:네 알겠습니다.\n상담원:네 감사합니다`

// seedQuestion is the transcript the seed's form carries.
var seedQuestion = strings.TrimPrefix(seedBody, "question=")

// privateSpeech are pieces of the seed's call that must never reach a log:
// the agent's name and the customer's own words.
var privateSpeech = []string{"서민지", "봉투 모의고사 패키지를 신청했는데", "지난번 꺼 신청했어요", "근데 아직 안 왔어요"}

var createTimeRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$`)

// fixedNow is the seed's sample create_time, 2024-04-19T13:28:28.180710 in
// Seoul, as an instant.
var fixedNow = time.Date(2024, 4, 19, 4, 28, 28, 180710000, time.UTC)

const fixedCreateTime = "2024-04-19T13:28:28.180710"

func seoul(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// assertPrivate fails when a secret or a piece of the call reached the logs.
func assertPrivate(t testing.TB, logs string, secrets ...string) {
	t.Helper()
	for _, s := range append(slices.Clone(privateSpeech), secrets...) {
		if s != "" && strings.Contains(logs, s) {
			t.Errorf("logs contain %q:\n%s", s, logs)
		}
	}
}

// buildApp assembles the app from env the way the functions do, with
// ROUTEBOT_API_TOKEN set and the logs in a buffer.
func buildApp(t testing.TB, env map[string]string) (*app.App, *slog.Logger, *logtest.Buffer) {
	t.Helper()
	env["ROUTEBOT_API_TOKEN"] = testToken
	logs := &logtest.Buffer{}
	logger := logging.New(logs, slog.LevelDebug)
	return apptest.Build(t, env, true, logger), logger, logs
}

// taxonomy is a tenant's categories as the spec lists them
// (shared/spec/taxonomy-<tenant>.json), independent of the tenant files.
type taxonomy struct {
	Fallback   classify.Path
	Categories map[classify.Path]bool
}

func specTaxonomy(t testing.TB, tenantID string) taxonomy {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repodir.Shared(t, "spec"), "taxonomy-"+tenantID+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Fallback   []string                       `json:"fallback"`
		Categories map[string]map[string][]string `json:"categories"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	tax := taxonomy{Categories: map[classify.Path]bool{}}
	copy(tax.Fallback[:], doc.Fallback)
	for c1, middles := range doc.Categories {
		for c2, smalls := range middles {
			for _, c3 := range smalls {
				tax.Categories[classify.Path{c1, c2, c3}] = true
			}
		}
	}
	if len(tax.Categories) == 0 || !tax.Categories[tax.Fallback] {
		t.Fatalf("spec taxonomy of %s is unusable: %+v", tenantID, tax)
	}
	return tax
}

func post(h http.Handler, method, path, contentType, body string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	r.Header.Set("Authorization", "Bearer "+testToken)
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			r.Header.Del(header[i])
		} else {
			r.Header.Set(header[i], header[i+1])
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

const form = "application/x-www-form-urlencoded"

const multipartBoundary = "routebot-test-boundary"

var multipartType = "multipart/form-data; boundary=" + multipartBoundary

// multipartBody encodes name, value pairs as multipart/form-data.
func multipartBody(t testing.TB, pairs ...string) string {
	t.Helper()
	var b strings.Builder
	w := multipart.NewWriter(&b)
	if err := w.SetBoundary(multipartBoundary); err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		if err := w.WriteField(pairs[i], pairs[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func jsonBody(t testing.TB, fields map[string]any) string {
	t.Helper()
	b, err := json.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func hasHangul(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Hangul, r) {
			return true
		}
	}
	return false
}

func TestClassify(t *testing.T) {
	a, logger, logs := buildApp(t, map[string]string{})
	h := New(a.Flows, a.Auth, logger, Options{Project: "proj", TimeZone: seoul(t), Now: func() time.Time { return fixedNow }})
	nexus := specTaxonomy(t, "nexus")
	// The spec gives hanbit no taxonomy: its tenant files have one catch-all.
	hanbitOnly := classify.Path{"기타", "기타", "상담원연결"}
	hanbit := taxonomy{Fallback: hanbitOnly, Categories: map[classify.Path]bool{hanbitOnly: true}}

	tests := []struct {
		name        string
		method      string // POST when empty
		path        string
		contentType string
		body        string
		header      []string // name, value pairs; an empty value deletes
		want        wire.Code
		wantHTTP    int       // when not want's own status
		wantTax     *taxonomy // the answer's categories must be a leaf of it
	}{
		{name: "seed sample, form with trailing slash", path: "/star-wars/chat-gpt/", contentType: form, body: seedBody, want: wire.OK, wantTax: &nexus},
		{name: "no trailing slash", path: "/star-wars/chat-gpt", contentType: form, body: seedBody, want: wire.OK, wantTax: &nexus},
		{name: "form percent-encoded", path: "/star-wars/chat-gpt", contentType: form,
			body: url.Values{"question": {seedQuestion}}.Encode(), want: wire.OK, wantTax: &nexus},
		{name: "form with other fields", path: "/star-wars/chat-gpt/", contentType: form,
			body: "callId=20240419-0001&agent=1000&" + seedBody + "&lang=ko", want: wire.OK, wantTax: &nexus},
		{name: "form with a raw percent sign", path: "/star-wars/chat-gpt/", contentType: form,
			body: "question=고객:쿠폰 50% 할인이 적용이 안 돼서 결제가 안 넘어가요\\n상담원:확인해 드리겠습니다", want: wire.OK, wantTax: &nexus},
		{name: "form with a raw semicolon", path: "/star-wars/chat-gpt/", contentType: form,
			body: "question=고객:환불 신청했는데요; 아직 돈이 안 들어왔어요\\n상담원:확인해 드리겠습니다", want: wire.OK, wantTax: &nexus},
		{name: "JSON", path: "/star-wars/chat-gpt/", contentType: "application/json",
			body: jsonBody(t, map[string]any{"question": seedQuestion}), want: wire.OK, wantTax: &nexus},
		{name: "JSON with charset", path: "/star-wars/chat-gpt", contentType: "application/json; charset=UTF-8",
			body: jsonBody(t, map[string]any{"question": seedQuestion, "callId": "x"}), want: wire.OK, wantTax: &nexus},
		{name: "JSON without content type", path: "/star-wars/chat-gpt",
			body: " " + jsonBody(t, map[string]any{"question": seedQuestion}), want: wire.OK, wantTax: &nexus},
		{name: "multipart", path: "/star-wars/chat-gpt/", contentType: multipartType,
			body: multipartBody(t, "callId", "1", "question", seedQuestion), want: wire.OK, wantTax: &nexus},
		{name: "multipart without question", path: "/star-wars/chat-gpt/", contentType: multipartType,
			body: multipartBody(t, "callId", "1"), want: wire.BadParameter},
		{name: "multipart without boundary", path: "/star-wars/chat-gpt/", contentType: "multipart/form-data",
			body: multipartBody(t, "question", seedQuestion), want: wire.BadParameter},
		{name: "multipart cut short", path: "/star-wars/chat-gpt/", contentType: multipartType,
			body: multipartBody(t, "question", seedQuestion)[:40], want: wire.BadParameter},
		{name: "another scenario of the tenant", path: "/SCENARIO01/chat-gpt", contentType: form, body: seedBody, want: wire.OK, wantTax: &nexus},
		{name: "another tenant answers from its own taxonomy", path: "/HANBIT01/chat-gpt", contentType: form, body: seedBody, want: wire.OK, wantTax: &hanbit},

		{name: "missing question", path: "/star-wars/chat-gpt/", contentType: form, body: "callId=1&answer=x", want: wire.BadParameter},
		{name: "empty body", path: "/star-wars/chat-gpt/", contentType: form, want: wire.BadParameter},
		{name: "empty question", path: "/star-wars/chat-gpt/", contentType: form, body: "question=", want: wire.BadParameter},
		{name: "whitespace question", path: "/star-wars/chat-gpt/", contentType: form, body: "question=+%20%09%0A+", want: wire.BadParameter},
		{name: "JSON question is blank", path: "/star-wars/chat-gpt/", contentType: "application/json", body: `{"question":" \n "}`, want: wire.BadParameter},
		{name: "JSON question is null", path: "/star-wars/chat-gpt/", contentType: "application/json", body: `{"question":null}`, want: wire.BadParameter},
		{name: "JSON question is not a string", path: "/star-wars/chat-gpt/", contentType: "application/json", body: `{"question":42}`, want: wire.BadParameter},
		{name: "bad JSON", path: "/star-wars/chat-gpt/", contentType: "application/json", body: `{"question":"고객: 환불`, want: wire.BadParameter},
		{name: "question not UTF-8", path: "/star-wars/chat-gpt/", contentType: form, body: "question=%ff%fe%fd", want: wire.BadParameter},
		{name: "body over MaxBody", path: "/star-wars/chat-gpt/", contentType: form,
			body: "question=고객:" + strings.Repeat("가", MaxBody/3), want: wire.BadParameter},
		// Wrong methods: HTTP 405, Allow: POST, the envelope with TransCode 412.
		{name: "GET", method: http.MethodGet, path: "/star-wars/chat-gpt/", want: wire.BadParameter, wantHTTP: 405},
		{name: "PUT", method: http.MethodPut, path: "/star-wars/chat-gpt", contentType: form, body: seedBody, want: wire.BadParameter, wantHTTP: 405},
		{name: "HEAD", method: http.MethodHead, path: "/star-wars/chat-gpt/", want: wire.BadParameter, wantHTTP: 405},
		{name: "no token", path: "/star-wars/chat-gpt/", contentType: form, body: seedBody, header: []string{"Authorization", ""}, want: wire.Unauthorized},
		{name: "wrong token", path: "/star-wars/chat-gpt/", contentType: form, body: seedBody,
			header: []string{"Authorization", "Bearer wrong-token-3e8a"}, want: wire.Unauthorized},
		{name: "not a bearer token", path: "/star-wars/chat-gpt/", contentType: form, body: seedBody,
			header: []string{"Authorization", "Basic " + testToken}, want: wire.Unauthorized},
		{name: "unknown scenario", path: "/no-such-scenario/chat-gpt/", contentType: form, body: seedBody, want: wire.NotFound},
		{name: "chat-gpt alone", path: "/chat-gpt", contentType: form, body: seedBody, want: wire.NotFound},
		{name: "two levels before chat-gpt", path: "/a/b/chat-gpt", contentType: form, body: seedBody, want: wire.NotFound},
		{name: "not a chat-gpt path", path: "/star-wars", contentType: form, body: seedBody, want: wire.NotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			w := post(h, method, tt.path, tt.contentType, tt.body, tt.header...)
			if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			wantHTTP := tt.want.HTTPStatus()
			if tt.wantHTTP != 0 {
				wantHTTP = tt.wantHTTP
			}
			if w.Code != wantHTTP {
				t.Errorf("HTTP %d, want %d: %s", w.Code, wantHTTP, w.Body)
			}
			if allow := w.Header().Get("Allow"); (wantHTTP == http.StatusMethodNotAllowed) != (allow == "POST") {
				t.Errorf("Allow %q with HTTP %d", allow, w.Code)
			}
			var doc map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
				t.Fatalf("answer is not JSON: %v: %s", err, w.Body)
			}
			if doc["create_time"] != fixedCreateTime {
				t.Errorf("create_time %v, want %s (the injected clock in Seoul)", doc["create_time"], fixedCreateTime)
			}
			if tt.want != wire.OK {
				checkErrorEnvelope(t, doc, tt.want)
				if got := w.Header().Get("WWW-Authenticate"); (tt.want == wire.Unauthorized) != (got != "") {
					t.Errorf("WWW-Authenticate %q with TransCode %s", got, tt.want)
				}
				return
			}
			if len(doc) != 5 {
				t.Errorf("answer has %d fields, want 5: %s", len(doc), w.Body)
			}
			var p classify.Path
			for i := range p {
				p[i], _ = doc["category"+string(rune('1'+i))].(string)
			}
			if !tt.wantTax.Categories[p] {
				t.Errorf("category %s is not in the tenant's taxonomy", p)
			}
			answer, _ := doc["answer"].(string)
			if !hasHangul(answer) {
				t.Errorf("answer %q is not a Korean summary", answer)
			}
			if strings.Contains(answer, `\n`) {
				t.Errorf("answer keeps the gateway's literal \\n: %q", answer)
			}
		})
	}
	assertPrivate(t, logs.String(), testToken, "wrong-token-3e8a")
}

func checkErrorEnvelope(t *testing.T, doc map[string]any, want wire.Code) {
	t.Helper()
	if doc["Result"] != "N" {
		t.Errorf("Result %v, want N", doc["Result"])
	}
	if code, ok := doc["TransCode"].(string); !ok || code != string(want) {
		t.Errorf("TransCode %#v, want the string %q", doc["TransCode"], want)
	}
	if d, _ := doc["Description"].(string); !strings.HasPrefix(d, want.Message()+": ") || len(d) <= len(want.Message())+2 {
		t.Errorf("Description %q: want %q and why", d, want.Message())
	}
	if s, _ := doc["create_time"].(string); !createTimeRE.MatchString(s) {
		t.Errorf("create_time %q", s)
	}
	for _, k := range []string{"category1", "category2", "category3", "answer"} {
		if _, ok := doc[k]; ok {
			t.Errorf("error envelope carries %s", k)
		}
	}
}

// TestFromApp serves the seed sample through the handler the functions
// deploy, with the real clock in the configured zone.
func TestFromApp(t *testing.T) {
	a, _, logs := buildApp(t, map[string]string{})
	h := FromApp(a)
	before := time.Now().In(seoul(t)).Truncate(time.Microsecond)
	w := post(h, http.MethodPost, "/star-wars/chat-gpt/", form, seedBody)
	after := time.Now().In(seoul(t))
	if w.Code != http.StatusOK {
		t.Fatalf("HTTP %d: %s", w.Code, w.Body)
	}
	var ans Answer
	if err := json.Unmarshal(w.Body.Bytes(), &ans); err != nil {
		t.Fatal(err)
	}
	if !createTimeRE.MatchString(ans.CreateTime) {
		t.Fatalf("create_time %q", ans.CreateTime)
	}
	created, err := time.ParseInLocation(CreateTimeLayout, ans.CreateTime, seoul(t))
	if err != nil {
		t.Fatal(err)
	}
	if created.Before(before) || created.After(after) {
		t.Errorf("create_time %s is not Seoul time between %s and %s", ans.CreateTime, before.Format(CreateTimeLayout), after.Format(CreateTimeLayout))
	}
	if !specTaxonomy(t, "nexus").Categories[classify.Path{ans.Category1, ans.Category2, ans.Category3}] || !hasHangul(ans.Answer) {
		t.Errorf("answer %+v", ans)
	}
	var info map[string]any
	for _, l := range logs.Lines(t) {
		if l["message"] == "classification" {
			info = l
		}
	}
	if info == nil || info["severity"] != "INFO" || info["tenant"] != "nexus" || info["scenario"] != "star-wars" ||
		info["backend"] != "embedded" || info["category"] != ans.Category1+"/"+ans.Category2+"/"+ans.Category3 {
		t.Errorf("classification log line %v", info)
	}
	assertPrivate(t, logs.String(), testToken, ans.Answer)
}

// stub answers with a fixed result or error and records what it was asked.
type stub struct {
	res   classify.Result
	err   error
	block bool // wait for the deadline, then fail

	mu     sync.Mutex
	inputs []classify.Input
}

func (s *stub) Classify(ctx context.Context, in classify.Input) (classify.Result, error) {
	s.mu.Lock()
	s.inputs = append(s.inputs, in)
	s.mu.Unlock()
	if s.block {
		<-ctx.Done()
		return classify.Result{}, fmt.Errorf("stub: %w: %w", classify.ErrUnavailable, ctx.Err())
	}
	return s.res, s.err
}

func (s *stub) asked() []classify.Input {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.inputs)
}

// stubHandler serves the app's tenants with c as every tenant's classifier.
func stubHandler(t testing.TB, c classify.Classifier, opts Options) (*Handler, *logtest.Buffer) {
	t.Helper()
	a, _, _ := buildApp(t, map[string]string{})
	reg := tenant.NewRegistry(a.Tenants, func(tn *tenant.Tenant) error { tn.Classifier = c; return nil }, nil)
	logs := &logtest.Buffer{}
	opts.Now = func() time.Time { return fixedNow }
	opts.TimeZone = seoul(t)
	return New(reg, a.Auth, logging.New(logs, slog.LevelDebug), opts), logs
}

func TestUnusableClassifierAnswersTheFallback(t *testing.T) {
	nexus := specTaxonomy(t, "nexus")
	tests := []struct {
		name       string
		stub       *stub
		timeout    time.Duration
		wantAnswer string
		wantLogged string // the "answered" attribute of the error log line
	}{
		{name: "backend fails", stub: &stub{err: fmt.Errorf("llm: %w: HTTP 503", classify.ErrUnavailable)}, wantLogged: "//"},
		{name: "answer outside the taxonomy",
			stub:       &stub{res: classify.Result{Path: classify.Path{"결제환불", "환불", "포인트환불"}, Summary: "고객이 환불을 문의함", Backend: "llm"}},
			wantAnswer: "고객이 환불을 문의함", wantLogged: "결제환불/환불/포인트환불"},
		{name: "levels of different paths",
			stub:       &stub{res: classify.Result{Path: classify.Path{"주문배송", "환불", "환불요청"}, Summary: "요약", Backend: "llm"}},
			wantAnswer: "요약", wantLogged: "주문배송/환불/환불요청"},
		{name: "no category and no error", stub: &stub{res: classify.Result{Backend: "llm"}}, wantLogged: "//"},
		{name: "backend slower than the handler's timeout", stub: &stub{block: true}, timeout: 50 * time.Millisecond, wantLogged: "//"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, logs := stubHandler(t, tt.stub, Options{Timeout: tt.timeout})
			start := time.Now()
			w := post(h, http.MethodPost, "/star-wars/chat-gpt/", form, seedBody)
			if tt.timeout > 0 && time.Since(start) > tt.timeout+time.Second {
				t.Errorf("answered after %s with a %s timeout", time.Since(start), tt.timeout)
			}
			if w.Code != http.StatusOK {
				t.Fatalf("HTTP %d: %s", w.Code, w.Body)
			}
			var ans Answer
			if err := json.Unmarshal(w.Body.Bytes(), &ans); err != nil {
				t.Fatal(err)
			}
			if got := (classify.Path{ans.Category1, ans.Category2, ans.Category3}); got != nexus.Fallback {
				t.Errorf("category %s, want the taxonomy's fallback %s", got, nexus.Fallback)
			}
			if ans.Answer != tt.wantAnswer || ans.CreateTime != fixedCreateTime {
				t.Errorf("answer %q create_time %q, want %q %q", ans.Answer, ans.CreateTime, tt.wantAnswer, fixedCreateTime)
			}
			var errLine, infoLine map[string]any
			for _, l := range logs.Lines(t) {
				switch l["message"] {
				case "classification failed; answering the taxonomy's fallback":
					errLine = l
				case "classification":
					infoLine = l
				}
			}
			if errLine == nil || errLine["severity"] != "ERROR" || errLine["tenant"] != "nexus" || errLine["answered"] != tt.wantLogged {
				t.Errorf("error log line %v", errLine)
			}
			if infoLine == nil || infoLine["fallback"] != true || infoLine["backend"] != "none" {
				t.Errorf("classification log line %v", infoLine)
			}
			assertPrivate(t, logs.String(), testToken, ans.Answer)
		})
	}
}

// TestClassifierGetsCanonicalTranscript checks what a backend is handed for
// the seed's sample: one "speaker: text" line per turn, the literal `\n`
// turned into line breaks and the run-on turn split.
func TestClassifierGetsCanonicalTranscript(t *testing.T) {
	s := &stub{res: classify.Result{Path: classify.Path{"주문배송", "배송", "배송조회"}, Summary: "배송 문의", Backend: "llm"}}
	h, _ := stubHandler(t, s, Options{})
	if w := post(h, http.MethodPost, "/star-wars/chat-gpt/", form, seedBody); w.Code != http.StatusOK {
		t.Fatalf("HTTP %d: %s", w.Code, w.Body)
	}
	in := s.asked()
	if len(in) != 1 {
		t.Fatalf("classifier asked %d times, want once", len(in))
	}
	if !in[0].Transcript {
		t.Error("Input.Transcript is false for a transcript")
	}
	want := []string{
		"상담원: 안녕하세요 넥서스 상담원 서민지입니다 무엇을 도와드 릴까요?",
		"고객: 제가 봉투 모의고사 패키지를 신청했는데 언제쯤 배송될까요?",
		"상담원: 시험일 기준 익일에 문제지, 해설지, 답 안지가 일괄 발송됩니다.",
		"고객: 근데 아직 안 왔어요.",
		"상담원: 혹시 지난 모의고사 신청하셨나요?",
		"고객: 네 맞아요 지난번 꺼 신청했어요",
		"상담원: 그러시면 매주 화요일 금요일에 일괄 발송되니까 조금만 더 기다려주세요",
		"고객: 네 알겠습니다.",
		"상담원: 네 감사합니다",
	}
	if got := strings.Split(in[0].Text, "\n"); !slices.Equal(got, want) {
		t.Errorf("classifier got\n%s\nwant\n%s", in[0].Text, strings.Join(want, "\n"))
	}
}

// TestWireGolden pins the bodies byte for byte: field names and order
// (category1, category2, category3, answer, create_time), Hangul unescaped,
// no trailing newline; and the error envelope.
func TestWireGolden(t *testing.T) {
	s := &stub{res: classify.Result{Path: classify.Path{"주문배송", "배송", "배송조회"},
		Summary: "고객이 봉투 모의고사 배송 일정을 문의했고, 상담원은 화요일과 금요일에 일괄 발송된다고 안내함 <&>", Backend: "llm", Confidence: 0.9}}
	h, _ := stubHandler(t, s, Options{})
	tests := []struct {
		name, golden, method string
		want                 int
	}{
		{name: "answer", golden: "answer.golden", method: http.MethodPost, want: http.StatusOK},
		{name: "error", golden: "error.golden", method: http.MethodGet, want: http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := post(h, tt.method, "/star-wars/chat-gpt/", form, seedBody)
			if w.Code != tt.want {
				t.Fatalf("HTTP %d: %s", w.Code, w.Body)
			}
			path := filepath.Join("testdata", tt.golden)
			if *update {
				if err := os.WriteFile(path, w.Body.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(w.Body.Bytes(), want) {
				t.Errorf("body\n%s\nwant (%s)\n%s", w.Body, path, want)
			}
		})
	}
}

func BenchmarkClassify(b *testing.B) {
	a, _, _ := buildApp(b, map[string]string{})
	h := New(a.Flows, a.Auth, logging.New(io.Discard, slog.LevelInfo), Options{TimeZone: seoul(b)})
	if w := post(h, http.MethodPost, "/star-wars/chat-gpt/", form, seedBody); w.Code != http.StatusOK { // compile and train
		b.Fatalf("HTTP %d: %s", w.Code, w.Body)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(seedBody)))
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "/star-wars/chat-gpt/", strings.NewReader(seedBody))
		r.Header.Set("Content-Type", form)
		r.Header.Set("Authorization", "Bearer "+testToken)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("HTTP %d", w.Code)
		}
	}
}

// FuzzReadQuestion feeds readQuestion arbitrary bodies and content types: it
// must never panic, and a question it accepts is non-blank UTF-8.
func FuzzReadQuestion(f *testing.F) {
	f.Add([]byte(seedBody), form)
	f.Add([]byte(url.Values{"question": {seedQuestion}}.Encode()), form+"; charset=utf-8")
	f.Add([]byte(`{"question":"고객: 환불해 주세요"}`), "application/json")
	f.Add([]byte(`{"question":"고객: 환불\u0000"}`), "")
	f.Add([]byte(`{"question":`), "application/json")
	f.Add([]byte("question=50%+%ED%99%98%EB%B6%88;x&question=2"), "")
	f.Add([]byte("question=%zz%"), "text/plain")
	f.Add([]byte("q=1&&=&question"), "application/x-www-form-urlencoded; charset")
	f.Add([]byte("question=\xff\xfe"), "multipart/form-data; boundary=x")
	f.Add([]byte(multipartBody(f, "question", seedQuestion)), multipartType)
	f.Add([]byte("{\"question\":\""+strings.Repeat("\xff", 64)+"\"}"), "application/json")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		r := httptest.NewRequest(http.MethodPost, "/x/chat-gpt", bytes.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		q, werr := readQuestion(r)
		if werr != nil {
			if werr.Code != wire.BadParameter || werr.Reason == "" {
				t.Fatalf("error %+v, want a 412 with a reason", werr)
			}
			if q != "" {
				t.Fatalf("error with question %q", q)
			}
			return
		}
		if !utf8.ValidString(q) || strings.TrimSpace(q) == "" {
			t.Fatalf("accepted question %q", q)
		}
		// Decoding only shrinks a form; JSON turns each invalid byte into
		// U+FFFD (3 bytes).
		if len(q) > 3*len(body) {
			t.Fatalf("question (%d bytes) out of a body of %d", len(q), len(body))
		}
	})
}

func TestFormValue(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{name: "seed sample, unencoded", body: seedBody, want: seedQuestion},
		{name: "percent-encoded", body: url.Values{"question": {"고객: 50% 환불+교환 & 문의"}}.Encode(), want: "고객: 50% 환불+교환 & 문의"},
		{name: "raw percent kept", body: "question=50% 할인 100%", want: "50% 할인 100%"},
		{name: "bad escapes kept", body: "question=%zz%4%", want: "%zz%4%"},
		{name: "semicolon is text", body: "question=네; 알겠습니다", want: "네; 알겠습니다"},
		{name: "plus is a space", body: "question=환불+문의", want: "환불 문의"},
		{name: "first of several", body: "a=1&question=첫째&question=둘째", want: "첫째"},
		{name: "encoded name", body: "%71uestion=네", want: "네"},
		{name: "name without value", body: "question&x=1", want: ""},
		{name: "absent", body: "questions=네&Question=네", want: ""},
		{name: "empty", body: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := formValue(tt.body, "question"); got != tt.want {
				t.Errorf("formValue(%q) = %q, want %q", tt.body, got, tt.want)
			}
		})
	}
}

// TestReadQuestionOversizedBodyIsNotRead guards MaxBody: a reader that never
// ends is cut right after the limit.
func TestReadQuestionOversizedBodyIsNotRead(t *testing.T) {
	endless := io.MultiReader(strings.NewReader("question="), repeatReader('a'))
	var read countingReader
	read.r = endless
	r := httptest.NewRequest(http.MethodPost, "/x/chat-gpt", &read)
	r.Header.Set("Content-Type", form)
	_, werr := readQuestion(r)
	if werr == nil || werr.Code != wire.BadParameter {
		t.Fatalf("error %v, want 412", werr)
	}
	if read.n > MaxBody+1+4096 {
		t.Errorf("read %d bytes of an endless body, want about %d", read.n, MaxBody+1)
	}
}

type repeatReader byte

func (c repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(c)
	}
	return len(p), nil
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// failingBody is a request body whose read fails as a slow client's does.
type failingBody struct{}

func (failingBody) Read([]byte) (int, error) {
	return 0, errors.New("read tcp 127.0.0.1:18504->127.0.0.1:51014: i/o timeout")
}

// TestRefusalsTellCallersLittle: a refused caller gets the code and a short
// generic reason; what failed, with addresses and key names, is logged.
func TestRefusalsTellCallersLittle(t *testing.T) {
	a, _, _ := buildApp(t, map[string]string{})
	logs := &logtest.Buffer{}
	jwtOnly := auth.NewVerifier(auth.StaticKeys(auth.Keys{Tokens: [][]byte{[]byte(testToken)}, JWTKeys: [][]byte{[]byte("the-jwt-key-of-routebot-0123456")}}))
	const jwtShaped = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJndyJ9.c2lnbmF0dXJl"
	tests := []struct {
		name       string
		verifier   Verifier
		auth       string
		body       io.Reader
		want       wire.Code
		wantLogged string // in the log line's error, never in the answer
	}{
		{"JWT but no JWT key", a.Auth, "Bearer " + jwtShaped, strings.NewReader(seedBody), wire.Unauthorized, "no JWT key is configured"},
		{"JWT signed by another key", jwtOnly, "Bearer " + jwtShaped, strings.NewReader(seedBody), wire.Unauthorized, "signature matches no configured key"},
		{"unknown token", a.Auth, "Bearer nope", strings.NewReader(seedBody), wire.Unauthorized, "matches no configured token"},
		{"body read fails", a.Auth, "Bearer " + testToken, failingBody{}, wire.BadParameter, "127.0.0.1:18504->127.0.0.1:51014: i/o timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := New(a.Flows, tt.verifier, logging.New(logs, slog.LevelDebug), Options{Now: func() time.Time { return fixedNow }})
			r := httptest.NewRequest(http.MethodPost, "/star-wars/chat-gpt/", tt.body)
			r.Header.Set("Content-Type", form)
			r.Header.Set("Authorization", tt.auth)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			var doc map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
				t.Fatalf("answer is not JSON: %s", w.Body)
			}
			checkErrorEnvelope(t, doc, tt.want)
			for _, detail := range []string{tt.wantLogged, "JWT", "127.0.0.1", "configured"} {
				if strings.Contains(w.Body.String(), detail) {
					t.Errorf("the answer tells the caller %q: %s", detail, w.Body)
				}
			}
			line := logs.Find(t, "classification refused")
			if line == nil || !strings.Contains(fmt.Sprint(line["error"]), tt.wantLogged) {
				t.Errorf("log line %v, want error containing %q", line, tt.wantLogged)
			}
		})
	}
}

// TestHangUpIsNotAnError: a gateway gone before its answer is a warning
// naming what happened, not an error that pages an operator.
func TestHangUpIsNotAnError(t *testing.T) {
	a, _, _ := buildApp(t, map[string]string{})
	logs := &logtest.Buffer{}
	h := New(a.Flows, a.Auth, logging.New(logs, slog.LevelDebug), Options{})
	ctx, hangUp := context.WithCancel(context.Background())
	hangUp()
	r := httptest.NewRequestWithContext(ctx, http.MethodPost, "/star-wars/chat-gpt/", strings.NewReader(seedBody))
	r.Header.Set("Content-Type", form)
	r.Header.Set("Authorization", "Bearer "+testToken)
	h.ServeHTTP(httptest.NewRecorder(), r)
	line := logs.Find(t, "classification abandoned: the gateway hung up before the answer")
	if line == nil || line["severity"] != "WARNING" {
		t.Fatalf("logged %s, want the abandoned classification at WARNING", logs.String())
	}
}

// TestStartFailedIsTheClassifyEnvelope: a classify function that cannot
// start answers in its own envelope, create_time included.
func TestStartFailedIsTheClassifyEnvelope(t *testing.T) {
	w := httptest.NewRecorder()
	startFailed(w, errors.New("projects/p/secrets/s: permission denied"))
	if w.Code != http.StatusInternalServerError || w.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("HTTP %d, Content-Type %q", w.Code, w.Header().Get("Content-Type"))
	}
	var doc map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		t.Fatalf("answer is not JSON: %v: %s", err, w.Body)
	}
	checkErrorEnvelope(t, doc, wire.InternalError)
	if strings.Contains(w.Body.String(), "permission denied") {
		t.Errorf("the start-up error reached the answer: %s", w.Body)
	}
}
