package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routebot/routebot/internal/fsstoretest"
	"github.com/routebot/routebot/internal/tenanttest"

	"github.com/routebot/routebot/common/app"
	"github.com/routebot/routebot/common/logging"
	"github.com/routebot/routebot/common/session"
	"github.com/routebot/routebot/common/store"
	"github.com/routebot/routebot/common/store/fsstore"
	"github.com/routebot/routebot/functions/gateway"
	"github.com/routebot/routebot/functions/scenario"
	"github.com/routebot/routebot/internal/apptest"
	"github.com/routebot/routebot/internal/callscript"
	"github.com/routebot/routebot/internal/emulator"
	"github.com/routebot/routebot/internal/logtest"
)

// testToken is the bearer token the app is configured with.
const testToken = "e2e-test-token"

// TestFirestoreEndToEnd: the demo tenants are
// pushed with the routebotctl binary exactly as a user would, then the app
// is built on the Firestore store of the same project and every call script
// is played against it. It fails, never skips, without the emulator.
func TestFirestoreEndToEnd(t *testing.T) {
	began := time.Now()
	host, stop, err := emulator.StartFirestore()
	if err != nil {
		t.Fatalf("the end-to-end test needs the Firestore emulator: %v", err)
	}
	t.Cleanup(stop)
	t.Logf("emulator on %s ready after %v", host, time.Since(began).Round(time.Millisecond))

	b := make([]byte, 6)
	_, _ = rand.Read(b)
	project := "routebot-e2e-" + hex.EncodeToString(b) // packages sharing one emulator do not collide

	began = time.Now()
	bin := filepath.Join(t.TempDir(), "routebotctl")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/routebotctl").CombinedOutput(); err != nil {
		t.Fatalf("go build routebotctl: %v\n%s", err, out)
	}
	t.Logf("go build routebotctl took %v", time.Since(began).Round(time.Millisecond))

	began = time.Now()
	push := exec.Command(bin, "push", "examples/tenants")
	push.Dir = "../.." // the repository root, where a user runs it
	push.Env = append(os.Environ(), "FIRESTORE_EMULATOR_HOST="+host, "GOOGLE_CLOUD_PROJECT="+project)
	out, err := push.CombinedOutput()
	if err != nil {
		t.Fatalf("routebotctl push examples/tenants: %v\n%s", err, out)
	}
	t.Logf("routebotctl push took %v:\n%s", time.Since(began).Round(time.Millisecond), out)
	for _, want := range []string{"hanbit: pushed, version 1\n", "nexus: pushed, version 1\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("push output lacks %q", want)
		}
	}

	began = time.Now()
	env := map[string]string{"ROUTEBOT_STORE": "firestore", "GOOGLE_CLOUD_PROJECT": project,
		"FIRESTORE_EMULATOR_HOST": host, "ROUTEBOT_API_TOKEN": testToken}
	a := apptest.Build(t, env, true, nil)
	if _, ok := a.Tenants.(*fsstore.Store); !ok {
		t.Fatalf("the app serves tenants from %T, not from Firestore", a.Tenants)
	}
	srv := httptest.NewServer(gateway.New(a))
	t.Cleanup(srv.Close)
	t.Logf("app on Firestore built in %v", time.Since(began).Round(time.Millisecond))

	began = time.Now()
	scripts, turns := callscript.PlayShared(t, srv.URL, testToken)
	elapsed := time.Since(began)
	t.Logf("%d call scripts, %d turns on Firestore in %v (%v per turn)", scripts, turns,
		elapsed.Round(time.Millisecond), (elapsed / time.Duration(max(turns, 1))).Round(time.Microsecond))

	t.Run("racing retries count once", func(t *testing.T) { racingRetries(t, srv.URL, a) })
	t.Run("gateway hangs up mid-turn", func(t *testing.T) { hangUpMidTurn(t, srv.URL, a) })
}

// hangingUp is the call sessions of a gateway that hangs up while its turn's
// transaction is open: inside the transaction, after the session's read, the
// client's request is cancelled, and fn goes on once the server has seen the
// connection close, so the commit meets a cancelled request.
type hangingUp struct {
	store.Sessions
	hangUp func()
}

func (h hangingUp) Transact(ctx context.Context, callID string, fn func(session.Session, bool) (store.Commit, error)) error {
	return h.Sessions.Transact(ctx, callID, func(cur session.Session, found bool) (store.Commit, error) {
		h.hangUp()
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Second):
			return store.Commit{}, errors.New("the server never noticed the hang-up")
		}
		return fn(cur, found)
	})
}

// hangUpMidTurn: a turn whose gateway hangs up mid-transaction is logged at
// WARNING with its CallId, is not committed, and its retry is played as the
// turn it is, once.
func hangUpMidTurn(t *testing.T, base string, a *app.App) {
	const call = `"CallId":"HANG-1","ChatBotKey":"bot00001","Customer":"01012345678","Agent":1000`
	post := func(url, body string, ctx context.Context) (string, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/SCENARIO01", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b), nil
	}
	if got, err := post(base, `{`+call+`,"ChatMsg":"택배 배송 조회 좀 해주세요"}`, context.Background()); err != nil || !strings.Contains(got, `"ScenarioCode":"ask_birthdate"`) {
		t.Fatalf("delivery question answered %s %v", got, err)
	}

	logs := &logtest.Buffer{}
	ctx, hangUp := context.WithCancel(context.Background())
	defer hangUp()
	h := scenario.New(a.Flows, hangingUp{Sessions: a.Sessions, hangUp: hangUp}, a.Directory, a.Auth,
		logging.New(logs, slog.LevelDebug), scenario.Options{TurnTimeout: 30 * time.Second, SessionTTL: time.Hour})
	hanging := httptest.NewServer(h)
	defer hanging.Close()
	birthdate := `{` + call + `,"ScenarioCode":"ask_birthdate","DTMF":"900101#"}`
	if got, err := post(hanging.URL, birthdate, ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("the hung-up request got %q %v, want it cancelled", got, err)
	}
	var line map[string]any
	for deadline := time.Now().Add(10 * time.Second); line == nil && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		line = logs.Find(t, "turn abandoned: the gateway hung up before the answer")
	}
	if line == nil || line["severity"] != "WARNING" || line["CallId"] != "HANG-1" {
		t.Fatalf("the hang-up logged %v, want a WARNING naming CallId HANG-1:\n%s", line, logs.String())
	}
	if strings.Contains(logs.String(), `"severity":"ERROR"`) {
		t.Errorf("the hang-up is logged as an error:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "900101") {
		t.Errorf("sensitive DTMF in the logs")
	}

	// Not committed: the call is still on ask_birthdate, and the gateway's
	// retry is that turn, played once, then replayed.
	fs := a.Sessions.(*fsstore.Store)
	if log, err := fs.Log(context.Background(), "HANG-1"); err != nil || len(log) != 1 {
		t.Fatalf("turn log after the hang-up: %v %v, want the first turn alone", log, err)
	}
	first, err := post(base, birthdate, context.Background())
	if err != nil || !strings.Contains(first, `"ScenarioCode":"delivery_status"`) {
		t.Fatalf("the retry answered %s %v, want the birth date accepted", first, err)
	}
	if again, err := post(base, birthdate, context.Background()); err != nil || again != first {
		t.Fatalf("a second retry answered %s %v, want the same answer %s", again, err, first)
	}
	log, err := fs.Log(context.Background(), "HANG-1")
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	for i, r := range log {
		if r.Turn != i+1 {
			t.Errorf("turn log entry %d is turn %d", i, r.Turn)
		}
		steps = append(steps, r.To)
	}
	if want := "ask_birthdate delivery_status"; strings.Join(steps, " ") != want {
		t.Errorf("turn log %v, want %s", steps, want)
	}
}

// racingRetries sends the gateway's retries of one turn all at once, 8 at a
// time on one CallId, as they race the original: a wrong DTMF entry, then a
// silence (with its Idempotency-Key). Each must be counted once, and every
// copy must get the same answer. The emulator serialises contending
// transactions slowly, so the test is bounded by time, not a tight deadline.
func racingRetries(t *testing.T, base string, a *app.App) {
	const copies = 8
	post := func(body string, headers ...string) string {
		req, _ := http.NewRequest(http.MethodPost, base+"/SCENARIO01", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testToken)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
		if err != nil {
			t.Error(err)
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	race := func(body string, headers ...string) []string {
		answers := make([]string, copies)
		var wg sync.WaitGroup
		for i := range answers {
			wg.Add(1)
			go func() { defer wg.Done(); answers[i] = post(body, headers...) }()
		}
		wg.Wait()
		for _, got := range answers[1:] {
			if got != answers[0] {
				t.Fatalf("racing copies answered differently:\n%s\n%s", got, answers[0])
			}
		}
		return answers
	}
	const call = `"CallId":"RACE-1","ChatBotKey":"bot00001","Customer":"01012345678","Agent":1000`
	began := time.Now()
	if got := post(`{` + call + `,"ChatMsg":"택배 배송 조회 좀 해주세요"}`); !strings.Contains(got, `"ScenarioCode":"ask_birthdate"`) {
		t.Fatalf("delivery question answered %s", got)
	}
	wrong := race(`{` + call + `,"ScenarioCode":"ask_birthdate","DTMF":"12"}`)
	if !strings.Contains(wrong[0], `"ScenarioCode":"birthdate_retry"`) {
		t.Fatalf("a wrong entry answered %s, want the retry prompt (counted once)", wrong[0])
	}
	silence := race(`{`+call+`,"ScenarioCode":"무응답"}`, "Idempotency-Key", "race-silence-1")
	if !strings.Contains(silence[0], `"ScenarioCode":"silence_reprompt"`) {
		t.Fatalf("a silence answered %s, want the first reprompt (counted once)", silence[0])
	}
	log, err := a.Sessions.(*fsstore.Store).Log(context.Background(), "RACE-1")
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, r := range log {
		steps = append(steps, r.To)
	}
	if want := "ask_birthdate birthdate_retry silence_reprompt"; strings.Join(steps, " ") != want {
		t.Fatalf("turn log %v, want %s: a racing copy advanced the call", steps, want)
	}
	if log[1].DTMF != "**" {
		t.Errorf("turn log keeps DTMF %q, want it masked", log[1].DTMF)
	}
	t.Logf("%d racing copies of two turns settled in %v", copies, time.Since(began).Round(time.Millisecond))
}

// BenchmarkTurnFirestore is one scenario turn (the seed's sample: classified
// and transferred, a new call each time) through the handler on the Firestore
// emulator: the session transaction is the cost.
func BenchmarkTurnFirestore(b *testing.B) {
	h := gateway.New(demoOnEmulator(b))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		body := fmt.Sprintf(`{"CallId":"FB-%d","ChatBotKey":"bot00001","Customer":"01012345678","Agent":1000,"ChatMsg":"상담원 연결해 주세요"}`, i)
		r := httptest.NewRequest("POST", "/SCENARIO01", strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+testToken)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatal(w.Body.String())
		}
	}
}

// demoOnEmulator starts a Firestore emulator for tb, pushes the demo
// tenants into a project of their own and builds the app on it
// (ROUTEBOT_STORE=firestore).
func demoOnEmulator(tb testing.TB) *app.App {
	tb.Helper()
	host, stop, err := emulator.StartFirestore()
	if err != nil {
		tb.Fatalf("the Firestore emulator: %v", err)
	}
	tb.Cleanup(stop)
	id := make([]byte, 6)
	_, _ = rand.Read(id)
	project := "routebot-bench-" + hex.EncodeToString(id)
	st := fsstoretest.Open(tb, host, project, "")
	tenanttest.PutDemo(context.Background(), tb, st)
	st.Close() // its tenant listener would share the emulator with what is measured
	env := map[string]string{"ROUTEBOT_STORE": "firestore", "GOOGLE_CLOUD_PROJECT": project,
		emulator.HostEnv: host, "ROUTEBOT_API_TOKEN": testToken}
	return apptest.Build(tb, env, true, nil)
}
