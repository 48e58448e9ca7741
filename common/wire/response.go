package wire

import (
	"strconv"
	"unicode/utf8"
)

// Response is one answer to the gateway. Every answer carries the full
// envelope; DtmfLength, DtmfEndChar, TransfterNumber and Timeout only when set.
type Response struct {
	CallID         string
	ChatBotKey     string
	Code           Code
	ServiceCode    string
	ScenarioCode   string
	Description    string
	DtmfLength     int
	DtmfEndChar    string
	TransferNumber string // sent as "TransfterNumber", the field's real (misspelt) name
	Timeout        int
}

// ErrorResponse is the envelope for a failed turn.
func ErrorResponse(req Request, e *Error) Response {
	return Response{CallID: req.CallID, ChatBotKey: req.ChatBotKey, Code: e.Code,
		Description: e.Code.Message() + ": " + e.Reason}
}

// AppendJSON appends r as the JSON object the gateway expects, fields in the
// seed's order. It is hand-written because it runs on every turn.
func (r *Response) AppendJSON(b []byte) []byte {
	result := "N"
	if r.Code == OK {
		result = "Y"
	}
	b = append(b, `{"CallId":`...)
	b = appendString(b, r.CallID)
	b = append(b, `,"ChatBotKey":`...)
	b = appendString(b, r.ChatBotKey)
	b = append(b, `,"Result":"`...)
	b = append(b, result...)
	b = append(b, `","ServiceCode":`...)
	b = appendString(b, r.ServiceCode)
	b = append(b, `,"TransCode":`...)
	b = appendString(b, string(r.Code))
	b = append(b, `,"ScenarioCode":`...)
	b = appendString(b, r.ScenarioCode)
	b = append(b, `,"Description":`...)
	b = appendString(b, r.Description)
	if r.DtmfLength > 0 {
		b = append(b, `,"DtmfLength":`...)
		b = strconv.AppendInt(b, int64(r.DtmfLength), 10)
	}
	if r.DtmfEndChar != "" {
		b = append(b, `,"DtmfEndChar":`...)
		b = appendString(b, r.DtmfEndChar)
	}
	if r.TransferNumber != "" {
		b = append(b, `,"TransfterNumber":`...)
		b = appendString(b, r.TransferNumber)
	}
	if r.Timeout > 0 {
		b = append(b, `,"Timeout":`...)
		b = strconv.AppendInt(b, int64(r.Timeout), 10)
	}
	return append(b, '}')
}

const hex = "0123456789abcdef"

// appendString appends s as a JSON string; invalid UTF-8 becomes U+FFFD, as
// encoding/json does, and U+2028/U+2029 are escaped for JavaScript readers.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
