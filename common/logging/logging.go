// Package logging writes log/slog JSON in Cloud Logging's structured shape:
// "severity" and "message" keys, and the request's trace under
// "logging.googleapis.com/trace" so a turn's lines group in the console.
// Loggers are handed to whoever logs, explicitly: nothing here falls back to
// slog.Default, whose lines would lack severity and trace.
package logging

import (
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
)

// Cloud Logging's special keys.
const (
	TraceKey   = "logging.googleapis.com/trace"
	SpanKey    = "logging.googleapis.com/spanId"
	SampledKey = "logging.googleapis.com/trace_sampled"
)

// New returns a JSON logger for Cloud Logging writing to w at level.
func New(w io.Writer, level slog.Leveler) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: replace}))
}

func replace(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case slog.MessageKey:
		a.Key = "message"
	case slog.LevelKey:
		a.Key = "severity"
		switch lvl := a.Value.Any().(slog.Level); {
		case lvl >= slog.LevelError:
			a.Value = slog.StringValue("ERROR")
		case lvl >= slog.LevelWarn:
			a.Value = slog.StringValue("WARNING")
		case lvl >= slog.LevelInfo:
			a.Value = slog.StringValue("INFO")
		default:
			a.Value = slog.StringValue("DEBUG")
		}
	case slog.TimeKey:
		a.Key = "time"
	}
	return a
}

// ParseLevel reads DEBUG, INFO, WARNING (or WARN) and ERROR; "" is INFO.
func ParseLevel(s string) (slog.Level, bool) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "", "INFO":
		return slog.LevelInfo, true
	case "DEBUG":
		return slog.LevelDebug, true
	case "WARN", "WARNING":
		return slog.LevelWarn, true
	case "ERROR":
		return slog.LevelError, true
	}
	return 0, false
}

// TraceAttrs reads the request's trace context (X-Cloud-Trace-Context, else
// W3C traceparent) as Cloud Logging attributes for project. The span is in
// Cloud Logging's format, 16 lowercase hex digits: X-Cloud-Trace-Context
// carries it in decimal. It returns nil when the request carries no valid
// trace.
func TraceAttrs(r *http.Request, project string) []slog.Attr {
	return AppendTraceAttrs(nil, r, project)
}

// AppendTraceAttrs appends TraceAttrs(r, project) to attrs, for a log line
// that builds its attributes in one slice.
func AppendTraceAttrs(attrs []slog.Attr, r *http.Request, project string) []slog.Attr {
	traceID, spanID, sampled := parseTrace(r.Header)
	if traceID == "" {
		return attrs
	}
	trace := traceID
	if project != "" {
		trace = "projects/" + project + "/traces/" + traceID
	}
	attrs = append(attrs, slog.String(TraceKey, trace))
	if spanID != "" {
		attrs = append(attrs, slog.String(SpanKey, spanID))
	}
	if sampled {
		attrs = append(attrs, slog.Bool(SampledKey, true))
	}
	return attrs
}

// parseTrace returns a lowercase 32-hex trace id and a 16-hex span id ("" if
// the header has none or an invalid one).
func parseTrace(h http.Header) (traceID, spanID string, sampled bool) {
	if v := h.Get("X-Cloud-Trace-Context"); v != "" {
		// TRACE_ID/SPAN_ID;o=OPTIONS, SPAN_ID a decimal uint64.
		traceID, rest, _ := strings.Cut(v, "/")
		span, opts, _ := strings.Cut(rest, ";")
		if isHex(traceID, 32) && !allZero(traceID) {
			spanID := ""
			if n, err := strconv.ParseUint(span, 10, 64); err == nil && n != 0 {
				spanID = hex16(n)
			}
			return strings.ToLower(traceID), spanID, strings.Contains(opts, "o=1")
		}
	}
	if v := h.Get("Traceparent"); v != "" { // canonical: Get need not build the key
		// VERSION(2)-TRACEID(32)-SPANID(16)-FLAGS(2); all-zero ids and
		// version ff are invalid (W3C Trace Context §3.2).
		parts := strings.Split(strings.TrimSpace(v), "-")
		if len(parts) >= 4 && isHex(parts[0], 2) && !strings.EqualFold(parts[0], "ff") &&
			isHex(parts[1], 32) && !allZero(parts[1]) && isHex(parts[2], 16) && !allZero(parts[2]) && isHex(parts[3], 2) {
			flags, _ := strconv.ParseUint(parts[3], 16, 8)
			return strings.ToLower(parts[1]), strings.ToLower(parts[2]), flags&1 == 1
		}
	}
	return "", "", false
}

// hex16 is n as 16 lowercase hex digits (fmt's %016x, without fmt).
func hex16(n uint64) string {
	var b [16]byte
	for i := 15; i >= 0; i-- {
		b[i] = "0123456789abcdef"[n&0xf]
		n >>= 4
	}
	return string(b[:])
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func allZero(s string) bool { return strings.Trim(s, "0") == "" }
