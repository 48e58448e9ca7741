package dialogflow_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pb "cloud.google.com/go/dialogflow/apiv2beta1/dialogflowpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/routebot/routebot/common/dialogflow"
	"github.com/routebot/routebot/common/store"
	"github.com/routebot/routebot/common/store/memstore"
	"github.com/routebot/routebot/internal/emulator"
	"github.com/routebot/routebot/internal/fsstoretest"
)

// The Firestore emulator starts with the first test that needs it (not in
// fuzzing workers, which need none) and stops after the tests; without it
// those tests fail, never skip.
var firestoreEmulator = struct {
	once sync.Once
	host string
	stop func()
	err  error
}{stop: func() {}}

func emulatorHost(t *testing.T) string {
	t.Helper()
	e := &firestoreEmulator
	e.once.Do(func() { e.host, e.stop, e.err = emulator.StartFirestore() })
	if e.err != nil {
		t.Fatalf("the lifecycle tests on Firestore need the Firestore emulator: %v", e.err)
	}
	return e.host
}

func TestMain(m *testing.M) {
	code := m.Run()
	if stop := firestoreEmulator.stop; stop != nil {
		stop()
	}
	os.Exit(code)
}

type records interface {
	store.Conversations
	store.ProfileNames
}

var prefixes atomic.Int64

func memRecords(*testing.T) records {
	return struct {
		*memstore.Conversations
		*memstore.ProfileNames
	}{memstore.NewConversations(nil), memstore.NewProfileNames()}
}

func firestoreRecords(t *testing.T) records {
	t.Helper()
	return fsstoretest.Open(t, emulatorHost(t), "routebot-lifecycle-test",
		fmt.Sprintf("lc%x-%d-", time.Now().UnixNano()&0xffffff, prefixes.Add(1)))
}

const profileName = "projects/acme-cc/locations/global/conversationProfiles/p1"

// lifecycleEnv is one fake Dialogflow with the tenant's profile in it and
// the tenant's profile name recorded.
func lifecycleEnv(t *testing.T, rs records, profile string) (*fakes, string) {
	t.Helper()
	f := newFakes(t, global, "europe-west3-dialogflow.googleapis.com:443")
	parts := strings.Split(profile, "/")
	parent := strings.Join(parts[:4], "/")
	name := f.by[dialogflow.Endpoint(parts[3])].AddProfile(parent, &pb.ConversationProfile{DisplayName: "nexus", UseBidiStreaming: true})
	if err := rs.SetProfileName(context.Background(), "nexus", name); err != nil {
		t.Fatal(err)
	}
	return f, name
}

func TestOpenCreatesTheConversationAndParticipantsOnce(t *testing.T) {
	rs := memRecords(t)
	f, profile := lifecycleEnv(t, rs, profileName)
	fake := f.by[global]
	l := dialogflow.NewLifecycle(f.clients(), rs, rs, dialogflow.LifecycleOptions{})
	ctx := context.Background()

	call, err := l.Open(ctx, "nexus", "CALL-0001")
	if err != nil {
		t.Fatal(err)
	}
	id := dialogflow.ConversationID("nexus", "CALL-0001")
	wantConv := "projects/acme-cc/locations/global/conversations/" + id
	if call.Conversation != wantConv || call.Profile != profile || call.Location != "global" || call.EndUser == "" || call.HumanAgent == "" || call.EndUser == call.HumanAgent {
		t.Fatalf("Open = %+v", call)
	}
	writes := fake.Writes()
	if len(writes) != 3 {
		t.Fatalf("writes = %v, want CreateConversation and two CreateParticipant", methods(writes))
	}
	wantCreate := &pb.CreateConversationRequest{
		Parent:         "projects/acme-cc/locations/global",
		Conversation:   &pb.Conversation{ConversationProfile: profile},
		ConversationId: id,
	}
	if !proto.Equal(writes[0].Request, wantCreate) {
		t.Errorf("CreateConversation = %v, want %v", writes[0].Request, wantCreate)
	}
	for i, role := range []pb.Participant_Role{pb.Participant_END_USER, pb.Participant_HUMAN_AGENT} {
		want := &pb.CreateParticipantRequest{Parent: wantConv, Participant: &pb.Participant{Role: role}}
		if !proto.Equal(writes[1+i].Request, want) {
			t.Errorf("write %d = %v, want %v", 1+i, writes[1+i].Request, want)
		}
	}

	again, err := l.Open(ctx, "nexus", "CALL-0001")
	if err != nil || again != call {
		t.Errorf("second Open = %+v, %v; want %+v", again, err, call)
	}
	if n := len(fake.Calls()); n != 4 { // create, list, 2 × create participant
		t.Errorf("second Open called Dialogflow: %v", methods(fake.Calls()))
	}
	if _, err := l.Open(ctx, "hanbit", "CALL-0001"); err == nil {
		t.Error("another tenant opened this call's conversation")
	}
}

// Two instances (two Lifecycles on one store), each with two legs of the
// call, open it at the same moment: one conversation, one participant per
// role, and all four legs get the same answer.
func TestRacingOpensMakeOneConversation(t *testing.T) {
	for _, tt := range []struct {
		name  string
		store func(*testing.T) records
	}{
		{"memstore", memRecords},
		{"firestore", firestoreRecords},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rs := tt.store(t)
			f, _ := lifecycleEnv(t, rs, profileName)
			fake := f.by[global]
			opts := dialogflow.LifecycleOptions{Poll: 5 * time.Millisecond}
			instances := []*dialogflow.Lifecycle{
				dialogflow.NewLifecycle(f.clients(), rs, rs, opts),
				dialogflow.NewLifecycle(f.clients(), rs, rs, opts),
			}
			// The creator is held inside CreateConversation until every leg has asked.
			release := fake.Hold("CreateConversation")
			const legs = 4
			var started, done sync.WaitGroup
			started.Add(legs)
			calls := make([]dialogflow.Call, legs)
			errs := make([]error, legs)
			for i := range legs {
				done.Add(1)
				go func() {
					defer done.Done()
					started.Done()
					calls[i], errs[i] = instances[i%2].Open(context.Background(), "nexus", "CALL-RACE")
				}()
			}
			started.Wait()
			waitFor(t, func() bool { return fake.Count("CreateConversation") >= 1 })
			time.Sleep(20 * time.Millisecond) // let the other legs reach their wait (not an assertion)
			release()
			done.Wait()
			for i := range legs {
				if errs[i] != nil {
					t.Fatalf("leg %d: %v", i, errs[i])
				}
				if calls[i] != calls[0] {
					t.Errorf("leg %d got %+v, leg 0 %+v", i, calls[i], calls[0])
				}
			}
			if convs := fake.Conversations(); len(convs) != 1 || convs[0] != calls[0].Conversation {
				t.Errorf("conversations %v, want just %s", convs, calls[0].Conversation)
			}
			if n := fake.Count("CreateConversation"); n != 1 {
				t.Errorf("CreateConversation sent %d times", n)
			}
			if ps := fake.Participants(calls[0].Conversation); len(ps) != 2 || ps[0].GetRole() == ps[1].GetRole() {
				t.Errorf("participants %v, want one END_USER and one HUMAN_AGENT", ps)
			}
		})
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10 s")
		}
		time.Sleep(time.Millisecond)
	}
}

// An owner that died after creating the conversation and one participant:
// the next Open, once its lease is over, finishes the job without creating
// anything twice.
func TestOpenTakesOverALapsedClaim(t *testing.T) {
	rs := memRecords(t)
	f, profile := lifecycleEnv(t, rs, profileName)
	fake := f.by[global]
	clients := f.clients()
	ctx := context.Background()
	t0 := time.Now()
	name := "projects/acme-cc/locations/global/conversations/" + dialogflow.ConversationID("nexus", "CALL-7")
	if _, claimed, err := rs.ClaimConversation(ctx, store.Conversation{
		CallID: "CALL-7", TenantID: "nexus", Profile: profile, Name: name, Participants: map[string]string{},
		Owner: "dead", LeaseUntil: t0.Add(time.Second), Expires: t0.Add(time.Hour),
	}, t0); err != nil || !claimed {
		t.Fatal(claimed, err)
	}
	// What the dead owner got done before dying: the conversation and its
	// END_USER (it used records of its own, so it was the owner there).
	fake.Fail("CreateParticipant", nil, status.Error(codes.Unavailable, "the owner died"))
	dead := dialogflow.NewLifecycle(clients, memRecords(t), rs, dialogflow.LifecycleOptions{})
	if _, err := dead.Open(ctx, "nexus", "CALL-7"); dialogflow.Code(err) != codes.Unavailable {
		t.Fatalf("dead owner's Open = %v", err)
	}
	if ps := fake.Participants(name); len(ps) != 1 || ps[0].GetRole() != pb.Participant_END_USER {
		t.Fatalf("dead owner left %v", ps)
	}
	endUser := fake.Participants(name)[0].GetName()
	before := fake.Count("CreateParticipant")

	later := dialogflow.NewLifecycle(clients, rs, rs, dialogflow.LifecycleOptions{Now: func() time.Time { return t0.Add(2 * time.Second) }})
	call, err := later.Open(ctx, "nexus", "CALL-7")
	if err != nil {
		t.Fatal(err)
	}
	if call.Conversation != name || call.EndUser != endUser {
		t.Errorf("Open = %+v, want %s with END_USER %s", call, name, endUser)
	}
	if n := fake.Count("CreateParticipant"); n != before+1 {
		t.Errorf("the taker-over created %d participants, want only the HUMAN_AGENT", n-before)
	}
	if ps := fake.Participants(name); len(ps) != 2 || call.HumanAgent != ps[1].GetName() {
		t.Errorf("participants %v, call %+v", ps, call)
	}
	if fake.Count("GetConversation") != 1 {
		t.Error("ALREADY_EXISTS was not followed by GetConversation")
	}
	if len(fake.Conversations()) != 1 {
		t.Errorf("conversations %v", fake.Conversations())
	}
}

func TestCompleteOnce(t *testing.T) {
	rs := memRecords(t)
	f, _ := lifecycleEnv(t, rs, profileName)
	fake := f.by[global]
	l := dialogflow.NewLifecycle(f.clients(), rs, rs, dialogflow.LifecycleOptions{})
	ctx := context.Background()
	call, err := l.Open(ctx, "nexus", "CALL-9")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := l.Complete(ctx, "CALL-9"); err != nil {
			t.Fatal(err)
		}
	}
	if n := fake.Count("CompleteConversation"); n != 1 {
		t.Errorf("CompleteConversation sent %d times", n)
	}
	last := fake.Writes()[len(fake.Writes())-1]
	if !proto.Equal(last.Request, &pb.CompleteConversationRequest{Name: call.Conversation}) {
		t.Errorf("last write %v", last.Request)
	}
	if _, err := l.Open(ctx, "nexus", "CALL-9"); !errors.Is(err, dialogflow.ErrCompleted) {
		t.Errorf("Open after Complete = %v, want ErrCompleted", err)
	}
	if err := l.Complete(ctx, "CALL-UNKNOWN"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Complete of an unknown call = %v", err)
	}
}

func TestOpenWithoutProfile(t *testing.T) {
	f := newFakes(t, global)
	rs := memRecords(t)
	l := dialogflow.NewLifecycle(f.clients(), rs, rs, dialogflow.LifecycleOptions{})
	if _, err := l.Open(context.Background(), "nexus", "CALL-1"); !errors.Is(err, dialogflow.ErrNoProfile) {
		t.Errorf("Open = %v, want ErrNoProfile", err)
	}
	if len(f.by[global].Calls()) != 0 {
		t.Error("Dialogflow was called")
	}
}

func TestRegionalConversation(t *testing.T) {
	rs := memRecords(t)
	const regional = "europe-west3-dialogflow.googleapis.com:443"
	f, _ := lifecycleEnv(t, rs, "projects/acme-cc/locations/europe-west3/conversationProfiles/p1")
	l := dialogflow.NewLifecycle(f.clients(), rs, rs, dialogflow.LifecycleOptions{})
	call, err := l.Open(context.Background(), "nexus", "CALL-EU")
	if err != nil {
		t.Fatal(err)
	}
	if call.Location != "europe-west3" || f.by[regional].Count("CreateConversation") != 1 || len(f.by[global].Calls()) != 0 {
		t.Errorf("Open = %+v; regional calls %v, global %v", call, methods(f.by[regional].Calls()), methods(f.by[global].Calls()))
	}
}

// A leg whose Open failed (Dialogflow unavailable) retries at once: the
// failed attempt gave its claim up rather than leave the retry waiting for
// its lease.
func TestFailedOpenReleasesItsClaim(t *testing.T) {
	rs := memRecords(t)
	f, _ := lifecycleEnv(t, rs, profileName)
	fake := f.by[global]
	l := dialogflow.NewLifecycle(f.clients(), rs, rs, dialogflow.LifecycleOptions{Lease: time.Hour})
	down := status.Error(codes.Unavailable, "down")
	fake.Fail("CreateParticipant", down)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := l.Open(ctx, "nexus", "CALL-RETRY"); dialogflow.Code(err) != codes.Unavailable {
		t.Fatalf("first Open = %v, want UNAVAILABLE", err)
	}
	call, err := l.Open(ctx, "nexus", "CALL-RETRY")
	if err != nil {
		t.Fatalf("retried Open = %v (waiting out the hour-long lease?)", err)
	}
	if n := len(fake.Participants(call.Conversation)); n != 2 || len(fake.Conversations()) != 1 {
		t.Errorf("%d participants in %v", n, fake.Conversations())
	}
}

// BenchmarkOpenReady is a leg (re)connecting to a call whose conversation
// exists: one store read, no Dialogflow call.
func BenchmarkOpenReady(b *testing.B) {
	rs := struct {
		*memstore.Conversations
		*memstore.ProfileNames
	}{memstore.NewConversations(nil), memstore.NewProfileNames()}
	ctx := context.Background()
	if _, _, err := rs.ClaimConversation(ctx, store.Conversation{CallID: "C", TenantID: "nexus", Ready: true,
		Name: "projects/p/locations/global/conversations/rb-x", Participants: map[string]string{"END_USER": "e", "HUMAN_AGENT": "h"},
		Owner: "o", LeaseUntil: time.Now().Add(time.Hour), Expires: time.Now().Add(time.Hour)}, time.Now()); err != nil {
		b.Fatal(err)
	}
	clients, err := dialogflow.NewClients(dialogflow.Options{})
	if err != nil {
		b.Fatal(err)
	}
	l := dialogflow.NewLifecycle(clients, rs, rs, dialogflow.LifecycleOptions{})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Open(ctx, "nexus", "C"); err != nil {
			b.Fatal(err)
		}
	}
}
