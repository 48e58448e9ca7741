package logging

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
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
		{"cloud trace", "X-Cloud-Trace-Context", id + "/1;o=1", "p1",
			map[string]any{TraceKey: "projects/p1/traces/" + id, SpanKey: "1", SampledKey: true}},
		{"traceparent", "traceparent", "00-" + id + "-00f067aa0ba902b7-01", "p1",
			map[string]any{TraceKey: "projects/p1/traces/" + id, SpanKey: "00f067aa0ba902b7", SampledKey: true}},
		{"no project", "X-Cloud-Trace-Context", id + "/7", "", map[string]any{TraceKey: id, SpanKey: "7"}},
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
	var sink syncBuf
	b := NewBuffered(&sink, 20*time.Millisecond)
	logger := New(b, slog.LevelInfo)
	logger.Info("one")
	if sink.String() != "" {
		t.Fatalf("written before a flush: %q", sink.String())
	}
	deadline := time.Now().Add(2 * time.Second)
	for !strings.Contains(sink.String(), `"message":"one"`) {
		if time.Now().After(deadline) {
			t.Fatal("the periodic flush never came")
		}
		time.Sleep(5 * time.Millisecond)
	}
	logger.Info("two")
	b.Close()
	if !strings.Contains(sink.String(), `"message":"two"`) {
		t.Fatalf("Close lost a line: %q", sink.String())
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }
