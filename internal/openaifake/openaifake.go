// Package openaifake is an OpenAI chat-completions endpoint for tests: it
// counts the requests, hands each to the test's Answer (which checks it and
// says how to answer), and answers: a completion with the given content, an
// error status, a raw body, a hang until the client gives up, or a dropped
// connection. Completions report 321 prompt and 45 completion tokens.
package openaifake

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
)

// Reply is one answer of the endpoint.
type Reply struct {
	Status  int               // 0: 200
	Header  map[string]string // set before the status
	Content string            // a completion's message content
	Body    string            // a raw body instead of a completion
	Hang    bool              // block until the client gives up (then Hung is told) or Stop
	Drop    bool              // close the connection without answering
}

// Server is the endpoint; set Answer before serving.
type Server struct {
	// Answer checks request n (from 0), whose body is read already, and
	// says how to answer it.
	Answer func(n int, r *http.Request, body []byte) Reply
	// Model is the completions' model name.
	Model string
	// Hung, when set, hears of each hanging request its client gave up.
	Hung chan<- struct{}
	// Stop, when closed, releases hanging requests.
	Stop <-chan struct{}

	requests atomic.Int32
	errs     atomic.Value // the first failure to answer, for the test
}

// Requests is how many requests have arrived.
func (s *Server) Requests() int { return int(s.requests.Load()) }

// Err is the first failure to answer as told (a hijack that failed), or nil.
func (s *Server) Err() error {
	err, _ := s.errs.Load().(error)
	return err
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(s.requests.Add(1)) - 1
	body, _ := io.ReadAll(r.Body)
	rep := s.Answer(n, r, body)
	switch {
	case rep.Hang:
		select {
		case <-r.Context().Done():
			if s.Hung != nil {
				s.Hung <- struct{}{}
			}
		case <-s.Stop:
		}
		return
	case rep.Drop:
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			s.errs.CompareAndSwap(nil, fmt.Errorf("openaifake: hijack: %w", err))
			return
		}
		conn.Close()
		return
	}
	for k, v := range rep.Header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(cmp.Or(rep.Status, http.StatusOK))
	if rep.Body != "" {
		_, _ = io.WriteString(w, rep.Body)
		return
	}
	content, _ := json.Marshal(rep.Content)
	_, _ = fmt.Fprintf(w, `{"id":"chatcmpl-1","object":"chat.completion","model":%q,
		"choices":[{"index":0,"message":{"role":"assistant","content":%s},"finish_reason":"stop"}],
		"usage":{"prompt_tokens":321,"completion_tokens":45,"total_tokens":366}}`, s.Model, content)
}
