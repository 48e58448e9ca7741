package secrets

import (
	"context"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
	"sync"
	"testing"

	secretmanager "cloud.google.com/go/secretmanager/apiv1"
	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"github.com/routebot/routebot/internal/grpctest"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Like the real service, the fake answers with the project number whatever
// the caller named the project with.
const (
	project       = "projects/demo"
	projectNumber = "projects/1234"
)

// fakeSecretManager is an in-process Secret Manager holding versions of
// secrets, recording every request it receives.
type fakeSecretManager struct {
	secretmanagerpb.UnimplementedSecretManagerServiceServer

	mu       sync.Mutex
	secrets  map[string][]*fakeVersion // by secret ID, oldest first
	fail     error                     // when set, every RPC fails with it
	badCRC   bool                      // when set, payloads carry a wrong CRC32C
	broken   map[string]bool           // version names listed as ENABLED whose access fails, as if disabled meanwhile
	requests []proto.Message
}

type fakeVersion struct {
	data  []byte
	state secretmanagerpb.SecretVersion_State
}

// add appends an ENABLED version to secret and returns its number.
func (f *fakeSecretManager) add(secret, data string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.secrets == nil {
		f.secrets = make(map[string][]*fakeVersion)
	}
	f.secrets[secret] = append(f.secrets[secret], &fakeVersion{data: []byte(data), state: secretmanagerpb.SecretVersion_ENABLED})
	return len(f.secrets[secret])
}

func (f *fakeSecretManager) setState(secret string, num int, state secretmanagerpb.SecretVersion_State) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.secrets[secret][num-1].state = state
}

func (f *fakeSecretManager) setFail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = err
}

// takeRequests returns the requests received so far and forgets them.
func (f *fakeSecretManager) takeRequests() []proto.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.requests
	f.requests = nil
	return r
}

func (f *fakeSecretManager) requestCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

// secretID parses projects/{demo|1234}/secrets/S.
func secretID(parent string) (string, bool) {
	for _, p := range []string{project, projectNumber} {
		if id, ok := strings.CutPrefix(parent, p+"/secrets/"); ok && id != "" && !strings.Contains(id, "/") {
			return id, true
		}
	}
	return "", false
}

func (f *fakeSecretManager) ListSecretVersions(_ context.Context, req *secretmanagerpb.ListSecretVersionsRequest) (*secretmanagerpb.ListSecretVersionsResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, proto.Clone(req))
	if f.fail != nil {
		return nil, f.fail
	}
	id, ok := secretID(req.GetParent())
	if !ok || f.secrets[id] == nil {
		return nil, status.Errorf(codes.NotFound, "Secret [%s] not found.", req.GetParent())
	}
	if req.GetFilter() != "" && req.GetFilter() != "state:ENABLED" {
		return nil, status.Errorf(codes.InvalidArgument, "fake: unsupported filter %q", req.GetFilter())
	}
	resp := &secretmanagerpb.ListSecretVersionsResponse{}
	for i, v := range f.secrets[id] { // oldest first: the client must not rely on the order
		if req.GetFilter() == "state:ENABLED" && v.state != secretmanagerpb.SecretVersion_ENABLED {
			continue
		}
		resp.Versions = append(resp.Versions, &secretmanagerpb.SecretVersion{
			Name:  fmt.Sprintf("%s/secrets/%s/versions/%d", projectNumber, id, i+1),
			State: v.state,
		})
	}
	resp.TotalSize = int32(len(resp.Versions))
	return resp, nil
}

func (f *fakeSecretManager) AccessSecretVersion(_ context.Context, req *secretmanagerpb.AccessSecretVersionRequest) (*secretmanagerpb.AccessSecretVersionResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, proto.Clone(req))
	if f.fail != nil {
		return nil, f.fail
	}
	parent, ver, _ := strings.Cut(req.GetName(), "/versions/")
	id, ok := secretID(parent)
	versions := f.secrets[id]
	num, err := strconv.Atoi(ver)
	if ver == "latest" { // the newest enabled version
		num, err = 0, nil
		for i, v := range versions {
			if v.state == secretmanagerpb.SecretVersion_ENABLED {
				num = i + 1
			}
		}
	}
	if !ok || err != nil || num < 1 || num > len(versions) {
		return nil, status.Errorf(codes.NotFound, "Secret Version [%s] not found.", req.GetName())
	}
	v := versions[num-1]
	if v.state != secretmanagerpb.SecretVersion_ENABLED || f.broken[req.GetName()] {
		return nil, status.Errorf(codes.FailedPrecondition, "Secret Version [%s] is in %s state.", req.GetName(), v.state)
	}
	crc := int64(crc32.Checksum(v.data, crc32.MakeTable(crc32.Castagnoli)))
	if f.badCRC {
		crc++
	}
	return &secretmanagerpb.AccessSecretVersionResponse{
		Name:    fmt.Sprintf("%s/secrets/%s/versions/%d", projectNumber, id, num),
		Payload: &secretmanagerpb.SecretPayload{Data: v.data, DataCrc32C: &crc},
	}, nil
}

// newClient serves f on bufconn and returns the real Secret Manager client
// pointed at it.
func newClient(t *testing.T, f *fakeSecretManager) *secretmanager.Client {
	t.Helper()
	conn := grpctest.Dial(t, func(srv *grpc.Server) { secretmanagerpb.RegisterSecretManagerServiceServer(srv, f) })
	client, err := secretmanager.NewClient(context.Background(), option.WithGRPCConn(conn))
	if err != nil {
		t.Fatalf("secretmanager.NewClient: %v", err)
	}
	t.Cleanup(func() { _ = client.Close() })
	return client
}
