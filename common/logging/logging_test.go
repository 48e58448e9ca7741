package logging

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/routebot/routebot/internal/logtest"
)

func TestLoggerShape(t *testing.T) {
	var buf bytes.Buffer
	New(&buf, slog.LevelDebug).Warn("turn", "CallId", "C1")
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]any{"severity": "WARNING", "message": "turn", "CallId": "C1"} {
		if got[key] != want {
			t.Errorf("%s = %v, want %v (line %s)", key, got[key], want, buf.String())
		}
	}
	if _, ok := got["level"]; ok {
		t.Errorf("level key left in %s", buf.String())
	}
}

func TestTraceAttrs(t *testing.T) {
	const id = "105445aa7843bc8bf206b12000100000"
	tests := []struct {
		name    string
		header  string
		value   string
		project string
		want    map[string]any
	}{
		// X-Cloud-Trace-Context's span is decimal; Cloud Logging wants 16 hex digits.
		{"cloud trace", "X-Cloud-Trace-Context", id + "/1;o=1", "p1",
			map[string]any{TraceKey: "projects/p1/traces/" + id, SpanKey: "0000000000000001", SampledKey: true}},
		{"cloud trace, large span", "X-Cloud-Trace-Context", id + "/13479591584325216528;o=0", "p1",
			map[string]any{TraceKey: "projects/p1/traces/" + id, SpanKey: "bb112120c50ca910"}},
		{"cloud trace, span of 2^64-1", "X-Cloud-Trace-Context", id + "/18446744073709551615", "p1",
			map[string]any{TraceKey: "projects/p1/traces/" + id, SpanKey: "ffffffffffffffff"}},
		{"cloud trace, span over 64 bits dropped", "X-Cloud-Trace-Context", id + "/18446744073709551616", "p1",
			map[string]any{TraceKey: "projects/p1/traces/" + id}},
		{"cloud trace, hex span dropped", "X-Cloud-Trace-Context", id + "/00f067aa0ba902b7", "p1",
			map[string]any{TraceKey: "projects/p1/traces/" + id}},
		{"cloud trace, zero span dropped", "X-Cloud-Trace-Context", id + "/0;o=1", "p1",
			map[string]any{TraceKey: "projects/p1/traces/" + id, SampledKey: true}},
		{"cloud trace, no span", "X-Cloud-Trace-Context", id, "p1", map[string]any{TraceKey: "projects/p1/traces/" + id}},
		{"cloud trace, upper case", "X-Cloud-Trace-Context", strings.ToUpper(id) + "/7", "p1",
			map[string]any{TraceKey: "projects/p1/traces/" + id, SpanKey: "0000000000000007"}},
		{"no project", "X-Cloud-Trace-Context", id + "/7", "", map[string]any{TraceKey: id, SpanKey: "0000000000000007"}},
		{"traceparent", "traceparent", "00-" + id + "-00f067aa0ba902b7-01", "p1",
			map[string]any{TraceKey: "projects/p1/traces/" + id, SpanKey: "00f067aa0ba902b7", SampledKey: true}},
		{"traceparent not sampled", "traceparent", "00-" + id + "-00f067aa0ba902b7-00", "p1",
			map[string]any{TraceKey: "projects/p1/traces/" + id, SpanKey: "00f067aa0ba902b7"}},
		{"traceparent upper case", "traceparent", "00-" + strings.ToUpper(id) + "-00F067AA0BA902B7-03", "p1",
			map[string]any{TraceKey: "projects/p1/traces/" + id, SpanKey: "00f067aa0ba902b7", SampledKey: true}},
		{"traceparent zero trace", "traceparent", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "p1", map[string]any{}},
		{"traceparent zero span", "traceparent", "00-" + id + "-0000000000000000-01", "p1", map[string]any{}},
		{"traceparent version ff", "traceparent", "ff-" + id + "-00f067aa0ba902b7-01", "p1", map[string]any{}},
		{"traceparent short span", "traceparent", "00-" + id + "-00f067aa-01", "p1", map[string]any{}},
		{"garbage", "X-Cloud-Trace-Context", "nope", "p1", map[string]any{}},
		{"none", "", "", "p1", map[string]any{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", nil)
			if tt.header != "" {
				r.Header.Set(tt.header, tt.value)
			}
			got := map[string]any{}
			for _, a := range TraceAttrs(r, tt.project) {
				got[a.Key] = a.Value.Any()
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
		})
	}
}

func TestBuffered(t *testing.T) {
	t.Run("held until Flush and Close", func(t *testing.T) {
		var sink logtest.Buffer
		b := NewBuffered(&sink, time.Hour) // no periodic flush during the test
		logger := New(b, slog.LevelInfo)
		logger.Info("one")
		if sink.String() != "" {
			t.Fatalf("written before a flush: %q", sink.String())
		}
		if err := b.Flush(); err != nil || !strings.Contains(sink.String(), `"message":"one"`) {
			t.Fatalf("Flush = %v, sink %q", err, sink.String())
		}
		logger.Info("two")
		b.Close()
		if !strings.Contains(sink.String(), `"message":"two"`) {
			t.Fatalf("Close lost a line: %q", sink.String())
		}
	})
	t.Run("flushed periodically", func(t *testing.T) {
		var sink logtest.Buffer
		b := NewBuffered(&sink, time.Millisecond)
		defer b.Close()
		New(b, slog.LevelInfo).Info("one")
		// Poll for the condition; how soon it comes is not this test's business.
		deadline := time.Now().Add(time.Minute)
		for !strings.Contains(sink.String(), `"message":"one"`) {
			if time.Now().After(deadline) {
				t.Fatal("the periodic flush never came")
			}
			time.Sleep(time.Millisecond)
		}
	})
}

func FuzzTraceAttrs(f *testing.F) {
	for _, s := range []string{"105445aa7843bc8bf206b12000100000/1;o=1", "00-105445aa7843bc8bf206b12000100000-00f067aa0ba902b7-01",
		"/", "x/99999999999999999999;o=1", "00----", ""} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, cloud, parent string) {
		r := httptest.NewRequest("POST", "/", nil)
		r.Header.Set("X-Cloud-Trace-Context", cloud)
		r.Header.Set("traceparent", parent)
		for _, a := range TraceAttrs(r, "p") {
			v := a.Value.String()
			switch a.Key {
			case TraceKey:
				id := strings.TrimPrefix(v, "projects/p/traces/")
				if !isHex(id, 32) || id != strings.ToLower(id) {
					t.Fatalf("trace %q", v)
				}
			case SpanKey:
				if !isHex(v, 16) || v != strings.ToLower(v) || allZero(v) {
					t.Fatalf("span %q, want 16 lowercase hex digits, not zero", v)
				}
			}
		}
	})
}

// TestAppendTraceAttrs: the trace is appended after what the line has, and
// a request without a trace leaves the line as it was.
func TestAppendTraceAttrs(t *testing.T) {
	base := []slog.Attr{slog.String("CallId", "C1")}
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	if got := AppendTraceAttrs(base, r, "p1"); len(got) != 1 || got[0].Key != "CallId" {
		t.Errorf("no trace: got %v, want the line unchanged", got)
	}
	r.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	got := AppendTraceAttrs(base, r, "p1")
	want := []string{"CallId", TraceKey, SpanKey, SampledKey}
	if len(got) != len(want) {
		t.Fatalf("got %v, want keys %v", got, want)
	}
	for i, k := range want {
		if got[i].Key != k {
			t.Errorf("attr %d is %q, want %q", i, got[i].Key, k)
		}
	}
}
