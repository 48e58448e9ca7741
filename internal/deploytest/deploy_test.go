package deploytest

import (
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
}

// TestDeployFromRoot builds cmd/functions, the buildpack's main (blank import
// of the root package, funcframework), and calls every function through it:
// by FUNCTION_TARGET at /, and all at /{Name} without it. It builds inside
// this module, so it needs nothing beyond what go.sum names.
func TestDeployFromRoot(t *testing.T) {
	root := moduleRoot(t)
	bin := filepath.Join(t.TempDir(), "functions")
	build := exec.Command("go", "build", "-o", bin, "./cmd/functions")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/functions: %v\n%s", err, out)
	}

	tests := []struct {
		name, target, path, body, ctype, want string
	}{
		{"Scenario", "Scenario", "/SCENARIO01",
			`{"CallId":"D1","ChatBotKey":"bot00001","Customer":"01012345678","Agent":1000,"IsFirstChat":"Y"}`,
			"application/json", `"ServiceCode":"S0000"`},
		{"Classify", "Classify", "/star-wars/chat-gpt/", "question=고객: 환불 받고 싶어요",
			"application/x-www-form-urlencoded", `"category3":"환불요청"`},
		{"Gateway turn", "Gateway", "/SCENARIO01",
			`{"CallId":"D2","ChatBotKey":"bot00001","Customer":"01012345678","Agent":1000,"ChatMsg":"상담원 연결해 주세요"}`,
			"application/json", `"TransfterNumber":"40001"`},
		{"Gateway classification", "Gateway", "/star-wars/chat-gpt", "question=고객: 환불 받고 싶어요",
			"application/x-www-form-urlencoded", `"category3":"환불요청"`},
		// Registered and answering its own JSON (PUT needs Dialogflow: cmd/local's test does it).
		{"Profile", "Profile", "/tenants/nexus/profile", "", "application/json", `"status": "METHOD_NOT_ALLOWED"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			port := freePort(t)
			cmd := exec.Command(bin)
			cmd.Env = append(os.Environ(), "PORT="+port, "FUNCTION_TARGET="+tt.target, "ROUTEBOT_API_TOKEN=deploy-token",
				"ROUTEBOT_STORE=memory", "ROUTEBOT_LOG_LEVEL=ERROR")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
			got := post(t, "http://127.0.0.1:"+port+tt.path, tt.body, tt.ctype)
			if !strings.Contains(got, tt.want) {
				t.Fatalf("%s answered %s, want %s", tt.target, got, tt.want)
			}
		})
	}
}

func post(t *testing.T, url, body, ctype string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer deploy-token")
		req.Header.Set("Content-Type", ctype)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return string(b)
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
