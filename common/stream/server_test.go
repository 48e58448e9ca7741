package stream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/routebot/routebot/common/store"
	"github.com/routebot/routebot/common/store/memstore"
	"github.com/routebot/routebot/internal/streamfake"
)

const testToken = "test-token"

type tokenVerifier struct{}

func (tokenVerifier) Verify(h string) error {
	if h != "Bearer "+testToken {
		return errors.New("bad token")
	}
	return nil
}

// fakeConversations is the lifecycle the server consumes: participants
// named after the call and role, bot "bot-noprofile" without a profile.
type fakeConversations struct {
	clients   []Participants // a pool, as the service has in production
	mu        sync.Mutex
	lookups   map[string]int
	completed map[string]int
}

func (f *fakeConversations) Participant(_ context.Context, callID, bot, role string) (Participant, error) {
	switch bot {
	case "bot00001":
	case "bot-noprofile":
		return Participant{}, fmt.Errorf("tenant demo: %w", ErrNoProfile)
	default:
		return Participant{}, fmt.Errorf("bot %q: %w", bot, ErrUnknownBot)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lookups == nil {
		f.lookups = map[string]int{}
	}
	f.lookups[callID+"/"+role]++
	return Participant{Name: "projects/p/locations/global/conversations/" + callID + "/participants/" + strings.ToLower(role),
		Client: f.clients[len(f.lookups)%len(f.clients)]}, nil
}

func (f *fakeConversations) Complete(_ context.Context, callID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.completed == nil {
		f.completed = map[string]int{}
	}
	f.completed[callID]++
	return nil
}

func (f *fakeConversations) completions(callID string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.completed[callID]
}

type testServer struct {
	*Server
	url         string
	fake        *streamfake.Participants
	conv        *fakeConversations
	transcripts *memstore.Transcripts
}

func newTestServer(t testing.TB, fake *streamfake.Participants, opts Options) *testServer {
	return newPooledTestServer(t, fake, opts, 1)
}

// newPooledTestServer spreads the legs over pool gRPC connections to the fake.
func newPooledTestServer(t testing.TB, fake *streamfake.Participants, opts Options, pool int) *testServer {
	t.Helper()
	if fake == nil {
		fake = &streamfake.Participants{ChunkBytes: 1600}
	}
	conv := &fakeConversations{}
	for range pool {
		conv.clients = append(conv.clients, fakeClient(t, fake))
	}
	ts := &testServer{fake: fake, conv: conv, transcripts: memstore.NewTranscripts(nil, 0)}
	if opts.Logger == nil {
		opts.Logger = discard()
	}
	ts.Server = NewServer(ts.conv, ts.transcripts, tokenVerifier{}, opts)
	mux := http.NewServeMux()
	ts.Register(mux)
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = ts.Shutdown(ctx)
		hs.Close()
	})
	ts.url = "ws" + strings.TrimPrefix(hs.URL, "http") + "/v1/stream"
	return ts
}

func dial(t testing.TB, url string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + testToken}}})
	if err != nil {
		t.Fatalf("websocket.Dial: %v", err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func send(t testing.TB, c *websocket.Conn, typ websocket.MessageType, b []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Write(ctx, typ, b); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

func startFrame(callID, role string) []byte {
	return fmt.Appendf(nil, `{"type":"start","callId":%q,"chatBotKey":"bot00001","role":%q,"encoding":"LINEAR16","sampleRateHertz":8000,"languageCode":"ko-KR"}`, callID, role)
}

// wireFrame is any service frame, decoded.
type wireFrame struct {
	Type              string `json:"type"`
	Text              string `json:"text"`
	IsFinal           bool   `json:"isFinal"`
	SpeechEndOffsetMs int64  `json:"speechEndOffsetMs"`
	Reason            string `json:"reason"`
	ReplayedMs        int64  `json:"replayedMs"`
	Code              string `json:"code"`
	Message           string `json:"message"`
	Kind              string `json:"kind"`
}

// readAll reads frames until the socket closes, returning them and the
// close code.
func readAll(t *testing.T, c *websocket.Conn) ([]wireFrame, websocket.StatusCode) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []wireFrame
	for {
		typ, b, err := c.Read(ctx)
		if err != nil {
			return out, websocket.CloseStatus(err)
		}
		if typ != websocket.MessageText {
			t.Fatalf("service sent a binary frame")
		}
		var f wireFrame
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatalf("service frame %s: %v", b, err)
		}
		out = append(out, f)
	}
}

func TestServerRefusals(t *testing.T) {
	tests := []struct {
		name      string
		frames    [][]byte // text frames; a nil entry sends 10 bytes of audio
		wantCode  string
		wantClose websocket.StatusCode
	}{
		{"not JSON", [][]byte{[]byte("hello")}, CodeBadFrame, websocket.StatusUnsupportedData},
		{"audio before start", [][]byte{nil}, CodeBadStart, 4400},
		{"stop before start", [][]byte{[]byte(`{"type":"stop"}`)}, CodeBadStart, 4400},
		{"no callId", [][]byte{[]byte(`{"type":"start","chatBotKey":"bot00001","role":"END_USER","encoding":"LINEAR16","sampleRateHertz":8000}`)}, CodeBadStart, 4400},
		{"unknown role", [][]byte{[]byte(`{"type":"start","callId":"C","chatBotKey":"bot00001","role":"BOT","encoding":"LINEAR16","sampleRateHertz":8000}`)}, CodeBadRole, 4400},
		{"unknown encoding", [][]byte{[]byte(`{"type":"start","callId":"C","chatBotKey":"bot00001","role":"END_USER","encoding":"OPUS","sampleRateHertz":8000}`)}, CodeBadEncoding, 4415},
		{"unsupported rate", [][]byte{[]byte(`{"type":"start","callId":"C","chatBotKey":"bot00001","role":"END_USER","encoding":"MULAW","sampleRateHertz":16000}`)}, CodeBadSampleRate, 4415},
		{"unknown bot", [][]byte{[]byte(`{"type":"start","callId":"C","chatBotKey":"nobody","role":"END_USER","encoding":"LINEAR16","sampleRateHertz":8000}`)}, CodeUnknownBot, 4404},
		{"tenant without a profile", [][]byte{[]byte(`{"type":"start","callId":"C","chatBotKey":"bot-noprofile","role":"END_USER","encoding":"LINEAR16","sampleRateHertz":8000}`)}, CodeNoProfile, 4412},
		{"second start", [][]byte{startFrame("C2", RoleEndUser), startFrame("C2", RoleEndUser)}, CodeSecondStart, 4409},
	}
	ts := newTestServer(t, nil, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, ts.url)
			for _, f := range tt.frames {
				if f == nil {
					send(t, c, websocket.MessageBinary, make([]byte, 10))
				} else {
					send(t, c, websocket.MessageText, f)
				}
			}
			frames, code := readAll(t, c)
			if len(frames) == 0 || frames[len(frames)-1].Type != "error" || frames[len(frames)-1].Code != tt.wantCode {
				t.Fatalf("frames = %+v, want an error frame with code %s last", frames, tt.wantCode)
			}
			if code != tt.wantClose {
				t.Errorf("close code = %d, want %d", code, tt.wantClose)
			}
		})
	}
	t.Run("no token is refused at the upgrade", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, resp, err := websocket.Dial(ctx, ts.url, nil)
		if err == nil {
			c.CloseNow()
			t.Fatal("upgrade without a token succeeded")
		}
		if resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("response = %v, want 401", resp)
		}
		// The caller is told the code and a short reason; why is in the log.
		if body, _ := io.ReadAll(resp.Body); string(body) != "unauthorized: the bearer token is missing or not accepted\n" {
			t.Errorf("body = %q, want the short reason only", body)
		}
	})
}

func TestServerTooManyStreams(t *testing.T) {
	ts := newTestServer(t, nil, Options{MaxStreams: 1})
	first := dial(t, ts.url)
	send(t, first, websocket.MessageText, startFrame("C1", RoleEndUser))
	waitFor(t, "the first leg", func() bool { return ts.Streams() == 1 })
	second := dial(t, ts.url)
	send(t, second, websocket.MessageText, startFrame("C2", RoleEndUser))
	frames, code := readAll(t, second)
	if len(frames) != 1 || frames[0].Code != CodeTooManyStreams || code != websocket.StatusTryAgainLater {
		t.Errorf("second leg got %+v, close %d; want too_many_streams, 1013", frames, code)
	}
}

// streamLeg sends audio in 20 ms frames.
func streamLeg(t *testing.T, c *websocket.Conn, audio []byte) {
	t.Helper()
	for i := 0; i < len(audio); i += 320 {
		send(t, c, websocket.MessageBinary, audio[i:min(i+320, len(audio))])
	}
}

// checkFinals checks the finals delivered (on any number of sockets) cover
// audio end to end, each once, and were stored for role.
func checkFinals(t *testing.T, ts *testServer, callID, role string, audio []byte, frames []wireFrame) {
	t.Helper()
	var start int64
	seen := map[string]bool{}
	for _, f := range frames {
		if f.Type != "transcript" || !f.IsFinal {
			continue
		}
		if seen[f.Text] {
			t.Errorf("final %q delivered twice", f.Text)
		}
		seen[f.Text] = true
		end := f.SpeechEndOffsetMs * 16
		if want := streamfake.Text(audio[start:end]); f.Text != want {
			t.Errorf("final %q ending at %d ms does not match the leg's audio (%q)", f.Text, f.SpeechEndOffsetMs, want)
		}
		start = end
	}
	if start != int64(len(audio)) {
		t.Errorf("finals cover %d of %d bytes", start, len(audio))
	}
	entries, err := ts.transcripts.Transcript(context.Background(), callID)
	if err != nil {
		t.Fatalf("Transcript: %v", err)
	}
	stored := 0
	for _, e := range entries {
		if e.Role == role {
			stored++
			if !seen[e.Text] {
				t.Errorf("stored %q was never delivered", e.Text)
			}
		}
	}
	if stored != len(seen) {
		t.Errorf("stored %d finals, delivered %d", stored, len(seen))
	}
}

func TestServerStreamsALeg(t *testing.T) {
	ts := newTestServer(t, &streamfake.Participants{ChunkBytes: 1600, Suggest: true}, Options{CompleteGrace: time.Millisecond})
	c := dial(t, ts.url)
	send(t, c, websocket.MessageText, startFrame("CALL-A", RoleHumanAgent))
	audio := legAudio(35 * 1600)
	streamLeg(t, c, audio)
	send(t, c, websocket.MessageText, []byte(`{"type":"stop"}`))
	frames, code := readAll(t, c)
	if code != websocket.StatusNormalClosure {
		t.Errorf("close code %d, want 1000", code)
	}
	if len(frames) == 0 || frames[len(frames)-1].Type != "end" {
		t.Fatalf("frames %+v do not end with end", frames)
	}
	kinds := map[string]int{}
	for _, f := range frames {
		kinds[f.Type+"/"+f.Kind+fmt.Sprint(f.IsFinal)]++
	}
	if kinds["transcript/false"] == 0 || kinds["suggestion/faqfalse"] == 0 {
		t.Errorf("frame kinds %v: want interim transcripts and FAQ suggestions", kinds)
	}
	checkFinals(t, ts, "CALL-A", RoleHumanAgent, audio, frames)
	if v := ts.fake.Violations(); len(v) > 0 {
		t.Errorf("fake saw violations %q", v)
	}
	waitFor(t, "the conversation's completion", func() bool { return ts.conv.completions("CALL-A") == 1 })
	waitFor(t, "no leg and no Dialogflow stream left", func() bool { return ts.Streams() == 0 && ts.fake.Open() == 0 })
}

func TestServerResumedSocketContinuesTheLeg(t *testing.T) {
	ts := newTestServer(t, nil, Options{})
	audio := legAudio(40 * 1600)
	first := dial(t, ts.url)
	send(t, first, websocket.MessageText, startFrame("CALL-R", RoleEndUser))
	var f1 []wireFrame
	read1 := make(chan struct{})
	go func() { defer close(read1); f1, _ = readAll(t, first) }()
	streamLeg(t, first, audio[:17*1600+320])
	// Every frame the first socket sent has reached the relay before it dies.
	waitFor(t, "the first socket's audio", func() bool {
		ts.mu.Lock()
		lg := ts.legs[legKey{"CALL-R", RoleEndUser}]
		ts.mu.Unlock()
		return lg != nil && lg.relay.Received() == 17*1600+320
	})
	first.CloseNow() // a network blip: no stop, frames in flight lost
	<-read1
	last := int64(0)
	for _, f := range f1 {
		if f.IsFinal {
			last = f.SpeechEndOffsetMs
		}
	}

	second := dial(t, ts.url)
	resume := fmt.Appendf(nil, `{"type":"start","callId":"CALL-R","chatBotKey":"bot00001","role":"END_USER","encoding":"LINEAR16","sampleRateHertz":8000,"lastFinalEndMs":%d}`, last)
	send(t, second, websocket.MessageText, resume)
	streamLeg(t, second, audio[17*1600+320:])
	send(t, second, websocket.MessageText, []byte(`{"type":"stop"}`))
	f2, code := readAll(t, second)
	if code != websocket.StatusNormalClosure || f2[len(f2)-1].Type != "end" {
		t.Errorf("second socket closed %d after %+v; want end and 1000", code, f2[len(f2)-1])
	}
	checkFinals(t, ts, "CALL-R", RoleEndUser, audio, append(f1, f2...))
	waitFor(t, "no leg and no Dialogflow stream left", func() bool { return ts.Streams() == 0 && ts.fake.Open() == 0 })
	if n := ts.conv.lookups["CALL-R/END_USER"]; n != 1 {
		t.Errorf("participant looked up %d times, want once: the resumed socket keeps the leg's participant", n)
	}
}

func TestServerShutdownFlushesLegs(t *testing.T) {
	ts := newTestServer(t, nil, Options{})
	c := dial(t, ts.url)
	send(t, c, websocket.MessageText, startFrame("CALL-S", RoleEndUser))
	audio := legAudio(12*1600 + 640)
	streamLeg(t, c, audio)
	waitFor(t, "the audio", func() bool {
		ts.mu.Lock()
		defer ts.mu.Unlock()
		lg := ts.legs[legKey{"CALL-S", RoleEndUser}]
		return lg != nil && lg.relay.Received() == int64(len(audio))
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ts.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	frames, code := readAll(t, c)
	if code != websocket.StatusServiceRestart || frames[len(frames)-1].Code != CodeShutdown {
		t.Errorf("closed %d after %+v; want shutting_down and 1012", code, frames[len(frames)-1])
	}
	checkFinals(t, ts, "CALL-S", RoleEndUser, audio, frames)
	if n := ts.conv.completions("CALL-S"); n != 0 {
		t.Errorf("the conversation was completed %d times by a shutdown; the call goes on elsewhere", n)
	}
}

func TestServerCompleteEndpoint(t *testing.T) {
	ts := newTestServer(t, nil, Options{CompleteGrace: time.Hour})
	c := dial(t, ts.url)
	send(t, c, websocket.MessageText, startFrame("CALL-C", RoleEndUser))
	streamLeg(t, c, legAudio(5*1600))
	waitFor(t, "the leg", func() bool { return ts.Streams() == 1 })
	url := "http" + strings.TrimSuffix(strings.TrimPrefix(ts.url, "ws"), "/v1/stream") + "/v1/calls/CALL-C/complete"
	for _, tt := range []struct {
		name  string
		token string
		want  int
	}{{"no token", "", 401}, {"complete", testToken, 200}} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, url, nil)
			req.Header.Set("Authorization", "Bearer "+tt.token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
	if n := ts.conv.completions("CALL-C"); n != 1 {
		t.Errorf("completed %d times, want 1", n)
	}
	frames, code := readAll(t, c)
	if code != websocket.StatusNormalClosure || frames[len(frames)-1].Type != "end" {
		t.Errorf("the leg's socket closed %d after %+v; want end, 1000", code, frames)
	}
}

var _ store.Transcripts = (*memstore.Transcripts)(nil)

// TestServerAbandonedLegEnds: a socket that goes away and never comes back
// leaves nothing running once the grace period has passed, and what it said
// is stored.
func TestServerAbandonedLegEnds(t *testing.T) {
	ts := newTestServer(t, nil, Options{ResumeGrace: 20 * time.Millisecond, CompleteGrace: time.Millisecond})
	c := dial(t, ts.url)
	send(t, c, websocket.MessageText, startFrame("CALL-GONE", RoleEndUser))
	audio := legAudio(15*1600 + 320)
	streamLeg(t, c, audio)
	waitFor(t, "the audio", func() bool {
		ts.mu.Lock()
		defer ts.mu.Unlock()
		lg := ts.legs[legKey{"CALL-GONE", RoleEndUser}]
		return lg != nil && lg.relay.Received() == int64(len(audio))
	})
	c.CloseNow()
	waitFor(t, "the leg to end", func() bool { return ts.Streams() == 0 && ts.fake.Open() == 0 })
	waitFor(t, "the conversation's completion", func() bool { return ts.conv.completions("CALL-GONE") == 1 })
	entries, err := ts.transcripts.Transcript(context.Background(), "CALL-GONE")
	if err != nil || entries[len(entries)-1].EndMs != int64(len(audio)/16) {
		t.Errorf("stored %v, %v: want finals up to the last byte (%d ms), flushed when the socket went", entries, err, len(audio)/16)
	}
}
