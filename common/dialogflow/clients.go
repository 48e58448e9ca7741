package dialogflow

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"sync"

	df "cloud.google.com/go/dialogflow/apiv2beta1"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// GlobalLocation is the location of profiles and agents that name none.
const GlobalLocation = "global"

var locationRE = regexp.MustCompile(`^[a-z][a-z0-9-]*[a-z0-9]$`)

// Endpoint is the gRPC endpoint serving resources of location: the global
// host for "" and "global", LOCATION-dialogflow.googleapis.com:443
// otherwise. A regional resource sent to the global host is refused, so
// every call picks its endpoint from its resource's location.
func Endpoint(location string) string {
	if location == "" || location == GlobalLocation {
		return "dialogflow.googleapis.com:443"
	}
	return location + "-dialogflow.googleapis.com:443"
}

// ValidLocation reports whether location looks like a Dialogflow location
// ("global", "europe-west3" …).
func ValidLocation(location string) bool { return locationRE.MatchString(location) }

// Options configure Clients.
type Options struct {
	// Endpoint, when set, replaces every location's endpoint
	// (ROUTEBOT_DIALOGFLOW_ENDPOINT). A loopback host:port is dialled in
	// plaintext without credentials (a local fake); any other host is used
	// with the default credentials (a private endpoint).
	Endpoint string
	// Dial, when set, makes the connection to an endpoint instead (tests
	// serve a fake per endpoint on bufconn). The connection is closed by
	// Close.
	Dial func(ctx context.Context, endpoint string) (*grpc.ClientConn, error)
	// ClientOptions are given to every client after the endpoint's own.
	ClientOptions []option.ClientOption
}

// Clients builds the v2beta1 clients of each endpoint once, on first use,
// and shares them between all callers. It is safe for concurrent use.
type Clients struct {
	opts Options

	mu      sync.Mutex
	sets    map[string]*Set             // endpoint → clients
	conns   map[string]*grpc.ClientConn // endpoint → connection we dialled
	closers []func() error
}

// Set is one endpoint's clients.
type Set struct {
	Endpoint      string
	Profiles      *df.ConversationProfilesClient
	Conversations *df.ConversationsClient
	Participants  *df.ParticipantsClient
}

// NewClients returns an empty client cache; nothing is dialled yet.
func NewClients(opts Options) (*Clients, error) {
	if opts.Endpoint != "" {
		if _, _, err := net.SplitHostPort(opts.Endpoint); err != nil {
			return nil, fmt.Errorf("dialogflow: endpoint %q: want host:port: %w", opts.Endpoint, err)
		}
	}
	return &Clients{opts: opts, sets: map[string]*Set{}, conns: map[string]*grpc.ClientConn{}}, nil
}

// EndpointFor is the endpoint Clients use for location, after the override.
func (c *Clients) EndpointFor(location string) string {
	if c.opts.Endpoint != "" {
		return c.opts.Endpoint
	}
	return Endpoint(location)
}

// For returns the clients of location's endpoint, building them on first use.
func (c *Clients) For(ctx context.Context, location string) (*Set, error) {
	if location != "" && !ValidLocation(location) {
		return nil, fmt.Errorf("dialogflow: location %q is not a region", location)
	}
	endpoint := c.EndpointFor(location)
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.sets[endpoint]; ok {
		return s, nil
	}
	opts, err := c.clientOptions(ctx, endpoint)
	if err != nil {
		return nil, err
	}
	// Clients on a connection we dialled share it, and a client's Close
	// would close it under the others: the connection alone is closed.
	_, shared := c.conns[endpoint]
	closeIt := func(close func() error) {
		if !shared {
			c.closers = append(c.closers, close)
		}
	}
	s := &Set{Endpoint: endpoint}
	if s.Profiles, err = df.NewConversationProfilesClient(ctx, opts...); err != nil {
		return nil, fmt.Errorf("dialogflow: NewConversationProfilesClient(%s): %w", endpoint, err)
	}
	closeIt(s.Profiles.Close)
	if s.Conversations, err = df.NewConversationsClient(ctx, opts...); err != nil {
		return nil, fmt.Errorf("dialogflow: NewConversationsClient(%s): %w", endpoint, err)
	}
	closeIt(s.Conversations.Close)
	if s.Participants, err = df.NewParticipantsClient(ctx, opts...); err != nil {
		return nil, fmt.Errorf("dialogflow: NewParticipantsClient(%s): %w", endpoint, err)
	}
	closeIt(s.Participants.Close)
	c.sets[endpoint] = s
	return s, nil
}

// ClientOptions returns the options that point another Dialogflow client
// (such as the v2 Sessions client of the DetectIntent classifier) at
// location's endpoint, with the same override. The client is the caller's
// to close, with any connection dialled for it.
func (c *Clients) ClientOptions(ctx context.Context, location string) ([]option.ClientOption, error) {
	if location != "" && !ValidLocation(location) {
		return nil, fmt.Errorf("dialogflow: location %q is not a region", location)
	}
	endpoint := c.EndpointFor(location)
	dial := c.dialer(endpoint)
	if dial == nil {
		return append([]option.ClientOption{option.WithEndpoint(endpoint)}, c.opts.ClientOptions...), nil
	}
	conn, err := dial(ctx, endpoint)
	if err != nil {
		return nil, fmt.Errorf("dialogflow: dial %s: %w", endpoint, err)
	}
	return append([]option.ClientOption{option.WithGRPCConn(conn), option.WithoutAuthentication()}, c.opts.ClientOptions...), nil
}

// dialer is how endpoint is dialled by us; nil: by the client library,
// with default credentials.
func (c *Clients) dialer(endpoint string) func(context.Context, string) (*grpc.ClientConn, error) {
	switch {
	case c.opts.Dial != nil:
		return c.opts.Dial
	case isLoopback(endpoint):
		return dialPlaintext
	}
	return nil
}

// clientOptions is called with c.mu held; a connection it dials is shared
// by the endpoint's clients and closed by Close.
func (c *Clients) clientOptions(ctx context.Context, endpoint string) ([]option.ClientOption, error) {
	dial := c.dialer(endpoint)
	if dial == nil {
		return append([]option.ClientOption{option.WithEndpoint(endpoint)}, c.opts.ClientOptions...), nil
	}
	conn, ok := c.conns[endpoint]
	if !ok {
		var err error
		if conn, err = dial(ctx, endpoint); err != nil {
			return nil, fmt.Errorf("dialogflow: dial %s: %w", endpoint, err)
		}
		c.conns[endpoint] = conn
		c.closers = append(c.closers, conn.Close)
	}
	return append([]option.ClientOption{option.WithGRPCConn(conn), option.WithoutAuthentication()}, c.opts.ClientOptions...), nil
}

func dialPlaintext(_ context.Context, endpoint string) (*grpc.ClientConn, error) {
	return grpc.NewClient(endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
}

// isLoopback reports a host:port on this machine (localhost, 127.0.0.0/8, ::1).
func isLoopback(endpoint string) bool {
	host, _, err := net.SplitHostPort(endpoint)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Close closes every client and connection built.
func (c *Clients) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for i := len(c.closers) - 1; i >= 0; i-- {
		errs = append(errs, c.closers[i]())
	}
	c.closers, c.sets, c.conns = nil, map[string]*Set{}, map[string]*grpc.ClientConn{}
	return errors.Join(errs...)
}
