package app_test

import (
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/routebot/routebot/functions/scenario"
	"github.com/routebot/routebot/internal/sessionsfake"
)

// The DetectIntent classifier takes its endpoint from the same Dialogflow
// clients as the profile function and the stream service: with
// ROUTEBOT_DIALOGFLOW_ENDPOINT on loopback (and no test hook) its
// DetectIntent reaches the fake there, in plaintext without credentials.
func TestDetectIntentUsesTheDialogflowEndpoint(t *testing.T) {
	fake := sessionsfake.New(intent("환불요청", false))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	fake.Register(srv)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)

	a, _ := build(t, map[string]string{
		"ROUTEBOT_TENANTS":             demoTenants(t),
		"ROUTEBOT_CLASSIFIER":          "dialogflow",
		"ROUTEBOT_DIALOGFLOW_PROJECT":  dfAgent,
		"ROUTEBOT_DIALOGFLOW_ENDPOINT": lis.Addr().String(),
		"ROUTEBOT_CLASSIFY_TIMEOUT":    "1s",
		"ROUTEBOT_TURN_TIMEOUT":        "3s",
	})
	const callID, utterance = "DF-ENDPOINT-1", "지난주에 산 교재 환불받고 싶어요"
	doc, _ := call(t, scenario.FromApp(a), callID, utterance)
	got := fake.Requests()
	want := textQuery("projects/"+dfAgent+"/agent/sessions/"+callID, utterance)
	if len(got) != 1 || !proto.Equal(got[0], want) {
		t.Fatalf("DetectIntent requests %v, want one %v (answer %v)", got, want, doc)
	}
}
