package edge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/routebot/routebot/common/store"
	"github.com/routebot/routebot/common/tenant"
	"github.com/routebot/routebot/common/wire"
)

func TestWireError(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want wire.Error
	}{
		{"not found", fmt.Errorf("scenario %q: %w", "NOPE", store.ErrNotFound), wire.Error{Code: wire.NotFound, Reason: "scenario NOPE not found"}},
		{"broken", fmt.Errorf("tenant acme: %w", tenant.ErrBroken), wire.Error{Code: wire.BadData, Reason: "scenario NOPE: the tenant's scenario data is broken"}},
		{"deadline", fmt.Errorf("get: %w: %w", store.ErrUnavailable, context.DeadlineExceeded), wire.Error{Code: wire.ServerDB, Reason: "scenario NOPE: the store did not answer in time"}},
		{"store down", fmt.Errorf("get: %w", store.ErrUnavailable), wire.Error{Code: wire.ServerDB, Reason: "scenario NOPE: the store failed"}},
		{"anything else", errors.New("boom"), wire.Error{Code: wire.ServerDB, Reason: "scenario NOPE: the store failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := WireError("scenario NOPE", tt.err)
			if got.Code != tt.want.Code || got.Reason != tt.want.Reason {
				t.Errorf("WireError = %s %q, want %s %q", got.Code, got.Reason, tt.want.Code, tt.want.Reason)
			}
			if !errors.Is(got, tt.err) {
				t.Errorf("WireError's cause is %v, want the store's error for the log", got.Cause)
			}
		})
	}
}

func TestStartFailed(t *testing.T) {
	w := httptest.NewRecorder()
	StartFailed(w, errors.New("secret projects/p/secrets/s: permission denied"))
	if w.Code != http.StatusInternalServerError || w.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("HTTP %d, Content-Type %q", w.Code, w.Header().Get("Content-Type"))
	}
	var doc map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		t.Fatalf("answer is not JSON: %v: %s", err, w.Body)
	}
	if doc["TransCode"] != string(wire.InternalError) || doc["Result"] != "N" {
		t.Errorf("answer %s, want Result N and TransCode %s", w.Body, wire.InternalError)
	}
	if desc, _ := doc["Description"].(string); !strings.Contains(desc, "cannot start") {
		t.Errorf("Description %q, want why the call failed", desc)
	}
	if strings.Contains(w.Body.String(), "permission denied") {
		t.Errorf("the start-up error reached the answer: %s", w.Body)
	}
}
