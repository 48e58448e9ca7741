// Package dialogflowfake is an in-process fake of Dialogflow v2beta1's
// ConversationProfiles, Conversations and Participants services for tests:
// it keeps profiles, conversations and participants in memory, checks every
// request the way Dialogflow documents it (required fields, resource name
// formats, update-mask paths) and records each one, so a test drives the
// real Go clients against it and asserts what they sent.
package dialogflowfake

import (
	"context"
	"fmt"
	"io"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	pb "cloud.google.com/go/dialogflow/apiv2beta1/dialogflowpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/routebot/routebot/internal/grpctest"
)

// Call is one request the fake received.
type Call struct {
	Method  string // "CreateConversationProfile" …
	Request proto.Message
}

// Server is the fake. Its zero value is not ready; use New.
type Server struct {
	log      io.Writer // nil: calls are not logged
	location string    // "": any; else the one location this endpoint serves

	mu            sync.Mutex
	calls         []Call
	fail          map[string][]error // method → errors to answer with, in turn
	hold          map[string]chan struct{}
	profiles      map[string]*pb.ConversationProfile // by name, in creation order below
	profileOrder  []string
	conversations map[string]*pb.Conversation
	participants  map[string][]*pb.Participant // conversation → participants
	next          int
}

// New returns an empty fake serving every location (as a loopback
// override of all endpoints does).
func New() *Server { return NewLogging(nil) }

// NewAt returns an empty fake of one location's endpoint: like Dialogflow,
// it refuses a resource of another location (a regional profile sent to
// the global host).
func NewAt(location string) *Server {
	s := NewLogging(nil)
	s.location = location
	return s
}

// NewLogging returns an empty fake that writes one line per call to w (for
// a person watching a local run).
func NewLogging(w io.Writer) *Server {
	return &Server{log: w, fail: map[string][]error{}, hold: map[string]chan struct{}{},
		profiles: map[string]*pb.ConversationProfile{}, conversations: map[string]*pb.Conversation{},
		participants: map[string][]*pb.Participant{}}
}

// Register adds the three services to g.
func (s *Server) Register(g *grpc.Server) {
	pb.RegisterConversationProfilesServer(g, profilesServer{s: s})
	pb.RegisterConversationsServer(g, conversationsServer{s: s})
	pb.RegisterParticipantsServer(g, participantsServer{s: s})
}

// Dial serves the fake on bufconn for the test's duration.
func (s *Server) Dial(t testing.TB) *grpc.ClientConn { return grpctest.Dial(t, s.Register) }

// Listen serves the fake on a loopback TCP port (for a process that dials
// an address, such as the local run) and returns its host:port.
func (s *Server) Listen(t testing.TB) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("dialogflowfake: listen: %v", err)
	}
	g := grpc.NewServer()
	s.Register(g)
	go func() { _ = g.Serve(lis) }()
	t.Cleanup(g.Stop)
	return lis.Addr().String()
}

// Serve serves the fake on lis until it fails.
func (s *Server) Serve(lis net.Listener) error {
	g := grpc.NewServer()
	s.Register(g)
	return g.Serve(lis)
}

// Fail makes the next calls of method answer errs, one per call.
func (s *Server) Fail(method string, errs ...error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[method] = append(s.fail[method], errs...)
}

// Hold makes calls of method wait until release is called (to line up races).
func (s *Server) Hold(method string) (release func()) {
	ch := make(chan struct{})
	s.mu.Lock()
	s.hold[method] = ch
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			delete(s.hold, method)
			s.mu.Unlock()
			close(ch)
		})
	}
}

// Calls returns the requests received, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// Count is how many calls of method were received.
func (s *Server) Count(method string) int {
	n := 0
	for _, c := range s.Calls() {
		if c.Method == method {
			n++
		}
	}
	return n
}

// Writes returns the requests that change something (Create*, Update*,
// Complete*).
func (s *Server) Writes() []Call {
	var out []Call
	for _, c := range s.Calls() {
		if strings.HasPrefix(c.Method, "Create") || strings.HasPrefix(c.Method, "Update") || strings.HasPrefix(c.Method, "Complete") {
			out = append(out, c)
		}
	}
	return out
}

// Profile returns a stored profile (a copy), or nil.
func (s *Server) Profile(name string) *pb.ConversationProfile {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.profiles[name]; ok {
		return proto.Clone(p).(*pb.ConversationProfile)
	}
	return nil
}

// Conversations returns the names of the conversations created.
func (s *Server) Conversations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for name := range s.conversations {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// Participants returns a conversation's participants (copies).
func (s *Server) Participants(conversation string) []*pb.Participant {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*pb.Participant
	for _, p := range s.participants[conversation] {
		out = append(out, proto.Clone(p).(*pb.Participant))
	}
	return out
}

// AddProfile stores a profile as if made elsewhere (by hand, or earlier)
// and returns its name.
func (s *Server) AddProfile(parent string, p *pb.ConversationProfile) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addProfile(parent, p).Name
}

func (s *Server) addProfile(parent string, p *pb.ConversationProfile) *pb.ConversationProfile {
	p = proto.Clone(p).(*pb.ConversationProfile)
	s.next++
	p.Name = fmt.Sprintf("%s/conversationProfiles/p%d", parent, s.next)
	p.CreateTime = timestamppb.New(time.Unix(1700000000+int64(s.next), 0))
	p.UpdateTime = p.CreateTime
	s.profiles[p.Name] = p
	s.profileOrder = append(s.profileOrder, p.Name)
	return p
}

// begin records a call, waits while the method is held, and returns the
// error the test queued for it, if any, or the refusal of a resource
// outside the endpoint's location.
func (s *Server) begin(ctx context.Context, method string, req proto.Message, resource string) error {
	if err := s.located(resource); err != nil {
		s.mu.Lock()
		s.calls = append(s.calls, Call{Method: method, Request: proto.Clone(req)})
		s.mu.Unlock()
		return err
	}
	s.mu.Lock()
	s.calls = append(s.calls, Call{Method: method, Request: proto.Clone(req)})
	hold := s.hold[method]
	var err error
	if q := s.fail[method]; len(q) > 0 {
		err, s.fail[method] = q[0], q[1:]
	}
	s.mu.Unlock()
	if s.log != nil {
		fmt.Fprintf(s.log, "%s %s\n", method, prototext.MarshalOptions{}.Format(req))
	}
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return status.FromContextError(ctx.Err()).Err()
		}
	}
	return err
}

// located refuses a resource name of a location this endpoint does not serve.
func (s *Server) located(resource string) error {
	parts := strings.Split(resource, "/")
	if s.location == "" || len(parts) < 4 || parts[2] != "locations" || parts[3] == s.location {
		return nil
	}
	return status.Errorf(codes.InvalidArgument, "location %q of %s is not served by this endpoint (%s)", parts[3], resource, s.location)
}

var (
	parentRE       = regexp.MustCompile(`^projects/[^/]+/locations/[a-z][a-z0-9-]*$`)
	profileRE      = regexp.MustCompile(`^projects/[^/]+/locations/[a-z][a-z0-9-]*/conversationProfiles/[^/]+$`)
	conversationRE = regexp.MustCompile(`^projects/[^/]+/locations/[a-z][a-z0-9-]*/conversations/[^/]+$`)
	convIDRE       = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_-]{2,63}$`)
)

func invalid(format string, args ...any) error {
	return status.Errorf(codes.InvalidArgument, format, args...)
}

func parentOfName(name string) string {
	parts := strings.Split(name, "/")
	return strings.Join(parts[:4], "/")
}

type profilesServer struct {
	pb.UnimplementedConversationProfilesServer
	s *Server
}

func (f profilesServer) ListConversationProfiles(ctx context.Context, req *pb.ListConversationProfilesRequest) (*pb.ListConversationProfilesResponse, error) {
	s := f.s
	if err := s.begin(ctx, "ListConversationProfiles", req, req.GetParent()); err != nil {
		return nil, err
	}
	if !parentRE.MatchString(req.GetParent()) {
		return nil, invalid("parent %q", req.GetParent())
	}
	size := int(req.GetPageSize())
	if size <= 0 || size > 1000 {
		size = 100
	}
	start := 0
	if tok := req.GetPageToken(); tok != "" {
		n, err := strconv.Atoi(tok)
		if err != nil {
			return nil, invalid("page token %q", tok)
		}
		start = n
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []*pb.ConversationProfile
	for _, name := range s.profileOrder {
		if p, ok := s.profiles[name]; ok && parentOfName(name) == req.GetParent() {
			all = append(all, p)
		}
	}
	resp := &pb.ListConversationProfilesResponse{}
	for i := start; i < len(all) && i < start+size; i++ {
		resp.ConversationProfiles = append(resp.ConversationProfiles, proto.Clone(all[i]).(*pb.ConversationProfile))
	}
	if start+size < len(all) {
		resp.NextPageToken = strconv.Itoa(start + size)
	}
	return resp, nil
}

func (f profilesServer) GetConversationProfile(ctx context.Context, req *pb.GetConversationProfileRequest) (*pb.ConversationProfile, error) {
	s := f.s
	if err := s.begin(ctx, "GetConversationProfile", req, req.GetName()); err != nil {
		return nil, err
	}
	if !profileRE.MatchString(req.GetName()) {
		return nil, invalid("name %q", req.GetName())
	}
	if p := s.Profile(req.GetName()); p != nil {
		return p, nil
	}
	return nil, status.Errorf(codes.NotFound, "conversation profile %s not found", req.GetName())
}

func (f profilesServer) CreateConversationProfile(ctx context.Context, req *pb.CreateConversationProfileRequest) (*pb.ConversationProfile, error) {
	s := f.s
	if err := s.begin(ctx, "CreateConversationProfile", req, req.GetParent()); err != nil {
		return nil, err
	}
	p := req.GetConversationProfile()
	switch {
	case !parentRE.MatchString(req.GetParent()):
		return nil, invalid("parent %q", req.GetParent())
	case p == nil || p.GetDisplayName() == "":
		return nil, invalid("conversation_profile.display_name is required")
	case p.GetName() != "":
		return nil, invalid("conversation_profile.name is output only")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return proto.Clone(s.addProfile(req.GetParent(), p)).(*pb.ConversationProfile), nil
}

func (f profilesServer) UpdateConversationProfile(ctx context.Context, req *pb.UpdateConversationProfileRequest) (*pb.ConversationProfile, error) {
	s := f.s
	if err := s.begin(ctx, "UpdateConversationProfile", req, req.GetConversationProfile().GetName()); err != nil {
		return nil, err
	}
	p := req.GetConversationProfile()
	if p == nil || !profileRE.MatchString(p.GetName()) {
		return nil, invalid("conversation_profile.name %q", p.GetName())
	}
	paths := req.GetUpdateMask().GetPaths()
	if len(paths) == 0 {
		return nil, invalid("update_mask is required")
	}
	fields := p.ProtoReflect().Descriptor().Fields()
	for _, path := range paths {
		fd := fields.ByName(protoreflect.Name(path))
		if fd == nil || path == "name" || path == "create_time" || path == "update_time" {
			return nil, invalid("update_mask path %q is not an updatable field", path)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.profiles[p.GetName()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "conversation profile %s not found", p.GetName())
	}
	src, dst := p.ProtoReflect(), cur.ProtoReflect()
	for _, path := range paths {
		fd := fields.ByName(protoreflect.Name(path))
		if src.Has(fd) {
			dst.Set(fd, src.Get(fd))
		} else {
			dst.Clear(fd)
		}
	}
	cur.UpdateTime = timestamppb.New(cur.GetUpdateTime().AsTime().Add(time.Second))
	// Detach what was copied from the request.
	s.profiles[cur.Name] = proto.Clone(cur).(*pb.ConversationProfile)
	return proto.Clone(cur).(*pb.ConversationProfile), nil
}

type conversationsServer struct {
	pb.UnimplementedConversationsServer
	s *Server
}

func (f conversationsServer) CreateConversation(ctx context.Context, req *pb.CreateConversationRequest) (*pb.Conversation, error) {
	s := f.s
	if err := s.begin(ctx, "CreateConversation", req, req.GetParent()); err != nil {
		return nil, err
	}
	c := req.GetConversation()
	switch {
	case !parentRE.MatchString(req.GetParent()):
		return nil, invalid("parent %q", req.GetParent())
	case c == nil || !profileRE.MatchString(c.GetConversationProfile()):
		return nil, invalid("conversation.conversation_profile %q", c.GetConversationProfile())
	case req.GetConversationId() != "" && !convIDRE.MatchString(req.GetConversationId()):
		return nil, invalid("conversation_id %q", req.GetConversationId())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.profiles[c.GetConversationProfile()]; !ok {
		return nil, status.Errorf(codes.NotFound, "conversation profile %s not found", c.GetConversationProfile())
	}
	id := req.GetConversationId()
	if id == "" {
		s.next++
		id = fmt.Sprintf("c%d", s.next)
	}
	name := req.GetParent() + "/conversations/" + id
	if _, ok := s.conversations[name]; ok {
		return nil, status.Errorf(codes.AlreadyExists, "conversation %s already exists", name)
	}
	conv := &pb.Conversation{Name: name, ConversationProfile: c.GetConversationProfile(),
		LifecycleState: pb.Conversation_IN_PROGRESS, StartTime: timestamppb.New(time.Unix(1700000000, 0))}
	s.conversations[name] = conv
	return proto.Clone(conv).(*pb.Conversation), nil
}

func (f conversationsServer) GetConversation(ctx context.Context, req *pb.GetConversationRequest) (*pb.Conversation, error) {
	s := f.s
	if err := s.begin(ctx, "GetConversation", req, req.GetName()); err != nil {
		return nil, err
	}
	if !conversationRE.MatchString(req.GetName()) {
		return nil, invalid("name %q", req.GetName())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.conversations[req.GetName()]; ok {
		return proto.Clone(c).(*pb.Conversation), nil
	}
	return nil, status.Errorf(codes.NotFound, "conversation %s not found", req.GetName())
}

func (f conversationsServer) CompleteConversation(ctx context.Context, req *pb.CompleteConversationRequest) (*pb.Conversation, error) {
	s := f.s
	if err := s.begin(ctx, "CompleteConversation", req, req.GetName()); err != nil {
		return nil, err
	}
	if !conversationRE.MatchString(req.GetName()) {
		return nil, invalid("name %q", req.GetName())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.conversations[req.GetName()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "conversation %s not found", req.GetName())
	}
	c.LifecycleState = pb.Conversation_COMPLETED
	return proto.Clone(c).(*pb.Conversation), nil
}

type participantsServer struct {
	pb.UnimplementedParticipantsServer
	s *Server
}

func (f participantsServer) CreateParticipant(ctx context.Context, req *pb.CreateParticipantRequest) (*pb.Participant, error) {
	s := f.s
	if err := s.begin(ctx, "CreateParticipant", req, req.GetParent()); err != nil {
		return nil, err
	}
	p := req.GetParticipant()
	switch {
	case !conversationRE.MatchString(req.GetParent()):
		return nil, invalid("parent %q", req.GetParent())
	case p == nil || p.GetRole() == pb.Participant_ROLE_UNSPECIFIED:
		return nil, invalid("participant.role is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.conversations[req.GetParent()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "conversation %s not found", req.GetParent())
	}
	if c.LifecycleState == pb.Conversation_COMPLETED {
		return nil, status.Errorf(codes.FailedPrecondition, "conversation %s is completed", req.GetParent())
	}
	s.next++
	out := &pb.Participant{Name: fmt.Sprintf("%s/participants/u%d", req.GetParent(), s.next), Role: p.GetRole()}
	s.participants[req.GetParent()] = append(s.participants[req.GetParent()], out)
	return proto.Clone(out).(*pb.Participant), nil
}

func (f participantsServer) ListParticipants(ctx context.Context, req *pb.ListParticipantsRequest) (*pb.ListParticipantsResponse, error) {
	s := f.s
	if err := s.begin(ctx, "ListParticipants", req, req.GetParent()); err != nil {
		return nil, err
	}
	if !conversationRE.MatchString(req.GetParent()) {
		return nil, invalid("parent %q", req.GetParent())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.conversations[req.GetParent()]; !ok {
		return nil, status.Errorf(codes.NotFound, "conversation %s not found", req.GetParent())
	}
	resp := &pb.ListParticipantsResponse{}
	for _, p := range s.participants[req.GetParent()] {
		resp.Participants = append(resp.Participants, proto.Clone(p).(*pb.Participant))
	}
	return resp, nil
}
