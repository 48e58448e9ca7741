package studio

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/routebot/routebot/common/classify"
	"github.com/routebot/routebot/common/engine"
	"github.com/routebot/routebot/common/session"
	"github.com/routebot/routebot/common/tenant"
	"github.com/routebot/routebot/common/wire"
)

// MaxSimTurns bounds one simulation.
const MaxSimTurns = 100

// classifyTimeout bounds one simulated turn's classification; a simulation
// is not held to a live turn's budget, but it must not hang.
const classifyTimeout = 10 * time.Second

// SimTurn is one thing the caller does after the greeting.
type SimTurn struct {
	Kind string `json:"kind"` // say | dtmf | answer (to a yes/no question) | silence | silenceEnd
	Text string `json:"text,omitempty"`
}

// Simulation is a call played against a draft: the greeting (the gateway's
// first request) and then Turns, each sent with the previous answer's
// ScenarioCode as the gateway does.
type Simulation struct {
	Draft    Draft     `json:"draft"`
	Scenario string    `json:"scenario"`
	Customer string    `json:"customer,omitempty"` // the caller's number (${phone}, the directory's ${name})
	Turns    []SimTurn `json:"turns"`
}

// SimAnswer is the engine's answer to one turn, with where it went.
type SimAnswer struct {
	Turn           int    `json:"turn"` // 0: the greeting
	Kind           string `json:"kind"`
	Input          string `json:"input,omitempty"` // sensitive DTMF masked
	TransCode      string `json:"transCode"`
	Message        string `json:"message,omitempty"` // why a turn failed
	ServiceCode    string `json:"serviceCode,omitempty"`
	ScenarioCode   string `json:"scenarioCode,omitempty"`
	Prompt         string `json:"prompt,omitempty"`
	Timeout        int    `json:"timeout,omitempty"`
	DtmfLength     int    `json:"dtmfLength,omitempty"`
	DtmfEndChar    string `json:"dtmfEndChar,omitempty"`
	TransferNumber string `json:"transferNumber,omitempty"`
	From           string `json:"from,omitempty"`
	To             string `json:"to,omitempty"`
	Category       string `json:"category,omitempty"`
	Degraded       bool   `json:"degraded,omitempty"`
}

// SimResult is a simulation's outcome: the draft's problems (and no answers)
// when it does not validate, else one answer per turn.
type SimResult struct {
	Problems []Problem   `json:"problems,omitempty"`
	Answers  []SimAnswer `json:"answers,omitempty"`
}

// Simulate plays a call against a draft. Nothing is stored: the session is
// a value carried from turn to turn, and live calls never see the draft.
func (s *Service) Simulate(ctx context.Context, a Author, sim Simulation) (SimResult, error) {
	if len(sim.Turns) > MaxSimTurns {
		return SimResult{}, fmt.Errorf("%w: %d turns, at most %d", ErrTooLarge, len(sim.Turns), MaxSimTurns)
	}
	tf, err := s.files(ctx, a, sim.Draft)
	if err != nil {
		return SimResult{}, err
	}
	t, problems, err := s.compile(ctx, tf)
	if err != nil || len(problems) > 0 {
		return SimResult{Problems: problems}, err
	}
	flow, ok := t.Flows[sim.Scenario]
	if !ok {
		return SimResult{}, fmt.Errorf("%w: the draft has no flow %q", ErrBadInput, sim.Scenario)
	}
	classifier, err := s.classifier(t, tf.Files)
	if err != nil {
		return SimResult{}, fmt.Errorf("build tenant %q's classifier: %w", t.ID, err)
	}

	eng := &engine.Engine{}
	var cur session.Session
	found := false
	prevCode := ""
	var out SimResult
	turns := append([]SimTurn{{Kind: "start"}}, sim.Turns...)
	for i, st := range turns {
		turn := engine.Turn{ScenarioCode: prevCode, Customer: sim.Customer, Now: s.now()}
		switch st.Kind {
		case "start":
			turn.CustomerName = t.Customers[sim.Customer]
		case "say":
			turn.ChatMsg = st.Text
		case "answer":
			turn.Answer = st.Text
		case "dtmf":
			turn.DTMF = st.Text
		case "silence":
			turn.ScenarioCode = wire.Silence
		case "silenceEnd":
			turn.ScenarioCode = wire.SilenceEnd
		default:
			return SimResult{}, fmt.Errorf("%w: turn %d: kind %q: want say, dtmf, answer, silence or silenceEnd", ErrBadInput, i, st.Kind)
		}
		ans := SimAnswer{Turn: i, Kind: st.Kind, Input: st.Text}
		if st.Kind == "dtmf" {
			if step, ok := flow.Steps[prevCode]; ok && step.DTMF != nil && step.DTMF.Sensitive {
				ans.Input = strings.Repeat("*", len(st.Text))
			}
		}
		if text, ok := engine.Utterance(flow, turn); ok {
			turn.Class, turn.ClassErr = s.classifyTurn(ctx, classifier, t.Taxonomy, text)
		}
		o, werr := eng.Turn(flow, cur, found, turn)
		if werr != nil {
			ans.TransCode, ans.Message = string(werr.Code), werr.Reason
			out.Answers = append(out.Answers, ans)
			break // the gateway would end the call
		}
		r := o.Response
		ans.TransCode, ans.ServiceCode, ans.ScenarioCode, ans.Prompt = string(r.Code), r.ServiceCode, r.ScenarioCode, r.Description
		ans.Timeout, ans.DtmfLength, ans.DtmfEndChar, ans.TransferNumber = r.Timeout, r.DtmfLength, r.DtmfEndChar, r.TransferNumber
		ans.From, ans.To, ans.Category, ans.Degraded = o.From, o.To, o.Record.Category, o.Degraded
		out.Answers = append(out.Answers, ans)
		cur, found, prevCode = o.Session, true, r.ScenarioCode
	}
	return out, nil
}

// classifyTurn classifies as the scenario function does: an answer outside
// the taxonomy counts as a failure, which the router's fallback answers.
func (s *Service) classifyTurn(ctx context.Context, c classify.Classifier, tax *classify.Taxonomy, text string) (*classify.Result, error) {
	if c == nil {
		return nil, errors.New("the studio has no classifier")
	}
	cctx, cancel := context.WithTimeout(ctx, classifyTimeout)
	defer cancel()
	res, err := c.Classify(cctx, classify.Input{Text: text, SessionID: "studio-simulation"})
	if err != nil {
		return nil, err
	}
	if !tax.Contains(res.Path) {
		return nil, errors.New("classifier answered outside the taxonomy: " + res.Path.String())
	}
	return &res, nil
}

// maxClassifiers bounds the simulation's classifier cache.
const maxClassifiers = 16

// classifier returns the classifier of a draft tenant, built once per
// content of the files it depends on (tenant.yaml and taxonomy.yaml): an
// author types many turns against one taxonomy, and building one (the
// embedded classifier learns the taxonomy's examples) is most of a
// simulation's cost.
func (s *Service) classifier(t *tenant.Tenant, files map[string][]byte) (classify.Classifier, error) {
	if s.classify == nil {
		return nil, nil
	}
	h := sha256.New()
	for _, name := range []string{tenant.TenantFile, tenant.TaxonomyFile} {
		h.Write([]byte(name + "\x00"))
		h.Write(files[name])
		h.Write([]byte{0})
	}
	key := t.ID + "\x00" + string(h.Sum(nil))
	s.mu.Lock()
	c, ok := s.classifiers[key]
	s.mu.Unlock()
	if ok {
		return c, nil
	}
	c, err := s.classify(t)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.classifiers) >= maxClassifiers {
		clear(s.classifiers)
	}
	s.classifiers[key] = c
	return c, nil
}
