package stream

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/coder/websocket"
)

// Roles are the participants' roles as the protocol and Dialogflow name them.
const (
	RoleEndUser    = "END_USER"
	RoleHumanAgent = "HUMAN_AGENT"
)

// Start is the client's first frame: which call leg this socket carries and
// how its audio is encoded.
type Start struct {
	CallID          string
	ChatBotKey      string
	Role            string
	Format          Format
	LanguageCode    string // "" = the profile's
	EncodingName    string
	SampleRateHertz int
	// LastFinalEndMs, on a resumed socket, is the end of the last final
	// transcript the client received (-1 when not given): finals after it
	// that the old socket may have lost in flight are sent again.
	LastFinalEndMs int64
}

// maxID bounds callId and chatBotKey (text(50) in the gateway contract).
const maxID = 50

// control is every client text frame's shape.
type control struct {
	Type            string `json:"type"`
	CallID          string `json:"callId"`
	ChatBotKey      string `json:"chatBotKey"`
	Role            string `json:"role"`
	Encoding        string `json:"encoding"`
	SampleRateHertz int    `json:"sampleRateHertz"`
	LanguageCode    string `json:"languageCode"`
	LastFinalEndMs  *int64 `json:"lastFinalEndMs"`
}

// errStop is what parseControl returns for the stop frame.
var errStop = errors.New("stop")

// ParseStart decodes and validates the start frame. A *Error says what is
// wrong; a stop frame in its place is an error too.
func ParseStart(b []byte) (Start, error) {
	c, err := parseControl(b)
	switch {
	case errors.Is(err, errStop):
		return Start{}, errorf(CodeBadStart, "the first frame must be start, not stop")
	case err != nil:
		return Start{}, err
	case c.Type != "start":
		return Start{}, errorf(CodeBadStart, "the first frame must be {\"type\":\"start\",…}, not type %q", c.Type)
	}
	s := Start{CallID: strings.TrimSpace(c.CallID), ChatBotKey: strings.TrimSpace(c.ChatBotKey), Role: c.Role,
		LanguageCode: strings.TrimSpace(c.LanguageCode), EncodingName: c.Encoding, SampleRateHertz: c.SampleRateHertz,
		LastFinalEndMs: -1}
	if c.LastFinalEndMs != nil {
		if *c.LastFinalEndMs < 0 {
			return Start{}, errorf(CodeBadStart, "lastFinalEndMs must not be negative")
		}
		s.LastFinalEndMs = *c.LastFinalEndMs
	}
	switch {
	case s.CallID == "" || len(s.CallID) > maxID:
		return Start{}, errorf(CodeBadStart, "callId is required, at most %d bytes", maxID)
	case s.ChatBotKey == "" || len(s.ChatBotKey) > maxID:
		return Start{}, errorf(CodeBadStart, "chatBotKey is required, at most %d bytes", maxID)
	case s.Role != RoleEndUser && s.Role != RoleHumanAgent:
		return Start{}, errorf(CodeBadRole, "role %q: want END_USER or HUMAN_AGENT", c.Role)
	case len(s.LanguageCode) > 35: // BCP-47's longest practical tags
		return Start{}, errorf(CodeBadStart, "languageCode is longer than 35 bytes")
	}
	f, err := ParseFormat(c.Encoding, c.SampleRateHertz)
	if err != nil {
		code := CodeBadEncoding
		if _, ok := encodings[c.Encoding]; ok {
			code = CodeBadSampleRate
		}
		return Start{}, errorf(code, "%v", err)
	}
	s.Format = f
	return s, nil
}

// parseControl decodes a client text frame; the stop frame gives errStop.
func parseControl(b []byte) (control, error) {
	var c control
	if !utf8.Valid(b) {
		return c, errorf(CodeBadFrame, "text frame is not UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&c); err != nil {
		return c, errorf(CodeBadFrame, "text frame is not a JSON object: %v", err)
	}
	if dec.More() {
		return c, errorf(CodeBadFrame, "text frame holds more than one JSON value")
	}
	if c.Type == "stop" {
		return c, errStop
	}
	return c, nil
}

// Error codes of the error frame. Each has its close code.
const (
	CodeBadFrame       = "bad_frame"        // a text frame that is not a protocol frame
	CodeBadStart       = "bad_start"        // missing or invalid start frame
	CodeBadRole        = "bad_role"         // unknown role
	CodeBadEncoding    = "bad_encoding"     // unknown encoding
	CodeBadSampleRate  = "bad_sample_rate"  // unsupported sample rate
	CodeSecondStart    = "second_start"     // a start frame after the first
	CodeUnknownBot     = "unknown_bot"      // chatBotKey is no tenant's bot
	CodeNoProfile      = "no_profile"       // the tenant has no conversation profile
	CodeLegActive      = "leg_active"       // the leg was stopped and is still flushing
	CodeCompleted      = "call_completed"   // the call's conversation is completed
	CodeTooManyStreams = "too_many_streams" // the instance's stream limit is reached
	CodeQuota          = "quota_exhausted"  // Dialogflow RESOURCE_EXHAUSTED: concurrent bidi sessions quota
	CodeDialogflow     = "dialogflow_error" // Dialogflow refused the stream (not retried)
	CodeUnavailable    = "dialogflow_unavailable"
	CodeShutdown       = "shutting_down" // the instance is stopping: reconnect and resume
	CodeInternal       = "internal"
)

// closeCodes maps error codes to WebSocket close codes: 4000 + an HTTP-like
// status for the client's mistakes and refusals, the standard codes for the
// service's own conditions (1012 Service Restart means: resume the leg).
var closeCodes = map[string]websocket.StatusCode{
	CodeBadFrame:       websocket.StatusUnsupportedData,
	CodeBadStart:       4400,
	CodeBadRole:        4400,
	CodeBadEncoding:    4415,
	CodeBadSampleRate:  4415,
	CodeSecondStart:    4409,
	CodeUnknownBot:     4404,
	CodeNoProfile:      4412,
	CodeLegActive:      4409,
	CodeCompleted:      4410,
	CodeTooManyStreams: websocket.StatusTryAgainLater,
	CodeQuota:          4429,
	CodeDialogflow:     4502,
	CodeUnavailable:    4503,
	CodeShutdown:       websocket.StatusServiceRestart,
	CodeInternal:       websocket.StatusInternalError,
}

// Error is a refusal the client is told about: an error frame, then a close
// with CloseCode.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// CloseCode is the WebSocket close code for the error.
func (e *Error) CloseCode() websocket.StatusCode {
	if c, ok := closeCodes[e.Code]; ok {
		return c
	}
	return websocket.StatusInternalError
}

func errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Frame is a service → client text frame.
type Frame interface{ frame() }

// Transcript is a recognition result. Offsets count from the leg's first
// byte, across restarts and resumed sockets.
type Transcript struct {
	Text              string `json:"text"`
	IsFinal           bool   `json:"isFinal"`
	SpeechEndOffsetMs int64  `json:"speechEndOffsetMs"`
	// SpeechStartOffsetMs is where a final result's audio began (the end of
	// the final before it); not sent to the client.
	SpeechStartOffsetMs int64  `json:"-"`
	LanguageCode        string `json:"-"`
}

// Suggestion is an Agent Assist suggestion from an analyze-content response.
type Suggestion struct {
	Kind    string   `json:"kind"` // article, faq, smart_reply, knowledge_assist, dialogflow_assist, entity_extraction, generator
	Answers []Answer `json:"answers,omitempty"`
	// Message is the conversation message the suggestion answers.
	Message     string `json:"message,omitempty"`
	MessageName string `json:"messageName,omitempty"`
	// Reply is the virtual agent's reply text, when the profile has one.
	Reply string `json:"reply,omitempty"`
	Error string `json:"error,omitempty"`
}

// Answer is one suggested article, FAQ answer, smart reply or knowledge answer.
type Answer struct {
	Title      string   `json:"title,omitempty"`
	URI        string   `json:"uri,omitempty"`
	Text       string   `json:"text,omitempty"`
	Snippets   []string `json:"snippets,omitempty"`
	Question   string   `json:"question,omitempty"`
	Confidence float32  `json:"confidence,omitempty"`
	Record     string   `json:"answerRecord,omitempty"`
}

// Restarted says the Dialogflow stream was reopened and how much audio was
// sent again.
type Restarted struct {
	Reason     string `json:"reason"` // duration | error
	ReplayedMs int64  `json:"replayedMs"`
}

// End says a half-close has been flushed: every result is delivered.
type End struct{}

func (Transcript) frame() {}
func (Suggestion) frame() {}
func (Restarted) frame()  {}
func (End) frame()        {}
func (*Error) frame()     {}

// Encode renders a frame as the protocol's JSON.
func Encode(f Frame) []byte {
	var v any
	switch f := f.(type) {
	case Transcript:
		v = struct {
			Type string `json:"type"`
			Transcript
		}{"transcript", f}
	case Suggestion:
		v = struct {
			Type string `json:"type"`
			Suggestion
		}{"suggestion", f}
	case Restarted:
		v = struct {
			Type string `json:"type"`
			Restarted
		}{"restarted", f}
	case End:
		v = struct {
			Type string `json:"type"`
		}{"end"}
	case *Error:
		v = struct {
			Type    string `json:"type"`
			Code    string `json:"code"`
			Message string `json:"message"`
		}{"error", f.Code, f.Message}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return bytes.TrimRight(buf.Bytes(), "\n")
}
