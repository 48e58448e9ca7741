// Package profile is the Profile function's HTTP edge, for the platform
// team: PUT /tenants/{tenant}/profile brings the tenant's Dialogflow
// conversation profile in line with its settings (creating it if need be),
// GET /tenants/{tenant}/profile shows it as Dialogflow has it and how it
// drifted. Both need the bearer token of the other functions; in production
// the function is also private behind Cloud Run IAM. The wire format is in
// docs/profile.md.
package profile

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/dialogflow/apiv2beta1/dialogflowpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/routebot/routebot/common/dialogflow"
	"github.com/routebot/routebot/common/store"
	"github.com/routebot/routebot/common/tenant"
)

// Reconciler reconciles and diffs tenants' profiles (dialogflow.Reconciler).
type Reconciler interface {
	Apply(ctx context.Context, tenantID string) (dialogflow.Outcome, error)
	Diff(ctx context.Context, tenantID string) (dialogflow.Report, error)
}

// Verifier authenticates the Authorization header (auth.Verifier).
type Verifier interface {
	Verify(authorization string) error
}

// DefaultTimeout bounds one request's Dialogflow and store calls.
const DefaultTimeout = 30 * time.Second

// Handler serves the profile routes.
type Handler struct {
	rec     Reconciler
	auth    Verifier
	log     *slog.Logger
	timeout time.Duration
	mux     *http.ServeMux
}

// New returns the handler; timeout 0 means DefaultTimeout.
func New(rec Reconciler, auth Verifier, logger *slog.Logger, timeout time.Duration) *Handler {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	h := &Handler{rec: rec, auth: auth, log: logger, timeout: timeout, mux: http.NewServeMux()}
	h.mux.HandleFunc("PUT /tenants/{tenant}/profile", h.apply)
	h.mux.HandleFunc("GET /tenants/{tenant}/profile", h.diff)
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/tenants/") && strings.HasSuffix(r.URL.Path, "/profile") {
			w.Header().Set("Allow", "GET, PUT")
			h.fail(w, r, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", r.Method+" is not allowed: use GET or PUT", nil)
			return
		}
		h.fail(w, r, http.StatusNotFound, "NOT_FOUND", "no such route: use /tenants/{tenant}/profile", nil)
	})
	return h
}

// ServeHTTP authenticates, then routes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := h.auth.Verify(r.Header.Get("Authorization")); err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="routebot"`)
		h.fail(w, r, http.StatusUnauthorized, "UNAUTHENTICATED", err.Error(), nil)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// ApplyResponse is PUT's answer.
type ApplyResponse struct {
	Tenant  string          `json:"tenant"`
	Action  string          `json:"action"` // created | updated | unchanged
	Name    string          `json:"name"`
	Changed []string        `json:"changed,omitempty"` // updated: the update mask's fields
	Profile json.RawMessage `json:"profile"`           // as Dialogflow answered, Dialogflow's JSON
}

// DiffResponse is GET's answer.
type DiffResponse struct {
	Tenant  string          `json:"tenant"`
	Name    string          `json:"name,omitempty"`
	Exists  bool            `json:"exists"`
	InSync  bool            `json:"inSync"`
	Profile json.RawMessage `json:"profile"` // null when it does not exist
	Drift   []FieldDrift    `json:"drift"`
}

// FieldDrift is one field that differs: what the settings want and what
// Dialogflow has (null when unset).
type FieldDrift struct {
	Field string          `json:"field"` // the update-mask name, e.g. stt_config
	Want  json.RawMessage `json:"want"`
	Have  json.RawMessage `json:"have"`
}

// ErrorResponse is every error's answer.
type ErrorResponse struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody names the HTTP status, a status word and what failed.
type ErrorBody struct {
	Code     int      `json:"code"`
	Status   string   `json:"status"`
	Message  string   `json:"message"`
	Problems []string `json:"problems,omitempty"` // invalid settings, file:line each
}

func (h *Handler) apply(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("tenant")
	ctx, cancel := context.WithTimeout(r.Context(), h.timeout)
	defer cancel()
	out, err := h.rec.Apply(ctx, id)
	if err != nil {
		h.failErr(w, r, id, err)
		return
	}
	h.log.InfoContext(ctx, "conversation profile reconciled", "tenant", id, "action", string(out.Action), "profile", out.Name, "changed", out.Changed)
	status := http.StatusOK
	if out.Action == dialogflow.Created {
		status = http.StatusCreated
	}
	h.write(w, status, ApplyBody(id, out))
}

// ApplyBody is PUT's answer for out.
func ApplyBody(tenantID string, out dialogflow.Outcome) ApplyResponse {
	return ApplyResponse{Tenant: tenantID, Action: string(out.Action), Name: out.Name, Changed: out.Changed, Profile: profileJSON(out.Profile)}
}

// DiffBody is GET's answer for rep.
func DiffBody(tenantID string, rep dialogflow.Report) DiffResponse {
	return DiffResponse{Tenant: tenantID, Name: rep.Name, Exists: !rep.Missing, InSync: len(rep.Drift) == 0,
		Profile: profileJSON(rep.Have), Drift: fields(rep)}
}

func (h *Handler) diff(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("tenant")
	ctx, cancel := context.WithTimeout(r.Context(), h.timeout)
	defer cancel()
	rep, err := h.rec.Diff(ctx, id)
	if err != nil {
		h.failErr(w, r, id, err)
		return
	}
	h.write(w, http.StatusOK, DiffBody(id, rep))
}

// fields spells a report's drift out field by field.
func fields(rep dialogflow.Report) []FieldDrift {
	want, have := fieldsJSON(rep.Want), fieldsJSON(rep.Have)
	out := []FieldDrift{}
	for _, f := range rep.Drift {
		out = append(out, FieldDrift{Field: f, Want: orNull(want[f]), Have: orNull(have[f])})
	}
	return out
}

var (
	wireJSON  = protojson.MarshalOptions{}                    // Dialogflow's REST JSON (lowerCamel)
	fieldJSON = protojson.MarshalOptions{UseProtoNames: true} // keyed like the update mask
)

func profileJSON(p *dialogflowpb.ConversationProfile) json.RawMessage {
	if p == nil {
		return json.RawMessage("null")
	}
	b, err := wireJSON.Marshal(p)
	if err != nil {
		return json.RawMessage("null")
	}
	return b
}

func fieldsJSON(p *dialogflowpb.ConversationProfile) map[string]json.RawMessage {
	m := map[string]json.RawMessage{}
	if p == nil {
		return m
	}
	if b, err := fieldJSON.Marshal(p); err == nil {
		_ = json.Unmarshal(b, &m)
	}
	return m
}

func orNull(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("null")
	}
	return b
}

// Status maps an error of the reconciler to the HTTP status, status word
// and message of the answer, and the Retry-After seconds (0: none).
func Status(tenantID string, err error) (code int, word, msg string, retryAfter int) {
	var te *tenant.Error
	var ce *dialogflow.CallError
	switch {
	case errors.As(err, &te):
		return http.StatusBadRequest, "INVALID_ARGUMENT", "tenant " + strconv.Quote(tenantID) + ": invalid settings (see problems)", 0
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, "NOT_FOUND", "tenant " + strconv.Quote(tenantID) + " not found", 0
	case errors.Is(err, dialogflow.ErrAmbiguous):
		return http.StatusConflict, "FAILED_PRECONDITION", err.Error(), 0
	case errors.As(err, &ce):
		msg = "Dialogflow " + ce.Call + "(" + ce.Resource + "): " + ce.Code.String()
		switch ce.Code {
		case codes.PermissionDenied:
			return http.StatusForbidden, "PERMISSION_DENIED", msg + ": the function's service account lacks a Dialogflow role", 0
		case codes.NotFound:
			return http.StatusNotFound, "NOT_FOUND", msg, 0
		case codes.ResourceExhausted:
			return http.StatusTooManyRequests, "RESOURCE_EXHAUSTED", msg + ": quota exceeded", 30
		case codes.Unavailable, codes.DeadlineExceeded:
			return http.StatusServiceUnavailable, "UNAVAILABLE", msg, 5
		case codes.InvalidArgument, codes.FailedPrecondition, codes.OutOfRange:
			return http.StatusBadRequest, "INVALID_ARGUMENT", msg + ": Dialogflow refused the settings", 0
		case codes.AlreadyExists, codes.Aborted:
			return http.StatusConflict, "ABORTED", msg + ": retry", 0
		case codes.Canceled:
			return 499, "CANCELLED", msg, 0
		default: // Unauthenticated, Internal, Unknown …: Dialogflow, not the request, failed
			return http.StatusBadGateway, "BAD_GATEWAY", msg, 5
		}
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, "UNAVAILABLE", "the tenant store did not answer", 5
	}
	return http.StatusBadGateway, "BAD_GATEWAY", "the profile could not be reconciled", 5
}

// Problems lists the file:line problems of invalid settings in err.
func Problems(err error) []string {
	var problems []string
	var te *tenant.Error
	if errors.As(err, &te) {
		for _, p := range te.Problems {
			problems = append(problems, p.String())
		}
	}
	return problems
}

func (h *Handler) failErr(w http.ResponseWriter, r *http.Request, tenantID string, err error) {
	code, word, msg, retry := Status(tenantID, err)
	problems := Problems(err)
	level := slog.LevelWarn
	if code >= 500 {
		level = slog.LevelError
	}
	h.log.Log(r.Context(), level, "profile request failed", "tenant", tenantID, "method", r.Method,
		"httpStatus", code, "error", err.Error())
	if retry > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retry))
	}
	h.fail(w, r, code, word, msg, problems)
}

func (h *Handler) fail(w http.ResponseWriter, _ *http.Request, code int, word, msg string, problems []string) {
	h.write(w, code, ErrorResponse{Error: ErrorBody{Code: code, Status: word, Message: msg, Problems: problems}})
}

func (h *Handler) write(w http.ResponseWriter, code int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil { // only RawMessage fields could fail, and they come from protojson
		b, code = []byte(`{"error":{"code":502,"status":"BAD_GATEWAY","message":"the answer could not be encoded"}}`), http.StatusBadGateway
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}
