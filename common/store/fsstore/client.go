package fsstore

import (
	"context"
	"errors"
	"fmt"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// NewClient returns a Firestore client for project: on the emulator at
// emulatorHost when it is set (plaintext, as the emulator's owner, as
// Google's client does for FIRESTORE_EMULATOR_HOST, but from a value the
// caller parsed rather than the process environment, and with dial options
// such as interceptors), else on Firestore with default credentials. close
// releases the client and its connection.
func NewClient(ctx context.Context, project, emulatorHost string, dial ...grpc.DialOption) (client *firestore.Client, close func() error, err error) {
	if emulatorHost == "" {
		if client, err = firestore.NewClient(ctx, project); err != nil {
			return nil, nil, fmt.Errorf("firestore.NewClient(%s): %w", project, err)
		}
		return client, client.Close, nil
	}
	opts := append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(emulatorOwner{}),
	}, dial...)
	conn, err := grpc.NewClient(emulatorHost, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("firestore emulator: dial %s: %w", emulatorHost, err)
	}
	if client, err = firestore.NewClient(ctx, project, option.WithGRPCConn(conn)); err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("firestore emulator: client for %s on %s: %w", project, emulatorHost, err)
	}
	// A connection given to the client stays ours to close.
	return client, func() error { return errors.Join(client.Close(), conn.Close()) }, nil
}

// emulatorOwner is the emulator's admin credential (security rules bypassed).
type emulatorOwner struct{}

func (emulatorOwner) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer owner"}, nil
}

func (emulatorOwner) RequireTransportSecurity() bool { return false }
