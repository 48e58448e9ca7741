package studio_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/routebot/routebot/common/secrets"
	"github.com/routebot/routebot/common/store"
	"github.com/routebot/routebot/common/studio"
	"github.com/routebot/routebot/common/tenant"
)

func literal(_ context.Context, v string) (*secrets.Secret, error) {
	return secrets.Literal([]byte(v)), nil
}

// liveStore is what a running server reads: the registry over the store.
type liveStore interface {
	studio.Store
	store.Tenants
}

// testPublish runs publish, stale publish, rollback and scoping on a store
// holding the demo tenants, with history h.
func testPublish(t *testing.T, st liveStore, h studio.History) {
	ctx := context.Background()
	s, a := newService(t, st, h)
	registry := tenant.NewRegistry(st, nil, nil)
	prompt := func() string {
		t.Helper()
		f, err := registry.Flow(ctx, "SCENARIO01")
		if err != nil {
			t.Fatal(err)
		}
		return f.Start.Prompt.String()
	}
	if prompt() != greeting {
		t.Fatalf("before: %q", prompt())
	}

	base := draftOf(t, s, a, "nexus")
	v1 := base.BaseVersion
	changed := edit(t, base, flow, greeting, "반갑습니다 ${name}님, 새 인사입니다.")
	pub, err := s.Publish(ctx, a, changed, "new greeting")
	if err != nil {
		t.Fatal(err)
	}
	if pub.Version != v1+1 || !pub.Changed {
		t.Fatalf("publish: %+v", pub)
	}
	if got := prompt(); got != "반갑습니다 ${name}님, 새 인사입니다." {
		t.Errorf("the running registry serves %q after publishing", got)
	}
	tf, _, customers, err := st.GetTenant(ctx, "nexus")
	if err != nil {
		t.Fatal(err)
	}
	if customers["01012345678"] != "김민수" || len(tf.Files[tenant.CustomersFile]) == 0 {
		t.Errorf("publishing lost the customer directory: %v", customers)
	}

	t.Run("stale publish refused", func(t *testing.T) {
		other := edit(t, base, flow, greeting, "누군가의 오래된 초안")
		_, err := s.Publish(ctx, a, other, "")
		if !errors.Is(err, studio.ErrStale) || !strings.Contains(err.Error(), "started from version 1") {
			t.Errorf("got %v", err)
		}
		if cur, _, _, _ := st.GetTenant(ctx, "nexus"); cur.Version != pub.Version {
			t.Errorf("a stale publish wrote version %d", cur.Version)
		}
	})
	t.Run("invalid publish refused", func(t *testing.T) {
		bad := edit(t, draftOf(t, s, a, "nexus"), flow, "to: agent\n", "to: nowhere\n")
		_, err := s.Publish(ctx, a, bad, "")
		var inv *studio.InvalidError
		if !errors.As(err, &inv) || len(inv.Problems) == 0 {
			t.Fatalf("got %v", err)
		}
		if cur, _, _, _ := st.GetTenant(ctx, "nexus"); cur.Version != pub.Version {
			t.Errorf("an invalid publish wrote version %d", cur.Version)
		}
	})
	t.Run("unchanged publish writes nothing", func(t *testing.T) {
		got, err := s.Publish(ctx, a, draftOf(t, s, a, "nexus"), "")
		if err != nil || got.Changed || got.Version != pub.Version {
			t.Errorf("got %+v, %v", got, err)
		}
	})

	t.Run("versions and rollback", func(t *testing.T) {
		vs, err := s.Versions(ctx, a, "nexus")
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) != 2 || vs[0].Version != pub.Version || !vs[0].Current || vs[0].Note != "new greeting" || vs[1].Version != v1 || vs[1].Current {
			t.Fatalf("versions: %+v", vs)
		}
		if _, err := s.Rollback(ctx, a, "nexus", v1, v1); !errors.Is(err, studio.ErrStale) {
			t.Errorf("rollback from a stale version: %v", err)
		}
		if _, err := s.Rollback(ctx, a, "nexus", 99, pub.Version); !errors.Is(err, studio.ErrNotFound) {
			t.Errorf("rollback to an unknown version: %v", err)
		}
		rb, err := s.Rollback(ctx, a, "nexus", v1, pub.Version)
		if err != nil {
			t.Fatal(err)
		}
		if rb.Version != pub.Version+1 {
			t.Errorf("rollback: %+v", rb)
		}
		if got := prompt(); got != greeting {
			t.Errorf("after rollback the registry serves %q", got)
		}
		if d := draftOf(t, s, a, "nexus"); d.Files[flow] != base.Files[flow] {
			t.Error("rollback did not restore version 1's flow byte for byte")
		}
		vs, _ = s.Versions(ctx, a, "nexus")
		if len(vs) != 3 || !vs[0].Current || vs[0].Note != "rollback to version 1" {
			t.Errorf("versions after rollback: %+v", vs)
		}
	})

	t.Run("an author sees and changes only their tenants", func(t *testing.T) {
		hanbitOnly := author(t, "hanbit")
		list, err := s.Tenants(ctx, hanbitOnly)
		if err != nil || len(list) != 1 || list[0].ID != "hanbit" || list[0].Name != "한빛" {
			t.Errorf("tenants: %+v, %v", list, err)
		}
		if _, err := s.Draft(ctx, hanbitOnly, "nexus"); !errors.Is(err, studio.ErrForbidden) {
			t.Errorf("draft: %v", err)
		}
		cur := draftOf(t, s, a, "nexus")
		if _, err := s.Publish(ctx, hanbitOnly, edit(t, cur, flow, greeting, "침입"), ""); !errors.Is(err, studio.ErrForbidden) {
			t.Errorf("publish: %v", err)
		}
		if _, err := s.Rollback(ctx, hanbitOnly, "nexus", v1, cur.BaseVersion); !errors.Is(err, studio.ErrForbidden) {
			t.Errorf("rollback: %v", err)
		}
		if _, err := s.Versions(ctx, hanbitOnly, "nexus"); !errors.Is(err, studio.ErrForbidden) {
			t.Errorf("versions: %v", err)
		}
		if _, err := s.Simulate(ctx, hanbitOnly, studio.Simulation{Draft: cur, Scenario: "SCENARIO01"}); !errors.Is(err, studio.ErrForbidden) {
			t.Errorf("simulate: %v", err)
		}
	})
}

func TestPublishMemory(t *testing.T) {
	testPublish(t, demoStore(t), studio.NewMemoryHistory())
}

func TestParseTokens(t *testing.T) {
	tests := []struct {
		name, in string
		want     []studio.TokenSpec
		err      string
	}{
		{name: "one tenant", in: "nexus:abcdefghijklmnop", want: []studio.TokenSpec{{Tenants: []string{"nexus"}, Value: "abcdefghijklmnop"}}},
		{name: "several and a secret", in: " nexus|hanbit:abcdefghijklmnop , *:projects/p/secrets/s/versions/latest",
			want: []studio.TokenSpec{{Tenants: []string{"nexus", "hanbit"}, Value: "abcdefghijklmnop"},
				{Tenants: []string{"*"}, Value: "projects/p/secrets/s/versions/latest"}}},
		{name: "empty", in: " , ", err: "is empty"},
		{name: "no scope", in: "abcdefghijklmnopq", err: "entry 1: want TENANT"},
		{name: "bad tenant", in: "nex us:abcdefghijklmnop", err: `"nex us" is not a tenant id`},
		{name: "short token", in: "nexus:elevenchars", err: "shorter than 12"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := studio.ParseTokens(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || strings.Contains(err.Error(), "abcdefghijklmnop") {
					t.Errorf("got %v, want an error with %q (and no token)", err, tt.err)
				}
				return
			}
			if err != nil || len(got) != len(tt.want) {
				t.Fatalf("got %+v, %v", got, err)
			}
			for i := range got {
				if strings.Join(got[i].Tenants, "|") != strings.Join(tt.want[i].Tenants, "|") || got[i].Value != tt.want[i].Value {
					t.Errorf("entry %d: got %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestAuthenticate(t *testing.T) {
	specs, err := studio.ParseTokens("nexus:nexus-token-0123456789,*:admin-token-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	authors, err := studio.NewAuthors(context.Background(), specs, literal)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		header       string
		nexus, other bool
		err          bool
	}{
		{header: "Bearer nexus-token-0123456789", nexus: true},
		{header: "Bearer admin-token-0123456789", nexus: true, other: true},
		{header: "Bearer nexus-token-012345678", err: true},
		{header: "nexus-token-0123456789", err: true},
		{header: "", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			a, err := authors.Authenticate(tt.header)
			if (err != nil) != tt.err {
				t.Fatalf("err %v", err)
			}
			if err == nil && (a.May("nexus") != tt.nexus || a.May("hanbit") != tt.other) {
				t.Errorf("author %+v: nexus %v hanbit %v", a, a.May("nexus"), a.May("hanbit"))
			}
		})
	}
}

// heldPuts is a store whose puts wait until n of them have been asked for:
// by then every publish has passed its own version check.
type heldPuts struct {
	studio.Store
	arrived sync.WaitGroup
}

func (h *heldPuts) PutTenantIf(ctx context.Context, t store.TenantFiles, codes []string, customers map[string]string, expect int64) (int64, bool, error) {
	h.arrived.Done()
	h.arrived.Wait()
	return h.Store.PutTenantIf(ctx, t, codes, customers, expect)
}

// TestRacingPublishesOneWins: two studio instances (one store) publish
// different drafts of one version at once, both past their version check
// before either writes: one is published, the other is stale; neither is
// silently overwritten.
func TestRacingPublishesOneWins(t *testing.T) {
	st := &heldPuts{Store: demoStore(t)}
	st.arrived.Add(2)
	a, b := studio.New(st, studio.NewMemoryHistory(), embeddedClassifier, clock), studio.New(st, studio.NewMemoryHistory(), embeddedClassifier, clock)
	who := author(t, "*")
	errs := make(chan error, 2)
	for i, s := range []*studio.Service{a, b} {
		d := edit(t, draftOf(t, s, who, "nexus"), "tenant.yaml", "name: 넥서스", fmt.Sprintf("name: 넥서스 %d", i))
		go func() { _, err := s.Publish(context.Background(), who, d, "race"); errs <- err }()
	}
	var published, stale int
	for range 2 {
		switch err := <-errs; {
		case err == nil:
			published++
		case errors.Is(err, studio.ErrStale):
			stale++
		default:
			t.Errorf("Publish = %v, want nil or ErrStale", err)
		}
	}
	if published != 1 || stale != 1 {
		t.Errorf("%d published, %d stale; want 1 and 1", published, stale)
	}
	if tf, _, _, err := st.GetTenant(context.Background(), "nexus"); err != nil || tf.Version != 2 {
		t.Errorf("nexus at version %d (%v), want 2", tf.Version, err)
	}
}
