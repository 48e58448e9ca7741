package scenario

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/routebot/routebot/internal/tenanttest"

	"github.com/routebot/routebot/common/auth"
	"github.com/routebot/routebot/common/classify"
	"github.com/routebot/routebot/common/classify/embedded"
	"github.com/routebot/routebot/common/logging"
	"github.com/routebot/routebot/common/session"
	"github.com/routebot/routebot/common/store"
	"github.com/routebot/routebot/common/store/memstore"
	"github.com/routebot/routebot/common/tenant"
	"github.com/routebot/routebot/common/wire"
	"github.com/routebot/routebot/examples"
	"github.com/routebot/routebot/internal/logtest"
)

const token = "test-token"

// env is a handler over the demo tenants with a chosen classifier.
type env struct {
	h     *Handler
	store *memstore.Store
	logs  *logtest.Buffer
}

func newEnv(t testing.TB, cls func(*tenant.Tenant) (classify.Classifier, error), opts Options) *env {
	t.Helper()
	ms := memstore.New(nil)
	tenanttest.PutDemo(context.Background(), t, ms)
	if cls == nil {
		cls = func(tn *tenant.Tenant) (classify.Classifier, error) { return embedded.New(tn.Taxonomy) }
	}
	reg := tenant.NewRegistry(ms, func(tn *tenant.Tenant) error {
		c, err := cls(tn)
		tn.Classifier = c
		return err
	}, nil)
	logs := &logtest.Buffer{}
	v := auth.NewVerifier(auth.StaticKeys(auth.Keys{Tokens: [][]byte{[]byte(token)}}))
	if opts.SessionTTL == 0 {
		opts.SessionTTL = time.Hour
	}
	opts.Project = "proj"
	return &env{h: New(reg, ms, ms, v, logging.New(logs, slog.LevelDebug), opts), store: ms, logs: logs}
}

func (e *env) post(t testing.TB, path, body string, headers ...string) (int, map[string]any, string) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	var doc map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		t.Fatalf("answer is not JSON: %v: %s", err, w.Body.String())
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	return w.Code, doc, w.Body.String()
}

func body(callID string, fields ...string) string {
	m := map[string]any{"CallId": callID, "ChatBotKey": "bot00001", "Customer": "01012345678", "Agent": 1000}
	for i := 0; i+1 < len(fields); i += 2 {
		m[fields[i]] = fields[i+1]
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func TestRetriedTurnDoesNotAdvance(t *testing.T) {
	e := newEnv(t, nil, Options{})
	e.post(t, "/SCENARIO01", body("R1", "ChatMsg", "택배 배송 조회 좀 해주세요"))
	wrong := body("R1", "ScenarioCode", "ask_birthdate", "DTMF", "12")
	_, first, raw1 := e.post(t, "/SCENARIO01", wrong)
	for i := 0; i < 3; i++ {
		_, _, raw := e.post(t, "/SCENARIO01", wrong)
		if raw != raw1 {
			t.Fatalf("retry %d answered differently:\n%s\n%s", i+1, raw, raw1)
		}
	}
	if first["ScenarioCode"] != "birthdate_retry" {
		t.Fatalf("first wrong entry went to %v", first["ScenarioCode"])
	}
	log, err := e.store.Log(context.Background(), "R1")
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 2 {
		t.Fatalf("turn log has %d entries, want 2 (retries add none)", len(log))
	}
	if log[1].DTMF != "**" {
		t.Errorf("turn log keeps DTMF %q, want it masked", log[1].DTMF)
	}
	// The caller's second, different wrong entry still counts.
	_, second, _ := e.post(t, "/SCENARIO01", body("R1", "ScenarioCode", "birthdate_retry", "DTMF", "12"))
	if second["ServiceCode"] != "S2000" {
		t.Fatalf("second wrong entry: %v", second)
	}
}

func TestIdempotencyKeyDeduplicatesSilence(t *testing.T) {
	e := newEnv(t, nil, Options{})
	e.post(t, "/SCENARIO01", body("S1", "IsFirstChat", "Y"))
	silence := body("S1", "ScenarioCode", "무응답")
	_, a, _ := e.post(t, "/SCENARIO01", silence, "Idempotency-Key", "k1")
	_, b, _ := e.post(t, "/SCENARIO01", silence, "Idempotency-Key", "k1")
	if a["ServiceCode"] != "S0000" || b["ServiceCode"] != "S0000" {
		t.Fatalf("a retried silence ended the call: %v then %v", a, b)
	}
	_, c, _ := e.post(t, "/SCENARIO01", silence, "Idempotency-Key", "k2")
	if c["ServiceCode"] != "S0001" {
		t.Fatalf("the second real silence: %v", c)
	}
}

func TestConcurrentRetriesAdvanceOnce(t *testing.T) {
	e := newEnv(t, nil, Options{})
	e.post(t, "/SCENARIO01", body("P1", "ChatMsg", "택배 배송 조회 좀 해주세요"))
	wrong := body("P1", "ScenarioCode", "ask_birthdate", "DTMF", "12")
	var wg sync.WaitGroup
	answers := make([]string, 8)
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, answers[i] = e.post(t, "/SCENARIO01", wrong)
		}()
	}
	wg.Wait()
	for _, a := range answers[1:] {
		if a != answers[0] {
			t.Fatalf("racing retries answered differently:\n%s\n%s", a, answers[0])
		}
	}
	if log, _ := e.store.Log(context.Background(), "P1"); len(log) != 2 {
		n := len(log)
		t.Fatalf("turn log has %d entries, want 2", n)
	}
}

type hang struct {
	calls  atomic.Int32
	budget atomic.Int64 // time left before ctx's deadline when called, in ns; 0 without one
}

func (h *hang) Classify(ctx context.Context, _ classify.Input) (classify.Result, error) {
	h.calls.Add(1)
	if d, ok := ctx.Deadline(); ok {
		h.budget.Store(int64(time.Until(d)))
	}
	<-ctx.Done()
	return classify.Result{}, ctx.Err()
}

func TestSlowClassifierFallsBackInTime(t *testing.T) {
	slow := &hang{}
	e := newEnv(t, func(*tenant.Tenant) (classify.Classifier, error) { return slow, nil },
		Options{ClassifyTimeout: 50 * time.Millisecond, TurnTimeout: time.Minute})
	code, doc, _ := e.post(t, "/SCENARIO01", body("SL1", "ChatMsg", "배송 언제 와요"))
	// The classifier was handed the classification budget, not the turn's
	// minute: the answer came because that budget ran out.
	if left := time.Duration(slow.budget.Load()); left <= 0 || left > 50*time.Millisecond {
		t.Errorf("classifier called with %s before its deadline, want at most the 50ms classification budget", left)
	}
	if code != 200 || doc["TransCode"] != "200" || doc["ServiceCode"] != "S2000" || doc["TransfterNumber"] != "40001" {
		t.Fatalf("got %d %v, want the fallback transfer with TransCode 200", code, doc)
	}
	if slow.calls.Load() != 1 {
		t.Errorf("classifier called %d times", slow.calls.Load())
	}
	if !strings.Contains(e.logs.String(), `"message":"turn answered by the flow's fallback"`) {
		t.Errorf("the degraded turn is not logged as such:\n%s", e.logs.String())
	}
}

// deferred is a classifier built once started (as classify.Background is):
// it records whether the answer had been written when it was started.
type deferred struct {
	w                *httptest.ResponseRecorder
	starts, answered atomic.Int32
}

func (d *deferred) Start() {
	d.starts.Add(1)
	if d.w.Body.Len() > 0 {
		d.answered.Add(1)
	}
}

func (d *deferred) Classify(context.Context, classify.Input) (classify.Result, error) {
	return classify.Result{}, errors.New("a greeting does not classify")
}

// TestClassifierStartedOnceAnswered: the turn that compiled a tenant (a
// greeting) starts its classifier's training only after writing its answer,
// so that training never shares the CPU with the greeting's work.
func TestClassifierStartedOnceAnswered(t *testing.T) {
	cls := &deferred{}
	e := newEnv(t, func(*tenant.Tenant) (classify.Classifier, error) { return cls, nil }, Options{})
	for i, b := range []string{body("ST1", "IsFirstChat", "Y"), body("ST2", "IsFirstChat", "Y")} {
		cls.w = httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/SCENARIO01", strings.NewReader(b))
		r.Header.Set("Authorization", "Bearer "+token)
		e.h.ServeHTTP(cls.w, r)
		if cls.w.Code != http.StatusOK || !strings.Contains(cls.w.Body.String(), `"ServiceCode":"S0000"`) {
			t.Fatalf("greeting %d: %d %s", i+1, cls.w.Code, cls.w.Body.String())
		}
		if n, a := cls.starts.Load(), cls.answered.Load(); n != int32(i+1) || a != n {
			t.Fatalf("after greeting %d: classifier started %d times, %d of them after the answer was written; want %d, all after", i+1, n, a, i+1)
		}
	}
}

type outside struct{}

func (outside) Classify(context.Context, classify.Input) (classify.Result, error) {
	return classify.Result{Path: classify.Path{"x", "y", "z"}}, nil
}

func TestAnswerOutsideTaxonomyFallsBack(t *testing.T) {
	e := newEnv(t, func(*tenant.Tenant) (classify.Classifier, error) { return outside{}, nil }, Options{})
	_, doc, _ := e.post(t, "/SCENARIO01", body("O1", "ChatMsg", "배송"))
	if doc["ScenarioCode"] != "agent" {
		t.Fatalf("got %v, want the unavailable route", doc)
	}
}

func TestLogLine(t *testing.T) {
	e := newEnv(t, nil, Options{})
	e.post(t, "/SCENARIO01", body("L1", "ChatMsg", "택배 배송 조회 좀 해주세요"))
	r := httptest.NewRequest(http.MethodPost, "/SCENARIO01", strings.NewReader(body("L1", "ScenarioCode", "ask_birthdate", "DTMF", "900101#")))
	r.Header.Set("Authorization", "Bearer "+token)
	r.Header.Set("X-Cloud-Trace-Context", "105445aa7843bc8bf206b12000100000/1;o=1")
	e.h.ServeHTTP(httptest.NewRecorder(), r)
	lines := strings.Split(strings.TrimSpace(e.logs.String()), "\n")
	var last map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"severity": "INFO", "message": "turn", "CallId": "L1", "tenant": "nexus", "scenario": "SCENARIO01",
		"from": "ask_birthdate", "to": "delivery_status", "ServiceCode": "S0003", "TransCode": "200",
		logging.TraceKey: "projects/proj/traces/105445aa7843bc8bf206b12000100000"}
	for k, v := range want {
		if last[k] != v {
			t.Errorf("log %s = %v, want %v", k, last[k], v)
		}
	}
	if _, ok := last["latency_ms"].(float64); !ok {
		t.Errorf("no latency_ms in %v", last)
	}
	if strings.Contains(e.logs.String(), "900101") {
		t.Errorf("sensitive DTMF in the logs")
	}
	if strings.Contains(e.logs.String(), token) {
		t.Errorf("the bearer token is in the logs")
	}
}

func TestRefusals(t *testing.T) {
	e := newEnv(t, nil, Options{})
	tests := []struct {
		name     string
		method   string
		path     string
		body     string
		auth     string
		wantHTTP int
		wantCode string
	}{
		{"body over 64 KiB", "POST", "/SCENARIO01", body("B1", "ChatMsg", strings.Repeat("가", 22000)), "Bearer " + token, 400, "412"},
		// Wrong methods: 405 with Allow: POST and the envelope (TransCode 412).
		{"GET", "GET", "/SCENARIO01", "", "Bearer " + token, 405, "412"},
		{"PUT", "PUT", "/SCENARIO01", body("B1"), "Bearer " + token, 405, "412"},
		{"HEAD", "HEAD", "/SCENARIO01", "", "Bearer " + token, 405, "412"},
		{"DELETE without a token", "DELETE", "/SCENARIO01", "", "", 405, "412"},
		{"nested path", "POST", "/SCENARIO01/x", body("B1"), "Bearer " + token, 404, "404"},
		{"root", "POST", "/", body("B1"), "Bearer " + token, 404, "404"},
		{"unknown step", "POST", "/SCENARIO01", body("B1", "ScenarioCode", "nope"), "Bearer " + token, 404, "404"},
		{"basic auth", "POST", "/SCENARIO01", body("B1"), "Basic dXNlcjpwYXNz", 401, "401"},
		{"other tenant's bot", "POST", "/HANBIT01", body("B1"), "Bearer " + token, 403, "400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			r.Header.Set("Authorization", tt.auth)
			w := httptest.NewRecorder()
			e.h.ServeHTTP(w, r)
			var doc map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
				t.Fatalf("not JSON: %s", w.Body.String())
			}
			if w.Code != tt.wantHTTP || doc["TransCode"] != tt.wantCode || doc["Result"] != "N" {
				t.Errorf("got HTTP %d %v, want HTTP %d TransCode %s", w.Code, doc, tt.wantHTTP, tt.wantCode)
			}
			if d, _ := doc["Description"].(string); d == "" {
				t.Errorf("no Description explains the refusal")
			}
			if allow := w.Header().Get("Allow"); (tt.wantHTTP == 405) != (allow == "POST") {
				t.Errorf("Allow %q with HTTP %d", allow, w.Code)
			}
		})
	}
}

// TestRefusalEchoesCall: a 412 names the call it refuses whenever the body
// decoded that far, in the answer and in its log line, so the gateway and
// an operator can match it to the call.
func TestRefusalEchoesCall(t *testing.T) {
	e := newEnv(t, nil, Options{})
	tests := []struct {
		name, body string
	}{
		{"DTMF not digits", body("E1", "ScenarioCode", "ask_birthdate", "DTMF", "abcdef")},
		{"missing Customer", `{"CallId":"E1","ChatBotKey":"bot00001","Agent":1000}`},
		{"Agent not digits", `{"CallId":"E1","ChatBotKey":"bot00001","Customer":"01012345678","Agent":"abc"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, doc, _ := e.post(t, "/SCENARIO01", tt.body)
			if code != 400 || doc["TransCode"] != "412" {
				t.Fatalf("got %d %v, want 412", code, doc)
			}
			if doc["CallId"] != "E1" || doc["ChatBotKey"] != "bot00001" {
				t.Errorf("answer %v does not echo CallId E1 and ChatBotKey bot00001", doc)
			}
			line := e.logs.Find(t, "turn refused")
			if line == nil || line["CallId"] != "E1" {
				t.Errorf("log line %v, want CallId E1", line)
			}
		})
	}
}

// TestFirstTurnLooksUpName: ${name} comes from the directory on a call's
// first turn, whichever step it names; later turns keep it. The same with
// the lookup made while the session is read.
func TestFirstTurnLooksUpName(t *testing.T) {
	for _, during := range []bool{false, true} {
		t.Run(fmt.Sprint("LookUpDuringRead=", during), func(t *testing.T) {
			testFirstTurnLooksUpName(t, Options{LookUpDuringRead: during})
		})
	}
}

func testFirstTurnLooksUpName(t *testing.T, opts Options) {
	e := newEnv(t, nil, opts)
	tests := []struct {
		name, body, want string
	}{
		{"first turn naming a step", body("N1", "ScenarioCode", "greeting"), "안녕하세요 김민수님"},
		{"first turn naming the flow", body("N2", "ScenarioCode", "SCENARIO01"), "안녕하세요 김민수님"},
		{"first turn naming nothing", body("N3"), "안녕하세요 김민수님"},
		{"first turn of a caller not in the directory", `{"CallId":"N4","ChatBotKey":"bot00001","Customer":"0212345678","Agent":1,"ScenarioCode":"greeting"}`, "안녕하세요 고객님"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, doc, _ := e.post(t, "/SCENARIO01", tt.body)
			if d, _ := doc["Description"].(string); !strings.HasPrefix(d, tt.want) {
				t.Errorf("Description %q, want it to begin %q", d, tt.want)
			}
		})
	}
	// The second turn of N1 asks again and still knows the name.
	_, doc, _ := e.post(t, "/SCENARIO01", body("N1", "ScenarioCode", "greeting", "Answer", ""), "Idempotency-Key", "second")
	if d, _ := doc["Description"].(string); !strings.HasPrefix(d, "안녕하세요 김민수님") {
		t.Errorf("second turn: Description %q", d)
	}
}

// overlap makes a session's read and a name lookup wait for each other:
// the read goes on once the lookup has begun, the lookup answers once the
// read has begun, so a turn gets both only if they are in flight together.
// With calls > 1, the read calls fn that many times, as a transaction that
// retries on contention does.
type overlap struct {
	store.Sessions
	store.Directory
	calls            int
	reading, looking chan struct{}
	read, look       sync.Once
}

func newOverlap(s store.Sessions, d store.Directory, calls int) *overlap {
	return &overlap{Sessions: s, Directory: d, calls: calls, reading: make(chan struct{}), looking: make(chan struct{})}
}

func (o *overlap) Transact(ctx context.Context, callID string, fn func(session.Session, bool) (store.Commit, error)) error {
	o.read.Do(func() { close(o.reading) })
	select {
	case <-o.looking:
	case <-ctx.Done():
		return fmt.Errorf("overlap: no lookup began during the read: %w", ctx.Err())
	}
	for range o.calls - 1 {
		if err := o.Sessions.Transact(ctx, callID, func(cur session.Session, found bool) (store.Commit, error) {
			_, err := fn(cur, found) // a first attempt, lost to contention
			return store.Commit{}, err
		}); err != nil {
			return err
		}
	}
	return o.Sessions.Transact(ctx, callID, fn)
}

func (o *overlap) CustomerName(ctx context.Context, tenantID, phone string) (string, error) {
	o.look.Do(func() { close(o.looking) })
	select {
	case <-o.reading:
		return o.Directory.CustomerName(ctx, tenantID, phone)
	case <-ctx.Done():
		return "", fmt.Errorf("overlap: the session's read never began during the lookup: %w", ctx.Err())
	}
}

// TestNameLookedUpDuringRead: with LookUpDuringRead the caller's name is
// looked up while the session is read, neither before nor after it (on
// Firestore, one round trip fewer on a call's first turn), also when the
// transaction runs its callback twice.
func TestNameLookedUpDuringRead(t *testing.T) {
	for _, calls := range []int{1, 2} {
		t.Run(fmt.Sprint(calls, " attempts"), func(t *testing.T) {
			e := newEnv(t, nil, Options{LookUpDuringRead: true, TurnTimeout: 2 * time.Second})
			o := newOverlap(e.store, e.store, calls)
			e.h.sessions, e.h.directory = o, o
			code, doc, raw := e.post(t, "/SCENARIO01", body("R1", "IsFirstChat", "Y"))
			if d, _ := doc["Description"].(string); code != 200 || !strings.HasPrefix(d, "안녕하세요 김민수님") {
				t.Errorf("HTTP %d %s: want the greeting with the caller's name, looked up during the read", code, raw)
			}
		})
	}
}

// brokenDirectory fails every lookup as an unreachable store does.
type brokenDirectory struct{}

func (brokenDirectory) CustomerName(context.Context, string, string) (string, error) {
	return "", fmt.Errorf("firestore: customer of tenant %q: %w", "nexus", store.ErrUnavailable)
}

// TestDirectoryFailureLogged: the warning goes through the handler's own
// logger, with severity, the turn's trace and span, and the CallId. A retry
// answered from the session needs no name: looked up before the read, its
// failure is logged again; looked up during the read, its outcome is unused
// and not logged.
func TestDirectoryFailureLogged(t *testing.T) {
	for _, tt := range []struct {
		during   bool
		warnings int
	}{{false, 2}, {true, 1}} {
		t.Run(fmt.Sprint("LookUpDuringRead=", tt.during), func(t *testing.T) {
			testDirectoryFailureLogged(t, Options{LookUpDuringRead: tt.during}, tt.warnings)
		})
	}
}

func testDirectoryFailureLogged(t *testing.T, opts Options, wantWarnings int) {
	e := newEnv(t, nil, opts)
	e.h.directory = brokenDirectory{}
	for i := range 2 { // the turn, then the gateway's retry of it
		r := httptest.NewRequest(http.MethodPost, "/SCENARIO01", strings.NewReader(body("D1", "IsFirstChat", "Y")))
		r.Header.Set("Authorization", "Bearer "+token)
		r.Header.Set("X-Cloud-Trace-Context", "105445aa7843bc8bf206b12000100000/74;o=1")
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, r)
		if !strings.Contains(w.Body.String(), "안녕하세요 고객님") {
			t.Errorf("answer %d: %s, want the tenant's default name", i+1, w.Body)
		}
	}
	warnings := 0
	for _, l := range e.logs.Lines(t) {
		if l["message"] == "customer directory lookup failed; using the tenant's default name" {
			warnings++
		}
	}
	if warnings != wantWarnings {
		t.Errorf("%d directory warnings for a turn and its retry, want %d:\n%s", warnings, wantWarnings, e.logs.String())
	}
	line := e.logs.Find(t, "customer directory lookup failed; using the tenant's default name")
	want := map[string]any{"severity": "WARNING", "CallId": "D1", "tenant": "nexus",
		logging.TraceKey: "projects/proj/traces/105445aa7843bc8bf206b12000100000", logging.SpanKey: "000000000000004a"}
	if line == nil {
		t.Fatalf("no warning in the handler's log:\n%s", e.logs.String())
	}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("log %s = %v, want %v", k, line[k], v)
		}
	}
	if !strings.Contains(fmt.Sprint(line["error"]), "store unavailable") {
		t.Errorf("log error %v", line["error"])
	}
}

// slowBody fails its read as a client too slow for the server's deadline.
type slowBody struct{}

func (slowBody) Read([]byte) (int, error) {
	return 0, errors.New("read tcp 127.0.0.1:18504->127.0.0.1:51014: i/o timeout")
}

// TestRefusalsTellCallersLittle: the caller gets the code and a short
// generic reason; the detail is logged.
func TestRefusalsTellCallersLittle(t *testing.T) {
	e := newEnv(t, nil, Options{})
	withJWTKey := auth.NewVerifier(auth.StaticKeys(auth.Keys{JWTKeys: [][]byte{[]byte("the-jwt-key-of-routebot-0123456")}}))
	const jwtShaped = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJndyJ9.c2lnbmF0dXJl"
	tests := []struct {
		name       string
		verifier   Verifier
		auth       string
		body       io.Reader
		wantCode   string
		wantLogged string
	}{
		{"JWT but no JWT key", e.h.auth, "Bearer " + jwtShaped, strings.NewReader(body("T1")), "401", "no JWT key is configured"},
		{"JWT signed by another key", withJWTKey, "Bearer " + jwtShaped, strings.NewReader(body("T1")), "401", "signature matches no configured key"},
		{"slow body", e.h.auth, "Bearer " + token, slowBody{}, "412", "127.0.0.1:18504->127.0.0.1:51014: i/o timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := *e.h
			h.auth = tt.verifier
			r := httptest.NewRequest(http.MethodPost, "/SCENARIO01", tt.body)
			r.Header.Set("Authorization", tt.auth)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if !strings.Contains(w.Body.String(), `"TransCode":"`+tt.wantCode+`"`) {
				t.Fatalf("answer %s, want TransCode %s", w.Body, tt.wantCode)
			}
			for _, detail := range []string{tt.wantLogged, "JWT", "127.0.0.1", "configured"} {
				if strings.Contains(w.Body.String(), detail) {
					t.Errorf("the answer tells the caller %q: %s", detail, w.Body)
				}
			}
			line := e.logs.Find(t, "turn refused")
			if line == nil || !strings.Contains(fmt.Sprint(line["error"]), tt.wantLogged) {
				t.Errorf("log line %v, want error containing %q", line, tt.wantLogged)
			}
		})
	}
}

// failing is a store whose sessions are down.
type failing struct{ *memstore.Store }

func (failing) Transact(context.Context, string, func(session.Session, bool) (store.Commit, error)) error {
	return fmt.Errorf("firestore: transact: %w", store.ErrUnavailable)
}

func TestStoreOutageIs501(t *testing.T) {
	e := newEnv(t, nil, Options{})
	e.h.sessions = failing{e.store}
	code, doc, _ := e.post(t, "/SCENARIO01", body("F1", "IsFirstChat", "Y"))
	if code != 500 || doc["TransCode"] != "501" {
		t.Fatalf("got %d %v, want HTTP 500 TransCode 501", code, doc)
	}
	if !strings.Contains(e.logs.String(), `"severity":"ERROR"`) {
		t.Errorf("the outage is not logged as an error")
	}
}

func TestBrokenTenantIs413(t *testing.T) {
	e := newEnv(t, nil, Options{})
	tf, err := e.store.Files(context.Background(), "hanbit")
	if err != nil {
		t.Fatal(err)
	}
	// A fresh store whose only version of hanbit is broken.
	ms := memstore.New(nil)
	broken := store.TenantFiles{ID: "hanbit", Version: 1, Files: map[string][]byte{}}
	for k, v := range tf.Files {
		broken.Files[k] = v
	}
	broken.Files["flows/HANBIT01.yaml"] = []byte("code: HANBIT01\nstart: nowhere\nsteps:\n  closed:\n    service: S0001\n    prompt: x\n")
	if _, _, err := ms.PutTenant(context.Background(), broken, []string{"HANBIT01"}, nil); err != nil {
		t.Fatal(err)
	}
	e.h.flows = tenant.NewRegistry(ms, nil, nil)
	r := httptest.NewRequest(http.MethodPost, "/HANBIT01", strings.NewReader(`{"CallId":"X","ChatBotKey":"bot00002","Customer":"1","Agent":1}`))
	r.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	if w.Code != 400 || !strings.Contains(w.Body.String(), `"TransCode":"413"`) {
		t.Fatalf("got %d %s, want TransCode 413", w.Code, w.Body.String())
	}
}

// The seed sample: classified and transferred, a new call each time.
var sample = []byte(`{"CallId":"DS0000000001","ChatBotKey":"bot00001","Customer":"01012345678", "Agent":1000,"IsFirstChat":"Y","ChatMsg":"담당자확인전달요청",}`)

// benchEnv keeps the store's size steady, as the local run's sweeper does:
// every call's session expires after a simulated hour, and expired ones are
// swept, so the benchmark does not measure an ever-growing heap.
func benchEnv(b *testing.B) (*env, func()) {
	var clock atomic.Int64
	e := newEnv(b, nil, Options{})
	e.store = memstore.New(func() time.Time { return time.Unix(clock.Load(), 0) })
	tfs, _ := tenant.ReadFS(examples.Tenants, "tenants")
	ts, _ := tenant.ParseAll(tfs)
	for i, tn := range ts {
		if _, _, err := e.store.PutTenant(context.Background(), tfs[i], tn.ScenarioCodes(), tn.Customers); err != nil {
			b.Fatal(err)
		}
	}
	e.h.sessions, e.h.directory = e.store, e.store
	e.h.flows = tenant.NewRegistry(e.store, func(tn *tenant.Tenant) (err error) {
		tn.Classifier, err = embedded.New(tn.Taxonomy)
		return err
	}, nil)
	e.h.opts.Now = func() time.Time { return time.Unix(clock.Load(), 0) }
	e.h.logger = logging.New(io.Discard, slog.LevelInfo) // one JSON line a turn, as in production
	var turns atomic.Int64
	tick := func() {
		if n := turns.Add(1); n%100 == 0 {
			clock.Add(1) // 100 turns a simulated second
			if n%50000 == 0 {
				e.store.Sweep()
			}
		}
	}
	return e, tick
}

func benchRequest(callID int) *http.Request {
	body := bytes.Replace(sample, []byte("DS0000000001"), fmt.Appendf(nil, "DS%010d", callID), 1)
	r := httptest.NewRequest(http.MethodPost, "/SCENARIO01", bytes.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}

// BenchmarkTurn is one full turn through the handler: decode, authenticate,
// classify with the embedded classifier, transact, encode, log.
func BenchmarkTurn(b *testing.B) {
	e, tick := benchEnv(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		tick()
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, benchRequest(i))
		if w.Code != 200 {
			b.Fatal(w.Body.String())
		}
	}
}

// BenchmarkTurnRequest is BenchmarkTurn's own work per turn (a request and a
// recorder), to subtract from its figures: what is left is the handler's.
func BenchmarkTurnRequest(b *testing.B) {
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		w := httptest.NewRecorder()
		r := benchRequest(i)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(200)
		_, _ = io.Copy(w, r.Body)
	}
}

// BenchmarkTurnParallel runs turns on every core and reports the latency
// percentiles of the handler.
func BenchmarkTurnParallel(b *testing.B) {
	e, tick := benchEnv(b)
	var id atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	b.ReportAllocs()
	b.SetParallelism(16) // 32 goroutines on 2 cores, like 32 connections
	b.RunParallel(func(pb *testing.PB) {
		local := make([]time.Duration, 0, 1024)
		for pb.Next() {
			tick()
			r := benchRequest(int(id.Add(1)))
			w := httptest.NewRecorder()
			start := time.Now()
			e.h.ServeHTTP(w, r)
			local = append(local, time.Since(start))
			if w.Code != 200 {
				b.Error(w.Body.String())
				return
			}
		}
		mu.Lock()
		lat = append(lat, local...)
		mu.Unlock()
	})
	slices.Sort(lat)
	if n := len(lat); n > 0 {
		b.ReportMetric(float64(lat[n*50/100].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[n*99/100].Microseconds()), "p99-µs")
	}
}

// TestHangUpIsNotAnError: a turn whose gateway has gone is a warning naming
// the call, not an error that pages an operator. (On the Firestore emulator,
// mid-transaction: internal/e2e's TestFirestoreEndToEnd.)
func TestHangUpIsNotAnError(t *testing.T) {
	e := newEnv(t, nil, Options{})
	ctx, hangUp := context.WithCancel(context.Background())
	hangUp()
	r := httptest.NewRequestWithContext(ctx, http.MethodPost, "/SCENARIO01", strings.NewReader(body("H1", "IsFirstChat", "Y")))
	r.Header.Set("Authorization", "Bearer "+token)
	e.h.ServeHTTP(httptest.NewRecorder(), r)
	line := e.logs.Find(t, "turn abandoned: the gateway hung up before the answer")
	if line == nil || line["severity"] != "WARNING" || line["CallId"] != "H1" {
		t.Fatalf("logged %s, want the abandoned turn at WARNING with its CallId", e.logs.String())
	}
	if log, _ := e.store.Log(context.Background(), "H1"); len(log) != 0 {
		t.Errorf("the abandoned turn was logged as played: %v", log)
	}
}

// TestRequestKeys: a retry (the same request) has the same key, any field
// that differs gives another, an Idempotency-Key alone decides when sent, and
// silences have none (two real silences look alike). The digest itself is
// pinned in common/session.
func TestRequestKeys(t *testing.T) {
	k := session.RandomRequestKeys()
	req := wire.Request{CallID: "K1", ChatBotKey: "bot00001", Customer: "01012345678", Agent: "1000",
		ScenarioCode: "ask_birthdate", DTMF: "900101"}
	other := req
	other.DTMF = "900102"
	key := func(r wire.Request, idem string) string {
		keys := requestKeys(nil, k, "SCENARIO01", r, idem)
		if len(keys) == 0 {
			return ""
		}
		return keys[0]
	}
	tests := []struct {
		name     string
		a, b     string
		wantSame bool
	}{
		{"a retry", key(req, ""), key(req, ""), true},
		{"other digits", key(req, ""), key(other, ""), false},
		{"other scenario", key(req, ""), requestKeys(nil, k, "HANBIT01", req, "")[0], false},
		{"Idempotency-Key decides", key(req, "retry-7"), key(other, "retry-7"), true},
		{"Idempotency-Key is not the fields", key(req, "retry-7"), key(req, ""), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.a == "" || tt.b == "" {
				t.Fatalf("no key: %q, %q", tt.a, tt.b)
			}
			if (tt.a == tt.b) != tt.wantSame {
				t.Errorf("keys %q and %q: same = %v, want %v", tt.a, tt.b, tt.a == tt.b, tt.wantSame)
			}
		})
	}
	if got := requestKeys(nil, k, "SCENARIO01", wire.Request{ScenarioCode: wire.Silence}, ""); got != nil {
		t.Errorf("a silence has keys %q, want none", got)
	}
}
