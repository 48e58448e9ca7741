package stream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/routebot/routebot/common/store"
)

// Conversations finds a call leg's Dialogflow participant: the call's one
// conversation (created with the tenant's profile on first use, shared by
// both legs and every instance) and the participant of the role in it.
type Conversations interface {
	// Participant returns the participant, creating what is missing. It
	// fails with ErrUnknownBot, ErrNoProfile or ErrCompleted (wrapped) when
	// the leg cannot be streamed.
	Participant(ctx context.Context, callID, chatBotKey, role string) (Participant, error)
	// Complete completes the call's conversation.
	Complete(ctx context.Context, callID string) error
}

// Participant is a leg's Dialogflow participant and the client of the
// endpoint its conversation lives on.
type Participant struct {
	Name   string
	Client Participants
}

// Errors a Conversations implementation wraps so that the client is told why.
var (
	ErrUnknownBot = errors.New("unknown chatBotKey")
	ErrNoProfile  = errors.New("the tenant has no conversation profile")
	ErrCompleted  = errors.New("the call's conversation is completed")
)

// Transcripts keeps calls' final transcripts (store.Transcripts).
type Transcripts interface {
	AppendTranscript(ctx context.Context, callID string, e store.TranscriptEntry) error
	Transcript(ctx context.Context, callID string) ([]store.TranscriptEntry, error)
}

// Verifier authenticates the Authorization header (auth.Verifier).
type Verifier interface {
	Verify(authorization string) error
}

// DefaultMaxStreams is how many legs an instance streams by default.
const DefaultMaxStreams = 1000

// Options tune a Server; zero values take the defaults.
type Options struct {
	Relay RelayOptions
	// MaxStreams bounds the legs streaming on this instance (default 1000);
	// one more gets too_many_streams.
	MaxStreams int
	// ResumeGrace is how long a leg whose socket closed without stop waits
	// for a new socket (default 30s).
	ResumeGrace time.Duration
	// CompleteGrace is how long after a call's last leg ended its
	// conversation is completed (default 30s).
	CompleteGrace time.Duration
	// StartTimeout bounds the wait for the start frame (default 10s).
	StartTimeout time.Duration
	// MaxFrame bounds one client frame (default 1 MiB).
	MaxFrame int64
	// MaxQueued bounds the frames waiting for a slow or absent client
	// (default 256); beyond it interim transcripts and suggestions are
	// dropped (finals are in the transcript store anyway).
	MaxQueued int
	Logger    *slog.Logger
	Now       func() time.Time
}

func (o Options) withDefaults() Options {
	if o.MaxStreams <= 0 {
		o.MaxStreams = DefaultMaxStreams
	}
	if o.ResumeGrace <= 0 {
		o.ResumeGrace = 30 * time.Second
	}
	if o.CompleteGrace <= 0 {
		o.CompleteGrace = 30 * time.Second
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 10 * time.Second
	}
	if o.MaxFrame <= 0 {
		o.MaxFrame = 1 << 20
	}
	if o.MaxQueued <= 0 {
		o.MaxQueued = 256
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Relay = o.Relay.withDefaults()
	return o
}

// Server is the stream service: GET /v1/stream (the WebSocket) and POST
// /v1/calls/{callId}/complete.
type Server struct {
	conversations Conversations
	transcripts   Transcripts
	auth          Verifier
	opts          Options
	log           *slog.Logger

	ctx    context.Context // legs run on it, not on their sockets' requests
	cancel context.CancelFunc
	legsWG sync.WaitGroup

	mu      sync.Mutex
	legs    map[legKey]*leg
	calls   map[string]*call
	closing bool
}

type legKey struct{ callID, role string }

// call counts a call's legs on this instance, to complete its conversation
// once they have all ended.
type call struct {
	legs     int
	complete *time.Timer
}

// NewServer returns the service.
func NewServer(conv Conversations, tr Transcripts, auth Verifier, opts Options) *Server {
	opts = opts.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{conversations: conv, transcripts: tr, auth: auth, opts: opts, log: opts.Logger,
		ctx: ctx, cancel: cancel, legs: map[legKey]*leg{}, calls: map[string]*call{}}
}

// Mux is where Register mounts the service's routes: an http.ServeMux, or
// the gateway's router in the local run.
type Mux interface {
	HandleFunc(pattern string, handler func(http.ResponseWriter, *http.Request))
}

// Register mounts the service's routes on mux.
func (s *Server) Register(mux Mux) {
	mux.HandleFunc("GET /v1/stream", s.serveStream)
	mux.HandleFunc("POST /v1/calls/{callId}/complete", s.serveComplete)
}

// Streams is how many legs are open on this instance.
func (s *Server) Streams() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.legs)
}

func (s *Server) serveStream(w http.ResponseWriter, r *http.Request) {
	if err := s.auth.Verify(r.Header.Get("Authorization")); err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="routebot"`)
		http.Error(w, "unauthorized: the bearer token is missing or not accepted", http.StatusUnauthorized) // the detail is logged
		s.log.Warn("stream: refused an unauthenticated upgrade", "error", err)
		return
	}
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		// The gateway is a server, not a browser: no Origin to check.
		InsecureSkipVerify: true,
	})
	if err != nil {
		s.log.Warn("stream: websocket upgrade failed", "error", err)
		return
	}
	defer conn.CloseNow()
	conn.SetReadLimit(s.opts.MaxFrame)
	ctx := r.Context()

	start, err := s.readStart(ctx, conn)
	if err != nil {
		s.refuse(ctx, conn, err)
		return
	}
	sock := &socket{conn: conn, done: make(chan struct{})}
	lg, err := s.attach(ctx, start, sock)
	if err != nil {
		s.refuse(ctx, conn, err)
		return
	}
	s.log.Info("stream: leg attached", "call_id", start.CallID, "role", start.Role,
		"offset_ms", start.Format.Duration(lg.relay.Received()).Milliseconds())
	go lg.write(sock)
	if stopped := s.readAudio(ctx, sock, lg); !stopped {
		lg.detach(sock, s.opts.ResumeGrace)
	}
	<-sock.done
}

// readStart reads and validates the start frame.
func (s *Server) readStart(ctx context.Context, conn *websocket.Conn) (Start, error) {
	s.mu.Lock()
	closing, full := s.closing, len(s.legs) >= s.opts.MaxStreams
	s.mu.Unlock()
	switch {
	case closing:
		return Start{}, errorf(CodeShutdown, "the instance is shutting down: reconnect")
	case full:
		return Start{}, errorf(CodeTooManyStreams, "this instance streams its maximum of %d legs: retry", s.opts.MaxStreams)
	}
	rctx, cancel := context.WithTimeout(ctx, s.opts.StartTimeout)
	defer cancel()
	typ, b, err := conn.Read(rctx)
	if err != nil {
		return Start{}, errorf(CodeBadStart, "no start frame within %s", s.opts.StartTimeout)
	}
	if typ != websocket.MessageText {
		return Start{}, errorf(CodeBadStart, "the first frame must be the text start frame, not audio")
	}
	return ParseStart(b)
}

// refuse sends an error frame and closes with its code.
func (s *Server) refuse(ctx context.Context, conn *websocket.Conn, err error) {
	var e *Error
	if !errors.As(err, &e) {
		s.log.Error("stream: internal error", "error", err)
		e = errorf(CodeInternal, "internal error")
	}
	s.log.Warn("stream: refused", "code", e.Code, "reason", e.Message)
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_ = conn.Write(wctx, websocket.MessageText, Encode(e))
	_ = conn.Close(e.CloseCode(), e.Code)
}

// readAudio relays the socket's audio until stop (true) or the socket ends.
func (s *Server) readAudio(ctx context.Context, sock *socket, lg *leg) (stopped bool) {
	conn := sock.conn
	var frame bytes.Buffer // reused: the relay copies what it is given
	for {
		typ, rd, err := conn.Reader(ctx)
		if err != nil {
			return false
		}
		frame.Reset()
		if _, err := frame.ReadFrom(rd); err != nil {
			return false
		}
		b := frame.Bytes()
		if typ == websocket.MessageBinary {
			if len(b) > 0 {
				lg.relay.Audio(b)
			}
			continue
		}
		_, err = parseControl(b)
		switch {
		case errors.Is(err, errStop):
			lg.stop()
			// Keep reading: the socket closes once the results are
			// flushed, and a close from the client ends the read.
			_, _, _ = conn.Read(ctx)
			return true
		case err != nil:
			lg.fail(sock, err.(*Error))
		default:
			lg.fail(sock, errorf(CodeSecondStart, "a second start frame on a started leg"))
		}
	}
}

// attach finds the leg of start (a resumed socket) or starts it.
func (s *Server) attach(ctx context.Context, start Start, sock *socket) (*leg, error) {
	key := legKey{start.CallID, start.Role}
	s.mu.Lock()
	if lg, ok := s.legs[key]; ok {
		defer s.mu.Unlock()
		return lg, lg.resume(start, sock)
	}
	s.mu.Unlock()

	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	participant, err := s.conversations.Participant(pctx, start.CallID, start.ChatBotKey, start.Role)
	switch {
	case errors.Is(err, ErrUnknownBot):
		return nil, errorf(CodeUnknownBot, "chatBotKey %q is no tenant's bot", start.ChatBotKey)
	case errors.Is(err, ErrNoProfile):
		return nil, errorf(CodeNoProfile, "the tenant of chatBotKey %q has no conversation profile: reconcile it first", start.ChatBotKey)
	case errors.Is(err, ErrCompleted):
		return nil, errorf(CodeCompleted, "call %s's conversation is completed", start.CallID)
	case err != nil:
		s.log.Error("stream: finding the call's participant failed", "call_id", start.CallID, "role", start.Role, "error", err)
		return nil, errorf(CodeUnavailable, "the call's Dialogflow conversation cannot be reached: retry")
	}
	// A leg that began on another instance continues its offsets after its
	// last stored final.
	var base int64
	if entries, err := s.transcripts.Transcript(pctx, start.CallID); err == nil {
		for _, e := range entries {
			if e.Role == start.Role {
				base = max(base, start.Format.Bytes(time.Duration(e.EndMs)*time.Millisecond))
			}
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		s.log.Warn("stream: reading the call's transcript failed; offsets start at 0", "call_id", start.CallID, "error", err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if lg, ok := s.legs[key]; ok { // raced with another socket of the same leg
		return lg, lg.resume(start, sock)
	}
	switch {
	case s.closing:
		return nil, errorf(CodeShutdown, "the instance is shutting down: reconnect")
	case len(s.legs) >= s.opts.MaxStreams:
		return nil, errorf(CodeTooManyStreams, "this instance streams its maximum of %d legs: retry", s.opts.MaxStreams)
	}
	lg := newLeg(s, key, start, participant, base, sock)
	s.legs[key] = lg
	c := s.calls[start.CallID]
	if c == nil {
		c = &call{}
		s.calls[start.CallID] = c
	}
	if c.complete != nil {
		c.complete.Stop()
		c.complete = nil
	}
	c.legs++
	s.legsWG.Add(1)
	go lg.run(s.ctx)
	return lg, nil
}

// ended removes a finished leg and, when it was its call's last, schedules
// the conversation's completion.
func (s *Server) ended(lg *leg, completeConversation bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.legs, lg.key)
	c := s.calls[lg.key.callID]
	if c == nil {
		return
	}
	c.legs--
	if c.legs > 0 {
		return
	}
	if !completeConversation || s.closing {
		// The call goes on elsewhere (the instance is stopping).
		delete(s.calls, lg.key.callID)
		return
	}
	callID := lg.key.callID
	c.complete = time.AfterFunc(s.opts.CompleteGrace, func() {
		s.mu.Lock()
		if cur := s.calls[callID]; cur != c || c.legs > 0 {
			s.mu.Unlock()
			return
		}
		delete(s.calls, callID)
		s.mu.Unlock()
		s.complete(callID)
	})
}

func (s *Server) complete(callID string) {
	ctx, cancel := context.WithTimeout(s.ctx, 15*time.Second)
	defer cancel()
	if err := s.conversations.Complete(ctx, callID); err != nil {
		s.log.Error("stream: completing the call's conversation failed", "call_id", callID, "error", err)
		return
	}
	s.log.Info("stream: conversation completed", "call_id", callID)
}

// serveComplete stops the call's legs on this instance, waits for their
// last results and completes the conversation.
func (s *Server) serveComplete(w http.ResponseWriter, r *http.Request) {
	if err := s.auth.Verify(r.Header.Get("Authorization")); err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="routebot"`)
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "unauthorized"})
		return
	}
	callID := r.PathValue("callId")
	if callID == "" || len(callID) > maxID {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": fmt.Sprintf("callId is required, at most %d bytes", maxID)})
		return
	}
	s.mu.Lock()
	var legs []*leg
	for k, lg := range s.legs {
		if k.callID == callID {
			legs = append(legs, lg)
		}
	}
	if c := s.calls[callID]; c != nil && c.complete != nil {
		c.complete.Stop()
	}
	delete(s.calls, callID)
	s.mu.Unlock()
	for _, lg := range legs {
		lg.stop()
	}
	for _, lg := range legs {
		select {
		case <-lg.done:
		case <-r.Context().Done():
			return
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	if err := s.conversations.Complete(ctx, callID); err != nil {
		s.log.Error("stream: completing the call's conversation failed", "call_id", callID, "error", err)
		writeJSON(w, http.StatusBadGateway, map[string]any{"error": "completing the conversation failed: retry"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"callId": callID, "completed": true, "legsStopped": len(legs)})
}

// Shutdown flushes every leg: the rest of its audio is sent, the stream
// half-closed and its results delivered; a client that had sent stop gets
// end, the others shutting_down (close 1012) so they resume the leg on
// another instance. Legs still running when ctx ends are cut.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	legs := make([]*leg, 0, len(s.legs))
	for _, lg := range s.legs {
		legs = append(legs, lg)
	}
	for _, c := range s.calls {
		if c.complete != nil {
			c.complete.Stop()
		}
	}
	s.mu.Unlock()
	for _, lg := range legs {
		lg.shutdown()
	}
	done := make(chan struct{})
	go func() { s.legsWG.Wait(); close(done) }()
	select {
	case <-done:
		s.cancel()
		return nil
	case <-ctx.Done():
		s.cancel()
		<-done
		return fmt.Errorf("stream: shutdown: %d legs were cut: %w", len(legs), ctx.Err())
	}
}
