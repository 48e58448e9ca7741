// Package scenario is the Scenario function's HTTP edge: POST /{scenarioCode}
// from the AI Gateway, one call turn. It decodes the seed-003 envelope,
// authenticates, resolves the tenant's flow, classifies the caller's words
// when the step routes by category, runs the engine inside the call's session
// transaction (where a retried turn is answered from the session without
// advancing the call), and encodes the answer.
package scenario

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/routebot/routebot/common/classify"
	"github.com/routebot/routebot/common/engine"
	"github.com/routebot/routebot/common/logging"
	"github.com/routebot/routebot/common/session"
	"github.com/routebot/routebot/common/store"
	"github.com/routebot/routebot/common/tenant"
	"github.com/routebot/routebot/common/wire"
	"github.com/routebot/routebot/functions/internal/edge"
)

// Flows resolves scenario codes to compiled flows (tenant.Registry).
type Flows interface {
	Flow(ctx context.Context, code string) (*tenant.Flow, error)
}

// Verifier authenticates the Authorization header (auth.Verifier).
type Verifier interface {
	Verify(authorization string) error
}

// Handler answers call turns.
type Handler struct {
	flows     Flows
	sessions  store.Sessions
	directory store.Directory
	auth      Verifier
	engine    *engine.Engine
	logger    *slog.Logger
	opts      Options
}

// Options tune a Handler.
type Options struct {
	Project         string        // for trace names in logs
	TurnTimeout     time.Duration // the whole turn
	ClassifyTimeout time.Duration // classification within the turn
	SessionTTL      time.Duration
	Now             func() time.Time
	// RequestKeys digests requests into Session.LastKey; nil: a random key
	// of this process, fit only when no other process shares the store.
	RequestKeys *session.RequestKeys
}

// New returns the handler. Every dependency is required.
func New(flows Flows, sessions store.Sessions, directory store.Directory, auth Verifier, logger *slog.Logger, opts Options) *Handler {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.TurnTimeout <= 0 {
		opts.TurnTimeout = 3 * time.Second
	}
	if opts.ClassifyTimeout <= 0 {
		opts.ClassifyTimeout = 1500 * time.Millisecond
	}
	if opts.RequestKeys == nil {
		opts.RequestKeys = session.RandomRequestKeys()
	}
	return &Handler{flows: flows, sessions: sessions, directory: directory, auth: auth,
		engine: &engine.Engine{SessionTTL: opts.SessionTTL}, logger: logger, opts: opts}
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// turnLog is what the one log line of a turn says.
type turnLog struct {
	scenario, tenant, from, to, service, category, backend string
	replayed, degraded                                     bool
	classifyErr                                            error
	storeErr                                               error // the session store's own error: the answer says less
}

// ServeHTTP answers one turn.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.opts.Now()
	ctx, cancel := context.WithTimeout(r.Context(), h.opts.TurnTimeout)
	defer cancel()

	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)

	var lg turnLog
	req, body, werr := h.turn(ctx, r, buf, &lg)
	code, status := wire.OK, http.StatusOK
	if werr != nil {
		resp := wire.ErrorResponse(req, werr)
		body = resp.AppendJSON(buf.Bytes()[:0])
		code, status = werr.Code, werr.HTTPStatus()
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	switch {
	case code == wire.Unauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="routebot"`)
	case status == http.StatusMethodNotAllowed:
		w.Header().Set("Allow", wire.AllowedMethods)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
	h.log(r, req, code, werr, &lg, start)
}

// turn does the work; body is the answer when werr is nil.
func (h *Handler) turn(ctx context.Context, r *http.Request, buf *bytes.Buffer, lg *turnLog) (wire.Request, []byte, *wire.Error) {
	lg.scenario = strings.Trim(r.URL.Path, "/")
	if r.Method != http.MethodPost {
		return wire.Request{}, nil, wire.MethodNotAllowed(r.Method)
	}
	if _, err := buf.ReadFrom(io.LimitReader(r.Body, wire.MaxBody+1)); err != nil {
		return wire.Request{}, nil, wire.Failed(wire.BadParameter, "the request body could not be read", fmt.Errorf("reading the body: %w", err))
	}
	if authErr := h.auth.Verify(r.Header.Get("Authorization")); authErr != nil {
		req, _ := wire.DecodeRequest(buf.Bytes()) // best effort, to echo CallId
		return req, nil, wire.Unauthenticated(authErr)
	}
	req, werr := wire.DecodeRequest(buf.Bytes())
	if werr != nil {
		return req, nil, werr
	}
	if lg.scenario == "" || strings.Contains(lg.scenario, "/") {
		return req, nil, wire.Errorf(wire.NotFound, "no scenario at %q: POST /{scenarioCode}", r.URL.Path)
	}
	flow, err := h.flows.Flow(ctx, lg.scenario)
	if err != nil {
		return req, nil, edge.WireError("scenario "+lg.scenario, err)
	}
	t := flow.Tenant
	lg.tenant = t.ID
	if !t.Bots[req.ChatBotKey] {
		return req, nil, wire.Errorf(wire.Forbidden, "ChatBotKey %q is not a bot of scenario %s's tenant", req.ChatBotKey, flow.Code)
	}

	turn := engine.Turn{ScenarioCode: req.ScenarioCode, ChatMsg: req.ChatMsg, Answer: req.Answer, DTMF: req.DTMF,
		Customer: req.Customer}
	// ${name} is looked up once per session, on the call's first turn,
	// whichever step that turn names. Most first turns look like one, and are
	// looked up before the session's lock is taken.
	looked := req.IsFirstChat || req.ScenarioCode == "" || req.ScenarioCode == flow.Code
	if looked {
		turn.CustomerName = h.customerName(ctx, r, t.ID, req)
	}
	if text, ok := engine.Utterance(flow, turn); ok {
		turn.Class, turn.ClassErr = h.classify(ctx, t, text, req.CallID)
		if turn.ClassErr != nil {
			lg.classifyErr = turn.ClassErr
		}
	}

	keys := requestKeys(h.opts.RequestKeys, lg.scenario, req, r.Header.Get("Idempotency-Key"))
	var answer []byte
	err = h.sessions.Transact(ctx, req.CallID, func(cur session.Session, found bool) (store.Commit, error) {
		if found && cur.LastKey != "" && slices.Contains(keys, cur.LastKey) && cur.Scenario == flow.Code {
			answer, lg.replayed, lg.to = cur.LastAnswer, true, cur.Step
			if st := flow.Steps[cur.Step]; st != nil {
				lg.service = string(st.Service)
			}
			return store.Commit{}, nil
		}
		turn.Now = h.opts.Now()
		if !looked && (!found || cur.Scenario != flow.Code) {
			// A new session on a turn that did not look like a first one.
			turn.CustomerName, looked = h.customerName(ctx, r, t.ID, req), true
		}
		out, werr := h.engine.Turn(flow, cur, found, turn)
		if werr != nil {
			return store.Commit{}, werr
		}
		resp := out.Response
		resp.CallID, resp.ChatBotKey = req.CallID, req.ChatBotKey
		// A fresh slice: fn may run again on contention, and the session keeps it.
		answer = resp.AppendJSON(make([]byte, 0, 256))
		s := out.Session
		s.LastKey, s.LastAnswer = "", answer
		if len(keys) > 0 {
			s.LastKey = keys[0]
		}
		lg.from, lg.to, lg.service, lg.degraded, lg.replayed = out.From, out.To, resp.ServiceCode, out.Degraded, false
		lg.category, lg.backend = out.Record.Category, out.Record.Backend
		return store.Commit{Write: true, Session: s, Record: &out.Record}, nil
	})
	var werr2 *wire.Error
	switch {
	case errors.As(err, &werr2):
		return req, nil, werr2
	case err != nil:
		// Nothing was committed: the steps fn computed did not happen.
		lg.from, lg.to, lg.service, lg.storeErr = "", "", "", err
		return req, nil, edge.WireError("call session", err)
	}
	return req, answer, nil
}

// classify runs the tenant's classifier under the live-turn budget. A result
// outside the taxonomy counts as a failure: the router's fallback answers.
func (h *Handler) classify(ctx context.Context, t *tenant.Tenant, text, callID string) (*classify.Result, error) {
	if t.Classifier == nil {
		return nil, errors.New("tenant has no classifier")
	}
	cctx, cancel := context.WithTimeout(ctx, h.opts.ClassifyTimeout)
	defer cancel()
	res, err := t.Classifier.Classify(cctx, classify.Input{Text: text, SessionID: callID})
	if err != nil {
		return nil, err
	}
	if !t.Taxonomy.Contains(res.Path) {
		return nil, errors.New("classifier answered outside the taxonomy: " + res.Path.String())
	}
	return &res, nil
}

func (h *Handler) customerName(ctx context.Context, r *http.Request, tenantID string, req wire.Request) string {
	name, err := h.directory.CustomerName(ctx, tenantID, req.Customer)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		attrs := append(logging.TraceAttrs(r, h.opts.Project), slog.String("CallId", req.CallID),
			slog.String("tenant", tenantID), slog.String("error", err.Error()))
		h.logger.LogAttrs(r.Context(), slog.LevelWarn, "customer directory lookup failed; using the tenant's default name", attrs...)
	}
	return name
}

// requestKeys identify a request so that a retry is recognised: its keyed
// digests (the DTMF of a sensitive step is among the fields), current key
// first. 무응답 and 무응답종료 name no step, so two real silences look
// identical: they are only deduplicated by an Idempotency-Key header.
func requestKeys(k *session.RequestKeys, scenarioCode string, req wire.Request, idempotencyKey string) []string {
	switch {
	case idempotencyKey != "":
		return k.Digests("idem", idempotencyKey)
	case req.ScenarioCode == wire.Silence || req.ScenarioCode == wire.SilenceEnd:
		return nil
	}
	first := "N"
	if req.IsFirstChat {
		first = "Y"
	}
	return k.Digests("turn", scenarioCode, req.ScenarioCode, req.ChatMsg, req.DTMF, req.Answer, first, req.Customer, req.ChatBotKey, req.Agent)
}

func (h *Handler) log(r *http.Request, req wire.Request, code wire.Code, werr *wire.Error, lg *turnLog, start time.Time) {
	level := slog.LevelInfo
	msg := "turn"
	switch {
	case werr != nil && r.Context().Err() != nil:
		// The gateway hung up (or its request was cancelled) before the
		// answer: nothing for an operator to fix, and the gateway's retry,
		// if any, is answered consistently (see docs/edges.md).
		level, msg = slog.LevelWarn, "turn abandoned: the gateway hung up before the answer"
	case code.HTTPStatus() >= 500:
		level, msg = slog.LevelError, "turn failed"
	case werr != nil:
		level, msg = slog.LevelWarn, "turn refused"
	case lg.degraded:
		level, msg = slog.LevelWarn, "turn answered by the flow's fallback"
	}
	if !h.logger.Enabled(r.Context(), level) {
		return
	}
	attrs := make([]slog.Attr, 0, 20)
	attrs = append(attrs, logging.TraceAttrs(r, h.opts.Project)...)
	attrs = append(attrs,
		slog.String("CallId", req.CallID), slog.String("tenant", lg.tenant), slog.String("scenario", lg.scenario),
		slog.String("from", lg.from), slog.String("to", lg.to),
		slog.String("ServiceCode", lg.service), slog.String("TransCode", string(code)),
		slog.Float64("latency_ms", float64(h.opts.Now().Sub(start).Microseconds())/1000),
	)
	if lg.category != "" {
		attrs = append(attrs, slog.String("category", lg.category), slog.String("backend", lg.backend))
	}
	if lg.replayed {
		attrs = append(attrs, slog.Bool("replayed", true))
	}
	if lg.classifyErr != nil {
		attrs = append(attrs, slog.String("classify_error", lg.classifyErr.Error()))
	}
	if werr != nil {
		attrs = append(attrs, slog.String("reason", werr.Reason))
		if werr.Cause != nil {
			attrs = append(attrs, slog.String("error", werr.Cause.Error()))
		}
	}
	if lg.storeErr != nil {
		attrs = append(attrs, slog.String("error", lg.storeErr.Error()))
	}
	h.logger.LogAttrs(r.Context(), level, msg, attrs...)
}
