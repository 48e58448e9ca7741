// Package secrets turns configuration values into secrets that may live in
// Secret Manager, fetched once at start and kept fresh in the background.
//
// A configuration value (gateway token, JWT key, LLM API key) is either the
// value itself or a Secret Manager version name,
// projects/P/secrets/S/versions/V with V a number or "latest":
//   - a pinned version is fetched once: Secret Manager versions are immutable;
//   - "latest" accepts the newest two ENABLED versions, current first, so that
//     a token or key being rotated keeps working for callers that still hold
//     the previous one, including on a cold start in the middle of a rotation.
//     It is re-read every refresh interval; disabling a version in Secret
//     Manager stops its acceptance at the next refresh.
//
// Listing versions needs secretmanager.versions.list (roles/secretmanager.viewer)
// on top of secretmanager.versions.access (roles/secretmanager.secretAccessor).
//
// Values never reach logs or error messages: only secret and version names do,
// and a Secret formats as its name whatever the verb.
package secrets

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	secretmanager "cloud.google.com/go/secretmanager/apiv1"
	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"github.com/googleapis/gax-go/v2"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// DefaultRefresh is the refresh interval NewCache uses when given none.
const DefaultRefresh = 5 * time.Minute

// fetchTimeout bounds one refresh: the client retries Unavailable until its
// context ends, and a cold start must fail rather than hang.
const fetchTimeout = 30 * time.Second

// Accessor is the part of *secretmanager.Client this package uses.
type Accessor interface {
	AccessSecretVersion(ctx context.Context, req *secretmanagerpb.AccessSecretVersionRequest, opts ...gax.CallOption) (*secretmanagerpb.AccessSecretVersionResponse, error)
	ListSecretVersions(ctx context.Context, req *secretmanagerpb.ListSecretVersionsRequest, opts ...gax.CallOption) *secretmanager.SecretVersionIterator
}

var versionName = regexp.MustCompile(`^projects/[a-z0-9][a-z0-9.:-]*/secrets/[A-Za-z0-9_-]{1,255}/versions/(latest|[1-9][0-9]*)$`)

// IsVersionName reports whether s names a Secret Manager secret version,
// projects/P/secrets/S/versions/V with V a version number or "latest".
func IsVersionName(s string) bool { return versionName.MatchString(s) }

// Cache fetches secrets and keeps them fresh. Build one per process; it is
// safe for concurrent use.
type Cache struct {
	acc     Accessor
	refresh time.Duration
	logger  *slog.Logger

	mu      sync.Mutex
	watched map[string]*Secret
}

// NewCache returns a Cache reading through acc (nil when every value is
// literal) and refreshing "latest" secrets every refresh (DefaultRefresh when
// zero or negative). A nil logger means slog.Default().
func NewCache(acc Accessor, refresh time.Duration, logger *slog.Logger) *Cache {
	if refresh <= 0 {
		refresh = DefaultRefresh
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &Cache{acc: acc, refresh: refresh, logger: logger, watched: make(map[string]*Secret)}
}

// Resolve turns a configuration value into a Secret: a version name is
// watched (see Watch), anything else is a Literal. A value that looks like a
// secret name but is not a valid one is an error rather than a literal, so a
// typo never turns a resource name into an accepted token. An empty value is
// an error: the caller decides what is optional.
func (c *Cache) Resolve(ctx context.Context, value string) (*Secret, error) {
	switch {
	case value == "":
		return nil, errors.New("secrets: resolve: empty value")
	case IsVersionName(value):
		return c.Watch(ctx, value)
	case strings.HasPrefix(value, "projects/") && strings.Contains(value, "/secrets/"):
		// Not echoed: whatever it is, it was meant to stay out of logs.
		return nil, errors.New("secrets: resolve: value starts like a secret name but is not a secret version name (want projects/P/secrets/S/versions/N or .../versions/latest)")
	default:
		return Literal([]byte(value)), nil
	}
}

// Watch fetches the secret version name synchronously, failing with an error
// that names it, then, for a "latest" name, refreshes it in the background
// until ctx is done: ctx should live as long as the process. Watching a name
// twice returns the same Secret.
func (c *Cache) Watch(ctx context.Context, name string) (*Secret, error) {
	if !IsVersionName(name) {
		return nil, fmt.Errorf("secrets: watch %q: not a secret version name (want projects/P/secrets/S/versions/N or .../versions/latest)", name)
	}
	if c.acc == nil {
		return nil, fmt.Errorf("secrets: watch %s: no Secret Manager client configured", name)
	}
	c.mu.Lock()
	s, ok := c.watched[name]
	c.mu.Unlock()
	if ok {
		return s, nil
	}

	s = &Secret{name: name, cache: c, latest: strings.HasSuffix(name, "/versions/latest")}
	if err := s.Refresh(ctx); err != nil {
		return nil, err
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if other, ok := c.watched[name]; ok { // a concurrent Watch won
		return other, nil
	}
	c.watched[name] = s
	if s.latest {
		go s.refreshLoop(ctx)
	}
	return s, nil
}

// Secret is a value that may change: the accepted values of a secret, current
// first. Its methods are safe for concurrent use.
type Secret struct {
	name   string // empty for a literal
	cache  *Cache // nil for a literal
	latest bool

	values atomic.Pointer[[][]byte] // replaced, never modified

	mu       sync.Mutex // serialises Refresh
	versions []version  // accepted versions, current first
}

type version struct {
	name string
	data []byte
}

// Literal is a value given in clear, behaving as a secret that never changes.
func Literal(v []byte) *Secret {
	s := &Secret{}
	values := [][]byte{slices.Clone(v)}
	s.values.Store(&values)
	return s
}

// Current returns the newest value. The slice is shared: do not modify it.
func (s *Secret) Current() []byte { return (*s.values.Load())[0] }

// Accepted returns every value accepted now: the current one, then, during a
// rotation, the previous one. The slices are shared: do not modify them.
func (s *Secret) Accepted() [][]byte { return *s.values.Load() }

// String names the secret without its value.
func (s *Secret) String() string {
	if s.name == "" {
		return "secrets.Literal(redacted)"
	}
	return "secrets.Secret(" + s.name + ")"
}

// Format prints String whatever the verb, so %v, %+v, %#v or %x never print a value.
func (s *Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// LogValue logs String, never a value.
func (s *Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Refresh re-reads the secret now. On error the values accepted so far stay
// accepted. A literal or a pinned version never changes: Refresh is then a
// no-op once fetched.
func (s *Secret) Refresh(ctx context.Context) error {
	if s.cache == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()

	names := []string{s.name}
	if s.latest {
		var err error
		if names, err = s.cache.newestEnabled(ctx, strings.TrimSuffix(s.name, "/versions/latest"), 2); err != nil {
			return fmt.Errorf("secrets: refresh %s: %w", s.name, err)
		}
	}
	next := make([]version, 0, len(names))
	for i, name := range names {
		if data, ok := s.known(name); ok { // versions are immutable
			next = append(next, version{name: name, data: data})
			continue
		}
		data, err := s.cache.access(ctx, name)
		if err != nil {
			if i == 0 {
				return fmt.Errorf("secrets: refresh %s: %w", s.name, err)
			}
			// The previous version is a courtesy to callers still holding it
			// (e.g. disabled between list and access): carry on without it.
			s.cache.logger.Warn("secret: previous version unreadable, accepting only the current one",
				"secret", s.name, "version", name, "error", err)
			continue
		}
		next = append(next, version{name: name, data: data})
	}

	if s.versions != nil && !sameVersions(s.versions, next) {
		attrs := []any{"secret", s.name, "current", next[0].name}
		if len(next) > 1 {
			attrs = append(attrs, "previous", next[1].name)
		}
		s.cache.logger.Info("secret: accepted versions changed", attrs...)
	}
	s.versions = next
	values := make([][]byte, len(next))
	for i, v := range next {
		values[i] = v.data
	}
	s.values.Store(&values)
	return nil
}

func (s *Secret) known(name string) ([]byte, bool) {
	for _, v := range s.versions {
		if v.name == name {
			return v.data, true
		}
	}
	return nil, false
}

func sameVersions(a, b []version) bool {
	return slices.EqualFunc(a, b, func(x, y version) bool { return x.name == y.name })
}

func (s *Secret) refreshLoop(ctx context.Context) {
	t := time.NewTicker(s.cache.refresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Refresh(ctx); err != nil && ctx.Err() == nil {
				s.cache.logger.Warn("secret: refresh failed, keeping the last good values",
					"secret", s.name, "error", err)
			}
		}
	}
}

// newestEnabled lists the ENABLED versions of secret and returns the names
// of the newest n, newest first. It does not trust the server's order.
func (c *Cache) newestEnabled(ctx context.Context, secret string, n int) ([]string, error) {
	type numbered struct {
		num  int64
		name string
	}
	var found []numbered
	it := c.acc.ListSecretVersions(ctx, &secretmanagerpb.ListSecretVersionsRequest{Parent: secret, Filter: "state:ENABLED"})
	for {
		v, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			err = fmt.Errorf("list versions of %s: %w", secret, err)
			if status.Code(err) == codes.PermissionDenied {
				err = fmt.Errorf("%w (.../versions/latest needs secretmanager.versions.list, e.g. roles/secretmanager.viewer, besides secretmanager.versions.access)", err)
			}
			return nil, err
		}
		if v.GetState() != secretmanagerpb.SecretVersion_ENABLED {
			continue
		}
		_, id, _ := strings.Cut(v.GetName(), "/versions/")
		num, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			continue
		}
		found = append(found, numbered{num: num, name: v.GetName()})
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("list versions of %s: no enabled version", secret)
	}
	slices.SortFunc(found, func(a, b numbered) int { return cmp.Compare(b.num, a.num) })
	names := make([]string, 0, n)
	for _, f := range found[:min(n, len(found))] {
		names = append(names, f.name)
	}
	return names, nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// access reads one version's payload, checking its CRC32C when the server
// gives one.
func (c *Cache) access(ctx context.Context, name string) ([]byte, error) {
	resp, err := c.acc.AccessSecretVersion(ctx, &secretmanagerpb.AccessSecretVersionRequest{Name: name})
	if err != nil {
		return nil, fmt.Errorf("access %s: %w", name, err)
	}
	payload := resp.GetPayload()
	data := payload.GetData()
	if payload.DataCrc32C != nil && int64(crc32.Checksum(data, castagnoli)) != payload.GetDataCrc32C() {
		return nil, fmt.Errorf("access %s: payload CRC32C mismatch: data corrupted", name)
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("access %s: empty payload", name)
	}
	return data, nil
}
