// Package streamfake is an in-process fake of Dialogflow v2beta1
// Participants.BidiStreamingAnalyzeContent for the stream service's tests
// and benchmarks. It checks what it receives (config first, naming a known
// participant; audio in 100 ms chunks), answers interim and final results
// whose text identifies the audio they cover, and can drop a stream mid-call.
package streamfake

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/dialogflow/apiv2beta1/dialogflowpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Text is the transcript the fake gives for a segment of audio: its length
// and checksum, so a test can tell exactly which bytes a final covered.
func Text(segment []byte) string {
	return fmt.Sprintf("seg %d %08x", len(segment), crc32.ChecksumIEEE(segment))
}

// Stream is what one BidiStreamingAnalyzeContent call received.
type Stream struct {
	Config     *dialogflowpb.BidiStreamingAnalyzeContentRequest_Config
	Audio      []byte
	Chunks     []int // each audio request's size
	HalfClosed bool  // the client half-closed it
	Dropped    bool  // the fake failed it on purpose
	Finals     []Final
}

// Final is a final result the fake sent: its text and where it ends, in
// bytes from the stream's first audio byte.
type Final struct {
	Text string
	End  int
}

// Participants is the fake service. Set the fields before serving.
type Participants struct {
	dialogflowpb.UnimplementedParticipantsServer

	// ChunkBytes is the size every audio request must have (the last one
	// before a half-close may be shorter).
	ChunkBytes int
	// FinalEvery and InterimEvery are how many chunks make a final result
	// and an interim one (defaults 10 and 3).
	FinalEvery, InterimEvery int
	// Drop, when it returns a non-nil error, fails stream n (0-based) with it
	// after its chunk-th audio request.
	Drop func(n, chunk int) error
	// Suggest sends an FAQ suggestion after every final result.
	Suggest bool
	// Known reports whether a participant name exists (all do when nil).
	Known func(participant string) bool
	// Forget keeps no audio (benchmarks): finals are named by their end
	// offset, and Streams' Audio stays empty.
	Forget bool
	// Stall, when set, holds every stream after its config until it is
	// closed: a Dialogflow that takes no audio.
	Stall <-chan struct{}
	// Transcribe is a final result's text for the audio it covers (Text
	// when nil).
	Transcribe func(segment []byte) string

	mu         sync.Mutex
	streams    []*Stream
	violations []string
	open       int
	received   int
}

func (p *Participants) violate(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	p.mu.Lock()
	p.violations = append(p.violations, msg)
	p.mu.Unlock()
	return status.Error(codes.InvalidArgument, msg)
}

// Violations lists every protocol violation seen; a test fails on any.
func (p *Participants) Violations() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.violations...)
}

// Streams returns copies of the streams received so far.
func (p *Participants) Streams() []Stream {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Stream, len(p.streams))
	for i, s := range p.streams {
		out[i] = *s
		out[i].Audio = append([]byte(nil), s.Audio...)
		out[i].Chunks = append([]int(nil), s.Chunks...)
		out[i].Finals = append([]Final(nil), s.Finals...)
	}
	return out
}

// Received is how many audio bytes the fake has received in all.
func (p *Participants) Received() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.received
}

// Open is how many streams are open now.
func (p *Participants) Open() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.open
}

// CreateParticipant answers a participant named after the conversation and role.
func (p *Participants) CreateParticipant(_ context.Context, req *dialogflowpb.CreateParticipantRequest) (*dialogflowpb.Participant, error) {
	if req.GetParent() == "" || req.GetParticipant().GetRole() == dialogflowpb.Participant_ROLE_UNSPECIFIED {
		return nil, p.violate("CreateParticipant without parent or role: %v", req)
	}
	return &dialogflowpb.Participant{Name: req.GetParent() + "/participants/" + strings.ToLower(req.GetParticipant().GetRole().String()),
		Role: req.GetParticipant().GetRole()}, nil
}

// BidiStreamingAnalyzeContent serves one stream.
func (p *Participants) BidiStreamingAnalyzeContent(srv dialogflowpb.Participants_BidiStreamingAnalyzeContentServer) error {
	finalEvery, interimEvery := p.FinalEvery, p.InterimEvery
	if finalEvery <= 0 {
		finalEvery = 10
	}
	if interimEvery <= 0 {
		interimEvery = 3
	}
	s := &Stream{}
	p.mu.Lock()
	n := len(p.streams)
	p.streams = append(p.streams, s)
	p.open++
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.open--
		p.mu.Unlock()
	}()

	first, err := srv.Recv()
	if err != nil {
		return err
	}
	cfg := first.GetConfig()
	vc := cfg.GetVoiceSessionConfig()
	switch {
	case cfg == nil:
		return p.violate("stream %d: first request is not config: %v", n, first)
	case cfg.GetParticipant() == "" || (p.Known != nil && !p.Known(cfg.GetParticipant())):
		return p.violate("stream %d: config names unknown participant %q", n, cfg.GetParticipant())
	case vc.GetInputAudioEncoding() == dialogflowpb.AudioEncoding_AUDIO_ENCODING_UNSPECIFIED || vc.GetInputAudioSampleRateHertz() == 0:
		return p.violate("stream %d: config without voice_session_config encoding and sample rate: %v", n, cfg)
	}
	p.mu.Lock()
	s.Config = cfg
	p.mu.Unlock()
	if p.Stall != nil {
		select {
		case <-p.Stall:
		case <-srv.Context().Done():
			return srv.Context().Err()
		}
	}
	bytesPerSecond := int64(vc.GetInputAudioSampleRateHertz())
	if vc.GetInputAudioEncoding() == dialogflowpb.AudioEncoding_AUDIO_ENCODING_LINEAR_16 {
		bytesPerSecond *= 2
	}
	offset := func(b int) *durationpb.Duration {
		return durationpb.New(time.Duration(int64(b) * int64(time.Second) / bytesPerSecond))
	}

	segStart := 0  // stream offset of the first audio not yet in a final
	forgotten := 0 // audio bytes not kept (Forget)
	final := func() error {
		p.mu.Lock()
		var text string
		end := len(s.Audio) + forgotten
		switch seg := s.Audio[min(segStart, len(s.Audio)):]; {
		case p.Forget:
			text = fmt.Sprintf("seg %d", end)
		case p.Transcribe != nil:
			text = p.Transcribe(seg)
		default:
			text = Text(seg)
		}
		s.Finals = append(s.Finals, Final{Text: text, End: end})
		p.mu.Unlock()
		segStart = end
		if err := srv.Send(result(text, true, offset(end))); err != nil {
			return err
		}
		if p.Suggest {
			return srv.Send(&dialogflowpb.BidiStreamingAnalyzeContentResponse{Response: &dialogflowpb.BidiStreamingAnalyzeContentResponse_AnalyzeContentResponse{
				AnalyzeContentResponse: &dialogflowpb.AnalyzeContentResponse{
					Message: &dialogflowpb.Message{Name: cfg.GetParticipant() + "/messages/" + fmt.Sprint(end), Content: text},
					HumanAgentSuggestionResults: []*dialogflowpb.SuggestionResult{{SuggestionResponse: &dialogflowpb.SuggestionResult_SuggestFaqAnswersResponse{
						SuggestFaqAnswersResponse: &dialogflowpb.SuggestFaqAnswersResponse{FaqAnswers: []*dialogflowpb.FaqAnswer{
							{Question: "faq for " + text, Answer: "answer", Confidence: 0.9}}}}}},
				}}})
		}
		return nil
	}
	short, lastChunk := false, 0 // a short chunk was seen: only the half-close may follow
	for chunk := 0; ; {
		req, err := srv.Recv()
		if errors.Is(err, io.EOF) {
			p.mu.Lock()
			s.HalfClosed = true
			pending := len(s.Audio)+forgotten > segStart
			p.mu.Unlock()
			if pending {
				return final()
			}
			return nil
		}
		if err != nil {
			return err
		}
		audio := req.GetInput().GetAudio()
		switch {
		case req.GetConfig() != nil:
			return p.violate("stream %d: a second config", n)
		case audio == nil:
			return p.violate("stream %d: request without audio: %v", n, req)
		case short:
			return p.violate("stream %d: a %d-byte chunk was followed by more audio", n, lastChunk)
		case len(audio) > p.ChunkBytes:
			return p.violate("stream %d: %d-byte chunk, want %d", n, len(audio), p.ChunkBytes)
		}
		short, lastChunk = len(audio) < p.ChunkBytes, len(audio)
		p.mu.Lock()
		p.received += len(audio)
		if p.Forget {
			forgotten += len(audio)
		} else {
			s.Audio = append(s.Audio, audio...)
			s.Chunks = append(s.Chunks, len(audio))
		}
		end := len(s.Audio) + forgotten
		p.mu.Unlock()
		chunk++
		if p.Drop != nil {
			if err := p.Drop(n, chunk); err != nil {
				p.mu.Lock()
				s.Dropped = true
				p.mu.Unlock()
				return err
			}
		}
		switch {
		case chunk%finalEvery == 0:
			if err := final(); err != nil {
				return err
			}
		case chunk%interimEvery == 0:
			if err := srv.Send(result("interim", false, offset(end))); err != nil {
				return err
			}
		}
	}
}

func result(text string, final bool, end *durationpb.Duration) *dialogflowpb.BidiStreamingAnalyzeContentResponse {
	return &dialogflowpb.BidiStreamingAnalyzeContentResponse{Response: &dialogflowpb.BidiStreamingAnalyzeContentResponse_RecognitionResult{
		RecognitionResult: &dialogflowpb.StreamingRecognitionResult{MessageType: dialogflowpb.StreamingRecognitionResult_TRANSCRIPT,
			Transcript: text, IsFinal: final, SpeechEndOffset: end}}}
}

// Interceptor serves BidiStreamingAnalyzeContent from p whichever
// Participants server is registered, so p can join a fake that has the
// other Participants methods (internal/dialogflowfake).
func (p *Participants) Interceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if info.FullMethod != dialogflowpb.Participants_BidiStreamingAnalyzeContent_FullMethodName {
			return handler(srv, ss)
		}
		return p.BidiStreamingAnalyzeContent(bidiStream{ss})
	}
}

type bidiStream struct{ grpc.ServerStream }

func (s bidiStream) Send(m *dialogflowpb.BidiStreamingAnalyzeContentResponse) error {
	return s.SendMsg(m)
}

func (s bidiStream) Recv() (*dialogflowpb.BidiStreamingAnalyzeContentRequest, error) {
	m := new(dialogflowpb.BidiStreamingAnalyzeContentRequest)
	if err := s.RecvMsg(m); err != nil {
		return nil, err
	}
	return m, nil
}

// Listen serves p on a loopback TCP port, with register adding the other
// services (such as dialogflowfake.Server.Register), until t ends; it
// returns the host:port (for ROUTEBOT_DIALOGFLOW_ENDPOINT).
func (p *Participants) Listen(t testing.TB, register func(*grpc.Server)) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("streamfake: listen: %v", err)
	}
	g := grpc.NewServer(grpc.StreamInterceptor(p.Interceptor()))
	if register != nil {
		register(g)
	} else {
		dialogflowpb.RegisterParticipantsServer(g, p)
	}
	go func() { _ = g.Serve(lis) }()
	t.Cleanup(g.Stop)
	return lis.Addr().String()
}
