package tenant

import (
	"regexp"

	"github.com/routebot/routebot/common/classify"
)

// Service is a ServiceCode of seed 003 §1.3.1 (S0003 is the yes/no question).
type Service string

// The ServiceCodes.
const (
	Listen   Service = "S0000" // play, then listen
	Hangup   Service = "S0001" // play, then hang up
	Continue Service = "S0002" // play, then request the scenario again
	YesNo    Service = "S0003" // play a yes/no question
	Digits   Service = "S1000" // play, collect DTMF
	Transfer Service = "S2000" // play, transfer the call
)

// Flow is one scenario code's steps.
type Flow struct {
	Code         string
	Tenant       *Tenant
	Start        *Step
	Steps        map[string]*Step
	OnSilence    []*Step // nth consecutive silence → step (last repeats)
	OnSilenceEnd *Step   // ScenarioCode 무응답종료

	codeLine int // for problems ParseAll finds across tenants
}

// Step is one prompt and what its answer leads to.
type Step struct {
	ID        string
	Service   Service
	Prompt    Template
	Timeout   int
	Router    *Router // Listen: the caller's utterance is classified and routed
	Next      *Step   // Continue: the follow-up; Digits: valid input
	Yes, No   *Step   // YesNo
	DTMF      *DTMF   // Digits
	Transfer  string  // Transfer: the number
	OnInvalid []*Step // nth consecutive invalid input → step (last repeats)
	OnSilence []*Step // overrides the flow's
}

// DTMF is how a Digits step reads keys.
type DTMF struct {
	Length    int
	EndChar   string
	Pattern   *regexp.Regexp // anchored; digits only when the author gave none
	Sensitive bool           // never logged or stored in clear
	Capture   string         // variable that keeps the digits (never for sensitive steps)
}

// Router sends a classified utterance to a step.
type Router struct {
	Name        string
	byPath      map[classify.Path]*Step
	Otherwise   *Step // a category no route names
	Unavailable *Step // classification failed or timed out; nil: the turn fails
}

// For returns the step for a classified path.
func (r *Router) For(p classify.Path) *Step {
	if s, ok := r.byPath[p]; ok {
		return s
	}
	return r.Otherwise
}

// Pick returns the nth (1-based) step of a count policy; the last repeats.
func Pick(policy []*Step, n int) *Step {
	if len(policy) == 0 || n < 1 {
		return nil
	}
	if n > len(policy) {
		n = len(policy)
	}
	return policy[n-1]
}
