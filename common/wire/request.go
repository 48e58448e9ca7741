package wire

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Special ScenarioCode values the gateway sends instead of a step.
const (
	Silence    = "무응답"   // the caller said nothing until Timeout
	SilenceEnd = "무응답종료" // the caller said nothing; end the call
)

// Request is one call turn as the gateway sent it, decoded and validated.
type Request struct {
	CallID       string
	ChatBotKey   string
	Customer     string
	Agent        string // 1 to 5 digits
	ChatMsg      string
	DTMF         string
	Answer       string
	ScenarioCode string
	IsFirstChat  bool
}

// Limits of the interface table (text(n) counts characters).
const (
	maxCallID     = 255
	maxChatBotKey = 50
	maxCustomer   = 35
	maxAgent      = 5
	maxDTMF       = 64
	maxCode       = 255
)

// flex accepts a JSON string, number or null: the gateway sends Agent as a
// number in the seed's sample, and may send other fields either way.
type flex struct {
	v   string
	set bool
	bad bool // an object, array or boolean
}

func (f *flex) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) == 0 || string(b) == "null":
		*f = flex{}
	case b[0] == '"':
		// The decoder has validated b; without escapes it is the text itself.
		if inner := b[1 : len(b)-1]; bytes.IndexByte(inner, '\\') < 0 {
			*f = flex{v: string(inner), set: true}
			return nil
		}
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flex{v: s, set: true}
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		*f = flex{v: string(b), set: true}
	default:
		*f = flex{set: true, bad: true}
	}
	return nil
}

type rawRequest struct {
	CallID       flex `json:"CallId"`
	ChatBotKey   flex `json:"ChatBotKey"`
	Customer     flex `json:"Customer"`
	Agent        flex `json:"Agent"`
	ChatMsg      flex `json:"ChatMsg"`
	DTMF         flex `json:"DTMF"`
	Answer       flex `json:"Answer"`
	ScenarioCode flex `json:"ScenarioCode"`
	IsFirstChat  flex `json:"IsFirstChat"`
}

// DecodeRequest decodes and validates a scenario-turn body. Every failure is
// a TransCode 412 *Error naming the field; it never panics on any input.
// With an error, the Request holds only the CallID and ChatBotKey that did
// decode (else they are empty), so that the refusal still names the call
// the gateway asked about.
func DecodeRequest(body []byte) (Request, *Error) {
	if len(body) > MaxBody {
		return Request{}, Errorf(BadParameter, "body is larger than %d bytes", MaxBody)
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return Request{}, Errorf(BadParameter, "empty body: a JSON object is required")
	}
	if !utf8.Valid(body) {
		return Request{}, Errorf(BadParameter, "body is not UTF-8")
	}
	var raw rawRequest
	if err := json.Unmarshal(stripTrailingCommas(body), &raw); err != nil {
		return Request{}, Errorf(BadParameter, "body is not a JSON object: %s", jsonReason(err))
	}
	var req, echo Request
	var e *Error
	// text validates one field; every field is checked, the first failure kept.
	text := func(name string, f flex, max int, required bool) (string, bool) {
		v := strings.TrimSpace(f.v)
		var fe *Error
		switch {
		case f.bad:
			fe = Errorf(BadParameter, "%s must be text", name)
		case required && v == "":
			fe = Errorf(BadParameter, "%s is required", name)
		case max > 0 && utf8.RuneCountInString(v) > max:
			fe = Errorf(BadParameter, "%s is longer than %d characters", name, max)
		}
		if fe != nil && e == nil {
			e = fe
		}
		return v, fe == nil
	}
	var ok bool
	if req.CallID, ok = text("CallId", raw.CallID, maxCallID, true); ok {
		echo.CallID = req.CallID
	}
	if req.ChatBotKey, ok = text("ChatBotKey", raw.ChatBotKey, maxChatBotKey, true); ok {
		echo.ChatBotKey = req.ChatBotKey
	}
	req.Customer, _ = text("Customer", raw.Customer, maxCustomer, true)
	req.Agent, _ = text("Agent", raw.Agent, maxAgent, true)
	req.ChatMsg, _ = text("ChatMsg", raw.ChatMsg, 0, false)
	req.DTMF, _ = text("DTMF", raw.DTMF, maxDTMF, false)
	req.Answer, _ = text("Answer", raw.Answer, 0, false)
	req.ScenarioCode, _ = text("ScenarioCode", raw.ScenarioCode, maxCode, false)
	first, _ := text("IsFirstChat", raw.IsFirstChat, 0, false)
	if e != nil {
		return echo, e
	}
	if !allDigits(req.Agent) {
		return echo, Errorf(BadParameter, "Agent must be an extension of 1 to 5 digits")
	}
	if req.DTMF != "" {
		if req.ScenarioCode == "" {
			return echo, Errorf(BadParameter, "ScenarioCode is required with DTMF")
		}
		if strings.Trim(req.DTMF, "0123456789*#") != "" {
			return echo, Errorf(BadParameter, "DTMF may hold only 0-9, * and #")
		}
	}
	req.IsFirstChat = first == "Y" || first == "y"
	return req, nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// jsonReason says what is wrong without echoing the body back.
func jsonReason(err error) string {
	switch e := err.(type) {
	case *json.SyntaxError:
		return "syntax error at byte " + strconv.FormatInt(e.Offset, 10)
	case *json.UnmarshalTypeError:
		return "wrong type at byte " + strconv.FormatInt(e.Offset, 10)
	default:
		return "malformed JSON"
	}
}

// stripTrailingCommas removes commas that directly precede a closing brace or
// bracket outside strings: the seed's sample body ends with `,}` and the real
// gateway may send it. It returns b itself when there is nothing to remove.
func stripTrailingCommas(b []byte) []byte {
	var out []byte
	inString, escaped, copied := false, false, 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		if c == '"' {
			inString = true
			continue
		}
		if c != ',' {
			continue
		}
		j := i + 1
		for j < len(b) && (b[j] == ' ' || b[j] == '\t' || b[j] == '\n' || b[j] == '\r') {
			j++
		}
		if j < len(b) && (b[j] == '}' || b[j] == ']') {
			out = append(out, b[copied:i]...)
			copied = i + 1
		}
	}
	if out == nil {
		return b
	}
	return append(out, b[copied:]...)
}
