// Package tenant owns the tenant files scenario authors write (tenant.yaml,
// taxonomy.yaml, customers.yaml, flows/<CODE>.yaml), their validation with
// file:line problems, and the compiled form the scenario engine runs: steps
// linked by pointer, prompt templates split once, category routes resolved to
// a table keyed by taxonomy path.
package tenant

import (
	"regexp"
	"strings"

	"github.com/routebot/routebot/common/classify"
)

// Tenant is one compiled tenant at one version.
type Tenant struct {
	ID          string
	Name        string
	Version     int64
	Bots        map[string]bool
	Queues      map[string]string
	UnknownName string            // ${name} when the caller is not in the directory
	Customers   map[string]string // phone → name, from customers.yaml
	Taxonomy    *classify.Taxonomy
	Flows       map[string]*Flow // by scenario code
	Spec        ClassifierSpec
	Profile     ProfileSpec

	// Classifier is built once per tenant version by the Registry's build
	// function (nil until then).
	Classifier classify.Classifier
}

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

// Template is a prompt split once into literal text and ${variables}.
type Template struct {
	parts []part
	Vars  []string
}

type part struct {
	text  string
	isVar bool
}

// ParseTemplate splits s at ${name}; an unclosed "${" is literal text.
func ParseTemplate(s string) Template {
	var t Template
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			break
		}
		if i > 0 {
			t.parts = append(t.parts, part{text: s[:i]})
		}
		name := s[i+2 : i+j]
		t.parts = append(t.parts, part{text: name, isVar: true})
		t.Vars = append(t.Vars, name)
		s = s[i+j+1:]
	}
	if s != "" {
		t.parts = append(t.parts, part{text: s})
	}
	return t
}

// Render substitutes variables with lookup.
func (t Template) Render(lookup func(string) string) string {
	switch {
	case len(t.parts) == 0:
		return ""
	case len(t.parts) == 1 && !t.parts[0].isVar:
		return t.parts[0].text
	}
	var b strings.Builder
	for _, p := range t.parts {
		if p.isVar {
			b.WriteString(lookup(p.text))
		} else {
			b.WriteString(p.text)
		}
	}
	return b.String()
}

// String gives the template back as written.
func (t Template) String() string {
	var b strings.Builder
	for _, p := range t.parts {
		if p.isVar {
			b.WriteString("${" + p.text + "}")
		} else {
			b.WriteString(p.text)
		}
	}
	return b.String()
}
