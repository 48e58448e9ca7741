package studio_test

import (
	"context"
	"errors"
	"testing"

	"github.com/routebot/routebot/common/studio"
)

// FuzzValidate feeds arbitrary flow files through a draft's validation and
// simulation: they answer problems or a clear error, never panic.
func FuzzValidate(f *testing.F) {
	st := demoStore(f)
	s, a := studio.New(st, studio.NewMemoryHistory(), embeddedClassifier, clock), allTenants(f)
	base, err := s.Draft(context.Background(), a, "nexus")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(base.Files[flow], "배송 조회 좀 하려고 전화드렸어요")
	f.Add("code: SCENARIO01\nstart: a\nsteps:\n  a: {service: S0001, prompt: x}\n", "")
	f.Add("steps: [", "네")
	f.Add("code: SCENARIO01\nstart: a\nsteps:\n  a: {service: S1000, prompt: x, dtmf: {length: 40, pattern: '('}, next: a}\n", "1")
	f.Fuzz(func(t *testing.T, content, utterance string) {
		d := base
		d.Files = map[string]string{}
		for k, v := range base.Files {
			d.Files[k] = v
		}
		d.Files[flow] = content
		if _, err := s.Validate(context.Background(), a, d); err != nil && !errors.Is(err, studio.ErrBadInput) {
			t.Fatalf("Validate: %v", err)
		}
		_, err := s.Simulate(context.Background(), a, studio.Simulation{Draft: d, Scenario: "SCENARIO01",
			Turns: []studio.SimTurn{{Kind: "say", Text: utterance}, {Kind: "dtmf", Text: utterance}, {Kind: "answer", Text: utterance}, {Kind: "silence"}}})
		if err != nil && !errors.Is(err, studio.ErrBadInput) {
			t.Fatalf("Simulate: %v", err)
		}
	})
}

func allTenants(tb testing.TB) studio.Author {
	specs, err := studio.ParseTokens("*:token-of-sixteen-chars")
	if err != nil {
		tb.Fatal(err)
	}
	authors, err := studio.NewAuthors(context.Background(), specs, literal)
	if err != nil {
		tb.Fatal(err)
	}
	a, err := authors.Authenticate("Bearer token-of-sixteen-chars")
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// BenchmarkSimulate plays one whole call (greeting, utterance, DTMF, no)
// against a draft: compile, classifier build and four engine turns.
func BenchmarkSimulate(b *testing.B) {
	st := demoStore(b)
	a := allTenants(b)
	s := studio.New(st, studio.NewMemoryHistory(), embeddedClassifier, clock)
	d, err := s.Draft(context.Background(), a, "nexus")
	if err != nil {
		b.Fatal(err)
	}
	sim := studio.Simulation{Draft: d, Scenario: "SCENARIO01", Customer: "01012345678",
		Turns: []studio.SimTurn{{Kind: "say", Text: "배송 조회 좀 하려고 전화드렸어요"}, {Kind: "dtmf", Text: "900101#"}, {Kind: "answer", Text: "아니요"}}}
	b.ReportAllocs()
	for b.Loop() {
		res, err := s.Simulate(context.Background(), a, sim)
		if err != nil || len(res.Answers) != 4 {
			b.Fatalf("%+v %v", res, err)
		}
	}
}
