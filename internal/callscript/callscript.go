// Package callscript plays the call scripts of shared/data/callscripts
// against a running routebot, as the AI Gateway would, with the semantics of
// shared/tools/callscript.py: a turn's ScenarioCode, unless the turn gives
// one, is the previous answer's; expectations compare as text, with
// {"any"}, {"absent"}, {"regex"} and "Field~" substring forms.
package callscript

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/routebot/routebot/internal/repodir"
)

// Script is one conversation.
type Script struct {
	Name     string         `json:"name"`
	Scenario string         `json:"scenario"`
	Defaults map[string]any `json:"defaults"`
	Turns    []Turn         `json:"turns"`
}

// Turn is one request and what its answer must hold.
type Turn struct {
	Request     map[string]any  `json:"request"`
	Raw         *string         `json:"raw"`
	Path        string          `json:"path"`
	Token       *string         `json:"token"`
	ContentType string          `json:"content_type"`
	Repeat      int             `json:"repeat"`
	SameAnswer  *bool           `json:"same_answer"`
	Expect      json.RawMessage `json:"expect"`
}

// Load reads the scripts in paths (files, or folders of *.json).
func Load(paths ...string) ([]Script, []string, error) {
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, nil, fmt.Errorf("callscript: %w", err)
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		matches, err := filepath.Glob(filepath.Join(p, "*.json"))
		if err != nil {
			return nil, nil, fmt.Errorf("callscript: %w", err)
		}
		sort.Strings(matches)
		files = append(files, matches...)
	}
	scripts := make([]Script, len(files))
	for i, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, fmt.Errorf("callscript: %w", err)
		}
		if err := json.Unmarshal(data, &scripts[i]); err != nil {
			return nil, nil, fmt.Errorf("callscript: %s: %w", f, err)
		}
	}
	return scripts, files, nil
}

// Player sends turns to a server.
type Player struct {
	Base   string
	Token  string
	Client *http.Client
}

// Play runs one script and returns one problem per failing turn (empty when
// every turn passed) and the number of turns.
func (p *Player) Play(s Script) (problems []string, turns int) {
	client := p.Client
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	defaults := map[string]any{}
	for k, v := range s.Defaults {
		defaults[k] = v
	}
	if _, ok := defaults["CallId"]; !ok {
		var b [8]byte
		_, _ = rand.Read(b[:])
		defaults["CallId"] = "T-" + hex.EncodeToString(b[:])
	}
	var prevCode string
	for i, t := range s.Turns {
		path := t.Path
		if path == "" {
			path = "/" + s.Scenario
		}
		token := p.Token
		if t.Token != nil {
			token = *t.Token
		}
		ctype := t.ContentType
		if ctype == "" {
			ctype = "application/json"
		}
		var body []byte
		if t.Raw != nil {
			body = []byte(strings.ReplaceAll(*t.Raw, "{CallId}", fmt.Sprint(defaults["CallId"])))
		} else {
			req := map[string]any{}
			for k, v := range defaults {
				req[k] = v
			}
			for k, v := range t.Request {
				req[k] = v
			}
			for k, v := range req {
				if v == nil {
					delete(req, k)
				}
			}
			if _, given := t.Request["ScenarioCode"]; !given && prevCode != "" {
				req["ScenarioCode"] = prevCode
			}
			body, _ = json.Marshal(req)
		}
		repeat := t.Repeat
		if repeat < 1 {
			repeat = 1
		}
		var expect map[string]json.RawMessage
		_ = json.Unmarshal(t.Expect, &expect)
		var answers [][]byte
		failed := false
		for r := 0; r < repeat; r++ {
			status, raw, err := send(client, p.Base+path, body, token, ctype)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s turn %d: %v", s.Name, i+1, err))
				failed = true
				break
			}
			answers = append(answers, raw)
			if msgs := check(expect, status, raw); len(msgs) > 0 {
				problems = append(problems, fmt.Sprintf("%s turn %d: %s | answer: %.300s", s.Name, i+1, strings.Join(msgs, "; "), raw))
				failed = true
				break
			}
		}
		if !failed && (t.SameAnswer == nil || *t.SameAnswer) {
			for _, a := range answers[1:] {
				if !bytes.Equal(a, answers[0]) {
					problems = append(problems, fmt.Sprintf("%s turn %d: repeated request got different answers", s.Name, i+1))
					break
				}
			}
		}
		if len(answers) > 0 {
			var doc map[string]any
			if json.Unmarshal(answers[len(answers)-1], &doc) == nil {
				if c, ok := doc["ScenarioCode"].(string); ok && c != "" {
					prevCode = c
				}
			}
		}
	}
	return problems, len(s.Turns)
}

func send(c *http.Client, url string, body []byte, token, ctype string) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", ctype)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, err
}

func check(expect map[string]json.RawMessage, status int, raw []byte) []string {
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&doc) != nil {
		doc = map[string]any{}
	}
	keys := make([]string, 0, len(expect))
	for k := range expect {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var msgs []string
	for _, key := range keys {
		var want any
		wd := json.NewDecoder(bytes.NewReader(expect[key]))
		wd.UseNumber()
		_ = wd.Decode(&want)
		switch {
		case key == "http":
			if text(want) != strconv.Itoa(status) {
				msgs = append(msgs, fmt.Sprintf("http %d != %s", status, text(want)))
			}
		case strings.HasSuffix(key, "~"):
			got, ok := doc[strings.TrimSuffix(key, "~")]
			if !ok || got == nil || !strings.Contains(text(got), text(want)) {
				msgs = append(msgs, fmt.Sprintf("%s %v lacks %q", strings.TrimSuffix(key, "~"), got, text(want)))
			}
		default:
			got, ok := doc[key]
			if !ok {
				got = nil
			}
			if !match(want, got) {
				msgs = append(msgs, fmt.Sprintf("%s %v != %s", key, got, expect[key]))
			}
		}
	}
	return msgs
}

func match(want, got any) bool {
	if w, ok := want.(map[string]any); ok {
		if anyOf, ok := w["any"].([]any); ok {
			for _, a := range anyOf {
				if match(a, got) {
					return true
				}
			}
			return false
		}
		if b, _ := w["absent"].(bool); b {
			return got == nil || text(got) == "" || text(got) == "0"
		}
		if re, ok := w["regex"].(string); ok {
			r, err := regexp.Compile(re)
			return err == nil && got != nil && r.MatchString(text(got))
		}
	}
	return got != nil && text(got) == text(want)
}

// text renders a JSON value as Python's str() would for the same JSON.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "True"
		}
		return "False"
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

// PlayShared plays every script of shared/data/callscripts against base, one
// subtest a script, and returns how many scripts and turns it played. A
// missing folder or an empty one fails t.
func PlayShared(t *testing.T, base, token string) (scripts, turns int) {
	t.Helper()
	shared, err := repodir.SharedDir()
	if err != nil {
		t.Fatal(err)
	}
	all, files, err := Load(filepath.Join(shared, "data", "callscripts"))
	if err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 {
		t.Fatal("no call scripts found")
	}
	p := &Player{Base: base, Token: token}
	for i, s := range all {
		t.Run(filepath.Base(files[i]), func(t *testing.T) {
			problems, n := p.Play(s)
			turns += n
			for _, msg := range problems {
				t.Error(msg)
			}
		})
	}
	return len(all), turns
}
