// Package logtest captures routebot's JSON log lines in tests.
package logtest

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
)

// Buffer collects log lines written from several goroutines.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String is everything written so far.
func (s *Buffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// Reset forgets what was written.
func (s *Buffer) Reset() { s.mu.Lock(); defer s.mu.Unlock(); s.b.Reset() }

// Lines decodes the JSON log lines; a line that is not JSON fails t.
func (s *Buffer) Lines(t testing.TB) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %v: %s", err, l)
		}
		out = append(out, m)
	}
	return out
}

// Find returns the last line whose message is msg, or nil.
func (s *Buffer) Find(t testing.TB, msg string) map[string]any {
	t.Helper()
	var found map[string]any
	for _, l := range s.Lines(t) {
		if l["message"] == msg {
			found = l
		}
	}
	return found
}
