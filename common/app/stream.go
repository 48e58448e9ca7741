package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/api/option"

	"github.com/routebot/routebot/common/dialogflow"
	"github.com/routebot/routebot/common/store"
	"github.com/routebot/routebot/common/stream"
	"github.com/routebot/routebot/common/tenant"
)

// tenantLister lists the store's tenants (both stores' admin seam).
type tenantLister interface {
	ListTenants(ctx context.Context) ([]string, error)
}

// StreamServer assembles the stream service on the App: Dialogflow v2beta1
// clients per endpoint (ROUTEBOT_DIALOGFLOW_ENDPOINT overriding them all),
// the conversation lifecycle on the store's records, chatBotKeys resolved
// to tenants, and the calls' transcripts. Call it once; Close releases the
// clients.
func (a *App) StreamServer(opts stream.Options) (*stream.Server, error) {
	maxStreams := opts.MaxStreams
	if maxStreams <= 0 {
		maxStreams = stream.DefaultMaxStreams
	}
	// Google's front ends allow 100 concurrent streams on one gRPC
	// connection: pool enough connections for the instance's legs at half
	// that (a dialled override, such as a local fake, is one connection).
	pool := option.WithGRPCConnectionPool(max(1, (maxStreams+49)/50))
	clients, err := dialogflow.NewClients(dialogflow.Options{Endpoint: a.Config.DFEndpoint, ClientOptions: []option.ClientOption{pool}})
	if err != nil {
		return nil, fmt.Errorf("app: ROUTEBOT_DIALOGFLOW_ENDPOINT: %w", err)
	}
	a.closers = append(a.closers, clients.Close)
	lifecycle := dialogflow.NewLifecycle(clients, a.Conversations, a.ProfileNames, dialogflow.LifecycleOptions{})
	bots := &botIndex{list: a.tenantList, files: a.Tenants, maxAge: 30 * time.Second}
	if opts.Logger == nil {
		opts.Logger = a.Logger
	}
	return stream.NewServer(stream.DialogflowConversations(lifecycle, clients, bots), a.Transcripts, a.Auth, opts), nil
}

// botIndex maps chatBotKeys to tenants from the tenants' files, rebuilt
// when older than maxAge (a new bot is found within that time).
type botIndex struct {
	list   tenantLister
	files  store.Tenants
	maxAge time.Duration

	mu       sync.Mutex
	built    time.Time
	byBot    map[string]string
	versions map[string]int64           // tenant → version indexed
	bots     map[string]map[string]bool // tenant → its bots at that version
}

func (b *botIndex) TenantOfBot(ctx context.Context, bot string) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.byBot == nil || time.Since(b.built) > b.maxAge {
		if err := b.rebuild(ctx); err != nil {
			return "", err
		}
	}
	if id, ok := b.byBot[bot]; ok {
		return id, nil
	}
	return "", fmt.Errorf("bot %q: %w", bot, store.ErrNotFound)
}

// rebuild re-reads the tenants whose version changed; a tenant whose files
// do not parse keeps the bots of its last good version.
func (b *botIndex) rebuild(ctx context.Context) error {
	ids, err := b.list.ListTenants(ctx)
	if err != nil {
		return fmt.Errorf("app: bot index: %w", err)
	}
	if b.versions == nil {
		b.versions, b.bots = map[string]int64{}, map[string]map[string]bool{}
	}
	byBot := map[string]string{}
	live := map[string]bool{}
	for _, id := range ids {
		live[id] = true
		tf, err := b.files.Files(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return fmt.Errorf("app: bot index: %w", err)
		}
		if tf.Version != b.versions[id] {
			if t, err := tenant.Parse(tf); err == nil {
				b.bots[id], b.versions[id] = t.Bots, tf.Version
			}
		}
		for bot := range b.bots[id] {
			byBot[bot] = id
		}
	}
	for id := range b.versions {
		if !live[id] {
			delete(b.versions, id)
			delete(b.bots, id)
		}
	}
	b.byBot, b.built = byBot, time.Now()
	return nil
}
