package deploytest

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/routebot/routebot/internal/dialogflowfake"
	"github.com/routebot/routebot/internal/logtest"
	"github.com/routebot/routebot/internal/repodir"
)

const (
	jsonType = "application/json"
	formType = "application/x-www-form-urlencoded"
)

type call struct {
	function, name, method, path, body, ctype, want string
}

// calls are requests as the gateway sends them, path below its base URL,
// each with the registered function that serves it. A new function (Profile
// …) adds its rows here: both modes play every row, and the all-functions
// run fails while a registered function has none.
var calls = []call{
	{"Scenario", "turn", "POST", "/SCENARIO01",
		`{"CallId":"D1","ChatBotKey":"bot00001","Customer":"01012345678","Agent":1000,"IsFirstChat":"Y"}`,
		jsonType, `"ServiceCode":"S0000"`},
	{"Classify", "classification", "POST", "/star-wars/chat-gpt/", "question=고객: 환불 받고 싶어요",
		formType, `"category3":"환불요청"`},
	{"Gateway", "turn", "POST", "/SCENARIO01",
		`{"CallId":"D2","ChatBotKey":"bot00001","Customer":"01012345678","Agent":1000,"ChatMsg":"상담원 연결해 주세요"}`,
		jsonType, `"TransfterNumber":"40001"`},
	{"Gateway", "classification", "POST", "/star-wars/chat-gpt", "question=고객: 환불 받고 싶어요",
		formType, `"category3":"환불요청"`},
	// The platform team's call, against the loopback Dialogflow fake: the
	// first answer creates the profile, later ones find it in line.
	{"Profile", "reconcile", "PUT", "/tenants/nexus/profile", "", jsonType, `"useBidiStreaming": true`},
	{"Studio", "validation", "POST", "/studio/api/tenants/nexus/validate", `{"files":{}}`,
		jsonType, `"message":"file is missing"`},
}

// TestDeployFromRoot builds cmd/functions, the buildpack's main (blank import
// of the root package, funcframework), and plays every call through it: with
// FUNCTION_TARGET, each function alone at / as Cloud Run serves it; without,
// all of them in one process, each at /{Name} with the gateway's path in the
// query (funcmount). It builds inside this module, so it needs nothing beyond
// what go.sum names.
func TestDeployFromRoot(t *testing.T) {
	root := repodir.Root(t)
	bin := filepath.Join(t.TempDir(), "functions")
	build := exec.Command("go", "build", "-o", bin, "./cmd/functions")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/functions: %v\n%s", err, out)
	}

	t.Run("FUNCTION_TARGET", func(t *testing.T) {
		var functions []string
		for _, c := range calls {
			if !slices.Contains(functions, c.function) {
				functions = append(functions, c.function)
			}
		}
		for _, fn := range functions {
			t.Run(fn, func(t *testing.T) {
				base, _ := start(t, bin, "FUNCTION_TARGET="+fn)
				for _, c := range calls {
					if c.function != fn {
						continue
					}
					t.Run(c.name, func(t *testing.T) {
						if code, got := send(t, c.method, base+c.path, c.body, c.ctype); !ok(code) || !strings.Contains(got, c.want) {
							t.Fatalf("%s answered HTTP %d %s, want %s", c.path, code, got, c.want)
						}
					})
				}
			})
		}
	})

	t.Run("all functions", func(t *testing.T) {
		base, stdout := start(t, bin)
		for _, c := range calls {
			t.Run(c.function+" "+c.name, func(t *testing.T) {
				u := base + "/" + c.function + "?path=" + url.QueryEscape(c.path)
				if code, got := send(t, c.method, u, c.body, c.ctype); !ok(code) || !strings.Contains(got, c.want) {
					t.Fatalf("%s answered HTTP %d %s, want %s", u, code, got, c.want)
				}
			})
		}
		// The framework mounts each function at exactly /{Name}: nothing
		// below it reaches a function, hence the query.
		if code, got := send(t, http.MethodPost, base+"/Scenario/SCENARIO01", calls[0].body, jsonType); code != http.StatusNotFound {
			t.Errorf("/Scenario/SCENARIO01 answered HTTP %d %s, want the framework's 404", code, got)
		}
		// Every registered function has calls in the table.
		served := regexp.MustCompile(`Serving function: "([^"]+)"`).FindAllStringSubmatch(stdout.String(), -1)
		if len(served) == 0 {
			t.Fatalf("the framework named no function it serves:\n%s", stdout.String())
		}
		for _, m := range served {
			if !slices.ContainsFunc(calls, func(c call) bool { return c.function == m[1] }) {
				t.Errorf("function %s is registered but the calls table has no row for it", m[1])
			}
		}
	})
}

// start runs the functions binary with env on a free loopback port and
// returns its base URL and what it prints on stdout.
func start(t *testing.T, bin string, env ...string) (string, *logtest.Buffer) {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command(bin)
	dialogflow := dialogflowfake.New().Listen(t)
	cmd.Env = append(cleanEnv(), append(env, "PORT="+port, "LOCAL_ONLY=true", "ROUTEBOT_API_TOKEN=deploy-token",
		"ROUTEBOT_STORE=memory", "ROUTEBOT_LOG_LEVEL=ERROR", "ROUTEBOT_STUDIO_TOKENS=*:deploy-token",
		"ROUTEBOT_DIALOGFLOW_ENDPOINT="+dialogflow, "ROUTEBOT_DIALOGFLOW_PROJECT=deploy-test")...)
	stdout := &logtest.Buffer{}
	cmd.Stdout = stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return "http://127.0.0.1:" + port, stdout
}

// cleanEnv is the test's environment without what the function reads.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ROUTEBOT_") && !strings.HasPrefix(kv, "FUNCTION_TARGET=") && !strings.HasPrefix(kv, "PORT=") {
			out = append(out, kv)
		}
	}
	return out
}

// ok is a successful answer: 200, or 201 where Profile created the profile.
func ok(code int) bool { return code == http.StatusOK || code == http.StatusCreated }

// send sends a call, retrying while the function is still starting.
func send(t *testing.T, method, url, body, ctype string) (int, string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer deploy-token")
		req.Header.Set("Content-Type", ctype)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return resp.StatusCode, string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answer from the function: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}
