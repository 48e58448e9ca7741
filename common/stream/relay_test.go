package stream

import (
	"bytes"
	"context"
	"errors"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	dialogflow "cloud.google.com/go/dialogflow/apiv2beta1"
	"cloud.google.com/go/dialogflow/apiv2beta1/dialogflowpb"
	"go.uber.org/goleak"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/routebot/routebot/internal/grpctest"
	"github.com/routebot/routebot/internal/streamfake"
)

func TestMain(m *testing.M) {
	if url := os.Getenv(benchClientURL); url != "" {
		// BenchmarkServiceStreams' client process: the gateway's side.
		os.Exit(runBenchClients(url))
	}
	goleak.VerifyTestMain(m)
}

const testParticipant = "projects/p/locations/global/conversations/CALL1/participants/end_user"

var pcm8k = Format{Encoding: dialogflowpb.AudioEncoding_AUDIO_ENCODING_LINEAR_16, SampleRateHertz: 8000}

// fakeClient serves fake on bufconn and returns the real v2beta1 client
// pointed at it.
func fakeClient(t testing.TB, fake *streamfake.Participants) *dialogflow.ParticipantsClient {
	t.Helper()
	conn := grpctest.Dial(t, func(s *grpc.Server) { dialogflowpb.RegisterParticipantsServer(s, fake) })
	c, err := dialogflow.NewParticipantsClient(context.Background(), option.WithGRPCConn(conn))
	if err != nil {
		t.Fatalf("NewParticipantsClient: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// legAudio is n bytes of audio whose every 100 ms differs from every other,
// so a replay from the wrong offset shows.
func legAudio(n int) []byte {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

// frames collects what a relay emits.
type frames struct {
	mu  sync.Mutex
	all []Frame
}

func (f *frames) emit(fr Frame) { f.mu.Lock(); f.all = append(f.all, fr); f.mu.Unlock() }

func (f *frames) get() []Frame {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Frame(nil), f.all...)
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// checkLeg checks a finished leg byte for byte: every stream opened with the
// config first; every chunk is 100 ms but a half-close's last; stream k's
// audio is exactly the leg's audio from the end of the last final result the
// streams before it delivered; the delivered finals are the fake's finals,
// each once, covering the leg's audio end to end with no gap or overlap.
func checkLeg(t *testing.T, fake *streamfake.Participants, f Format, audio []byte, got []Frame) {
	t.Helper()
	if v := fake.Violations(); len(v) > 0 {
		t.Fatalf("the fake saw protocol violations: %q", v)
	}
	wantCfg := &dialogflowpb.BidiStreamingAnalyzeContentRequest_Config{Participant: testParticipant,
		Config: &dialogflowpb.BidiStreamingAnalyzeContentRequest_Config_VoiceSessionConfig_{
			VoiceSessionConfig: &dialogflowpb.BidiStreamingAnalyzeContentRequest_Config_VoiceSessionConfig{
				InputAudioEncoding: f.Encoding, InputAudioSampleRateHertz: f.SampleRateHertz}}}
	var fakeFinals []string
	base := 0
	for k, s := range fake.Streams() {
		if !proto.Equal(s.Config, wantCfg) {
			t.Errorf("stream %d config = %v, want %v", k, s.Config, wantCfg)
		}
		for i, n := range s.Chunks {
			if n != f.ChunkBytes() && !(i == len(s.Chunks)-1 && s.HalfClosed) {
				t.Errorf("stream %d chunk %d is %d bytes, want %d", k, i, n, f.ChunkBytes())
			}
		}
		if base+len(s.Audio) > len(audio) || !bytes.Equal(s.Audio, audio[base:base+len(s.Audio)]) {
			t.Fatalf("stream %d's audio (%d bytes) is not the leg's audio from byte %d, the end of the last final", k, len(s.Audio), base)
		}
		for _, fin := range s.Finals {
			fakeFinals = append(fakeFinals, fin.Text)
		}
		if len(s.Finals) > 0 {
			base += s.Finals[len(s.Finals)-1].End
		}
	}
	var finals []string
	end := int64(0)
	seen := map[string]bool{}
	for _, fr := range got {
		tr, ok := fr.(Transcript)
		if !ok || !tr.IsFinal {
			continue
		}
		if seen[tr.Text] {
			t.Errorf("final %q delivered twice", tr.Text)
		}
		seen[tr.Text] = true
		start := f.Bytes(time.Duration(tr.SpeechStartOffsetMs) * time.Millisecond)
		if start != end {
			t.Errorf("final %q starts at %d ms, want %d ms (the last final's end)", tr.Text, tr.SpeechStartOffsetMs, f.Duration(end).Milliseconds())
		}
		seg := audio[start:f.Bytes(time.Duration(tr.SpeechEndOffsetMs)*time.Millisecond)]
		if want := streamfake.Text(seg); tr.Text != want {
			t.Errorf("final %q at %d–%d ms does not match the leg's audio there (%q)", tr.Text, tr.SpeechStartOffsetMs, tr.SpeechEndOffsetMs, want)
		}
		end = f.Bytes(time.Duration(tr.SpeechEndOffsetMs) * time.Millisecond)
		finals = append(finals, tr.Text)
	}
	if end != int64(len(audio)) {
		t.Errorf("finals cover %d bytes of the leg's %d", end, len(audio))
	}
	if len(finals) != len(fakeFinals) {
		t.Errorf("delivered %d finals, the fake sent %d", len(finals), len(fakeFinals))
	}
}

// runRelay starts r.Run and returns a func that waits for its result.
func runRelay(t *testing.T, r *Relay) func() error {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(cancel)
	return func() error {
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return")
			return nil
		}
	}
}

// feed gives audio to r in frames of the sizes given, cycling.
func feed(r *Relay, audio []byte, sizes ...int) {
	for i := 0; len(audio) > 0; i++ {
		n := min(sizes[i%len(sizes)], len(audio))
		r.Audio(audio[:n:n])
		audio = audio[n:]
	}
}

func restarts(got []Frame) []Restarted {
	var out []Restarted
	for _, fr := range got {
		if r, ok := fr.(Restarted); ok {
			out = append(out, r)
		}
	}
	return out
}

func TestRelayChunksAndFlushes(t *testing.T) {
	tests := []struct {
		name   string
		format Format
		bytes  int
		sizes  []int
	}{
		{"8 kHz PCM in 20 ms frames", pcm8k, 48000 + 640, []int{320}},
		{"8 kHz PCM in odd frames", pcm8k, 40000 + 16*7, []int{333, 1, 4000, 1599}},
		{"16 kHz PCM", Format{Encoding: dialogflowpb.AudioEncoding_AUDIO_ENCODING_LINEAR_16, SampleRateHertz: 16000}, 96000, []int{640}},
		{"8 kHz mu-law", Format{Encoding: dialogflowpb.AudioEncoding_AUDIO_ENCODING_MULAW, SampleRateHertz: 8000}, 24000 + 80, []int{160}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &streamfake.Participants{ChunkBytes: tt.format.ChunkBytes()}
			var fr frames
			r := NewRelay(fakeClient(t, fake), testParticipant, tt.format, 0, RelayOptions{}, fr.emit, discard())
			wait := runRelay(t, r)
			audio := legAudio(tt.bytes)
			feed(r, audio, tt.sizes...)
			r.Stop()
			if err := wait(); err != nil {
				t.Fatalf("Run = %v", err)
			}
			if tt.format == pcm8k && tt.format.ChunkBytes() != 1600 {
				t.Fatalf("8 kHz LINEAR16 chunk = %d bytes, want 1600", tt.format.ChunkBytes())
			}
			if n := len(fake.Streams()); n != 1 {
				t.Errorf("%d streams, want 1", n)
			}
			if rs := restarts(fr.get()); len(rs) != 0 {
				t.Errorf("restarted %v, want none", rs)
			}
			if s := fake.Streams(); !s[0].HalfClosed {
				t.Error("the stream was not half-closed")
			}
			checkLeg(t, fake, tt.format, audio, fr.get())
		})
	}
}

func TestRelayForcedDropReplaysAfterLastFinal(t *testing.T) {
	tests := []struct {
		name      string
		dropAt    int // chunk of stream 0 after which it fails
		err       error
		wantFinal int // bytes of stream 0 in finals before the drop
	}{
		{"unavailable mid-utterance", 25, status.Error(codes.Unavailable, "connection reset"), 20 * 1600},
		{"internal right after a final's chunk", 21, status.Error(codes.Internal, "RST_STREAM"), 20 * 1600},
		{"deadline before the first final", 7, status.Error(codes.DeadlineExceeded, "deadline"), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &streamfake.Participants{ChunkBytes: 1600, Drop: func(n, chunk int) error {
				if n == 0 && chunk == tt.dropAt {
					return tt.err
				}
				return nil
			}}
			var fr frames
			r := NewRelay(fakeClient(t, fake), testParticipant, pcm8k, 0, RelayOptions{Backoff: time.Millisecond}, fr.emit, discard())
			// The whole leg is buffered before the stream opens, so what the
			// restart replays is known exactly.
			audio := legAudio(60*1600 + 480)
			feed(r, audio, 320)
			wait := runRelay(t, r)
			r.Stop()
			if err := wait(); err != nil {
				t.Fatalf("Run = %v", err)
			}
			checkLeg(t, fake, pcm8k, audio, fr.get())
			streams := fake.Streams()
			if len(streams) != 2 || !streams[0].Dropped {
				t.Fatalf("%d streams, want the dropped one and its replacement", len(streams))
			}
			if got, want := len(streams[0].Audio), tt.dropAt*1600; got != want {
				t.Errorf("stream 0 got %d bytes before the drop, want %d", got, want)
			}
			replayed := len(audio) - tt.wantFinal
			if got := len(streams[1].Audio); got != replayed {
				t.Errorf("stream 1 got %d bytes, want %d: everything after the last final", got, replayed)
			}
			want := []Restarted{{Reason: "error", ReplayedMs: int64(replayed / 16)}}
			if got := restarts(fr.get()); !slices.Equal(got, want) {
				t.Errorf("restarted frames = %v, want %v", got, want)
			}
		})
	}
}

func TestRelayDurationRollover(t *testing.T) {
	fake := &streamfake.Participants{ChunkBytes: 1600, FinalEvery: 4}
	var fr frames
	r := NewRelay(fakeClient(t, fake), testParticipant, pcm8k, 0,
		RelayOptions{MaxDuration: 150 * time.Millisecond, RolloverWindow: 100 * time.Millisecond}, fr.emit, discard())
	wait := runRelay(t, r)
	audio := legAudio(120 * 1600)
	// Faster than real time, but slow enough that the leg outlives several
	// streams.
	for i := 0; i < len(audio); i += 800 {
		r.Audio(audio[i : i+800 : i+800])
		time.Sleep(2 * time.Millisecond)
	}
	r.Stop()
	if err := wait(); err != nil {
		t.Fatalf("Run = %v", err)
	}
	checkLeg(t, fake, pcm8k, audio, fr.get())
	streams := fake.Streams()
	if len(streams) < 2 {
		t.Fatalf("%d streams: the duration limit never rolled the stream over", len(streams))
	}
	for k, s := range streams {
		if !s.HalfClosed || s.Dropped {
			t.Errorf("stream %d was not half-closed gracefully", k)
		}
	}
	rs := restarts(fr.get())
	if len(rs) != len(streams)-1 {
		t.Errorf("%d restarted frames for %d streams", len(rs), len(streams))
	}
	for _, r := range rs {
		if r.Reason != "duration" {
			t.Errorf("restarted reason %q, want duration", r.Reason)
		}
	}
}

func TestRelayRefusals(t *testing.T) {
	tests := []struct {
		name        string
		err         error
		wantCode    string
		wantStreams int
	}{
		{"quota is not retried", status.Error(codes.ResourceExhausted, "ConcurrentBidiStreamingSessionsPerProjectPerRegion"), CodeQuota, 1},
		{"permission is not retried", status.Error(codes.PermissionDenied, "no"), CodeDialogflow, 1},
		{"unavailable is retried, boundedly", status.Error(codes.Unavailable, "down"), CodeUnavailable, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &streamfake.Participants{ChunkBytes: 1600, Drop: func(n, chunk int) error { return tt.err }}
			var fr frames
			r := NewRelay(fakeClient(t, fake), testParticipant, pcm8k, 0, RelayOptions{MaxRetries: 2, Backoff: time.Millisecond}, fr.emit, discard())
			feed(r, legAudio(16000), 1600)
			err := runRelay(t, r)()
			var e *Error
			if !errors.As(err, &e) || e.Code != tt.wantCode {
				t.Fatalf("Run = %v, want code %s", err, tt.wantCode)
			}
			if n := len(fake.Streams()); n != tt.wantStreams {
				t.Errorf("%d streams opened, want %d", n, tt.wantStreams)
			}
		})
	}
}

func TestRelayPauseResume(t *testing.T) {
	fake := &streamfake.Participants{ChunkBytes: 1600}
	var fr frames
	r := NewRelay(fakeClient(t, fake), testParticipant, pcm8k, 0, RelayOptions{}, fr.emit, discard())
	wait := runRelay(t, r)
	audio := legAudio(50*1600 + 320)
	feed(r, audio[:25*1600+160], 320)
	r.Pause()
	waitFor(t, "the paused stream to be half-closed and ended", func() bool {
		s := fake.Streams()
		return len(s) == 1 && s[0].HalfClosed && fake.Open() == 0
	})
	r.Resume()
	feed(r, audio[25*1600+160:], 320)
	r.Stop()
	if err := wait(); err != nil {
		t.Fatalf("Run = %v", err)
	}
	checkLeg(t, fake, pcm8k, audio, fr.get())
	if n := len(fake.Streams()); n != 2 {
		t.Errorf("%d streams, want 2", n)
	}
	if rs := restarts(fr.get()); len(rs) != 0 {
		t.Errorf("restarted frames %v for a resume, want none", rs)
	}
}

// waitFor polls cond until it holds.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestRelaySlowDialogflowBoundsMemory: a Dialogflow that takes no audio
// costs the oldest audio beyond the replay window, never memory.
func TestRelaySlowDialogflowBoundsMemory(t *testing.T) {
	stall := make(chan struct{})
	fake := &streamfake.Participants{ChunkBytes: 1600, Stall: stall}
	var fr frames
	r := NewRelay(fakeClient(t, fake), testParticipant, pcm8k, 0, RelayOptions{ReplayWindow: time.Second}, fr.emit, discard())
	wait := runRelay(t, r)
	waitFor(t, "the stream to open", func() bool { return fake.Open() == 1 })
	audio := legAudio(600 * 1600) // a minute
	feed(r, audio, 320)
	r.mu.Lock()
	held, dropped := len(r.buf.data), r.dropped
	r.mu.Unlock()
	if held > 16000 {
		t.Errorf("holding %d bytes of audio, want at most the 1 s window (16000)", held)
	}
	if dropped == 0 {
		t.Error("nothing dropped although Dialogflow took no audio")
	}
	close(stall)
	r.Stop()
	if err := wait(); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if v := fake.Violations(); len(v) > 0 {
		t.Errorf("violations %q", v)
	}
}
