package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/routebot/routebot/internal/tenanttest"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/routebot/routebot/functions/profile"
	"github.com/routebot/routebot/internal/dialogflowfake"
)

// TestProfileApplyDiff drives "profile apply|diff" as the platform team
// would: tenants pushed to Firestore (the emulator), Dialogflow at
// ROUTEBOT_DIALOGFLOW_ENDPOINT (a fake on loopback).
func TestProfileApplyDiff(t *testing.T) {
	fake := dialogflowfake.New()
	env := firestoreEnv(t)
	env["ROUTEBOT_DIALOGFLOW_ENDPOINT"] = fake.Listen(t)
	env["ROUTEBOT_DIALOGFLOW_PROJECT"] = "acme-cc"
	dir := tenanttest.DemoCopy(t)
	if r := ctl(env, "push", dir); r.code != 0 {
		t.Fatalf("push: %s", r)
	}

	r := ctl(env, "profile", "diff", "nexus")
	var d profile.DiffResponse
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil || r.code != 1 || d.Exists || d.InSync {
		t.Fatalf("diff before apply (want exit 1, missing): %s", r)
	}
	r = ctl(env, "profile", "apply", "nexus")
	var a profile.ApplyResponse
	if err := json.Unmarshal([]byte(r.stdout), &a); err != nil || r.code != 0 || a.Action != "created" ||
		!strings.HasPrefix(a.Name, "projects/acme-cc/locations/global/conversationProfiles/") {
		t.Fatalf("apply: %s", r)
	}
	if !fake.Profile(a.Name).GetUseBidiStreaming() {
		t.Error("the created profile has use_bidi_streaming off")
	}
	// The name was recorded in Firestore: the next run finds it by name.
	if r = ctl(env, "profile", "diff", "nexus"); r.code != 0 || !strings.Contains(r.stdout, `"inSync": true`) {
		t.Errorf("diff after apply: %s", r)
	}
	if n := fake.Count("GetConversationProfile"); n != 1 {
		t.Errorf("GetConversationProfile called %d times, want once (by the recorded name)", n)
	}

	tenanttest.ReplaceIn(t, filepath.Join(dir, "nexus", "tenant.yaml"), "sampleRateHertz: 8000", "sampleRateHertz: 16000")
	if r = ctl(env, "push", dir); r.code != 0 {
		t.Fatalf("push: %s", r)
	}
	r = ctl(env, "profile", "apply", "nexus")
	if err := json.Unmarshal([]byte(r.stdout), &a); err != nil || r.code != 0 || a.Action != "updated" || strings.Join(a.Changed, ",") != "stt_config" {
		t.Errorf("apply after the change: %s", r)
	}

	fake.Fail("GetConversationProfile", status.Error(codes.PermissionDenied, "no"))
	if r = ctl(env, "profile", "diff", "nexus"); r.code != 1 || !strings.Contains(r.stderr, "PERMISSION_DENIED: Dialogflow GetConversationProfile") {
		t.Errorf("permission denied: %s", r)
	}
	unavailable := status.Error(codes.Unavailable, "down")
	fake.Fail("GetConversationProfile", unavailable, unavailable, unavailable)
	if r = ctl(env, "profile", "apply", "nexus"); r.code != 3 || !strings.Contains(r.stderr, "UNAVAILABLE") {
		t.Errorf("unavailable: %s", r)
	}
	if r = ctl(env, "profile", "apply", "nobody"); r.code != 1 || !strings.Contains(r.stderr, `tenant "nobody" not found`) {
		t.Errorf("unknown tenant: %s", r)
	}
	if r = ctl(env, "profile", "sync", "nexus"); r.code != 2 {
		t.Errorf("bad verb: %s", r)
	}
}
