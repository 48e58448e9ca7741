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
	if !raw.scan(body) {
		// Its own variable: one that encoding/json decodes into lives on
		// the heap, and the fast path's should not.
		slow := new(rawRequest)
		if err := json.Unmarshal(stripTrailingCommas(body), slow); err != nil {
			return Request{}, Errorf(BadParameter, "body is not a JSON object: %s", jsonReason(err))
		}
		raw = *slow
	}
	var req, echo Request
	var e *Error
	// text validates one field; every field is checked, the first failure kept.
	text := func(name string, f flex, max int, required bool) (string, bool) {
		v := trimSpace(f.v)
		var fe *Error
		switch {
		case f.bad:
			fe = Errorf(BadParameter, "%s must be text", name)
		case required && v == "":
			fe = Errorf(BadParameter, "%s is required", name)
		case max > 0 && len(v) > max && utf8.RuneCountInString(v) > max: // no more runes than bytes
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

// trimSpace is strings.TrimSpace, without its work for the fields the
// gateway sends, which start and end with a printable ASCII character.
func trimSpace(s string) string {
	if s == "" || isPlainEnd(s[0]) && isPlainEnd(s[len(s)-1]) {
		return s
	}
	return strings.TrimSpace(s)
}

// isPlainEnd reports whether c is ASCII and not white space: a field that
// starts and ends with such a byte has nothing for TrimSpace to cut.
func isPlainEnd(c byte) bool { return c > ' ' && c < utf8.RuneSelf }

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

// scan decodes the bodies the gateway sends, one flat object of plain
// strings, numbers and nulls (a trailing comma allowed), without
// encoding/json's reflection, and with one allocation for all the fields'
// text. It reports false for anything else (escapes, nested values, a key
// encoding/json would match by Unicode case folding, any syntax error),
// and leaves that to the encoding/json path, which gives the same result for
// every body scan accepts (FuzzScanMatchesJSON) and owns the error messages.
func (raw *rawRequest) scan(body []byte) bool {
	if len(body) < 2 || body[0] != '{' || body[len(body)-1] != '}' {
		return false
	}
	s := string(body)
	i := skipSpace(s, 1)
	if i < len(s) && s[i] == '}' {
		return i == len(s)-1
	}
	for {
		if i >= len(s) || s[i] != '"' {
			return false
		}
		j := plainString(s, i+1)
		if j < 0 {
			return false
		}
		f := raw.field(s[i+1 : j])
		if f == nil && !isASCII(s[i+1:j]) {
			return false // encoding/json might fold it onto a field
		}
		if i = skipSpace(s, j+1); i >= len(s) || s[i] != ':' {
			return false
		}
		i = skipSpace(s, i+1)
		var v flex
		if i, v = scanValue(s, i); i < 0 {
			return false
		}
		if f != nil {
			*f = v
		}
		i = skipSpace(s, i)
		if i >= len(s) {
			return false
		}
		switch s[i] {
		case '}':
			return i == len(s)-1
		case ',':
			if i = skipSpace(s, i+1); i < len(s) && s[i] == '}' {
				return i == len(s)-1 // the seed's trailing comma
			}
		default:
			return false
		}
	}
}

// field is the member a key decodes into, matched as encoding/json does for
// ASCII keys (exactly, else case-insensitively); nil for an unknown key.
func (raw *rawRequest) field(key string) *flex {
	switch key {
	case "CallId":
		return &raw.CallID
	case "ChatBotKey":
		return &raw.ChatBotKey
	case "Customer":
		return &raw.Customer
	case "Agent":
		return &raw.Agent
	case "ChatMsg":
		return &raw.ChatMsg
	case "DTMF":
		return &raw.DTMF
	case "Answer":
		return &raw.Answer
	case "ScenarioCode":
		return &raw.ScenarioCode
	case "IsFirstChat":
		return &raw.IsFirstChat
	}
	for _, name := range fieldNames {
		if len(key) == len(name) && strings.EqualFold(key, name) {
			return raw.field(name)
		}
	}
	return nil
}

var fieldNames = [...]string{"CallId", "ChatBotKey", "Customer", "Agent", "ChatMsg", "DTMF", "Answer", "ScenarioCode", "IsFirstChat"}

// scanValue reads a plain string, a number, null, true or false at s[i:];
// it returns the index after it, or -1 for anything else.
func scanValue(s string, i int) (int, flex) {
	if i >= len(s) {
		return -1, flex{}
	}
	switch c := s[i]; {
	case c == '"':
		j := plainString(s, i+1)
		if j < 0 {
			return -1, flex{}
		}
		return j + 1, flex{v: s[i+1 : j], set: true}
	case c == '-' || '0' <= c && c <= '9':
		j := number(s, i)
		if j < 0 {
			return -1, flex{}
		}
		return j, flex{v: s[i:j], set: true}
	case strings.HasPrefix(s[i:], "null"):
		return i + 4, flex{}
	case strings.HasPrefix(s[i:], "true"):
		return i + 4, flex{set: true, bad: true}
	case strings.HasPrefix(s[i:], "false"):
		return i + 5, flex{set: true, bad: true}
	}
	return -1, flex{}
}

// plainString returns the index of the quote closing the string whose text
// starts at s[i:], or -1 if it has an escape or a control character (or no
// end).
func plainString(s string, i int) int {
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return i
		case c == '\\' || c < 0x20:
			return -1
		}
	}
	return -1
}

// number returns the index after the JSON number at s[i:] (RFC 8259 §6), or
// -1 if there is none.
func number(s string, i int) int {
	digits := func(i int) int {
		j := i
		for j < len(s) && '0' <= s[j] && s[j] <= '9' {
			j++
		}
		if j == i {
			return -1
		}
		return j
	}
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	default:
		if i = digits(i); i < 0 {
			return -1
		}
	}
	if i < len(s) && s[i] == '.' {
		if i = digits(i + 1); i < 0 {
			return -1
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i = digits(i); i < 0 {
			return -1
		}
	}
	return i
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
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
