// Package sessionsfake is Dialogflow ES's Sessions service (DetectIntent)
// in-process, for tests: it answers with a function the test gives and
// records every request, so that the test can check them with proto.Equal.
package sessionsfake

import (
	"context"
	"slices"
	"sync"

	"cloud.google.com/go/dialogflow/apiv2/dialogflowpb"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// Respond answers one DetectIntent request.
type Respond func(ctx context.Context, req *dialogflowpb.DetectIntentRequest) (*dialogflowpb.DetectIntentResponse, error)

// Server is the fake Sessions service.
type Server struct {
	dialogflowpb.UnimplementedSessionsServer

	respond Respond

	mu       sync.Mutex
	requests []*dialogflowpb.DetectIntentRequest
}

// New returns a server answering with respond.
func New(respond Respond) *Server { return &Server{respond: respond} }

// Register adds the service to g (for grpctest.Dial or a listener).
func (s *Server) Register(g *grpc.Server) { dialogflowpb.RegisterSessionsServer(g, s) }

// DetectIntent records req and answers it.
func (s *Server) DetectIntent(ctx context.Context, req *dialogflowpb.DetectIntentRequest) (*dialogflowpb.DetectIntentResponse, error) {
	s.mu.Lock()
	s.requests = append(s.requests, proto.Clone(req).(*dialogflowpb.DetectIntentRequest))
	s.mu.Unlock()
	return s.respond(ctx, req)
}

// Requests returns the requests received so far.
func (s *Server) Requests() []*dialogflowpb.DetectIntentRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Reset forgets the requests received so far.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}
