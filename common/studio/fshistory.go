package studio

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// FirestoreHistory keeps versions in Firestore:
// {prefix}studioHistory/{tenant}/versions/{version, zero-padded}, one
// document per version with its files (customers.yaml excluded), so the
// history survives instances and is shared by all of them.
type FirestoreHistory struct {
	client *firestore.Client
	prefix string
}

// NewFirestoreHistory keeps versions with client; prefix is put before the
// collection name ("" in production; tests isolate themselves with it).
func NewFirestoreHistory(client *firestore.Client, prefix string) *FirestoreHistory {
	return &FirestoreHistory{client: client, prefix: prefix}
}

type versionDoc struct {
	Tenant  string        `firestore:"tenant"`
	Version int64         `firestore:"version"`
	At      time.Time     `firestore:"at"`
	Author  string        `firestore:"author"`
	Note    string        `firestore:"note"`
	Files   []versionFile `firestore:"files,omitempty"`
}

type versionFile struct {
	Path    string `firestore:"path"`
	Content []byte `firestore:"content"`
}

func (h *FirestoreHistory) versions(id string) *firestore.CollectionRef {
	return h.client.Collection(h.prefix + "studioHistory").Doc(id).Collection("versions")
}

func docID(version int64) string { return fmt.Sprintf("%019d", version) }

// Save records v.
func (h *FirestoreHistory) Save(ctx context.Context, v Version) error {
	doc := versionDoc{Tenant: v.Tenant, Version: v.Version, At: v.At, Author: v.Author, Note: v.Note}
	for p, b := range v.Files {
		doc.Files = append(doc.Files, versionFile{Path: p, Content: b})
	}
	if _, err := h.versions(v.Tenant).Doc(docID(v.Version)).Set(ctx, doc); err != nil {
		return fmt.Errorf("firestore: save tenant %q version %d: %w", v.Tenant, v.Version, err)
	}
	return nil
}

// List returns a tenant's versions, newest first, without files.
func (h *FirestoreHistory) List(ctx context.Context, id string) ([]Version, error) {
	it := h.versions(id).Select("tenant", "version", "at", "author", "note").
		OrderBy("version", firestore.Desc).Limit(200).Documents(ctx)
	defer it.Stop()
	out := []Version{}
	for {
		snap, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("firestore: list versions of tenant %q: %w", id, err)
		}
		var d versionDoc
		if err := snap.DataTo(&d); err != nil {
			return nil, fmt.Errorf("firestore: decode %s: %w", snap.Ref.Path, err)
		}
		out = append(out, Version{Tenant: d.Tenant, Version: d.Version, At: d.At, Author: d.Author, Note: d.Note})
	}
}

// Get returns one version with its files.
func (h *FirestoreHistory) Get(ctx context.Context, id string, version int64) (Version, error) {
	snap, err := h.versions(id).Doc(docID(version)).Get(ctx)
	if status.Code(err) == codes.NotFound {
		return Version{}, fmt.Errorf("%w: tenant %q has no recorded version %d", ErrNotFound, id, version)
	}
	if err != nil {
		return Version{}, fmt.Errorf("firestore: get tenant %q version %d: %w", id, version, err)
	}
	var d versionDoc
	if err := snap.DataTo(&d); err != nil {
		return Version{}, fmt.Errorf("firestore: decode %s: %w", snap.Ref.Path, err)
	}
	v := Version{Tenant: d.Tenant, Version: d.Version, At: d.At, Author: d.Author, Note: d.Note, Files: map[string][]byte{}}
	for _, f := range d.Files {
		v.Files[f.Path] = f.Content
	}
	return v, nil
}
