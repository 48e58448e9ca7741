package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	pb "cloud.google.com/go/dialogflow/apiv2beta1/dialogflowpb"
	"google.golang.org/protobuf/proto"

	"github.com/routebot/routebot/common/config"
	"github.com/routebot/routebot/functions/profile"
	"github.com/routebot/routebot/internal/dialogflowfake"
)

// TestLocalProfileOnAFake runs the local binary as the README's curl line
// does: ROUTEBOT_DIALOGFLOW_ENDPOINT points at a fake Dialogflow on
// loopback, and PUT /tenants/nexus/profile creates nexus's profile there.
func TestLocalProfileOnAFake(t *testing.T) {
	fake := dialogflowfake.New()
	endpoint := fake.Listen(t)
	bin := buildLocal(t)
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "PORT="+port, "ROUTEBOT_LOG_LEVEL=ERROR",
		"ROUTEBOT_DIALOGFLOW_ENDPOINT="+endpoint, "ROUTEBOT_DIALOGFLOW_PROJECT=routebot-local")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	put := func() (int, []byte) {
		req, _ := http.NewRequest(http.MethodPut, "http://127.0.0.1:"+port+"/tenants/nexus/profile", nil)
		req.Header.Set("Authorization", "Bearer "+config.DevToken)
		client := &http.Client{Timeout: 10 * time.Second}
		deadline := time.Now().Add(20 * time.Second)
		for {
			resp, err := client.Do(req)
			if err != nil {
				if time.Now().After(deadline) {
					t.Fatalf("the local run never answered: %v", err)
				}
				time.Sleep(10 * time.Millisecond)
				continue
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, b
		}
	}
	code, body := put()
	var out profile.ApplyResponse
	if err := json.Unmarshal(body, &out); err != nil || code != http.StatusCreated || out.Action != "created" ||
		!strings.HasPrefix(out.Name, "projects/routebot-local/locations/global/conversationProfiles/") {
		t.Fatalf("PUT = %d %s", code, body)
	}
	want := &pb.SpeechToTextConfig{SampleRateHertz: 8000, AudioEncoding: pb.AudioEncoding_AUDIO_ENCODING_LINEAR_16}
	got := fake.Profile(out.Name)
	if !got.GetUseBidiStreaming() || got.GetDisplayName() != "nexus-agent-assist" || !proto.Equal(got.GetSttConfig(), want) {
		t.Errorf("profile on the fake = %v", got)
	}
	if code, body = put(); code != http.StatusOK || !strings.Contains(string(body), `"action": "unchanged"`) {
		t.Errorf("second PUT = %d %s", code, body)
	}
}
