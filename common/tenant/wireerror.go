package tenant

import (
	"context"
	"errors"

	"github.com/routebot/routebot/common/store"
	"github.com/routebot/routebot/common/wire"
)

// WireError maps an error of the Registry or of a store to the seed's
// TransCode, naming what was looked up: not found → 404, a broken tenant →
// 413, anything else from the store → 501.
//
// It is the one place this package knows the wire; it belongs at the edges
// (or in wire), and is kept alone in this file so that moving it is a cut and
// paste.
func WireError(what string, err error) *wire.Error {
	var e *wire.Error
	switch {
	case errors.Is(err, store.ErrNotFound):
		e = wire.Errorf(wire.NotFound, "%s not found", what)
	case errors.Is(err, ErrBroken):
		e = wire.Errorf(wire.BadData, "%s: the tenant's scenario data is broken", what)
	case errors.Is(err, context.DeadlineExceeded):
		e = wire.Errorf(wire.ServerDB, "%s: the store did not answer in time", what)
	default:
		e = wire.Errorf(wire.ServerDB, "%s: the store failed", what)
	}
	e.Cause = err // the store's own words go to the log only
	return e
}
