// Package studio is the flow studio's HTTP edge: the page (built assets
// embedded from assets/, made from web/studio) at /studio/ and its JSON API
// at /studio/api/. It authenticates the author's bearer token, decodes, calls
// common/studio and encodes; errors are a short message (and problems, for a
// draft that does not validate), details only in the log.
package studio

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/routebot/routebot/common/studio"
)

// MaxBody bounds a request: a draft of studio.MaxDraftBytes, JSON-escaped.
const MaxBody = 2*studio.MaxDraftBytes + 64<<10

//go:embed assets
var assets embed.FS

// Domain is what the edge needs of the studio (studio.Service).
type Domain interface {
	Tenants(ctx context.Context, a studio.Author) ([]studio.TenantSummary, error)
	Draft(ctx context.Context, a studio.Author, id string) (studio.Draft, error)
	Validate(ctx context.Context, a studio.Author, d studio.Draft) ([]studio.Problem, error)
	Diff(ctx context.Context, a studio.Author, d studio.Draft) (int64, []studio.FileDiff, error)
	Simulate(ctx context.Context, a studio.Author, sim studio.Simulation) (studio.SimResult, error)
	Publish(ctx context.Context, a studio.Author, d studio.Draft, note string) (studio.Published, error)
	Versions(ctx context.Context, a studio.Author, id string) ([]studio.VersionInfo, error)
	Rollback(ctx context.Context, a studio.Author, id string, to, baseVersion int64) (studio.Published, error)
}

// Authenticator finds the author of a request (studio.Authors).
type Authenticator interface {
	Authenticate(authorization string) (studio.Author, error)
}

// Handler serves the studio.
type Handler struct {
	domain Domain
	auth   Authenticator
	logger *slog.Logger
	mux    *http.ServeMux
}

// New returns the handler, serving under /studio/.
func New(domain Domain, auth Authenticator, logger *slog.Logger) *Handler {
	h := &Handler{domain: domain, auth: auth, logger: logger, mux: http.NewServeMux()}
	page, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded folder is compiled in: cannot happen
	}
	files := http.StripPrefix("/studio/", http.FileServerFS(page))
	h.mux.HandleFunc("GET /studio/", func(w http.ResponseWriter, r *http.Request) {
		// The page loads only its own scripts; React Flow and CodeMirror set inline styles.
		w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		files.ServeHTTP(w, r)
	})
	h.mux.HandleFunc("GET /studio", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/studio/", http.StatusMovedPermanently)
	})
	api := func(pattern string, fn func(*http.Request, studio.Author) (any, error)) {
		h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) { h.serveAPI(w, r, fn) })
	}
	api("GET /studio/api/tenants", h.tenants)
	api("GET /studio/api/tenants/{id}/draft", h.draft)
	api("POST /studio/api/tenants/{id}/validate", h.validate)
	api("POST /studio/api/tenants/{id}/diff", h.diff)
	api("POST /studio/api/tenants/{id}/simulate", h.simulate)
	api("POST /studio/api/tenants/{id}/publish", h.publish)
	api("GET /studio/api/tenants/{id}/versions", h.versions)
	api("POST /studio/api/tenants/{id}/rollback", h.rollback)
	unknown := func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, errorBody{Error: "no such studio API: " + r.Method + " " + r.URL.Path})
	}
	h.mux.HandleFunc("GET /studio/api/", unknown)
	h.mux.HandleFunc("POST /studio/api/", unknown)
	return h
}

// ServeHTTP serves the page and the API.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Wrap serves /studio and everything under it, and hands every other request
// to next (the gateway's mux, whose /{code}/chat-gpt pattern cannot share a
// ServeMux with /studio/). A scenario code "studio" is thereby shadowed.
func (h *Handler) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/studio" || strings.HasPrefix(r.URL.Path, "/studio/") {
			h.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

type errorBody struct {
	Error    string           `json:"error"`
	Problems []studio.Problem `json:"problems,omitempty"`
}

func (h *Handler) serveAPI(w http.ResponseWriter, r *http.Request, fn func(*http.Request, studio.Author) (any, error)) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	author, err := h.auth.Authenticate(r.Header.Get("Authorization"))
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="routebot studio"`)
		writeJSON(w, http.StatusUnauthorized, errorBody{Error: err.Error()})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
	out, err := fn(r, author)
	if err != nil {
		status, body := h.failure(err)
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		h.logger.Log(r.Context(), level, "studio request failed", "method", r.Method, "path", r.URL.Path,
			"author", author.Name, "status", status, "error", err)
		writeJSON(w, status, body)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// failure maps a domain error to a status and what the author reads.
func (h *Handler) failure(err error) (int, errorBody) {
	var invalid *studio.InvalidError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &invalid):
		return http.StatusUnprocessableEntity, errorBody{Error: invalid.Error(), Problems: invalid.Problems}
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge, errorBody{Error: "the request is over " + strconv.Itoa(MaxBody) + " bytes"}
	case errors.Is(err, studio.ErrTooLarge):
		return http.StatusRequestEntityTooLarge, errorBody{Error: err.Error()}
	case errors.Is(err, studio.ErrBadInput):
		return http.StatusBadRequest, errorBody{Error: err.Error()}
	case errors.Is(err, studio.ErrForbidden):
		return http.StatusForbidden, errorBody{Error: err.Error()}
	case errors.Is(err, studio.ErrNotFound):
		return http.StatusNotFound, errorBody{Error: err.Error()}
	case errors.Is(err, studio.ErrStale):
		return http.StatusConflict, errorBody{Error: err.Error()}
	case errors.Is(err, studio.ErrInvalid):
		return http.StatusUnprocessableEntity, errorBody{Error: err.Error()}
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, errorBody{Error: "the store did not answer in time; try again"}
	default:
		return http.StatusInternalServerError, errorBody{Error: "the studio failed; see the server's log"}
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// decode reads a JSON body strictly (unknown fields are mistakes).
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		return fmt.Errorf("%w: the body is not the JSON this call takes: %v", studio.ErrBadInput, err)
	}
	return nil
}

func (h *Handler) tenants(r *http.Request, a studio.Author) (any, error) {
	return h.domain.Tenants(r.Context(), a)
}

func (h *Handler) draft(r *http.Request, a studio.Author) (any, error) {
	return h.domain.Draft(r.Context(), a, r.PathValue("id"))
}

// draftBody decodes a draft; its tenant is the one in the path.
func draftBody(r *http.Request) (studio.Draft, error) {
	var d studio.Draft
	if err := decode(r, &d); err != nil {
		return d, err
	}
	d.Tenant = r.PathValue("id")
	return d, nil
}

type validation struct {
	Valid    bool             `json:"valid"`
	Problems []studio.Problem `json:"problems"`
}

func (h *Handler) validate(r *http.Request, a studio.Author) (any, error) {
	d, err := draftBody(r)
	if err != nil {
		return nil, err
	}
	problems, err := h.domain.Validate(r.Context(), a, d)
	if err != nil {
		return nil, err
	}
	if problems == nil {
		problems = []studio.Problem{}
	}
	return validation{Valid: len(problems) == 0, Problems: problems}, nil
}

type diffBody struct {
	Version int64             `json:"version"`
	Files   []studio.FileDiff `json:"files"`
}

func (h *Handler) diff(r *http.Request, a studio.Author) (any, error) {
	d, err := draftBody(r)
	if err != nil {
		return nil, err
	}
	v, files, err := h.domain.Diff(r.Context(), a, d)
	return diffBody{Version: v, Files: files}, err
}

func (h *Handler) simulate(r *http.Request, a studio.Author) (any, error) {
	var sim studio.Simulation
	if err := decode(r, &sim); err != nil {
		return nil, err
	}
	sim.Draft.Tenant = r.PathValue("id")
	return h.domain.Simulate(r.Context(), a, sim)
}

type publishBody struct {
	Draft studio.Draft `json:"draft"`
	Note  string       `json:"note"`
}

func (h *Handler) publish(r *http.Request, a studio.Author) (any, error) {
	var p publishBody
	if err := decode(r, &p); err != nil {
		return nil, err
	}
	p.Draft.Tenant = r.PathValue("id")
	return h.domain.Publish(r.Context(), a, p.Draft, p.Note)
}

func (h *Handler) versions(r *http.Request, a studio.Author) (any, error) {
	return h.domain.Versions(r.Context(), a, r.PathValue("id"))
}

type rollbackBody struct {
	Version     int64 `json:"version"`
	BaseVersion int64 `json:"baseVersion"`
}

func (h *Handler) rollback(r *http.Request, a studio.Author) (any, error) {
	var b rollbackBody
	if err := decode(r, &b); err != nil {
		return nil, err
	}
	return h.domain.Rollback(r.Context(), a, r.PathValue("id"), b.Version, b.BaseVersion)
}
