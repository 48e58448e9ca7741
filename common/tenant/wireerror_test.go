package tenant

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/routebot/routebot/common/store"
	"github.com/routebot/routebot/common/wire"
)

func TestWireError(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want wire.Error
	}{
		{"not found", fmt.Errorf("scenario %q: %w", "NOPE", store.ErrNotFound), wire.Error{Code: wire.NotFound, Reason: "scenario NOPE not found"}},
		{"broken", fmt.Errorf("tenant acme: %w", ErrBroken), wire.Error{Code: wire.BadData, Reason: "scenario NOPE: the tenant's scenario data is broken"}},
		{"deadline", fmt.Errorf("get: %w: %w", store.ErrUnavailable, context.DeadlineExceeded), wire.Error{Code: wire.ServerDB, Reason: "scenario NOPE: the store did not answer in time"}},
		{"store down", fmt.Errorf("get: %w", store.ErrUnavailable), wire.Error{Code: wire.ServerDB, Reason: "scenario NOPE: the store failed"}},
		{"anything else", errors.New("boom"), wire.Error{Code: wire.ServerDB, Reason: "scenario NOPE: the store failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := WireError("scenario NOPE", tt.err)
			if got.Cause != tt.err {
				t.Errorf("WireError's cause = %v, want the store's error %v (for the log)", got.Cause, tt.err)
			}
			got.Cause = nil
			if *got != tt.want {
				t.Errorf("WireError = %+v, want %+v", *got, tt.want)
			}
		})
	}
}
