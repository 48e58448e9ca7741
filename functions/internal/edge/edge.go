// Package edge holds what the functions' HTTP edges share: the TransCode a
// tenant lookup's or a store's error answers with, and the answer of a
// function that cannot start. The domain packages (tenant, store) say what
// went wrong; only the edges know the wire.
package edge

import (
	"context"
	"errors"
	"net/http"

	"github.com/routebot/routebot/common/store"
	"github.com/routebot/routebot/common/tenant"
	"github.com/routebot/routebot/common/wire"
)

// WireError maps an error of the tenant Registry or of a store to the seed's
// TransCode, naming what was looked up: not found → 404, a broken tenant →
// 413, anything else from the store → 501.
func WireError(what string, err error) *wire.Error {
	var e *wire.Error
	switch {
	case errors.Is(err, store.ErrNotFound):
		e = wire.Errorf(wire.NotFound, "%s not found", what)
	case errors.Is(err, tenant.ErrBroken):
		e = wire.Errorf(wire.BadData, "%s: the tenant's scenario data is broken", what)
	case errors.Is(err, context.DeadlineExceeded):
		e = wire.Errorf(wire.ServerDB, "%s: the store did not answer in time", what)
	default:
		e = wire.Errorf(wire.ServerDB, "%s: the store failed", what)
	}
	e.Cause = err // the store's own words go to the log only
	return e
}

// CannotStart is why a function that cannot start refuses every request; the
// cause is in its start-up log line, never in the answer.
var CannotStart = wire.Errorf(wire.InternalError, "the function cannot start; see its logs")

// StartFailed answers a turn-shaped request (the seed's envelope, HTTP 500)
// for a function that cannot start.
func StartFailed(w http.ResponseWriter, _ error) {
	resp := wire.ErrorResponse(wire.Request{}, CannotStart)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write(resp.AppendJSON(nil))
}
