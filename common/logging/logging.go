// Package logging writes log/slog JSON in Cloud Logging's structured shape:
// "severity" and "message" keys, and the request's trace under
// "logging.googleapis.com/trace" so a turn's lines group in the console.
package logging

import (
	"context"
	"io"
	"log/slog"
	"net/http"
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
// W3C traceparent) as Cloud Logging attributes for project. It returns nil
// when the request carries none.
func TraceAttrs(r *http.Request, project string) []slog.Attr {
	traceID, spanID, sampled := parseTrace(r.Header)
	if traceID == "" {
		return nil
	}
	trace := traceID
	if project != "" {
		trace = "projects/" + project + "/traces/" + traceID
	}
	attrs := []slog.Attr{slog.String(TraceKey, trace)}
	if spanID != "" {
		attrs = append(attrs, slog.String(SpanKey, spanID))
	}
	if sampled {
		attrs = append(attrs, slog.Bool(SampledKey, true))
	}
	return attrs
}

func parseTrace(h http.Header) (traceID, spanID string, sampled bool) {
	if v := h.Get("X-Cloud-Trace-Context"); v != "" {
		// TRACE_ID/SPAN_ID;o=OPTIONS
		traceID, rest, _ := strings.Cut(v, "/")
		spanID, opts, _ := strings.Cut(rest, ";")
		if isHex(traceID, 32) {
			return traceID, spanID, strings.Contains(opts, "o=1")
		}
	}
	if v := h.Get("traceparent"); v != "" {
		// 00-TRACEID(32)-SPANID(16)-FLAGS(2)
		parts := strings.Split(v, "-")
		if len(parts) == 4 && isHex(parts[1], 32) && isHex(parts[2], 16) {
			return parts[1], parts[2], strings.HasSuffix(parts[3], "1")
		}
	}
	return "", "", false
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

type ctxKey struct{}

// With returns ctx carrying logger.
func With(ctx context.Context, logger *slog.Logger) context.Context {
	return context.WithValue(ctx, ctxKey{}, logger)
}

// From returns the logger in ctx, or slog.Default().
func From(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(ctxKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}
