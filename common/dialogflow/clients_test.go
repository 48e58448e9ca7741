package dialogflow_test

import (
	"context"
	"strings"
	"testing"

	"github.com/routebot/routebot/common/dialogflow"
	"github.com/routebot/routebot/internal/dialogflowfake"
)

// ROUTEBOT_DIALOGFLOW_ENDPOINT on loopback: every location goes to it, in
// plaintext and without credentials (none exist on this machine's tests).
func TestLoopbackEndpoint(t *testing.T) {
	fake := dialogflowfake.New()
	addr := fake.Listen(t)
	c, err := dialogflow.NewClients(dialogflow.Options{Endpoint: addr})
	if err != nil {
		t.Fatal(err)
	}
	tenants, names := memstoreWithNexus(t, "profile:\n  location: asia-northeast3\n")
	rec := dialogflow.NewReconciler(c, tenants, names, project)
	out, err := rec.Apply(context.Background(), "nexus")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.Name, "projects/acme-cc/locations/asia-northeast3/") || fake.Count("CreateConversationProfile") != 1 {
		t.Errorf("Apply = %+v; fake calls %v", out, methods(fake.Calls()))
	}
	for _, loc := range []string{"global", "asia-northeast3"} {
		if got := c.EndpointFor(loc); got != addr {
			t.Errorf("EndpointFor(%s) = %s, want the override %s", loc, got, addr)
		}
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestNewClientsRefusesABadEndpoint(t *testing.T) {
	if _, err := dialogflow.NewClients(dialogflow.Options{Endpoint: "localhost"}); err == nil {
		t.Error("an endpoint without a port was accepted")
	}
	c, _ := dialogflow.NewClients(dialogflow.Options{})
	if _, err := c.For(context.Background(), "Europe/West"); err == nil {
		t.Error("a malformed location was accepted")
	}
}

func TestEndpoint(t *testing.T) {
	tests := []struct{ location, want string }{
		{"", "dialogflow.googleapis.com:443"},
		{"global", "dialogflow.googleapis.com:443"},
		{"asia-northeast3", "asia-northeast3-dialogflow.googleapis.com:443"},
		{"europe-west1", "europe-west1-dialogflow.googleapis.com:443"},
	}
	for _, tt := range tests {
		t.Run(tt.location, func(t *testing.T) {
			if got := dialogflow.Endpoint(tt.location); got != tt.want {
				t.Errorf("Endpoint(%q) = %q, want %q", tt.location, got, tt.want)
			}
		})
	}
}
