package stream

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/routebot/routebot/common/store"
)

// leg is one call leg (a call and a role) on this instance: its relay, and
// the frames on their way to whichever socket carries the leg now.
type leg struct {
	s     *Server
	key   legKey
	start Start
	relay *Relay
	done  chan struct{} // closed when the relay has ended
	wake  chan struct{}

	appends sync.WaitGroup // transcript writes in flight

	mu           sync.Mutex
	sock         *socket // nil while detached
	queue        []Frame
	finals       []Transcript // the last finals queued, for a resumed socket that lost some
	dropped      int
	grace        *time.Timer
	stopped      bool  // the client sent stop
	shuttingDown bool  // the instance is stopping
	final        Frame // End or *Error, once the relay has ended
}

// socket is one WebSocket carrying a leg.
type socket struct {
	conn      *websocket.Conn
	done      chan struct{} // the writer has finished
	closeWith *Error        // a protocol error: close after flushing
}

func newLeg(s *Server, key legKey, start Start, p Participant, base int64, sock *socket) *leg {
	lg := &leg{s: s, key: key, start: start, sock: sock, done: make(chan struct{}), wake: make(chan struct{}, 1)}
	lg.relay = NewRelay(p.Client, p.Name, start.Format, base, s.opts.Relay, lg.emit,
		s.log.With("call_id", key.callID, "role", key.role))
	return lg
}

func (lg *leg) signal() {
	select {
	case lg.wake <- struct{}{}:
	default:
	}
}

// run relays until the leg ends, then hands the last frame to the socket.
func (lg *leg) run(ctx context.Context) {
	defer lg.s.legsWG.Done()
	err := lg.relay.Run(ctx)
	lg.appends.Wait()
	lg.mu.Lock()
	var e *Error
	switch {
	case errors.As(err, &e):
		lg.final = e
	case err != nil || (lg.shuttingDown && !lg.stopped):
		lg.final = errorf(CodeShutdown, "the instance is shutting down: reconnect to resume the leg")
	default:
		lg.final = End{}
	}
	if lg.grace != nil {
		lg.grace.Stop()
	}
	shutdown := lg.shuttingDown
	lg.mu.Unlock()
	lg.signal()
	lg.s.ended(lg, !shutdown)
	close(lg.done)
}

// emit queues a frame for the client and stores final transcripts. It runs
// on the relay's goroutine, so the store write goes on one of its own.
func (lg *leg) emit(f Frame) {
	if t, ok := f.(Transcript); ok && t.IsFinal {
		e := store.TranscriptEntry{Role: lg.key.role, Text: t.Text, StartMs: t.SpeechStartOffsetMs,
			EndMs: t.SpeechEndOffsetMs, Time: lg.s.opts.Now(), LanguageCode: lg.languageCode(t)}
		lg.appends.Add(1)
		go func() {
			defer lg.appends.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := lg.s.transcripts.AppendTranscript(ctx, lg.key.callID, e); err != nil {
				lg.s.log.Error("stream: storing a final transcript failed; /chat-gpt will miss it",
					"call_id", lg.key.callID, "role", lg.key.role, "end_ms", e.EndMs, "error", err)
			}
		}()
	}
	lg.mu.Lock()
	if len(lg.queue) >= lg.s.opts.MaxQueued && droppable(f) {
		lg.dropped++
		n := lg.dropped
		lg.mu.Unlock()
		if n&(n-1) == 0 { // log the 1st, 2nd, 4th, 8th… drop
			lg.s.log.Warn("stream: the client is not reading; dropping interim transcripts and suggestions",
				"call_id", lg.key.callID, "role", lg.key.role, "dropped", n)
		}
		return
	}
	lg.queue = append(lg.queue, f)
	if t, ok := f.(Transcript); ok && t.IsFinal {
		if len(lg.finals) == maxKeptFinals {
			lg.finals = append(lg.finals[:0], lg.finals[1:]...)
		}
		lg.finals = append(lg.finals, t)
	}
	lg.mu.Unlock()
	lg.signal()
}

// maxKeptFinals bounds the finals a leg keeps to send again: a socket dies
// with a few in flight at most.
const maxKeptFinals = 32

func (lg *leg) languageCode(t Transcript) string {
	if t.LanguageCode != "" {
		return t.LanguageCode
	}
	return lg.start.LanguageCode
}

// droppable frames are those a client can do without: finals are also in the
// transcript store, control frames are few.
func droppable(f Frame) bool {
	switch f := f.(type) {
	case Transcript:
		return !f.IsFinal
	case Suggestion:
		return true
	}
	return false
}

// write sends the leg's frames on sock until the leg ends (then closes it
// with the end or error frame's code), sock fails, or the leg moves on.
func (lg *leg) write(sock *socket) {
	defer close(sock.done)
	for {
		lg.mu.Lock()
		if lg.sock != sock {
			lg.mu.Unlock()
			return
		}
		frames := lg.queue
		lg.queue = nil
		final, closeWith := lg.final, sock.closeWith
		lg.mu.Unlock()
		for i, f := range frames {
			if err := writeFrame(sock.conn, f); err != nil {
				// Not delivered: the next socket gets them.
				lg.mu.Lock()
				lg.queue = append(frames[i:], lg.queue...)
				lg.mu.Unlock()
				sock.conn.CloseNow()
				return
			}
		}
		if len(frames) > 0 {
			continue
		}
		switch {
		case closeWith != nil:
			_ = sock.conn.Close(closeWith.CloseCode(), closeWith.Code)
			return
		case final != nil:
			code, reason := websocket.StatusNormalClosure, "end"
			if e, ok := final.(*Error); ok {
				code, reason = e.CloseCode(), e.Code
			}
			if writeFrame(sock.conn, final) == nil {
				_ = sock.conn.Close(code, reason)
			}
			return
		}
		<-lg.wake
	}
}

func writeFrame(conn *websocket.Conn, f Frame) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return conn.Write(ctx, websocket.MessageText, Encode(f))
}

// resume attaches a new socket to the leg.
func (lg *leg) resume(start Start, sock *socket) error {
	lg.mu.Lock()
	defer lg.mu.Unlock()
	switch {
	case lg.final != nil:
		return errorf(CodeUnavailable, "the leg has just ended: retry to start it again")
	case lg.stopped:
		return errorf(CodeLegActive, "call %s's %s leg is ending: it was stopped", start.CallID, start.Role)
	case start.Format != lg.start.Format:
		return errorf(CodeBadStart, "a resumed leg keeps its encoding and sample rate (%s at %d Hz)",
			lg.start.EncodingName, lg.start.SampleRateHertz)
	}
	if lg.grace != nil {
		lg.grace.Stop()
		lg.grace = nil
	}
	if old := lg.sock; old != nil {
		// The new socket wins: the old one is most likely dead and not
		// yet noticed (a network blip). Frames it did not take go to the
		// new socket; what it took is not sent again.
		old.conn.CloseNow()
	}
	if start.LastFinalEndMs >= 0 {
		// Finals the client says it lacks, unless they are still queued.
		var lost []Frame
		for _, t := range lg.finals {
			if t.SpeechEndOffsetMs > start.LastFinalEndMs && !slices.Contains(lg.queue, Frame(t)) {
				lost = append(lost, t)
			}
		}
		lg.queue = append(lost, lg.queue...)
	}
	lg.sock = sock
	lg.relay.Resume()
	lg.signal()
	return nil
}

// detach leaves the leg without a socket: the relay flushes and waits for
// a new socket for up to grace, then the leg ends.
func (lg *leg) detach(sock *socket, grace time.Duration) {
	lg.mu.Lock()
	defer lg.mu.Unlock()
	if lg.sock != sock {
		return
	}
	lg.sock = nil
	lg.signal() // the writer sees it is no longer attached
	if lg.final != nil || lg.stopped {
		return
	}
	lg.relay.Pause()
	lg.grace = time.AfterFunc(grace, func() {
		lg.mu.Lock()
		expired := lg.sock == nil
		lg.mu.Unlock()
		if expired {
			lg.s.log.Info("stream: leg was not resumed in time; ending it", "call_id", lg.key.callID, "role", lg.key.role)
			lg.relay.Stop()
		}
	})
}

// stop is the client's stop frame: flush, then end.
func (lg *leg) stop() {
	lg.mu.Lock()
	lg.stopped = true
	lg.mu.Unlock()
	lg.relay.Stop()
}

// shutdown flushes the leg because the instance is stopping.
func (lg *leg) shutdown() {
	lg.mu.Lock()
	lg.shuttingDown = true
	lg.mu.Unlock()
	lg.relay.Stop()
}

// fail reports a client's protocol error on sock, then closes it.
func (lg *leg) fail(sock *socket, e *Error) {
	lg.mu.Lock()
	if lg.sock == sock && sock.closeWith == nil {
		lg.queue = append(lg.queue, e)
		sock.closeWith = e
	}
	lg.mu.Unlock()
	lg.signal()
}
