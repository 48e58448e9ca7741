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
	// LookUpDuringRead looks a first turn's caller up while the session is
	// read, not before: for stores where both are round trips (Firestore),
	// one round trip fewer on every call's first turn. Off for the embedded
	// store, where the lookup costs less than the goroutine.
	LookUpDuringRead bool
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

// turnState is a turn's working memory, pooled: the body's buffer, the log
// line's fields, and what the session callback works on, bound to it once,
// so that handing the callback to the store allocates nothing. The store
// calls it only during Transact, and the answer it keeps is a fresh slice.
type turnState struct {
	h      *Handler
	ctx    context.Context
	r      *http.Request
	buf    bytes.Buffer
	body   io.LimitedReader
	lg     turnLog
	req    wire.Request
	flow   *tenant.Flow
	turn   engine.Turn
	class  classify.Result // the turn's classification; turn.Class points here
	looked bool
	name   chan lookup // the caller's name, looked up during the session's read (LookUpDuringRead)
	keys   []string    // the request's digests, current key first
	answer []byte
	out    engine.Outcome
	apply  func(session.Session, bool) (store.Commit, error) // bound to this state's session method
}

var statePool = sync.Pool{New: func() any {
	st := new(turnState)
	st.apply = st.session
	return st
}}

// reset clears st for a new turn, keeping its buffers and callback.
func (st *turnState) reset() {
	st.buf.Reset()
	*st = turnState{buf: st.buf, apply: st.apply, keys: st.keys[:0]}
}

// turnLog is what the one log line of a turn says.
type turnLog struct {
	scenario, tenant, from, to, service, category, backend string
	replayed, degraded                                     bool
	classifyErr                                            error
}

// jsonContentType is every answer's Content-Type, one slice for all of
// them: http.Header.Set would allocate one per answer. net/http and the
// framework only read it.
var jsonContentType = []string{"application/json; charset=utf-8"}

// ServeHTTP answers one turn.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.opts.Now()
	ctx := newLazyDeadline(r.Context(), h.opts.TurnTimeout)
	defer ctx.release()

	st := statePool.Get().(*turnState)
	st.reset()
	defer statePool.Put(st)
	st.h, st.ctx, st.r = h, ctx, r

	body, werr := st.run()
	code, status := wire.OK, http.StatusOK
	if werr != nil {
		resp := wire.ErrorResponse(st.req, werr)
		body = resp.AppendJSON(st.buf.Bytes()[:0])
		code, status = werr.Code, werr.HTTPStatus()
	}
	hdr := w.Header()
	hdr["Content-Type"] = jsonContentType
	switch {
	case code == wire.Unauthorized:
		hdr.Set("WWW-Authenticate", `Bearer realm="routebot"`)
	case status == http.StatusMethodNotAllowed:
		hdr.Set("Allow", wire.AllowedMethods)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
	h.log(r, st.req, code, werr, &st.lg, start)
	if st.flow != nil {
		// The answer is written (net/http sends it when this returns): the
		// tenant's classifier may train now (a no-op once started). A
		// greeting, which does not classify, does not share its turn's CPU
		// with training.
		if c, ok := st.flow.Tenant.Classifier.(starter); ok {
			c.Start()
		}
	}
}

// starter is a classifier built once started (classify.Background).
type starter interface{ Start() }

// run does the turn's work; body is the answer when werr is nil. st.req is
// what of the request decoded, for the answer and the log.
func (st *turnState) run() (body []byte, werr *wire.Error) {
	h, ctx, r, lg := st.h, st.ctx, st.r, &st.lg
	lg.scenario = strings.Trim(r.URL.Path, "/")
	if r.Method != http.MethodPost {
		return nil, wire.MethodNotAllowed(r.Method)
	}
	st.body = io.LimitedReader{R: r.Body, N: wire.MaxBody + 1}
	if _, err := st.buf.ReadFrom(&st.body); err != nil {
		return nil, wire.Failed(wire.BadParameter, "the request body could not be read", fmt.Errorf("reading the body: %w", err))
	}
	if authErr := h.auth.Verify(r.Header.Get("Authorization")); authErr != nil {
		st.req, _ = wire.DecodeRequest(st.buf.Bytes()) // best effort, to echo CallId
		return nil, wire.Unauthenticated(authErr)
	}
	st.req, werr = wire.DecodeRequest(st.buf.Bytes())
	if werr != nil {
		return nil, werr
	}
	req := &st.req
	if lg.scenario == "" || strings.Contains(lg.scenario, "/") {
		return nil, wire.Errorf(wire.NotFound, "no scenario at %q: POST /{scenarioCode}", r.URL.Path)
	}
	flow, err := h.flows.Flow(ctx, lg.scenario)
	if err != nil {
		return nil, edge.WireError("scenario "+lg.scenario, err)
	}
	st.flow = flow
	t := flow.Tenant
	lg.tenant = t.ID
	if !t.Bots[req.ChatBotKey] {
		return nil, wire.Errorf(wire.Forbidden, "ChatBotKey %q is not a bot of scenario %s's tenant", req.ChatBotKey, flow.Code)
	}

	st.turn = engine.Turn{ScenarioCode: req.ScenarioCode, ChatMsg: req.ChatMsg, Answer: req.Answer, DTMF: req.DTMF,
		Customer: req.Customer}
	// ${name} is looked up once per session, on the call's first turn,
	// whichever step that turn names. Most first turns look like one, and are
	// looked up before the session's transaction (or, with LookUpDuringRead,
	// while its read is in flight).
	st.looked = req.IsFirstChat || req.ScenarioCode == "" || req.ScenarioCode == flow.Code
	switch {
	case st.looked && h.opts.LookUpDuringRead:
		st.name = h.startLookup(ctx, t.ID, req.Customer)
	case st.looked:
		st.turn.CustomerName = h.customerName(ctx, r, t.ID, *req)
	}
	if text, ok := engine.Utterance(flow, st.turn); ok {
		if err := h.classify(ctx, t, text, req.CallID, &st.class); err != nil {
			st.turn.ClassErr, lg.classifyErr = err, err
		} else {
			st.turn.Class = &st.class
		}
	}

	st.keys = requestKeys(st.keys[:0], h.opts.RequestKeys, lg.scenario, *req, r.Header.Get("Idempotency-Key"))
	if err := h.sessions.Transact(ctx, req.CallID, st.apply); err != nil {
		var werr *wire.Error
		if errors.As(err, &werr) {
			return nil, werr
		}
		// Nothing was committed: the steps the callback computed did not
		// happen. The store's own error is the answer's Cause, in the log.
		lg.from, lg.to, lg.service = "", "", ""
		return nil, edge.WireError("call session", err)
	}
	return st.answer, nil
}

// session is the turn inside the call's session transaction (st.apply).
func (st *turnState) session(cur session.Session, found bool) (store.Commit, error) {
	h, flow, req, lg := st.h, st.flow, &st.req, &st.lg
	if found && cur.LastKey != "" && slices.Contains(st.keys, cur.LastKey) && cur.Scenario == flow.Code {
		st.answer, lg.replayed, lg.to = cur.LastAnswer, true, cur.Step
		if step := flow.Steps[cur.Step]; step != nil {
			lg.service = string(step.Service)
		}
		return store.Commit{}, nil
	}
	st.turn.Now = h.opts.Now()
	if st.name != nil {
		st.turn.CustomerName = h.awaitName(st.ctx, st.r, st.name, flow.Tenant.ID, *req)
		st.name = nil // a transaction that calls this again keeps the name
	}
	if !st.looked && (!found || cur.Scenario != flow.Code) {
		// A new session on a turn that did not look like a first one.
		st.turn.CustomerName, st.looked = h.customerName(st.ctx, st.r, flow.Tenant.ID, *req), true
	}
	out, werr := h.engine.Turn(flow, cur, found, st.turn)
	if werr != nil {
		return store.Commit{}, werr
	}
	st.out = out
	resp := &st.out.Response
	resp.CallID, resp.ChatBotKey = req.CallID, req.ChatBotKey
	// A fresh slice: fn may run again on contention, and the session keeps it.
	st.answer = resp.AppendJSON(make([]byte, 0, 256))
	s := st.out.Session
	s.LastKey, s.LastAnswer = "", st.answer
	if len(st.keys) > 0 {
		s.LastKey = st.keys[0]
	}
	lg.from, lg.to, lg.service, lg.degraded, lg.replayed = out.From, out.To, resp.ServiceCode, out.Degraded, false
	lg.category, lg.backend = out.Record.Category, out.Record.Backend
	return store.Commit{Write: true, Session: s, Record: &st.out.Record}, nil
}

// classify runs the tenant's classifier under the live-turn budget, into
// res. A result outside the taxonomy counts as a failure: the router's
// fallback answers.
func (h *Handler) classify(ctx context.Context, t *tenant.Tenant, text, callID string, res *classify.Result) error {
	if t.Classifier == nil {
		return errors.New("tenant has no classifier")
	}
	cctx := newLazyDeadline(ctx, h.opts.ClassifyTimeout)
	defer cctx.release()
	var err error
	if *res, err = t.Classifier.Classify(cctx, classify.Input{Text: text, SessionID: callID}); err != nil {
		return err
	}
	if !t.Taxonomy.Contains(res.Path) {
		return errors.New("classifier answered outside the taxonomy: " + res.Path.String())
	}
	return nil
}

// lookup is a directory lookup's outcome.
type lookup struct {
	name string
	err  error
}

// startLookup looks phone up in the background, for awaitName. The channel
// is buffered: the lookup never waits for a turn that needed no name (a
// retry answered from the session) or failed meanwhile. Only the turn's own
// goroutine logs the outcome, and the lookup is not cancelled when the turn
// ends (only at the turn's deadline), so a lookup nobody waited for logs
// nothing, here or in the store.
func (h *Handler) startLookup(ctx context.Context, tenantID, phone string) chan lookup {
	name := make(chan lookup, 1)
	deadline, _ := ctx.Deadline()
	lctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
	go func() {
		defer cancel()
		var l lookup
		l.name, l.err = h.directory.CustomerName(lctx, tenantID, phone)
		name <- l
	}()
	return name
}

// awaitName waits for the lookup started before the session's read, as long
// as the turn may: a directory that ignored the deadline would not hold the
// turn past it.
func (h *Handler) awaitName(ctx context.Context, r *http.Request, pending <-chan lookup, tenantID string, req wire.Request) string {
	var l lookup
	select {
	case l = <-pending:
	case <-ctx.Done():
		l.err = fmt.Errorf("waiting for the customer directory: %w", ctx.Err())
	}
	return h.nameOrDefault(r, tenantID, req, l.name, l.err)
}

func (h *Handler) customerName(ctx context.Context, r *http.Request, tenantID string, req wire.Request) string {
	name, err := h.directory.CustomerName(ctx, tenantID, req.Customer)
	return h.nameOrDefault(r, tenantID, req, name, err)
}

// nameOrDefault is a lookup's name, "" (the tenant's default) when it
// failed, which is logged unless the caller is just not in the directory.
func (h *Handler) nameOrDefault(r *http.Request, tenantID string, req wire.Request, name string, err error) string {
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		attrs := append(logging.TraceAttrs(r, h.opts.Project), slog.String("CallId", req.CallID),
			slog.String("tenant", tenantID), slog.String("error", err.Error()))
		h.logger.LogAttrs(r.Context(), slog.LevelWarn, "customer directory lookup failed; using the tenant's default name", attrs...)
	}
	return name
}

// requestKeys appends to dst what identifies a request so that a retry is
// recognised: its keyed digests (the DTMF of a sensitive step is among the
// fields), current key first. 무응답 and 무응답종료 name no step, so two real
// silences look identical: they are only deduplicated by an Idempotency-Key
// header.
func requestKeys(dst []string, k *session.RequestKeys, scenarioCode string, req wire.Request, idempotencyKey string) []string {
	switch {
	case idempotencyKey != "":
		return k.AppendDigests(dst, "idem", idempotencyKey)
	case req.ScenarioCode == wire.Silence || req.ScenarioCode == wire.SilenceEnd:
		return dst
	}
	first := "N"
	if req.IsFirstChat {
		first = "Y"
	}
	return k.AppendDigests(dst, "turn", scenarioCode, req.ScenarioCode, req.ChatMsg, req.DTMF, req.Answer, first, req.Customer, req.ChatBotKey, req.Agent)
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
	attrs = logging.AppendTraceAttrs(attrs, r, h.opts.Project)
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
	h.logger.LogAttrs(r.Context(), level, msg, attrs...)
}
