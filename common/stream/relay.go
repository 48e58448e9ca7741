package stream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"cloud.google.com/go/dialogflow/apiv2beta1/dialogflowpb"
	"github.com/googleapis/gax-go/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Participants opens BidiStreamingAnalyzeContent streams
// (*apiv2beta1.ParticipantsClient).
type Participants interface {
	BidiStreamingAnalyzeContent(ctx context.Context, opts ...gax.CallOption) (dialogflowpb.Participants_BidiStreamingAnalyzeContentClient, error)
}

// RelayOptions tune a leg's relay; zero values take the defaults.
type RelayOptions struct {
	// MaxDuration is how long one Dialogflow stream may live (Dialogflow
	// allows 15 minutes; default 14m).
	MaxDuration time.Duration
	// RolloverWindow is how long before MaxDuration the stream is
	// half-closed after the next final result, so that no utterance is cut
	// (default one minute, at most half of MaxDuration).
	RolloverWindow time.Duration
	// DrainTimeout bounds the wait for the last results after a half-close
	// (default 10s).
	DrainTimeout time.Duration
	// ReplayWindow bounds the audio kept for replay: what follows the last
	// final result, plus audio not yet sent. Beyond it the oldest is dropped
	// and logged (default 30s).
	ReplayWindow time.Duration
	// MaxRetries bounds consecutive failed reopens after stream errors
	// (default 5); Backoff is the first retry's delay, doubled on each
	// (default 200ms, capped at 5s).
	MaxRetries int
	Backoff    time.Duration
}

func (o RelayOptions) withDefaults() RelayOptions {
	if o.MaxDuration <= 0 {
		o.MaxDuration = 14 * time.Minute
	}
	if o.RolloverWindow <= 0 {
		o.RolloverWindow = time.Minute
	}
	o.RolloverWindow = min(o.RolloverWindow, o.MaxDuration/2)
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = 10 * time.Second
	}
	if o.ReplayWindow <= 0 {
		o.ReplayWindow = 30 * time.Second
	}
	if o.MaxRetries <= 0 {
		o.MaxRetries = 5
	}
	if o.Backoff <= 0 {
		o.Backoff = 200 * time.Millisecond
	}
	return o
}

// want is what the leg's owner asks of the relay.
type want uint8

const (
	wantRunning want = iota // stream audio
	wantPaused              // the socket went away: flush, then wait for a resumed socket
	wantStopped             // the leg is over: flush, then end
)

// Relay streams one call leg's audio to one Dialogflow participant and
// hands back what Dialogflow answers. It outlives any one Dialogflow stream
// (reopened before the duration limit and after errors, replaying the audio
// after the last final result) and any one socket (Pause, Resume).
type Relay struct {
	participants Participants
	participant  string
	format       Format
	opts         RelayOptions
	emit         func(Frame)
	log          *slog.Logger

	mu      sync.Mutex
	buf     audioBuffer
	want    want
	dropped int64 // audio bytes the replay bound dropped, in total
	wake    chan struct{}

	// Owned by Run's goroutine.
	chunk      int
	confirmed  int64 // leg offset of the last final result's end
	streamBase int64 // leg offset of the current stream's first audio byte
	sent       int64 // leg offset up to which the current stream has audio
}

// NewRelay returns the relay of one leg. base is the leg offset of the
// first byte it will be given (non-zero when a leg resumes on an instance
// that did not see its start). emit is called from Run's goroutine only.
func NewRelay(p Participants, participant string, f Format, base int64, opts RelayOptions, emit func(Frame), log *slog.Logger) *Relay {
	opts = opts.withDefaults()
	return &Relay{participants: p, participant: participant, format: f, opts: opts, emit: emit, log: log,
		buf:   audioBuffer{start: base, max: int(f.Bytes(opts.ReplayWindow))},
		wake:  make(chan struct{}, 1),
		chunk: f.ChunkBytes(), confirmed: base, streamBase: base, sent: base}
}

// Audio adds raw audio of any length; it never blocks on Dialogflow. The
// relay copies p: the caller may reuse it.
func (r *Relay) Audio(p []byte) {
	r.mu.Lock()
	dropped := r.buf.append(p)
	r.dropped += int64(dropped)
	r.mu.Unlock()
	if dropped > 0 {
		r.log.Warn("stream: Dialogflow is not taking audio fast enough; dropping the oldest beyond the replay window",
			"participant", r.participant, "dropped_ms", r.format.Duration(int64(dropped)).Milliseconds())
	}
	r.signal()
}

// Pause flushes the leg (its socket went away) and keeps it ready to Resume.
func (r *Relay) Pause() { r.setWant(wantPaused) }

// Resume streams again after Pause.
func (r *Relay) Resume() { r.setWant(wantRunning) }

// Stop flushes the leg: the rest of the audio is sent, the stream
// half-closed and its last results delivered; then Run returns.
func (r *Relay) Stop() { r.setWant(wantStopped) }

func (r *Relay) setWant(w want) {
	r.mu.Lock()
	if r.want != wantStopped { // stopping is final
		r.want = w
	}
	r.mu.Unlock()
	r.signal()
}

func (r *Relay) signal() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *Relay) wanted() want {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.want
}

// Received is the leg offset after the last audio byte received.
func (r *Relay) Received() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.end()
}

// outcome is how one Dialogflow stream ended.
type outcome uint8

const (
	drained outcome = iota // half-closed and every result read
	broken                 // failed; reopen and replay
)

// errEarlyEOF is a stream the server ended before we half-closed it.
var errEarlyEOF = errors.New("Dialogflow ended the stream before it was half-closed")

// Run relays until the leg is stopped and flushed (nil), ctx is done, or
// Dialogflow cannot be reached (a *Error, already worth an error frame).
// Give it a context of its own, not the socket's request: it outlives
// sockets.
func (r *Relay) Run(ctx context.Context) error {
	reason := "" // why the next stream opens: "" (first or resumed), duration, error
	failures := 0
	for {
		out, gotResults, err := r.session(ctx, reason)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		switch out {
		case drained:
			failures = 0
			if err == nil {
				// A rollover: audio kept arriving while the old stream
				// drained, so a new stream takes it whatever the leg wants
				// (it half-closes at once when the leg is pausing or
				// stopping).
				reason = "duration"
				continue
			}
			// Flushed for a pause or a stop: wait for a resume, and stream
			// again if audio came after it (however soon a stop followed).
			w := r.waitRunning(ctx)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if w == wantStopped && r.Received() <= r.sent {
				return nil
			}
			reason = ""
			continue
		case broken:
			if gotResults {
				failures = 0
			}
			if e := classify(err); e != nil {
				r.log.Error("stream: Dialogflow refused the stream", "participant", r.participant, "error", err)
				return e
			}
			failures++
			if failures > r.opts.MaxRetries {
				r.log.Error("stream: Dialogflow stream keeps failing; giving up", "participant", r.participant,
					"attempts", failures, "error", err)
				return errorf(CodeUnavailable, "Dialogflow stream failed %d times in a row: %s", failures, status.Code(err))
			}
			delay := min(r.opts.Backoff<<(failures-1), 5*time.Second)
			r.log.Warn("stream: Dialogflow stream failed; reopening", "participant", r.participant,
				"attempt", failures, "delay_ms", delay.Milliseconds(), "error", err)
			reason = "error"
			if status.Code(err) == codes.OutOfRange { // the stream outlived Dialogflow's limit
				reason = "duration"
			}
			t := time.NewTimer(delay)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
	}
}

// waitRunning blocks while the leg is paused.
func (r *Relay) waitRunning(ctx context.Context) want {
	for {
		if w := r.wanted(); w != wantPaused {
			return w
		}
		select {
		case <-ctx.Done():
			return wantStopped
		case <-r.wake:
		}
	}
}

// classify returns the *Error of a stream failure that must not be retried,
// nil for one worth a reopen.
func classify(err error) *Error {
	if errors.Is(err, errEarlyEOF) {
		return nil
	}
	switch c := status.Code(err); c {
	case codes.Unavailable, codes.Internal, codes.DeadlineExceeded, codes.Aborted, codes.Unknown,
		codes.OutOfRange, codes.Canceled:
		return nil
	case codes.ResourceExhausted:
		return errorf(CodeQuota, "Dialogflow's concurrent streaming sessions quota (ConcurrentBidiStreamingSessionsPerProjectPerRegion) is exhausted; retry the leg later")
	default:
		return errorf(CodeDialogflow, "Dialogflow refused the stream: %s", c)
	}
}

// received is one Recv's result.
type received struct {
	resp *dialogflowpb.BidiStreamingAnalyzeContentResponse
	err  error
}

// session runs one Dialogflow stream: config, the replay, live audio, until
// it is drained after a half-close (err nil for a rollover, errPaused when
// the leg paused or stopped) or broken.
func (r *Relay) session(ctx context.Context, reason string) (out outcome, gotResults bool, err error) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, err := r.participants.BidiStreamingAnalyzeContent(sctx)
	if err != nil {
		return broken, false, fmt.Errorf("BidiStreamingAnalyzeContent: %w", err)
	}
	cfg := &dialogflowpb.BidiStreamingAnalyzeContentRequest{Request: &dialogflowpb.BidiStreamingAnalyzeContentRequest_Config_{
		Config: &dialogflowpb.BidiStreamingAnalyzeContentRequest_Config{
			Participant: r.participant,
			Config: &dialogflowpb.BidiStreamingAnalyzeContentRequest_Config_VoiceSessionConfig_{
				VoiceSessionConfig: &dialogflowpb.BidiStreamingAnalyzeContentRequest_Config_VoiceSessionConfig{
					InputAudioEncoding:        r.format.Encoding,
					InputAudioSampleRateHertz: r.format.SampleRateHertz,
				}},
		}}}
	if err := st.Send(cfg); err != nil {
		return broken, false, r.sendFailure(st, err)
	}

	// Replay from the end of the last final result: whatever the old stream
	// heard after it was not recognised for good.
	r.mu.Lock()
	base := r.confirmed
	if base < r.buf.start {
		r.log.Warn("stream: audio after the last final result exceeded the replay window; replaying what is kept",
			"participant", r.participant, "lost_ms", r.format.Duration(r.buf.start-base).Milliseconds())
		base = r.buf.start
	}
	replay := r.buf.end() - base
	r.mu.Unlock()
	r.streamBase, r.sent = base, base
	if reason != "" {
		r.emit(Restarted{Reason: reason, ReplayedMs: r.format.Duration(replay).Milliseconds()})
	}

	recv := make(chan received, 1)
	go func() {
		for {
			resp, err := st.Recv()
			select {
			case recv <- received{resp, err}:
			case <-sctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()

	opened := time.Now()
	rollover := time.NewTimer(r.opts.MaxDuration - r.opts.RolloverWindow)
	limit := time.NewTimer(r.opts.MaxDuration)
	defer rollover.Stop()
	defer limit.Stop()
	var drain <-chan time.Time
	halfClosed, rollingOver, sendFailed := false, false, false
	var pauseErr error // non-nil once half-closed for a pause or stop
	halfClose := func(cause error) {
		if halfClosed || sendFailed {
			return
		}
		halfClosed, pauseErr = true, cause
		if err := st.CloseSend(); err != nil {
			sendFailed = true
		}
		drain = time.After(r.opts.DrainTimeout)
	}
	for {
		if !halfClosed && !sendFailed {
			w := r.wanted()
			if err := r.sendAudio(st, w != wantRunning); err != nil {
				sendFailed = true
				drain = time.After(r.opts.DrainTimeout)
			} else if w != wantRunning {
				halfClose(errPaused)
			}
		}
		wake := r.wake
		if halfClosed || sendFailed {
			wake = nil // audio waits in the buffer for the next stream
		}
		select {
		case <-ctx.Done():
			return broken, gotResults, ctx.Err()
		case <-wake:
		case m := <-recv:
			if m.err != nil {
				switch {
				case errors.Is(m.err, io.EOF) && halfClosed:
					return drained, gotResults, pauseErr
				case errors.Is(m.err, io.EOF):
					return broken, gotResults, errEarlyEOF
				}
				return broken, gotResults, m.err
			}
			gotResults = true
			if r.handle(m.resp) && rollingOver {
				halfClose(nil)
			}
		case <-rollover.C:
			rollingOver = true
		case <-limit.C:
			r.log.Info("stream: no final result before the duration limit; rolling over mid-utterance",
				"participant", r.participant, "age_s", time.Since(opened).Seconds())
			halfClose(nil)
		case <-drain:
			if sendFailed {
				return broken, gotResults, errors.New("Dialogflow stream: send failed and no status followed")
			}
			r.log.Warn("stream: Dialogflow did not finish the half-closed stream in time; results after it are lost",
				"participant", r.participant, "drain_timeout", r.opts.DrainTimeout.String())
			return drained, gotResults, pauseErr
		}
	}
}

// errPaused marks a stream drained because the leg paused or stopped.
var errPaused = errors.New("leg paused")

// sendFailure waits briefly for the status that explains a failed Send
// (grpc reports io.EOF from Send; the cause comes from Recv).
func (r *Relay) sendFailure(st dialogflowpb.Participants_BidiStreamingAnalyzeContentClient, err error) error {
	if !errors.Is(err, io.EOF) {
		return fmt.Errorf("BidiStreamingAnalyzeContent send: %w", err)
	}
	done := make(chan error, 1)
	go func() {
		for {
			if _, err := st.Recv(); err != nil {
				done <- err
				return
			}
		}
	}()
	select {
	case err := <-done:
		return fmt.Errorf("BidiStreamingAnalyzeContent: %w", err)
	case <-time.After(r.opts.DrainTimeout):
		return fmt.Errorf("BidiStreamingAnalyzeContent send: %w", err)
	}
}

// sendAudio sends every whole 100 ms chunk not yet sent, and with flush the
// remainder too.
func (r *Relay) sendAudio(st dialogflowpb.Participants_BidiStreamingAnalyzeContentClient, flush bool) error {
	for {
		r.mu.Lock()
		if lost := r.buf.start - r.sent; lost > 0 {
			// The replay bound dropped audio this stream never got: skip
			// it, and keep leg offsets right by moving the stream's base.
			r.sent += lost
			r.streamBase += lost
		}
		n := r.buf.end() - r.sent
		if n <= 0 || (n < int64(r.chunk) && !flush) {
			r.mu.Unlock()
			return nil
		}
		n = min(n, int64(r.chunk))
		b := r.buf.slice(r.sent, r.sent+n)
		r.mu.Unlock()
		req := &dialogflowpb.BidiStreamingAnalyzeContentRequest{Request: &dialogflowpb.BidiStreamingAnalyzeContentRequest_Input_{
			Input: &dialogflowpb.BidiStreamingAnalyzeContentRequest_Input{
				Input: &dialogflowpb.BidiStreamingAnalyzeContentRequest_Input_Audio{Audio: b}}}}
		if err := st.Send(req); err != nil {
			return err
		}
		r.sent += int64(len(b))
	}
}

// handle translates one response into frames; it reports whether it was a
// final transcript.
func (r *Relay) handle(resp *dialogflowpb.BidiStreamingAnalyzeContentResponse) (final bool) {
	if rr := resp.GetRecognitionResult(); rr != nil {
		if rr.GetMessageType() == dialogflowpb.StreamingRecognitionResult_END_OF_SINGLE_UTTERANCE {
			return false
		}
		end := r.streamBase + r.format.Bytes(rr.GetSpeechEndOffset().AsDuration())
		end = min(end, r.sent) // Dialogflow cannot have heard what was not sent
		t := Transcript{Text: rr.GetTranscript(), IsFinal: rr.GetIsFinal(), LanguageCode: rr.GetLanguageCode(),
			SpeechEndOffsetMs: r.format.Duration(end).Milliseconds()}
		if !t.IsFinal {
			if t.Text != "" {
				r.emit(t)
			}
			return false
		}
		if end <= r.confirmed && rr.GetSpeechEndOffset() != nil {
			// Already delivered before a restart: never twice.
			r.log.Debug("stream: dropping a final result that ends before the last one", "participant", r.participant)
			return true
		}
		t.SpeechStartOffsetMs = r.format.Duration(r.confirmed).Milliseconds()
		r.confirmed = max(r.confirmed, end)
		r.mu.Lock()
		r.buf.trimTo(r.confirmed)
		r.mu.Unlock()
		if t.Text != "" {
			r.emit(t)
		}
		return true
	}
	if acr := resp.GetAnalyzeContentResponse(); acr != nil {
		for _, s := range suggestions(acr) {
			r.emit(s)
		}
	}
	return false
}
