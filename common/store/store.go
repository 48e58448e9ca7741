// Package store declares how routebot persists tenants and calls: call
// sessions updated in one transaction per turn, tenant files resolved by
// scenario code, and the customer directory. Implementations live in
// subpackages (memstore, firestore) and pass the same conformance suite
// (storetest).
package store

import (
	"context"
	"errors"

	"github.com/routebot/routebot/common/session"
)

// ErrNotFound reports an unknown scenario code, tenant or customer.
var ErrNotFound = errors.New("not found")

// ErrVersionMismatch refuses a PutTenantIf whose tenant is not at the
// version the caller expected: someone else put it since the caller read it.
var ErrVersionMismatch = errors.New("the tenant is not at the expected version")

// AnyVersion, as PutTenantIf's expected version, replaces the tenant at
// whatever version it is (PutTenant).
const AnyVersion int64 = -1

// ErrUnavailable wraps a backend failure (the store could not answer); the
// edge maps it to TransCode 501.
var ErrUnavailable = errors.New("store unavailable")

// Commit is what a turn decided: the session to keep and the turn log entry
// to append, written together. Write=false leaves everything as it was (a
// retried turn answered from LastAnswer). The Record goes after every entry
// the CallId already has, whichever session wrote them (an expired one, one
// of another scenario): the store sets its Seq and never overwrites.
type Commit struct {
	Write   bool
	Session session.Session
	Record  *session.Record
}

// Sessions holds call sessions.
type Sessions interface {
	// Transact reads the session of callID (found=false and a zero Session
	// when there is none or it expired), calls fn, and stores what fn returns,
	// atomically with respect to every other Transact on the same call. fn may
	// be called more than once when the backend retries on contention, so it
	// must not have side effects beyond its return value.
	Transact(ctx context.Context, callID string, fn func(cur session.Session, found bool) (Commit, error)) error
}

// TenantFiles is one tenant as its author wrote it: file path (relative to
// the tenant's folder, slash-separated) → content. Version increases on every
// change, so compiled forms can be cached per version.
type TenantFiles struct {
	ID      string
	Version int64
	Files   map[string][]byte
}

// Tenants resolves scenario codes to tenants.
type Tenants interface {
	// TenantOf returns the tenant that owns scenario code, or ErrNotFound.
	TenantOf(ctx context.Context, scenarioCode string) (tenantID string, version int64, err error)
	// Files returns a tenant's files at its current version.
	Files(ctx context.Context, tenantID string) (TenantFiles, error)
}

// Directory finds customers by phone number.
type Directory interface {
	// CustomerName returns the name on file for phone, or ErrNotFound.
	CustomerName(ctx context.Context, tenantID, phone string) (string, error)
}
