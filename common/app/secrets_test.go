package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	secretmanager "cloud.google.com/go/secretmanager/apiv1"
	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"go.uber.org/goleak"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/routebot/routebot/common/app"
	"github.com/routebot/routebot/common/config"
	"github.com/routebot/routebot/common/logging"
	"github.com/routebot/routebot/functions/scenario"
	"github.com/routebot/routebot/internal/apptest"
	"github.com/routebot/routebot/internal/grpctest"
	"github.com/routebot/routebot/internal/logtest"
)

// heldSecrets is a Secret Manager of pinned versions that answers an access
// only once release is closed, recording each request. With releaseAfter
// set, it closes release itself once that many different versions have been
// asked for.
type heldSecrets struct {
	secretmanagerpb.UnimplementedSecretManagerServiceServer
	release      chan struct{}
	asked        chan *secretmanagerpb.AccessSecretVersionRequest // buffered
	releaseAfter int

	mu     sync.Mutex
	values map[string]string // version name → payload
	names  map[string]bool   // asked for
}

func (f *heldSecrets) add(name, value string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.values == nil {
		f.values = map[string]string{}
	}
	f.values[name] = value
}

func (f *heldSecrets) AccessSecretVersion(ctx context.Context, req *secretmanagerpb.AccessSecretVersionRequest) (*secretmanagerpb.AccessSecretVersionResponse, error) {
	select {
	case f.asked <- proto.Clone(req).(*secretmanagerpb.AccessSecretVersionRequest):
	default: // the test reads only the first few
	}
	f.mu.Lock()
	v, ok := f.values[req.GetName()]
	if f.names == nil {
		f.names = map[string]bool{}
	}
	if f.names[req.GetName()] = true; f.releaseAfter > 0 && len(f.names) == f.releaseAfter {
		close(f.release)
	}
	f.mu.Unlock()
	if !ok {
		return nil, status.Errorf(codes.NotFound, "Secret Version [%s] not found.", req.GetName())
	}
	select {
	case <-f.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return &secretmanagerpb.AccessSecretVersionResponse{Name: req.GetName(), Payload: &secretmanagerpb.SecretPayload{Data: []byte(v)}}, nil
}

// ListSecretVersions lists the versions added under req's secret, all
// enabled (what a .../versions/latest name needs).
func (f *heldSecrets) ListSecretVersions(_ context.Context, req *secretmanagerpb.ListSecretVersionsRequest) (*secretmanagerpb.ListSecretVersionsResponse, error) {
	if req.GetFilter() != "state:ENABLED" {
		return nil, status.Errorf(codes.InvalidArgument, "filter %q, want state:ENABLED", req.GetFilter())
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	resp := &secretmanagerpb.ListSecretVersionsResponse{}
	for name := range f.values {
		if strings.HasPrefix(name, req.GetParent()+"/versions/") {
			resp.Versions = append(resp.Versions, &secretmanagerpb.SecretVersion{Name: name, State: secretmanagerpb.SecretVersion_ENABLED})
		}
	}
	return resp, nil
}

// secretManager is a Secret Manager client on fake.
func secretManager(t *testing.T, fake *heldSecrets) *secretmanager.Client {
	t.Helper()
	conn := grpctest.Dial(t, func(s *grpc.Server) { secretmanagerpb.RegisterSecretManagerServiceServer(s, fake) })
	client, err := secretmanager.NewClient(context.Background(), option.WithGRPCConn(conn))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return client
}

// TestStartUpFetchesSecretsTogether: the gateway token, the JWT key and the
// session key come from Secret Manager, which answers none of them before it
// has been asked for all three. Fetched one after the other, the start would
// wait for the first until its deadline; fetched together (and beside the
// store's opening), the app starts and a turn is answered.
func TestStartUpFetchesSecretsTogether(t *testing.T) {
	const (
		tokenName   = "projects/routebot-prod/secrets/gateway-token/versions/2"
		jwtName     = "projects/routebot-prod/secrets/gateway-jwt-key/versions/1"
		sessionName = "projects/routebot-prod/secrets/session-key/versions/5"
	)
	fake := &heldSecrets{release: make(chan struct{}), asked: make(chan *secretmanagerpb.AccessSecretVersionRequest, 16), releaseAfter: 3}
	fake.add(tokenName, apiToken)
	fake.add(jwtName, strings.Repeat("j", 48))
	fake.add(sessionName, strings.Repeat("s", 48))
	env := map[string]string{"ROUTEBOT_STORE": "memory", "ROUTEBOT_API_TOKEN": tokenName,
		"ROUTEBOT_JWT_KEY": jwtName, "ROUTEBOT_SESSION_KEY": sessionName}
	a := apptest.Build(t, env, false, nil, app.WithSecretManager(secretManager(t, fake)))
	greet(t, scenario.FromApp(a), "SECRETS-1") // authenticated with the token from Secret Manager
	if n := len(fake.asked); n != 3 {
		t.Errorf("Secret Manager asked %d times, want once per secret", n)
	}
}

// TestGreetingDoesNotWaitForTheLLMKey: with ROUTEBOT_LLM_API_KEY in Secret
// Manager, the app starts and answers a greeting while the key is still
// being fetched (only an LLM classifier needs it); once it arrives, the LLM
// gets it and classifies.
func TestGreetingDoesNotWaitForTheLLMKey(t *testing.T) {
	const keyName = "projects/routebot-prod/secrets/llm-key/versions/3"
	fake := &heldSecrets{release: make(chan struct{}), asked: make(chan *secretmanagerpb.AccessSecretVersionRequest, 16)}
	fake.add(keyName, llmKey)
	var once sync.Once
	release := func() { once.Do(func() { close(fake.release) }) }
	t.Cleanup(release)
	client := secretManager(t, fake)

	llm, baseURL := startLLM(t)
	env := llmEnv(t, baseURL)
	env["ROUTEBOT_API_TOKEN"], env["ROUTEBOT_STORE"] = apiToken, "memory"
	env["ROUTEBOT_LLM_API_KEY"] = keyName
	env["ROUTEBOT_CLASSIFY_TIMEOUT"], env["ROUTEBOT_TURN_TIMEOUT"] = "10s", "20s"
	cfg, err := config.Load(func(k string) string { return env[k] }, false)
	if err != nil {
		t.Fatal(err)
	}
	logs := &logtest.Buffer{}
	type result struct {
		a   *app.App
		err error
	}
	built := make(chan result, 1)
	go func() {
		a, err := app.Build(context.Background(), cfg, logging.New(logs, slog.LevelDebug), app.WithSecretManager(client))
		built <- result{a, err}
	}()
	var a *app.App
	select {
	case r := <-built:
		if r.err != nil {
			t.Fatal(r.err)
		}
		a = r.a
		t.Cleanup(func() { a.Close() })
	case <-time.After(30 * time.Second): // a guard, not a measurement
		t.Fatal("app.Build is waiting for ROUTEBOT_LLM_API_KEY from Secret Manager")
	}
	select {
	case req := <-fake.asked:
		if want := (&secretmanagerpb.AccessSecretVersionRequest{Name: keyName}); !proto.Equal(req, want) {
			t.Fatalf("Secret Manager asked %v, want %v", req, want)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the LLM key was never asked for")
	}

	h := scenario.FromApp(a)
	greet(t, h, "KEY-1") // the key's access is held: this greeting cannot wait for it

	release()
	ready(t, a)
	doc, _ := call(t, h, "KEY-2", utterance)
	checkRoute(t, doc, toRefundNotice) // the fake LLM refuses any other key
	if n := llm.endpoint.Requests(); n < 2 {
		t.Errorf("LLM asked %d times, want the warm-up's and the turn's", n)
	}
	if n := len(fake.asked); n != 0 {
		t.Errorf("the LLM key was fetched %d more times, want once", n)
	}
	assertPrivate(t, logs.String(), utterance)
}

// TestLLMKeyFetchedLate: while Secret Manager does not give the LLM key (the
// secret has no version yet, as before step 3 of docs/deploy.md), calls are
// answered and the LLM tenant classifies with its examples; the key is asked
// for again in the background, and once it exists the LLM classifies, in
// the same process.
func TestLLMKeyFetchedLate(t *testing.T) {
	const keyName = "projects/routebot-prod/secrets/llm-key/versions/4"
	fake := &heldSecrets{release: make(chan struct{}), asked: make(chan *secretmanagerpb.AccessSecretVersionRequest, 16)}
	close(fake.release)
	llm, baseURL := startLLM(t)
	env := llmEnv(t, baseURL)
	env["ROUTEBOT_LLM_API_KEY"] = keyName
	env["ROUTEBOT_CLASSIFY_TIMEOUT"], env["ROUTEBOT_TURN_TIMEOUT"] = "10s", "20s"
	a, logs := build(t, env, app.WithSecretManager(secretManager(t, fake)))
	ready(t, a)
	h := scenario.FromApp(a)
	doc, _ := call(t, h, "NOKEY-1", utterance)
	checkRoute(t, doc, toBirthDate)
	if n := llm.endpoint.Requests(); n != 0 {
		t.Errorf("LLM asked %d times without its key", n)
	}
	warn := logs.Find(t, "classify: primary classifier failed, using the fallback")
	if e, _ := warn["error"].(string); !strings.Contains(e, "ROUTEBOT_LLM_API_KEY") || !strings.Contains(e, keyName) {
		t.Errorf("fallback warning %v, want ROUTEBOT_LLM_API_KEY and the secret's name", warn)
	}

	fake.add(keyName, llmKey) // the operator adds the version
	deadline := time.Now().Add(30 * time.Second)
	for i := 2; ; i++ {
		if doc, _ = call(t, h, fmt.Sprintf("NOKEY-%d", i), utterance); doc["ServiceCode"] == toRefundNotice["ServiceCode"] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the LLM never classified after the key was added: %v\n%s", doc, logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if logs.Find(t, "ROUTEBOT_LLM_API_KEY cannot be fetched; LLM classifications use the embedded classifier until it is") == nil {
		t.Errorf("the failed fetch was not logged:\n%s", logs)
	}
	assertPrivate(t, logs.String(), utterance)
}

// TestFailedStartStopsSecretRefreshes: a start that fails (here the
// gateway token's secret is missing) after the session key's .../latest
// began refreshing leaves no refresh running. A deployed function retries a
// failed start every few seconds; each attempt's refreshes ran for ever.
func TestFailedStartStopsSecretRefreshes(t *testing.T) {
	fake := &heldSecrets{release: make(chan struct{}), asked: make(chan *secretmanagerpb.AccessSecretVersionRequest, 16)}
	close(fake.release)
	fake.add("projects/routebot-prod/secrets/session-key/versions/1", strings.Repeat("s", 48))
	client := secretManager(t, fake)
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"ROUTEBOT_STORE": "memory", "ROUTEBOT_SECRET_REFRESH": "10ms",
			"ROUTEBOT_API_TOKEN":   "projects/routebot-prod/secrets/gateway-token/versions/2",
			"ROUTEBOT_SESSION_KEY": "projects/routebot-prod/secrets/session-key/versions/latest"}[k]
	}, false)
	if err != nil {
		t.Fatal(err)
	}
	// The fake's connection is up before the snapshot: its goroutines are
	// the test's, not Build's.
	if _, err := client.AccessSecretVersion(context.Background(), &secretmanagerpb.AccessSecretVersionRequest{
		Name: "projects/routebot-prod/secrets/session-key/versions/1"}); err != nil {
		t.Fatal(err)
	}
	before := goleak.IgnoreCurrent()
	a, err := app.Build(context.Background(), cfg, logging.New(io.Discard, nil), app.WithSecretManager(client))
	if err == nil {
		a.Close()
		t.Fatal("Build succeeded without the gateway token's secret")
	}
	goleak.VerifyNone(t, before)
}
