package main

import (
	"context"
	"fmt"
	"io"

	"github.com/routebot/routebot/common/store"
	"github.com/routebot/routebot/internal/tenantsync"
)

// progressStore says on w (stderr) what each Firestore call of a push or
// pull is about before making it, so that a long one shows what it waits on
// and how far it got; stdout keeps only the result.
type progressStore struct {
	tenantsync.Store
	w          io.Writer
	cmd        string
	read, list int // tenants read since the last listing, and its length
}

func (p *progressStore) say(format string, args ...any) {
	fmt.Fprintf(p.w, "routebotctl %s: "+format+"\n", append([]any{p.cmd}, args...)...)
}

func (p *progressStore) ListTenants(ctx context.Context) ([]string, error) {
	p.say("listing the stored tenants…")
	ids, err := p.Store.ListTenants(ctx)
	p.read, p.list = 0, len(ids)
	return ids, err
}

func (p *progressStore) GetTenant(ctx context.Context, id string) (store.TenantFiles, []string, map[string]string, error) {
	p.read++
	if p.read <= p.list {
		p.say("reading stored tenant %s (%d of %d)…", id, p.read, p.list)
	} else {
		p.say("reading stored tenant %s…", id)
	}
	return p.Store.GetTenant(ctx, id)
}

func (p *progressStore) PutTenantIf(ctx context.Context, t store.TenantFiles, codes []string, customers map[string]string, expect int64) (int64, bool, error) {
	p.say("writing tenant %s (%s, %s)…", t.ID, count(len(t.Files), "file", "files"), count(len(customers), "customer", "customers"))
	return p.Store.PutTenantIf(ctx, t, codes, customers, expect)
}
