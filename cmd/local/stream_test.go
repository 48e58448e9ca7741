package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/dialogflow/apiv2beta1/dialogflowpb"
	"github.com/coder/websocket"
	"go.uber.org/goleak"

	"github.com/routebot/routebot/common/app"
	"github.com/routebot/routebot/common/config"
	"github.com/routebot/routebot/common/logging"
	"github.com/routebot/routebot/common/stream"
	"github.com/routebot/routebot/internal/dialogflowfake"
	"github.com/routebot/routebot/internal/streamfake"
)

// e2eScript is the call the test speaks: the agent and the customer in
// turns. Each utterance is recorded as one second of a tone whose pitch
// names its sentence, and the fake recogniser hears the sentence back.
var e2eScript = []struct {
	role, text string
}{
	{stream.RoleHumanAgent, "안녕하세요 넥서스 상담원입니다 무엇을 도와드릴까요?"},
	{stream.RoleEndUser, "봉투 모의고사 패키지를 신청했는데 언제쯤 배송될까요?"},
	{stream.RoleHumanAgent, "시험일 기준 익일에 문제지와 해설지가 일괄 발송됩니다."},
	{stream.RoleEndUser, "근데 아직 안 왔어요. 배송 조회 부탁드려요."},
	{stream.RoleHumanAgent, "매주 화요일 금요일에 일괄 발송되니 조금만 기다려주세요."},
	{stream.RoleEndUser, "네 알겠습니다."},
}

const (
	sampleRate = 8000
	toneBase   = 300 // Hz of sentence 0; each next sentence 100 Hz higher
)

// utterance is one second of 8 kHz LINEAR16 at sentence i's pitch.
func utterance(i int) []byte {
	b := make([]byte, 2*sampleRate)
	f := float64(toneBase + 100*i)
	for n := range sampleRate {
		v := int16(8000 * math.Sin(2*math.Pi*f*float64(n)/sampleRate))
		binary.LittleEndian.PutUint16(b[2*n:], uint16(v))
	}
	return b
}

// hear is the fake recogniser: the pitch of a segment, by its zero
// crossings, names its sentence.
func hear(seg []byte) string {
	crossings, prev := 0, int16(0)
	for n := 0; n+1 < len(seg); n += 2 {
		v := int16(binary.LittleEndian.Uint16(seg[n:]))
		if n > 0 && (prev < 0) != (v < 0) {
			crossings++
		}
		prev = v
	}
	secs := float64(len(seg)/2) / sampleRate
	i := int(math.Round((float64(crossings)/2/secs - toneBase) / 100))
	if i < 0 || i >= len(e2eScript) {
		return fmt.Sprintf("(unintelligible %d crossings)", crossings)
	}
	return e2eScript[i].text
}

// TestStreamEndToEnd runs the local server against fake Dialogflow services
// on a loopback port (ROUTEBOT_DIALOGFLOW_ENDPOINT), streams both legs of a
// call over real WebSockets, and classifies the stored transcript through
// /chat-gpt by CallId.
func TestStreamEndToEnd(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t, goleak.IgnoreCurrent()) }) // runs last
	dff := dialogflowfake.New()
	sf := &streamfake.Participants{ChunkBytes: 1600, FinalEvery: 10, Transcribe: hear}
	sf.Known = func(name string) bool {
		conv, _, _ := strings.Cut(name, "/participants/")
		return slices.ContainsFunc(dff.Participants(conv), func(p *dialogflowpb.Participant) bool { return p.GetName() == name })
	}
	endpoint := sf.Listen(t, dff.Register)

	env := map[string]string{"ROUTEBOT_API_TOKEN": testToken, "ROUTEBOT_DIALOGFLOW_ENDPOINT": endpoint,
		"ROUTEBOT_DIALOGFLOW_PROJECT": "routebot-local"}
	cfg, err := config.Load(func(k string) string { return env[k] }, true)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Build(context.Background(), cfg, logging.New(io.Discard, nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	streams, err := a.StreamServer(stream.Options{CompleteGrace: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(handler(a, streams))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = streams.Shutdown(ctx)
		srv.Close()
	})

	// The platform team's step: nexus's conversation profile, on the fake.
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/tenants/nexus/profile", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT /tenants/nexus/profile: HTTP %d %s", resp.StatusCode, body)
	}

	const callID = "DS0000000777"
	legs := map[string]*e2eLeg{}
	for _, role := range []string{stream.RoleHumanAgent, stream.RoleEndUser} {
		legs[role] = openLeg(t, "ws"+strings.TrimPrefix(srv.URL, "http")+"/v1/stream", callID, role)
	}
	for i, turn := range e2eScript {
		lg := legs[turn.role]
		audio := utterance(i)
		for off := 0; off < len(audio); off += 320 { // 20 ms frames, as telephony sends
			lg.write(t, websocket.MessageBinary, audio[off:off+320])
		}
		if got := lg.nextFinal(t); got != turn.text {
			t.Fatalf("turn %d: final %q, want %q", i, got, turn.text)
		}
	}
	for _, lg := range legs {
		lg.write(t, websocket.MessageText, []byte(`{"type":"stop"}`))
	}
	for role, lg := range legs {
		if last, code := lg.end(t); last != "end" || code != websocket.StatusNormalClosure {
			t.Errorf("%s leg ended with %q, close %d; want end, 1000", role, last, code)
		}
	}
	if v := sf.Violations(); len(v) > 0 {
		t.Errorf("the fake Participants saw %q", v)
	}
	if convs := dff.Conversations(); len(convs) != 1 || len(dff.Participants(convs[0])) != 2 {
		t.Errorf("conversations %v: want one, with two participants, for both legs", convs)
	}
	waitUntil(t, "the conversation's completion", func() bool { return dff.Count("CompleteConversation") == 1 })

	byCallID := classifyBody(t, srv.URL, "application/json", `{"CallId":"`+callID+`"}`)
	var lines []string
	for _, turn := range e2eScript {
		label := "고객"
		if turn.role == stream.RoleHumanAgent {
			label = "상담원"
		}
		lines = append(lines, label+": "+turn.text)
	}
	byQuestion := classifyBody(t, srv.URL, "application/x-www-form-urlencoded",
		"question="+url.QueryEscape(strings.Join(lines, "\n")))
	t.Logf("classified by CallId: %s", byCallID)
	if byCallID != byQuestion {
		t.Errorf("by CallId: %s\nby the same transcript as question: %s", byCallID, byQuestion)
	}
}

type e2eLeg struct {
	conn   *websocket.Conn
	frames chan map[string]any
	closed chan websocket.StatusCode
}

func openLeg(t *testing.T, url, callID, role string) *e2eLeg {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + testToken}}})
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { c.CloseNow() })
	lg := &e2eLeg{conn: c, frames: make(chan map[string]any, 256), closed: make(chan websocket.StatusCode, 1)}
	go func() {
		for {
			_, b, err := c.Read(context.Background())
			if err != nil {
				lg.closed <- websocket.CloseStatus(err)
				close(lg.frames)
				return
			}
			var f map[string]any
			_ = json.Unmarshal(b, &f)
			lg.frames <- f
		}
	}()
	lg.write(t, websocket.MessageText, fmt.Appendf(nil,
		`{"type":"start","callId":%q,"chatBotKey":"bot00001","role":%q,"encoding":"LINEAR16","sampleRateHertz":8000}`, callID, role))
	return lg
}

func (lg *e2eLeg) write(t *testing.T, typ websocket.MessageType, b []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := lg.conn.Write(ctx, typ, b); err != nil {
		t.Fatalf("write: %v", err)
	}
}

func (lg *e2eLeg) nextFinal(t *testing.T) string {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case f, ok := <-lg.frames:
			if !ok {
				t.Fatal("socket closed before a final transcript")
			}
			if f["type"] == "error" {
				t.Fatalf("error frame %v", f)
			}
			if f["type"] == "transcript" && f["isFinal"] == true {
				return f["text"].(string)
			}
		case <-timeout:
			t.Fatal("no final transcript")
		}
	}
}

// end drains the socket and returns the last frame's type and the close code.
func (lg *e2eLeg) end(t *testing.T) (string, websocket.StatusCode) {
	t.Helper()
	last := ""
	for f := range lg.frames {
		last, _ = f["type"].(string)
	}
	return last, <-lg.closed
}

func classifyBody(t *testing.T, base, contentType, body string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/star-wars/chat-gpt", strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/chat-gpt %s: HTTP %d %s", body, resp.StatusCode, b)
	}
	var ans map[string]any
	if err := json.Unmarshal(b, &ans); err != nil {
		t.Fatal(err)
	}
	delete(ans, "create_time")
	out, _ := json.Marshal(ans)
	return string(out)
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
