package secrets

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/routebot/routebot/internal/logtest"
)

func versionOf(proj, secret string, v any) string {
	return fmt.Sprintf("%s/secrets/%s/versions/%v", proj, secret, v)
}

func listReq(secret string) *secretmanagerpb.ListSecretVersionsRequest {
	return &secretmanagerpb.ListSecretVersionsRequest{Parent: project + "/secrets/" + secret, Filter: "state:ENABLED"}
}

func accessReq(name string) *secretmanagerpb.AccessSecretVersionRequest {
	return &secretmanagerpb.AccessSecretVersionRequest{Name: name}
}

func accepted(s *Secret) []string {
	var out []string
	for _, v := range s.Accepted() {
		out = append(out, string(v))
	}
	return out
}

func checkRequests(t *testing.T, f *fakeSecretManager, want ...proto.Message) {
	t.Helper()
	got := f.takeRequests()
	if !slices.EqualFunc(got, want, proto.Equal) {
		t.Errorf("requests:\n got %v\nwant %v", got, want)
	}
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name         string
		setup        func(f *fakeSecretManager)
		value        string
		want         []string // accepted values, current first
		wantErr      []string // substrings of the error; nil: no error
		wantRequests []proto.Message
	}{
		{
			name:  "literal value",
			value: "literal-token-value",
			want:  []string{"literal-token-value"},
		},
		{
			name:         "pinned version",
			setup:        func(f *fakeSecretManager) { f.add("tok", "tok-v1"); f.add("tok", "tok-v2") },
			value:        versionOf(project, "tok", 1),
			want:         []string{"tok-v1"},
			wantRequests: []proto.Message{accessReq(versionOf(project, "tok", 1))},
		},
		{
			name: "latest with two enabled versions",
			setup: func(f *fakeSecretManager) {
				for _, v := range []string{"tok-v1", "tok-v2", "tok-v3", "tok-v4"} {
					f.add("tok", v)
				}
				f.setState("tok", 3, secretmanagerpb.SecretVersion_DISABLED)
			},
			value: versionOf(project, "tok", "latest"),
			want:  []string{"tok-v4", "tok-v2"},
			wantRequests: []proto.Message{
				listReq("tok"),
				accessReq(versionOf(projectNumber, "tok", 4)),
				accessReq(versionOf(projectNumber, "tok", 2)),
			},
		},
		{
			name:         "latest with one version",
			setup:        func(f *fakeSecretManager) { f.add("tok", "tok-v1") },
			value:        versionOf(project, "tok", "latest"),
			want:         []string{"tok-v1"},
			wantRequests: []proto.Message{listReq("tok"), accessReq(versionOf(projectNumber, "tok", 1))},
		},
		{
			name: "previous version unreadable: current only",
			setup: func(f *fakeSecretManager) {
				f.add("tok", "tok-v1")
				f.add("tok", "tok-v2")
				f.broken = map[string]bool{versionOf(projectNumber, "tok", 1): true}
			},
			value: versionOf(project, "tok", "latest"),
			want:  []string{"tok-v2"},
			wantRequests: []proto.Message{
				listReq("tok"),
				accessReq(versionOf(projectNumber, "tok", 2)),
				accessReq(versionOf(projectNumber, "tok", 1)),
			},
		},
		{
			name:         "missing secret",
			value:        versionOf(project, "nope", "latest"),
			wantErr:      []string{versionOf(project, "nope", "latest"), "NotFound"},
			wantRequests: []proto.Message{listReq("nope")},
		},
		{
			name:         "missing pinned version",
			setup:        func(f *fakeSecretManager) { f.add("tok", "tok-v1") },
			value:        versionOf(project, "tok", 7),
			wantErr:      []string{versionOf(project, "tok", 7), "NotFound"},
			wantRequests: []proto.Message{accessReq(versionOf(project, "tok", 7))},
		},
		{
			name:         "CRC mismatch rejected",
			setup:        func(f *fakeSecretManager) { f.add("tok", "tok-v1"); f.badCRC = true },
			value:        versionOf(project, "tok", 1),
			wantErr:      []string{versionOf(project, "tok", 1), "CRC32C mismatch"},
			wantRequests: []proto.Message{accessReq(versionOf(project, "tok", 1))},
		},
		{
			name: "no enabled version",
			setup: func(f *fakeSecretManager) {
				f.add("tok", "tok-v1")
				f.setState("tok", 1, secretmanagerpb.SecretVersion_DISABLED)
			},
			value:        versionOf(project, "tok", "latest"),
			wantErr:      []string{versionOf(project, "tok", "latest"), "no enabled version"},
			wantRequests: []proto.Message{listReq("tok")},
		},
		{
			name:         "listing not permitted",
			setup:        func(f *fakeSecretManager) { f.fail = status.Error(codes.PermissionDenied, "denied") },
			value:        versionOf(project, "tok", "latest"),
			wantErr:      []string{versionOf(project, "tok", "latest"), "PermissionDenied", "secretmanager.versions.list"},
			wantRequests: []proto.Message{listReq("tok")},
		},
		{
			name:    "malformed secret name is not a literal",
			value:   "projects/demo/secrets/tok/versions/lates",
			wantErr: []string{"not a secret version name"},
		},
		{
			name:    "empty value",
			value:   "",
			wantErr: []string{"empty value"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeSecretManager{}
			if tc.setup != nil {
				tc.setup(f)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			s, err := NewCache(newClient(t, f), time.Hour, slog.New(slog.DiscardHandler)).Resolve(ctx, tc.value)
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("Resolve = %v, want an error", accepted(s))
				}
				for _, want := range tc.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("Resolve error %q does not contain %q", err, want)
					}
				}
			} else if err != nil {
				t.Fatalf("Resolve: %v", err)
			} else if got := accepted(s); !slices.Equal(got, tc.want) {
				t.Errorf("Accepted = %q, want %q", got, tc.want)
			} else if got := string(s.Current()); got != tc.want[0] {
				t.Errorf("Current = %q, want %q", got, tc.want[0])
			}
			checkRequests(t, f, tc.wantRequests...)
		})
	}
}

func TestIsVersionName(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{name: "number", in: "projects/my-proj/secrets/gw-token/versions/3", want: true},
		{name: "latest", in: "projects/my-proj/secrets/gw_token/versions/latest", want: true},
		{name: "project number", in: "projects/1234/secrets/s/versions/1", want: true},
		{name: "version zero", in: "projects/p/secrets/s/versions/0"},
		{name: "alias other than latest", in: "projects/p/secrets/s/versions/prod"},
		{name: "no version", in: "projects/p/secrets/s"},
		{name: "regional secret", in: "projects/p/locations/asia-northeast3/secrets/s/versions/1"},
		{name: "trailing slash", in: "projects/p/secrets/s/versions/1/"},
		{name: "literal", in: "some-token"},
		{name: "empty", in: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsVersionName(tc.in); got != tc.want {
				t.Errorf("IsVersionName(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestRefreshFollowsRotation(t *testing.T) {
	f := &fakeSecretManager{}
	f.add("tok", "tok-v1")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := NewCache(newClient(t, f), time.Hour, slog.New(slog.DiscardHandler)).Watch(ctx, versionOf(project, "tok", "latest"))
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	f.takeRequests()

	steps := []struct {
		name         string
		change       func()
		want         []string
		wantRequests []proto.Message
	}{
		{
			name:         "new version: previous stays accepted",
			change:       func() { f.add("tok", "tok-v2") },
			want:         []string{"tok-v2", "tok-v1"},
			wantRequests: []proto.Message{listReq("tok"), accessReq(versionOf(projectNumber, "tok", 2))},
		},
		{
			name:         "no change: nothing re-read",
			change:       func() {},
			want:         []string{"tok-v2", "tok-v1"},
			wantRequests: []proto.Message{listReq("tok")},
		},
		{
			name:         "previous disabled: no longer accepted",
			change:       func() { f.setState("tok", 1, secretmanagerpb.SecretVersion_DISABLED) },
			want:         []string{"tok-v2"},
			wantRequests: []proto.Message{listReq("tok")},
		},
		{
			name:         "next rotation",
			change:       func() { f.add("tok", "tok-v3") },
			want:         []string{"tok-v3", "tok-v2"},
			wantRequests: []proto.Message{listReq("tok"), accessReq(versionOf(projectNumber, "tok", 3))},
		},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			step.change()
			if err := s.Refresh(ctx); err != nil {
				t.Fatalf("Refresh: %v", err)
			}
			if got := accepted(s); !slices.Equal(got, step.want) {
				t.Errorf("Accepted = %q, want %q", got, step.want)
			}
			checkRequests(t, f, step.wantRequests...)
		})
	}
}

func TestPinnedAndLiteralDoNotRefetch(t *testing.T) {
	f := &fakeSecretManager{}
	f.add("tok", "tok-v1")
	ctx := context.Background()
	cache := NewCache(newClient(t, f), time.Hour, slog.New(slog.DiscardHandler))
	pinned, err := cache.Watch(ctx, versionOf(project, "tok", 1))
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	again, err := cache.Watch(ctx, versionOf(project, "tok", 1))
	if err != nil {
		t.Fatalf("Watch again: %v", err)
	}
	if again != pinned {
		t.Error("watching the same name twice gave two Secrets")
	}
	for _, s := range []*Secret{pinned, Literal([]byte("lit"))} {
		if err := s.Refresh(ctx); err != nil {
			t.Errorf("Refresh %v: %v", s, err)
		}
	}
	checkRequests(t, f, accessReq(versionOf(project, "tok", 1)))
}

func TestRefreshFailureKeepsLastGood(t *testing.T) {
	f := &fakeSecretManager{}
	f.add("tok", "tok-v1")
	f.add("tok", "tok-v2")
	ctx := context.Background()
	name := versionOf(project, "tok", "latest")
	s, err := NewCache(newClient(t, f), time.Hour, slog.New(slog.DiscardHandler)).Watch(ctx, name)
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	f.add("tok", "tok-v3")
	f.setFail(status.Error(codes.Internal, "backend down"))
	err = s.Refresh(ctx)
	if err == nil || !strings.Contains(err.Error(), name) {
		t.Fatalf("Refresh = %v, want an error naming %s", err, name)
	}
	if got, want := accepted(s), []string{"tok-v2", "tok-v1"}; !slices.Equal(got, want) {
		t.Errorf("after failure: Accepted = %q, want %q", got, want)
	}
	f.setFail(nil)
	if err := s.Refresh(ctx); err != nil {
		t.Fatalf("Refresh after recovery: %v", err)
	}
	if got, want := accepted(s), []string{"tok-v3", "tok-v2"}; !slices.Equal(got, want) {
		t.Errorf("after recovery: Accepted = %q, want %q", got, want)
	}
}

// eventually polls cond for up to 5s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// settled polls count every period until it has not changed for n periods
// in a row (at most a minute), and returns it.
func settled(count func() int, period time.Duration, n int) int {
	last, same := count(), 0
	for deadline := time.Now().Add(time.Minute); same < n && time.Now().Before(deadline); {
		time.Sleep(period)
		if c := count(); c == last {
			same++
		} else {
			last, same = c, 0
		}
	}
	return last
}

func TestBackgroundRefresh(t *testing.T) {
	f := &fakeSecretManager{}
	f.add("tok", "tok-v1")
	logs := &logtest.Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	name := versionOf(project, "tok", "latest")
	s, err := NewCache(newClient(t, f), 10*time.Millisecond, slog.New(slog.NewJSONHandler(logs, nil))).Watch(ctx, name)
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}

	f.add("tok", "tok-v2")
	eventually(t, "the rotation to be picked up", func() bool { return string(s.Current()) == "tok-v2" })
	if got, want := accepted(s), []string{"tok-v2", "tok-v1"}; !slices.Equal(got, want) {
		t.Errorf("after rotation: Accepted = %q, want %q", got, want)
	}

	f.setFail(status.Error(codes.Internal, "backend down"))
	eventually(t, "a refresh failure warning", func() bool { return strings.Contains(logs.String(), "refresh failed") })
	if got, want := accepted(s), []string{"tok-v2", "tok-v1"}; !slices.Equal(got, want) {
		t.Errorf("after failures: Accepted = %q, want %q", got, want)
	}
	if !strings.Contains(logs.String(), `"secret":"`+name+`"`) {
		t.Errorf("warning does not name the secret: %s", logs)
	}

	before := f.requestCount()
	cancel()
	// A refresh in flight when ctx was cancelled may still reach the fake;
	// after it, none: wait until the count has held for many refresh periods.
	after := settled(f.requestCount, 10*time.Millisecond, 20)
	if after-before > 1 {
		t.Errorf("%d requests after ctx was cancelled, want at most the one in flight", after-before)
	}
}

func TestNoValueInLogsOrErrors(t *testing.T) {
	values := []string{"VALUE-one-7f3a9c", "VALUE-two-b81e02", "VALUE-three-4d6c", "VALUE-crc-0a9e11", "VALUE-literal-55"}
	f := &fakeSecretManager{}
	f.add("tok", values[0])
	f.add("tok", values[1])
	f.add("crc", values[3])
	logs := &logtest.Buffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cache := NewCache(newClient(t, f), 5*time.Millisecond, logger)

	var texts []string // everything that could reach a log or a response
	s, err := cache.Watch(ctx, versionOf(project, "tok", "latest"))
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	f.add("tok", values[2]) // rotation: logged by the background refresh
	eventually(t, "the rotation", func() bool { return string(s.Current()) == values[2] })
	f.setFail(status.Error(codes.Unauthenticated, "token expired"))
	eventually(t, "a refresh failure warning", func() bool { return strings.Contains(logs.String(), "refresh failed") })
	f.setFail(nil)

	f.mu.Lock()
	f.badCRC = true
	f.mu.Unlock()
	if _, err := cache.Watch(ctx, versionOf(project, "crc", 1)); err == nil {
		t.Error("Watch with a corrupted payload succeeded")
	} else {
		texts = append(texts, err.Error())
	}
	for _, name := range []string{versionOf(project, "tok", 9), versionOf(project, "missing", "latest"), "projects/x/secrets/" + values[0]} {
		if _, err := cache.Resolve(ctx, name); err == nil {
			t.Errorf("Resolve(%s) succeeded", name)
		} else {
			texts = append(texts, err.Error())
		}
	}
	lit := Literal([]byte(values[4]))
	for _, secret := range []*Secret{s, lit} {
		logger.Info("configured", "secret", secret)
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%d", "%q"} {
			texts = append(texts, fmt.Sprintf(verb, secret))
		}
	}

	cancel()
	out := logs.String()
	for _, want := range []string{"accepted versions changed", "refresh failed", versionOf(project, "tok", "latest")} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %q, the test is not exercising them:\n%s", want, out)
		}
	}
	texts = append(texts, out)
	for _, text := range texts {
		for _, v := range values {
			if strings.Contains(text, v) || strings.Contains(text, fmt.Sprintf("%x", v)) {
				t.Errorf("value %s leaked into %q", v, text)
			}
		}
	}
}
