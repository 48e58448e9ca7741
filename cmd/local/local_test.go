package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/routebot/routebot/common/app"
	"github.com/routebot/routebot/common/config"
	"github.com/routebot/routebot/common/logging"
	"github.com/routebot/routebot/functions/gateway"
	"github.com/routebot/routebot/internal/apptest"
	"github.com/routebot/routebot/internal/callscript"
	"github.com/routebot/routebot/internal/logtest"
)

const testToken = "local-test-token"

func newServer(t *testing.T, env map[string]string) *httptest.Server {
	t.Helper()
	a := apptest.Build(t, env, true, nil)
	srv := httptest.NewServer(gateway.New(a))
	t.Cleanup(srv.Close)
	return srv
}

// TestCallScripts plays every call script of shared/data/callscripts against
// the local run's handlers, as the gateway would.
func TestCallScripts(t *testing.T) {
	srv := newServer(t, map[string]string{"ROUTEBOT_API_TOKEN": testToken})
	scripts, turns := callscript.PlayShared(t, srv.URL, testToken)
	t.Logf("%d scripts, %d turns", scripts, turns)
}

// TestCallScriptHarnessCanFail guards the harness itself: a wrong
// expectation must be reported.
func TestCallScriptHarnessCanFail(t *testing.T) {
	srv := newServer(t, map[string]string{"ROUTEBOT_API_TOKEN": testToken})
	p := &callscript.Player{Base: srv.URL, Token: testToken}
	tests := []struct {
		name   string
		expect string
	}{
		{"wrong service code", `{"ServiceCode":"S0001"}`},
		{"wrong http", `{"http":500}`},
		{"absent that is present", `{"Description":{"absent":true}}`},
		{"regex that does not match", `{"ScenarioCode":{"regex":"^zzz$"}}`},
		{"substring missing", `{"Description~":"없는 말"}`},
		{"none of any", `{"ServiceCode":{"any":["S1000","S2000"]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := callscript.Script{Name: tt.name, Scenario: "SCENARIO01",
				Defaults: map[string]any{"ChatBotKey": "bot00001", "Customer": "01012345678", "Agent": 1000},
				Turns:    []callscript.Turn{{Request: map[string]any{"IsFirstChat": "Y"}, Expect: []byte(tt.expect)}}}
			if problems, _ := p.Play(s); len(problems) == 0 {
				t.Errorf("expectation %s passed against the greeting", tt.expect)
			}
		})
	}
}

// TestLocalBinaryFirstTurn builds cmd/local, starts it, and checks that its
// first turn is answered. How fast is BenchmarkLocalBinaryFirstTurn's
// business: this test shares the machine with every other package's.
func TestLocalBinaryFirstTurn(t *testing.T) {
	bin := buildLocal(t)
	if _, err := startAndAnswer(bin); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkLocalBinaryFirstTurn measures the time from starting the process
// to its first answered turn on the embedded store (ms-to-first-turn; ns/op
// also counts stopping the process).
func BenchmarkLocalBinaryFirstTurn(b *testing.B) {
	benchFirstTurn(b, buildLocal(b))
}

// benchFirstTurn starts bin with env once per iteration and reports, on
// average, when it accepted a connection (ms-to-listen) and when it answered
// its first greeting (ms-to-first-turn), from the process's start; and the
// median of the latter (p50-ms-to-first-turn), which a neighbour's burst on
// a shared machine moves less.
func benchFirstTurn(b *testing.B, bin string, env ...string) {
	var listening, answered time.Duration
	var each []time.Duration
	for b.Loop() {
		ft, err := startAndAnswer(bin, env...)
		if err != nil {
			b.Fatal(err)
		}
		listening += ft.listening
		answered += ft.answered
		each = append(each, ft.answered)
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	n := time.Duration(b.N)
	b.ReportMetric(ms(listening/n), "ms-to-listen")
	b.ReportMetric(ms(answered/n), "ms-to-first-turn")
	slices.Sort(each)
	b.ReportMetric(ms(each[len(each)/2]), "p50-ms-to-first-turn")
}

// firstTurn is when, after its start, a process first accepted a connection
// and when it answered the greeting (of call callID) sent on that connection.
type firstTurn struct {
	callID              string
	listening, answered time.Duration
}

// callIDs numbers the greetings: each is a new call, also on a store that
// outlives the process (Firestore).
var callIDs atomic.Int64

// startAndAnswer starts bin (with env added to the test's environment) on a
// free port and times its first greeting, a new call each time.
func startAndAnswer(bin string, env ...string) (firstTurn, error) {
	callID := fmt.Sprintf("FIRST-%x-%d", time.Now().UnixNano(), callIDs.Add(1))
	body := `{"CallId":"` + callID + `","ChatBotKey":"bot00001","Customer":"01012345678","Agent":1000,"IsFirstChat":"Y"}`
	port, err := freePort()
	if err != nil {
		return firstTurn{}, err
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "PORT="+port, "ROUTEBOT_API_TOKEN="+testToken, "ROUTEBOT_LOG_LEVEL=ERROR")
	cmd.Env = append(cmd.Env, env...)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return firstTurn{}, err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	ft, err := firstAnswer("127.0.0.1:"+port, "/SCENARIO01", body, start)
	ft.callID = callID
	return ft, err
}

// TestStartupFailuresReachStderr runs the real binary with each start-up
// mistake a newcomer makes: it must exit non-zero with the problem on
// stderr, not silently (a buffered log writer once swallowed it).
func TestStartupFailuresReachStderr(t *testing.T) {
	bin := buildLocal(t)
	broken := t.TempDir()
	if err := os.MkdirAll(filepath.Join(broken, "acme"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(broken, "acme", "tenant.yaml"), []byte("id: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	_, takenPort, _ := net.SplitHostPort(taken.Addr().String())
	missing := filepath.Join(t.TempDir(), "no-such-folder")
	tests := []struct {
		name string
		env  []string
		want []string // each must appear on stderr
	}{
		{"missing tenants folder", []string{"ROUTEBOT_TENANTS=" + missing}, []string{"ROUTEBOT_TENANTS", "no-such-folder"}},
		{"broken tenant", []string{"ROUTEBOT_TENANTS=" + broken}, []string{"ROUTEBOT_TENANTS", "acme/tenant.yaml:1"}},
		{"port taken", []string{"PORT=" + takenPort}, []string{"127.0.0.1:" + takenPort, "address already in use"}},
		{"bad configuration", []string{"ROUTEBOT_STORE=paper"}, []string{"ROUTEBOT_STORE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(bin)
			cmd.Env = append(withoutAuth(os.Environ()), append([]string{"PORT=0"}, tt.env...)...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			done := make(chan error, 1)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			go func() { done <- cmd.Wait() }()
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatalf("still running after 30s; stderr:\n%s", stderr.String())
			}
			if err == nil {
				t.Fatalf("exited 0; stderr:\n%s", stderr.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr does not name %q:\n%s", w, stderr.String())
				}
			}
		})
	}
}

// firstAnswer dials addr until it accepts (the process is listening), then
// sends the greeting on that connection and reads the answer.
func firstAnswer(addr, path, body string, start time.Time) (firstTurn, error) {
	var ft firstTurn
	var conn net.Conn
	for {
		var err error
		if conn, err = net.DialTimeout("tcp", addr, time.Second); err == nil {
			ft.listening = time.Since(start)
			break
		}
		if time.Since(start) > 10*time.Second {
			return ft, fmt.Errorf("not listening on %s within 10s: %w", addr, err)
		}
		time.Sleep(time.Millisecond)
	}
	used := false
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(context.Context, string, string) (net.Conn, error) {
			if used {
				return nil, errors.New("the greeting needed a second connection")
			}
			used = true
			return conn, nil
		},
	}}
	defer client.CloseIdleConnections()
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := client.Do(req)
	if err != nil {
		conn.Close()
		return ft, fmt.Errorf("first turn: %w", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	ft.answered = time.Since(start)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"ServiceCode":"S0000"`) {
		return ft, fmt.Errorf("first turn: HTTP %d %s", resp.StatusCode, b)
	}
	return ft, nil
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port, nil
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	firestoreEmulator.stop()
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// buildLocal builds this command once per test binary.
func buildLocal(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "routebot-local-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "local")
		if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// TestListenAddress starts the local run and reads where it listens: with
// the public development token, on loopback only, so no other machine can
// reach it (the kernel refuses connections to the machine's other
// addresses); on every interface once a real token or JWT key is
// configured, or when ROUTEBOT_LISTEN_HOST asks for it. Only loopback is
// ever dialled.
func TestListenAddress(t *testing.T) {
	bin := buildLocal(t)
	tests := []struct {
		name         string
		env          []string
		token        string
		wantLoopback bool // else every interface (the unspecified address)
	}{
		{"development token", nil, config.DevToken, true},
		{"development token, every interface asked for", []string{"ROUTEBOT_LISTEN_HOST=*"}, config.DevToken, false},
		{"real token", []string{"ROUTEBOT_API_TOKEN=" + testToken}, testToken, false},
		{"real token, loopback asked for", []string{"ROUTEBOT_API_TOKEN=" + testToken, "ROUTEBOT_LISTEN_HOST=127.0.0.1"}, testToken, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(bin)
			cmd.Env = append(withoutAuth(os.Environ()), append(tt.env, "PORT=0", "ROUTEBOT_LOG_LEVEL=INFO")...)
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
			addr := servingAddr(t, stderr)
			ap, err := netip.ParseAddrPort(addr)
			if err != nil {
				t.Fatalf("serving on %q: %v", addr, err)
			}
			if got := ap.Addr().IsLoopback(); got != tt.wantLoopback || (!got && !ap.Addr().IsUnspecified()) {
				t.Fatalf("listening on %s, want loopback %v", addr, tt.wantLoopback)
			}
			url := fmt.Sprintf("http://127.0.0.1:%d/SCENARIO01", ap.Port())
			body := `{"CallId":"LISTEN-1","ChatBotKey":"bot00001","Customer":"01012345678","Agent":1000,"IsFirstChat":"Y"}`
			req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tt.token)
			resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("a turn on loopback: HTTP %d", resp.StatusCode)
			}
		})
	}
}

// TestEmulatorRun is the documented command for a local run on Firestore,
// ROUTEBOT_STORE=emulator with no other variable: it starts the emulator,
// pushes the demo tenants, accepts the development token on loopback and
// answers a call; SIGTERM stops it (and its emulator) with status 0.
func TestEmulatorRun(t *testing.T) {
	bin := buildLocal(t)
	var env []string
	for _, kv := range withoutAuth(os.Environ()) {
		if !strings.HasPrefix(kv, "FIRESTORE_EMULATOR_HOST=") && !strings.HasPrefix(kv, "GOOGLE_CLOUD_PROJECT=") {
			env = append(env, kv)
		}
	}
	cmd := exec.Command(bin)
	cmd.Env = append(env, "ROUTEBOT_STORE=emulator", "PORT=0", "ROUTEBOT_LOG_LEVEL=INFO")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	line := servingLine(t, stderr)
	addr, _ := line["addr"].(string)
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !ap.Addr().IsLoopback() {
		t.Fatalf("serving on %q (%v), want loopback with the development token", addr, err)
	}
	if _, ok := line["scenarios"]; ok || line["store"] != "firestore" {
		t.Errorf("start-up line %v: want store firestore and no scenarios (resolved per call)", line)
	}
	for _, tt := range []struct{ path, body, want string }{
		{"/SCENARIO01", `{"CallId":"EMU-1","ChatBotKey":"bot00001","Customer":"01012345678","Agent":1000,"IsFirstChat":"Y"}`, `"ServiceCode":"S0000"`},
		{"/HANBIT01", `{"CallId":"EMU-2","ChatBotKey":"bot00002","Customer":"01012345678","Agent":1000,"IsFirstChat":"Y"}`, `"TransCode":"200"`},
	} {
		req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("http://127.0.0.1:%d%s", ap.Port(), tt.path), strings.NewReader(tt.body))
		req.Header.Set("Authorization", "Bearer "+config.DevToken)
		resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), tt.want) {
			t.Errorf("%s on the emulator: HTTP %d %s, want %s (the pushed demo tenant)", tt.path, resp.StatusCode, b, tt.want)
		}
	}
	go func() { exited <- cmd.Wait() }()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("after SIGTERM: %v, want status 0", err)
		}
	case <-time.After(time.Minute):
		t.Error("still running a minute after SIGTERM")
	}
}

// withoutAuth drops the tokens the test's own environment may hold.
func withoutAuth(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "ROUTEBOT_") && !strings.HasPrefix(kv, "PORT=") {
			out = append(out, kv)
		}
	}
	return out
}

// servingAddr reads the start-up line's addr from the run's log.
func servingAddr(t *testing.T, r io.Reader) string {
	t.Helper()
	addr, _ := servingLine(t, r)["addr"].(string)
	return addr
}

// servingLine reads the start-up line from the run's log.
func servingLine(t *testing.T, r io.Reader) map[string]any {
	t.Helper()
	found := make(chan map[string]any, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			var line map[string]any
			if json.Unmarshal(sc.Bytes(), &line) == nil && line["message"] == "routebot local run is serving" {
				found <- line
				break
			}
		}
		_, _ = io.Copy(io.Discard, r)
	}()
	select {
	case line := <-found:
		return line
	case <-time.After(2 * time.Minute): // a generous guard: the emulator's Java start-up shares the machine
		t.Fatal("no start-up line within 2 minutes")
		return nil
	}
}

// startupLine is the local run's start-up log line for a.
func startupLine(t *testing.T, a *app.App) map[string]any {
	t.Helper()
	logs := &logtest.Buffer{}
	logging.New(logs, slog.LevelInfo).Info("routebot local run is serving",
		servingAttrs(a, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, time.Now())...)
	return logs.Find(t, "routebot local run is serving")
}

func TestStartupLineListsEmbeddedScenarios(t *testing.T) {
	a := apptest.Build(t, map[string]string{"ROUTEBOT_API_TOKEN": testToken}, true, nil)
	line := startupLine(t, a)
	codes, _ := line["scenarios"].([]any)
	if len(codes) == 0 || line["store"] != "memory" || line["addr"] != "127.0.0.1:8080" {
		t.Errorf("start-up line %v, want the embedded tenants' scenario codes", line)
	}
}
