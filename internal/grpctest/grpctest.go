// Package grpctest serves in-process fakes of Google APIs on bufconn, so the
// real Go clients are tested against them with no network.
package grpctest

import (
	"context"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"
)

// Dial starts a gRPC server on bufconn, lets register add the fakes to it,
// and returns a connection to it (dialled as passthrough:///bufnet). Both
// are closed when t ends.
func Dial(t testing.TB, register func(*grpc.Server)) *grpc.ClientConn {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer()
	register(srv)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("grpc.NewClient(passthrough:///bufnet): %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}
