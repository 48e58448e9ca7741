package studio_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

var screenshots = flag.String("screenshots", "", "write the studio's screenshots (PNG) to this folder, e.g. ../../docs/studio")

// chromium finds Debian's chromium; the browser test fails, never skips,
// without it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("the studio's browser test needs Chromium: apt-get install chromium (and fonts-noto-cjk for Korean text)")
	return ""
}

// TestBrowser drives the page in headless Chromium as an author would: open
// a flow, see its graph, change a prompt, break a route and see the problem,
// fix it, simulate a call from greeting to transfer, publish, hear the new
// prompt on the next call, and roll back.
func TestBrowser(t *testing.T) {
	exe := chromium(t)
	srv := server(t)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1440, 900))
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(alloc, chromedp.WithLogf(t.Logf))
	defer cancelBrowser()
	if err := chromedp.Do(browser); err != nil { // starts the browser, not under a timeout
		t.Fatalf("start chromium (%s): %v", exe, err)
	}
	ctx, cancel := context.WithTimeout(browser, 90*time.Second)
	defer cancel()

	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			shot(t, ctx, "failed-"+strings.ReplaceAll(what, " ", "-"))
			t.Fatalf("%s: %v", what, err)
		}
	}
	// waitText waits until the element sel's text contains want.
	waitText := func(sel, want string) chromedp.Action[chromedp.Void] {
		js, _ := json.Marshal(want)
		q, _ := json.Marshal(sel)
		return chromedp.Poll[chromedp.Void](fmt.Sprintf(`(document.querySelector(%s)?.innerText || '').includes(%s)`, q, js),
			chromedp.WithPollingTimeout(20*time.Second))
	}
	setField := func(sel, value string) chromedp.Action[chromedp.Void] {
		return chromedp.Steps(chromedp.Focus(chromedp.CSS(sel)), chromedp.SetValue(chromedp.CSS(sel), value), chromedp.Blur(chromedp.CSS(sel)))
	}
	const newPrompt = "반갑습니다 ${name}님, 새로워진 넥서스 고객센터입니다. 무엇을 도와드릴까요?"

	do("open the studio", chromedp.Navigate(srv.URL+"/studio/"),
		chromedp.SendKeys(chromedp.CSS("#token"), nexusToken),
		chromedp.Click(chromedp.CSS("#signin")),
		chromedp.WaitVisible(chromedp.CSS(`[data-step="greeting"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-step="agent"]`)),
		waitText(".react-flow", "배송조회, 배송지연"), // an edge labelled by its categories
		waitText("#tab-problems", "0"))
	shot(t, ctx, "graph")

	do("change the greeting", chromedp.Click(chromedp.CSS(`[data-step="greeting"]`)),
		chromedp.WaitVisible(chromedp.CSS("#prompt")),
		setField("#prompt", newPrompt),
		waitText(`[data-step="greeting"]`, "새로워진"))
	shot(t, ctx, "inspector")

	do("see the edit in the YAML view", chromedp.Click(chromedp.CSS("#tab-yaml")),
		waitText("#yaml", "prompt: "+newPrompt))
	shot(t, ctx, "yaml")
	do("back to the inspector", chromedp.Click(chromedp.CSS("#tab-inspect")))

	do("break a route", setField("fieldset .route:nth-of-type(2) .to", "refund_notic"),
		chromedp.WaitVisible(chromedp.CSS(".node-badge")),
		waitText(".react-flow", "없는 단계: refund_notic"),
		chromedp.Click(chromedp.CSS("#tab-problems")),
		waitText("#problems", `unknown step "refund_notic"`))
	if disabled := evaluate[bool](t, ctx, `document.querySelector('#publish').disabled`); !disabled {
		t.Error("Publish is enabled while the draft has problems")
	}
	shot(t, ctx, "problems")

	do("fix the route", chromedp.Click(chromedp.CSS("#problems li")),
		chromedp.WaitVisible(chromedp.CSS("fieldset .route:nth-of-type(2) .to")),
		setField("fieldset .route:nth-of-type(2) .to", "refund_notice"),
		chromedp.Click(chromedp.CSS("#tab-problems")),
		chromedp.WaitVisible(chromedp.CSS("#no-problems")))

	do("add a step", chromedp.Click(chromedp.CSS("#tab-inspect")), chromedp.Click(chromedp.CSS("#close-step")),
		chromedp.SendKeys(chromedp.CSS(`#add-step [name="stepId"]`), "survey"),
		chromedp.Click(chromedp.CSS("#add-step button")),
		chromedp.WaitVisible(chromedp.CSS(`[data-step="survey"]`)),
		chromedp.Click(chromedp.CSS("#tab-problems")),
		waitText("#problems", "survey unreachable"))
	do("delete it", chromedp.Click(chromedp.CSS("#problems li")),
		chromedp.Click(chromedp.CSS("#delete-step")),
		chromedp.Click(chromedp.CSS("#tab-problems")),
		chromedp.WaitVisible(chromedp.CSS("#no-problems")))

	do("simulate a call to a transfer", chromedp.Click(chromedp.CSS("#tab-simulate")),
		waitText("#sim-log", "반갑습니다 김민수님, 새로워진"),
		chromedp.SendKeys(chromedp.CSS("#sim-say"), "상담원 연결해 주세요"),
		chromedp.Click(chromedp.CSS("#sim-say-send")),
		waitText("#sim-log", "S2000"),
		waitText("#sim-log", "40001"),
		waitText("#sim-log", "상담원을 연결해 드리겠습니다"))
	shot(t, ctx, "simulator")

	do("simulate the DTMF pad and yes/no", chromedp.Click(chromedp.CSS("#sim-restart")),
		chromedp.SendKeys(chromedp.CSS("#sim-say"), "배송 조회 좀 하려고 전화드렸어요"),
		chromedp.Click(chromedp.CSS("#sim-say-send")),
		waitText("#sim-log", "S1000"),
		chromedp.Click(chromedp.CSS(`.pad [data-key="9"]`)), chromedp.Click(chromedp.CSS(`.pad [data-key="0"]`)),
		chromedp.Click(chromedp.CSS(`.pad [data-key="0"]`)), chromedp.Click(chromedp.CSS(`.pad [data-key="1"]`)),
		chromedp.Click(chromedp.CSS(`.pad [data-key="0"]`)), chromedp.Click(chromedp.CSS(`.pad [data-key="1"]`)),
		chromedp.Click(chromedp.CSS(`.pad [data-key="#"]`)),
		chromedp.Click(chromedp.CSS("#sim-keys-send")),
		waitText("#sim-log", "delivery_status"),
		chromedp.Click(chromedp.CSS("#sim-no")),
		waitText("#sim-log", "goodbye"))
	if log := evaluate[string](t, ctx, `document.querySelector('#sim-log').innerText`); strings.Contains(log, "900101") {
		t.Errorf("the simulator shows the sensitive birth date:\n%s", log)
	}

	do("see the diff", chromedp.Click(chromedp.CSS("#tab-diff")),
		waitText("#diff", "+    prompt: "+newPrompt))
	shot(t, ctx, "diff")

	do("publish", chromedp.SendKeys(chromedp.CSS("#note"), "새 인사말"),
		chromedp.Click(chromedp.CSS("#publish")),
		waitText("#message", "version 2"))
	if got := greeting(t, srv.URL, "browser-call-1"); !strings.HasPrefix(got, "반갑습니다 김민수님, 새로워진") {
		t.Errorf("after publishing, the local server greets the next call with %q", got)
	}

	// Someone else publishes meanwhile: the author's next publish is refused.
	_, _, raw := call(t, srv, "GET", "/studio/api/tenants/nexus/draft", adminToken, nil)
	var other map[string]any
	if err := json.Unmarshal([]byte(raw), &other); err != nil {
		t.Fatal(err)
	}
	files := other["files"].(map[string]any)
	files["flows/SCENARIO01.yaml"] = strings.Replace(files["flows/SCENARIO01.yaml"].(string), "무엇을 도와드릴까요?\n    router: main\n\n  ask", "무엇이 궁금하세요?\n    router: main\n\n  ask", 1)
	if status, _, raw := call(t, srv, "POST", "/studio/api/tenants/nexus/publish", adminToken, map[string]any{"draft": other}); status != 200 {
		t.Fatalf("the other author's publish: %d %s", status, raw)
	}
	do("a stale publish is refused", chromedp.Click(chromedp.CSS(`[data-step="goodbye"]`)),
		setField("#prompt", "감사합니다."),
		chromedp.Click(chromedp.CSS("#publish")),
		waitText("#message", "is at version 3, but this draft started from version 2"),
		chromedp.Click(chromedp.CSS("#reload")),
		waitText("header", "draft of version 3"))
	if got := greeting(t, srv.URL, "browser-call-stale"); !strings.HasSuffix(got, "무엇이 궁금하세요?") {
		t.Errorf("the stale publish changed the greeting: %q", got)
	}

	do("roll back", chromedp.Click(chromedp.CSS("#tab-versions")),
		chromedp.WaitVisible(chromedp.CSS(`.rollback[data-version="1"]`)),
		waitText("#versions", "새 인사말"))
	shot(t, ctx, "versions")
	do("roll back", chromedp.Click(chromedp.CSS(`.rollback[data-version="1"]`)),
		waitText("#message", "now version 4"))
	if got := greeting(t, srv.URL, "browser-call-2"); !strings.HasPrefix(got, "안녕하세요 김민수님") {
		t.Errorf("after rolling back, the next call hears %q", got)
	}
}

func evaluate[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// shot saves a screenshot when -screenshots names a folder.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if *screenshots == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(*screenshots, name+".png"), png, 0o644); err != nil {
		t.Error(err)
	}
}

// greeting places a new call on the running server and returns its first answer.
func greeting(t *testing.T, base, callID string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/SCENARIO01", strings.NewReader(`{"CallId":"`+callID+`","ChatBotKey":"bot00001","Customer":"01012345678","Agent":"1001","IsFirstChat":"Y"}`))
	req.Header.Set("Authorization", "Bearer "+callToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Description string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out.Description
}
