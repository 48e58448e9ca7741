// Package classify is the Classify function's HTTP edge: POST
// /{scenarioCode}/chat-gpt with a call transcript (`question`,
// form-urlencoded, multipart/form-data or JSON, at most MaxBody bytes) answered with the tenant's three category levels,
// a Korean summary and create_time (seed 003 §1.2.2). A failing backend never
// fails the request: the chain falls back to the embedded classifier, and at
// worst to the taxonomy's fallback path.
package classify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/routebot/routebot/common/classify"
	"github.com/routebot/routebot/common/logging"
	"github.com/routebot/routebot/common/tenant"
	"github.com/routebot/routebot/common/transcript"
	"github.com/routebot/routebot/common/wire"
	"github.com/routebot/routebot/functions/internal/edge"
)

// MaxBody bounds a request: a long call's transcript is a few KiB.
const MaxBody = 256 << 10

// Flows resolves scenario codes to compiled flows (tenant.Registry).
type Flows interface {
	Flow(ctx context.Context, code string) (*tenant.Flow, error)
}

// Verifier authenticates the Authorization header (auth.Verifier).
type Verifier interface {
	Verify(authorization string) error
}

// Options tune a Handler.
type Options struct {
	Project  string
	Timeout  time.Duration  // the whole classification, fallbacks included
	TimeZone *time.Location // create_time's zone (Asia/Seoul)
	Now      func() time.Time

	// Transcripts, when set, lets a body name a CallId instead of a
	// question: the stream service's stored transcript is classified, if
	// CallOwners (when set) says the call is the scenario's tenant's.
	Transcripts Transcripts
	CallOwners  CallOwners
}

// Handler answers classification requests.
type Handler struct {
	flows  Flows
	auth   Verifier
	logger *slog.Logger
	opts   Options
}

// New returns the handler.
func New(flows Flows, auth Verifier, logger *slog.Logger, opts Options) *Handler {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 20 * time.Second
	}
	if opts.TimeZone == nil {
		opts.TimeZone = time.UTC
	}
	return &Handler{flows: flows, auth: auth, logger: logger, opts: opts}
}

// Answer is the response body. Field order and names are the seed's table
// (its sample's "catagory1" is a typo; the table is the contract).
type Answer struct {
	Category1  string `json:"category1"`
	Category2  string `json:"category2"`
	Category3  string `json:"category3"`
	Answer     string `json:"answer"`
	CreateTime string `json:"create_time"`
}

// errorAnswer is the error envelope, in the scenario function's style.
type errorAnswer struct {
	Result      string `json:"Result"`
	TransCode   string `json:"TransCode"`
	Description string `json:"Description"`
	CreateTime  string `json:"create_time"`
}

// CreateTimeLayout is local time with microseconds and no zone.
const CreateTimeLayout = "2006-01-02T15:04:05.000000"

// ServeHTTP answers one classification.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.opts.Now()
	ctx, cancel := context.WithTimeout(r.Context(), h.opts.Timeout)
	defer cancel()
	code, res, tenantID, werr := h.run(ctx, r)
	status := writeAnswer(w, res, werr, h.opts.Now().In(h.opts.TimeZone))

	attrs := append(logging.TraceAttrs(r, h.opts.Project),
		slog.String("scenario", code), slog.String("tenant", tenantID),
		slog.Float64("latency_ms", float64(h.opts.Now().Sub(start).Microseconds())/1000))
	switch {
	case werr != nil:
		level, msg := slog.LevelWarn, "classification refused"
		switch {
		case r.Context().Err() != nil:
			msg = "classification abandoned: the gateway hung up before the answer"
		case status >= 500:
			level = slog.LevelError
		}
		attrs = append(attrs, slog.String("TransCode", string(werr.Code)), slog.String("reason", werr.Reason))
		if werr.Cause != nil {
			attrs = append(attrs, slog.String("error", werr.Cause.Error()))
		}
		h.logger.LogAttrs(r.Context(), level, msg, attrs...)
	default:
		h.logger.LogAttrs(r.Context(), slog.LevelInfo, "classification", append(attrs,
			slog.String("category", res.Path.String()), slog.String("backend", res.Backend),
			slog.Float64("confidence", res.Confidence), slog.Bool("fallback", res.Fallback))...)
	}
}

// writeAnswer writes the answer, or werr's envelope, created at now; it
// returns the HTTP status.
func writeAnswer(w http.ResponseWriter, res classify.Result, werr *wire.Error, now time.Time) int {
	created := now.Format(CreateTimeLayout)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	status := http.StatusOK
	if werr != nil {
		status = werr.HTTPStatus()
		_ = enc.Encode(errorAnswer{Result: "N", TransCode: string(werr.Code), Description: werr.Code.Message() + ": " + werr.Reason, CreateTime: created})
	} else {
		_ = enc.Encode(Answer{Category1: res.Path[0], Category2: res.Path[1], Category3: res.Path[2], Answer: res.Summary, CreateTime: created})
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	switch {
	case werr != nil && werr.Code == wire.Unauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="routebot"`)
	case status == http.StatusMethodNotAllowed:
		w.Header().Set("Allow", wire.AllowedMethods)
	}
	w.WriteHeader(status)
	_, _ = w.Write(bytes.TrimRight(buf.Bytes(), "\n"))
	return status
}

func (h *Handler) run(ctx context.Context, r *http.Request) (code string, res classify.Result, tenantID string, werr *wire.Error) {
	code = scenarioCode(r.URL.Path)
	if r.Method != http.MethodPost {
		return code, res, "", wire.MethodNotAllowed(r.Method)
	}
	if err := h.auth.Verify(r.Header.Get("Authorization")); err != nil {
		return code, res, "", wire.Unauthenticated(err)
	}
	if code == "" {
		return code, res, "", wire.Errorf(wire.NotFound, "no scenario at %q: POST /{scenarioCode}/chat-gpt", r.URL.Path)
	}
	question, werr := h.question(ctx, r)
	if werr != nil {
		return code, res, "", werr
	}
	flow, err := h.flows.Flow(ctx, code)
	if err != nil {
		return code, res, "", edge.WireError("scenario "+code, err)
	}
	t := flow.Tenant
	// Canonical lines for every backend: the gateway's literal "\n" and
	// turns run onto one line become one "speaker: text" line each.
	text := transcript.Parse(question).String()
	if text == "" {
		text = question
	}
	res, err = t.Classifier.Classify(ctx, classify.Input{Text: text, Transcript: true})
	if err != nil || !t.Taxonomy.Contains(res.Path) {
		// Every backend failed or answered outside the taxonomy: the
		// tenant's "unsure" category, never an error to the gateway.
		h.logger.LogAttrs(ctx, slog.LevelError, "classification failed; answering the taxonomy's fallback",
			slog.String("tenant", t.ID), slog.Any("error", err), slog.String("answered", res.Path.String()))
		res = classify.Result{Path: t.Taxonomy.Fallback, Fallback: true, Backend: "none", Summary: res.Summary}
	}
	return code, res, t.ID, nil
}

// scenarioCode reads /{code}/chat-gpt or /{code}/chat-gpt/.
func scenarioCode(path string) string {
	code, ok := strings.CutSuffix(strings.Trim(path, "/"), "/chat-gpt")
	if !ok || code == "" || strings.Contains(code, "/") {
		return ""
	}
	return code
}

// readQuestion takes `question` from a form-urlencoded, multipart/form-data
// or JSON body of at most MaxBody bytes.
func readQuestion(r *http.Request) (string, *wire.Error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return "", wire.Failed(wire.BadParameter, "the request body could not be read", fmt.Errorf("reading the body: %w", err))
	}
	if len(body) > MaxBody {
		return "", wire.Errorf(wire.BadParameter, "body is larger than %d bytes", MaxBody)
	}
	mediaType, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	trimmed := bytes.TrimSpace(body)
	var q string
	switch {
	case mediaType == "application/json" || (mediaType == "" && len(trimmed) > 0 && trimmed[0] == '{'):
		var v struct {
			Question *string `json:"question"`
		}
		if err := json.Unmarshal(trimmed, &v); err != nil {
			return "", wire.Errorf(wire.BadParameter, "body is not a JSON object with question")
		}
		if v.Question != nil {
			q = *v.Question
		}
	case mediaType == "multipart/form-data":
		if q, err = multipartValue(body, params["boundary"], "question"); err != nil {
			return "", wire.Failed(wire.BadParameter, "body is not multipart/form-data with question", err)
		}
	default:
		q = formValue(string(body), "question")
	}
	if !utf8.ValidString(q) {
		return "", wire.Errorf(wire.BadParameter, "question is not UTF-8")
	}
	if strings.TrimSpace(q) == "" {
		return "", wire.Errorf(wire.BadParameter, "question is required: the call transcript")
	}
	return q, nil
}

// multipartValue reads the first field called name of a multipart/form-data
// body (already bounded by MaxBody, so a part is read whole).
func multipartValue(body []byte, boundary, name string) (string, error) {
	if boundary == "" {
		return "", errors.New("multipart/form-data without a boundary")
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return "", nil
		}
		if err != nil {
			return "", fmt.Errorf("multipart.Reader.NextPart: %w", err)
		}
		if part.FormName() != name {
			continue
		}
		v, err := io.ReadAll(part)
		if err != nil {
			return "", fmt.Errorf("reading multipart field %s: %w", name, err)
		}
		return string(v), nil
	}
}

// formValue reads the first value of name from a form-urlencoded body as
// leniently as the Node-RED flow this replaces (body-parser): the gateway
// posts the transcript unencoded (seed 003's curl -d sample), so a caller's
// "50%" or a ';' is text, where url.ParseQuery fails on it and drops the
// whole question. '&' still separates fields and '+' is a space.
func formValue(body, name string) string {
	for body != "" {
		var field string
		field, body, _ = strings.Cut(body, "&")
		k, v, _ := strings.Cut(field, "=")
		if unescapeForm(k) == name {
			return unescapeForm(v)
		}
	}
	return ""
}

// unescapeForm decodes '+' and valid %XX escapes and keeps any other '%'.
func unescapeForm(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			b = append(b, ' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	default:
		return c - 'a' + 10
	}
}
