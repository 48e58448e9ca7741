package studio_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/routebot/routebot/internal/tenanttest"

	"github.com/routebot/routebot/common/classify"
	"github.com/routebot/routebot/common/classify/embedded"
	"github.com/routebot/routebot/common/store/memstore"
	"github.com/routebot/routebot/common/studio"
	"github.com/routebot/routebot/common/tenant"
)

const greeting = "안녕하세요 ${name}님, 넥서스 고객센터입니다. 무엇을 도와드릴까요?"

// demoStore is a memory store with the demo tenants, as the local run has.
func demoStore(t testing.TB) *memstore.Store {
	t.Helper()
	ms := memstore.New(nil)
	tenanttest.PutDemo(context.Background(), t, ms)
	return ms
}

func embeddedClassifier(t *tenant.Tenant) (classify.Classifier, error) {
	return embedded.New(t.Taxonomy)
}

var clock = func() time.Time { return time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC) }

// newService returns the studio over st and the author of every tenant.
func newService(t *testing.T, st studio.Store, h studio.History) (*studio.Service, studio.Author) {
	t.Helper()
	return studio.New(st, h, embeddedClassifier, clock), author(t, "*")
}

// author authenticates a token scoped to tenants.
func author(t *testing.T, tenants string) studio.Author {
	t.Helper()
	specs, err := studio.ParseTokens(tenants + ":token-of-sixteen-chars")
	if err != nil {
		t.Fatal(err)
	}
	authors, err := studio.NewAuthors(context.Background(), specs, literal)
	if err != nil {
		t.Fatal(err)
	}
	a, err := authors.Authenticate("Bearer token-of-sixteen-chars")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func draftOf(t *testing.T, s *studio.Service, a studio.Author, id string) studio.Draft {
	t.Helper()
	d, err := s.Draft(context.Background(), a, id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// edit returns d with one replacement made in a file, which must contain old.
func edit(t *testing.T, d studio.Draft, file, old, new string) studio.Draft {
	t.Helper()
	if !strings.Contains(d.Files[file], old) {
		t.Fatalf("%s has no %q", file, old)
	}
	files := map[string]string{}
	for k, v := range d.Files {
		files[k] = v
	}
	files[file] = strings.Replace(files[file], old, new, 1)
	d.Files = files
	return d
}

const flow = "flows/SCENARIO01.yaml"

func TestDraftKeepsTheDirectoryOnTheServer(t *testing.T) {
	s, a := newService(t, demoStore(t), studio.NewMemoryHistory())
	d := draftOf(t, s, a, "nexus")
	if _, ok := d.Files[tenant.CustomersFile]; ok {
		t.Error("the draft carries customers.yaml (phone numbers) to the browser")
	}
	if d.BaseVersion != 1 || !strings.Contains(d.Files[flow], greeting) {
		t.Errorf("draft: version %d, flow %.80q", d.BaseVersion, d.Files[flow])
	}
}

func TestValidate(t *testing.T) {
	s, a := newService(t, demoStore(t), studio.NewMemoryHistory())
	nexus := draftOf(t, s, a, "nexus")
	hanbit := draftOf(t, s, a, "hanbit")
	tests := []struct {
		name  string
		draft studio.Draft
		want  []studio.Problem // compared on File, Step and a part of Msg; Line when not 0
	}{
		{name: "unchanged", draft: nexus},
		{name: "prompt changed", draft: edit(t, nexus, flow, greeting, "반갑습니다 ${name}님, 넥서스입니다.")},
		{name: "route to a step that does not exist", draft: edit(t, nexus, flow, "to: refund_notice", "to: refund_notic"),
			want: []studio.Problem{{File: flow, Line: 19, Step: "main", Msg: `unknown step "refund_notic"`}}},
		{name: "unknown variable", draft: edit(t, nexus, flow, "${name}님", "${nmae}님"),
			want: []studio.Problem{{File: flow, Step: "greeting", Msg: "${nmae}"}}},
		{name: "does not parse", draft: edit(t, nexus, flow, "start: greeting", "start: [greeting"),
			want: []studio.Problem{{File: flow, Line: 5, Msg: ""}}},
		{name: "claims another tenant's scenario code", draft: func() studio.Draft {
			d := edit(t, hanbit, "flows/HANBIT01.yaml", "code: HANBIT01", "code: SCENARIO01")
			d.Files["flows/SCENARIO01.yaml"] = d.Files["flows/HANBIT01.yaml"]
			delete(d.Files, "flows/HANBIT01.yaml")
			return d
		}(), want: []studio.Problem{{File: flow, Msg: `"SCENARIO01" is also tenant "nexus"'s`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Validate(context.Background(), a, tt.draft)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("problems: got %+v, want %d like %+v", got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				g := got[i]
				if g.File != w.File || g.Step != w.Step || !strings.Contains(g.Msg, w.Msg) || (w.Line != 0 && g.Line != w.Line) {
					t.Errorf("problem %d: got %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

func TestBadDrafts(t *testing.T) {
	s, a := newService(t, demoStore(t), studio.NewMemoryHistory())
	nexus := draftOf(t, s, a, "nexus")
	with := func(file, content string) studio.Draft {
		d := edit(t, nexus, flow, "x", "x") // a copy
		d.Files[file] = content
		return d
	}
	tests := []struct {
		name  string
		draft studio.Draft
		want  error
	}{
		{"oversized", with("flows/BIG.yaml", strings.Repeat("가", studio.MaxDraftBytes/3+1)), studio.ErrTooLarge},
		{"path outside the tenant", with("../hanbit/tenant.yaml", "x"), studio.ErrBadInput},
		{"not a tenant file", with("notes.txt", "x"), studio.ErrBadInput},
		{"the customer directory", with(tenant.CustomersFile, "\"01000000000\": 누구"), studio.ErrBadInput},
		{"not UTF-8", with("flows/X.yaml", "\xff\xfe"), studio.ErrBadInput},
		{"unknown tenant", studio.Draft{Tenant: "nobody", Files: nexus.Files}, studio.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.Validate(context.Background(), a, tt.draft); !errors.Is(err, tt.want) {
				t.Errorf("Validate: got %v, want %v", err, tt.want)
			}
			if _, err := s.Publish(context.Background(), a, tt.draft, ""); !errors.Is(err, tt.want) {
				t.Errorf("Publish: got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestDiff(t *testing.T) {
	s, a := newService(t, demoStore(t), studio.NewMemoryHistory())
	d := edit(t, draftOf(t, s, a, "nexus"), flow, greeting, "반갑습니다 ${name}님.")
	version, diffs, err := s.Diff(context.Background(), a, d)
	if err != nil {
		t.Fatal(err)
	}
	if version != 1 || len(diffs) != 1 || diffs[0].Path != flow || diffs[0].Status != "changed" {
		t.Fatalf("diff: version %d, %+v", version, diffs)
	}
	for _, want := range []string{"--- nexus/flows/SCENARIO01.yaml (version 1)", "-    prompt: " + greeting, "+    prompt: 반갑습니다 ${name}님."} {
		if !strings.Contains(diffs[0].Unified, want) {
			t.Errorf("diff lacks %q:\n%s", want, diffs[0].Unified)
		}
	}
	if _, diffs, _ := s.Diff(context.Background(), a, draftOf(t, s, a, "nexus")); len(diffs) != 0 {
		t.Errorf("an unchanged draft diffs: %+v", diffs)
	}
}

// TestSimulate plays whole calls against a draft as the gateway would.
func TestSimulate(t *testing.T) {
	s, a := newService(t, demoStore(t), studio.NewMemoryHistory())
	nexus := draftOf(t, s, a, "nexus")
	edited := edit(t, nexus, flow, "prompt: 이용해 주셔서 감사합니다. 좋은 하루 되세요.", "prompt: 감사합니다. 안녕히 계세요.")
	type step struct{ service, step, prompt string }
	tests := []struct {
		name     string
		draft    studio.Draft
		customer string
		turns    []studio.SimTurn
		want     []step
	}{
		{
			name: "delivery, birth date, no more questions (the draft's goodbye)", draft: edited, customer: "01012345678",
			turns: []studio.SimTurn{{Kind: "say", Text: "배송 조회 좀 하려고 전화드렸어요"}, {Kind: "dtmf", Text: "900101#"}, {Kind: "answer", Text: "아니요"}},
			want: []step{
				{"S0000", "greeting", "안녕하세요 김민수님, 넥서스 고객센터입니다. 무엇을 도와드릴까요?"},
				{"S1000", "ask_birthdate", "주문자 확인을 위해 생년월일 6자리를 입력해 주세요."},
				{"S0003", "delivery_status", "확인되었습니다."},
				{"S0001", "goodbye", "감사합니다. 안녕히 계세요."},
			},
		},
		{
			name: "greeting to transfer", draft: nexus,
			turns: []studio.SimTurn{{Kind: "say", Text: "상담원 연결해 주세요"}},
			want:  []step{{"S0000", "greeting", "안녕하세요 고객님"}, {"S2000", "agent", "상담원을 연결해 드리겠습니다."}},
		},
		{
			name: "wrong digits twice", draft: nexus,
			turns: []studio.SimTurn{{Kind: "say", Text: "배송 조회 좀 하려고 전화드렸어요"}, {Kind: "dtmf", Text: "12#"}, {Kind: "dtmf", Text: "1#"}},
			want: []step{{"S0000", "greeting", ""}, {"S1000", "ask_birthdate", ""}, {"S1000", "birthdate_retry", "올바르지 않습니다"},
				{"S2000", "agent", "상담원을 연결해"}},
		},
		{
			name: "silence twice", draft: nexus,
			turns: []studio.SimTurn{{Kind: "silence"}, {Kind: "silence"}},
			want:  []step{{"S0000", "greeting", ""}, {"S0000", "silence_reprompt", "말씀이 없으셔서"}, {"S0001", "silence_end", "응답이 없어"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := s.Simulate(context.Background(), a, studio.Simulation{Draft: tt.draft, Scenario: "SCENARIO01", Customer: tt.customer, Turns: tt.turns})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Answers) != len(tt.want) {
				t.Fatalf("answers: got %+v, want %d", res.Answers, len(tt.want))
			}
			for i, w := range tt.want {
				g := res.Answers[i]
				if g.TransCode != "200" || g.ServiceCode != w.service || g.ScenarioCode != w.step || !strings.Contains(g.Prompt, w.prompt) {
					t.Errorf("answer %d: got %+v, want %+v", i, g, w)
				}
			}
		})
	}

	t.Run("sensitive digits are masked", func(t *testing.T) {
		res, err := s.Simulate(context.Background(), a, studio.Simulation{Draft: nexus, Scenario: "SCENARIO01",
			Turns: []studio.SimTurn{{Kind: "say", Text: "배송 조회 좀 하려고 전화드렸어요"}, {Kind: "dtmf", Text: "900101#"}}})
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Answers[2].Input; got != "*******" {
			t.Errorf("input echoed as %q", got)
		}
	})
	t.Run("an invalid draft answers its problems", func(t *testing.T) {
		res, err := s.Simulate(context.Background(), a, studio.Simulation{Draft: edit(t, nexus, flow, "to: agent\n", "to: nowhere\n"), Scenario: "SCENARIO01"})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Problems) == 0 || len(res.Answers) != 0 {
			t.Errorf("got %+v", res)
		}
	})
	t.Run("DTMF on a listening step fails the turn", func(t *testing.T) {
		res, err := s.Simulate(context.Background(), a, studio.Simulation{Draft: nexus, Scenario: "SCENARIO01",
			Turns: []studio.SimTurn{{Kind: "dtmf", Text: "1"}, {Kind: "say", Text: "never played"}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Answers) != 2 || res.Answers[1].TransCode != "412" || res.Answers[1].Message == "" {
			t.Errorf("got %+v", res.Answers)
		}
	})
	for name, sim := range map[string]studio.Simulation{
		"unknown flow": {Draft: nexus, Scenario: "NOPE"},
		"unknown kind": {Draft: nexus, Scenario: "SCENARIO01", Turns: []studio.SimTurn{{Kind: "shout"}}},
		"too many":     {Draft: nexus, Scenario: "SCENARIO01", Turns: make([]studio.SimTurn, studio.MaxSimTurns+1)},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := s.Simulate(context.Background(), a, sim); !errors.Is(err, studio.ErrBadInput) && !errors.Is(err, studio.ErrTooLarge) {
				t.Errorf("got %v", err)
			}
		})
	}
}
