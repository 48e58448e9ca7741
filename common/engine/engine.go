// Package engine is the call-turn engine: given a tenant's compiled flow,
// the call's session and one turn from the gateway, it decides the answer and
// the next session. It does no I/O of its own (classification is done by the
// caller before the turn and handed in), so it is table-testable and fast.
package engine

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/routebot/routebot/common/classify"
	"github.com/routebot/routebot/common/session"
	"github.com/routebot/routebot/common/tenant"
	"github.com/routebot/routebot/common/wire"
	"github.com/routebot/routebot/common/yesno"
)

// Turn is one request of the gateway, as the engine needs it.
type Turn struct {
	ScenarioCode string // as sent: a step, 무응답, 무응답종료, the flow's own code, or ""
	ChatMsg      string
	Answer       string
	DTMF         string
	Customer     string // ${phone}
	CustomerName string // ${name} from the directory; "" when unknown or not looked up

	// Class is the classification of Utterance(flow, turn), done by the
	// caller under the turn's deadline; ClassErr when it failed.
	Class    *classify.Result
	ClassErr error

	Now time.Time
}

// Outcome is the engine's decision.
type Outcome struct {
	Response wire.Response // CallId and ChatBotKey are the caller's to fill
	Session  session.Session
	Record   session.Record
	From, To string
	Degraded bool // a classification failure was answered by the router's fallback
}

// Engine runs turns. The zero value is usable.
type Engine struct {
	// SessionTTL is how long a call's session lives after its last turn.
	SessionTTL time.Duration
}

// Utterance tells whether the turn carries speech that its step routes by
// category, and which text to classify. It needs only the flow and the
// request, so classification can happen before the session transaction.
func Utterance(f *tenant.Flow, t Turn) (string, bool) {
	step, ok := stepOf(f, t.ScenarioCode)
	if !ok || step.Service != tenant.Listen || t.DTMF != "" {
		return "", false
	}
	text := spoken(t)
	return text, text != ""
}

// stepOf resolves the step a request answers: its ScenarioCode, or the start
// for a first turn. 무응답 and 무응답종료 depend on the session and return false.
func stepOf(f *tenant.Flow, code string) (*tenant.Step, bool) {
	switch code {
	case "", f.Code:
		return f.Start, true
	case wire.Silence, wire.SilenceEnd:
		return nil, false
	}
	s, ok := f.Steps[code]
	return s, ok
}

// spoken is the caller's words: ChatMsg, or Answer when the gateway put the
// speech there.
func spoken(t Turn) string {
	if t.ChatMsg != "" {
		return t.ChatMsg
	}
	return t.Answer
}

// Turn decides one turn. cur is the call's session (found=false: none yet).
// The outcome's session takes over cur.Vars: values already there may change
// in place (what the caller sees), variables the turn adds are in the
// outcome's only. Pass a session the caller owns, as the stores hand a
// transaction (copying the variables on every turn was a tenth of the
// engine's time).
func (e *Engine) Turn(f *tenant.Flow, cur session.Session, found bool, t Turn) (Outcome, *wire.Error) {
	s := cur
	if !found || s.Scenario != f.Code {
		s = session.Session{CallID: cur.CallID, Tenant: f.Tenant.ID, Scenario: f.Code}
	}
	if s.Vars == nil {
		s.Vars = make(session.Vars, 0, 5) // name, category1..3, answer
	}
	if t.CustomerName != "" {
		s.Vars.Set("name", t.CustomerName)
	} else if s.Vars.Get("name") == "" {
		s.Vars.Set("name", f.Tenant.UnknownName)
	}
	current := f.Start
	if st, ok := f.Steps[s.Step]; ok {
		current = st
	}

	out := Outcome{Record: session.Record{ScenarioCode: t.ScenarioCode, ChatMsg: t.ChatMsg, Answer: t.Answer}}
	var next *tenant.Step
	switch t.ScenarioCode {
	case wire.SilenceEnd:
		s.Silence++
		out.From = current.ID
		next = f.OnSilenceEnd
		if next == nil {
			next = current
		}
	case wire.Silence:
		s.Silence++
		out.From = current.ID
		policy := current.OnSilence
		if len(policy) == 0 {
			policy = f.OnSilence
		}
		if next = tenant.Pick(policy, s.Silence); next == nil {
			next = current // no policy: ask again
		}
	default:
		from, ok := stepOf(f, t.ScenarioCode)
		if !ok {
			return Outcome{}, wire.Errorf(wire.NotFound, "scenario %s has no step %q", f.Code, t.ScenarioCode)
		}
		out.From = from.ID
		if from.DTMF != nil && t.DTMF != "" {
			out.Record.DTMF = maskIf(from.DTMF.Sensitive, t.DTMF)
		} else {
			out.Record.DTMF = t.DTMF
		}
		if t.ChatMsg != "" || t.Answer != "" || t.DTMF != "" {
			s.Silence = 0
		}
		var err *wire.Error
		if next, err = e.input(from, &s, t, &out); err != nil {
			return Outcome{}, err
		}
	}
	e.enter(next, &s, t, &out)
	return out, nil
}

// input applies the caller's input to the step that asked for it and returns
// the step to answer with.
func (e *Engine) input(from *tenant.Step, s *session.Session, t Turn, out *Outcome) (*tenant.Step, *wire.Error) {
	if t.DTMF != "" && from.Service != tenant.Digits {
		return nil, wire.Errorf(wire.BadParameter, "DTMF sent for step %q, which does not collect DTMF", from.ID)
	}
	switch from.Service {
	case tenant.Listen:
		if spoken(t) == "" {
			return from, nil // nothing said: ask again
		}
		return e.route(from, s, t, out)
	case tenant.Continue:
		return from.Next, nil
	case tenant.YesNo:
		text := t.Answer
		if text == "" {
			text = t.ChatMsg
		}
		if text == "" {
			return from, nil
		}
		switch yesno.Parse(text) {
		case yesno.Yes:
			s.Invalid = 0
			return from.Yes, nil
		case yesno.No:
			s.Invalid = 0
			return from.No, nil
		}
		return invalid(from, s), nil
	case tenant.Digits:
		if t.DTMF == "" {
			if spoken(t) != "" {
				return invalid(from, s), nil // spoke instead of pressing keys
			}
			return from, nil
		}
		d := from.DTMF
		digits := t.DTMF
		if d.EndChar != "" {
			digits = strings.TrimRight(digits, d.EndChar)
		}
		if len(digits) != d.Length || !d.Pattern.MatchString(digits) {
			return invalid(from, s), nil
		}
		s.Invalid = 0
		if d.Capture != "" {
			s.Vars.Set(d.Capture, digits)
		}
		return from.Next, nil
	default: // Hangup, Transfer: the call has left the bot; answer the same.
		return from, nil
	}
}

func invalid(from *tenant.Step, s *session.Session) *tenant.Step {
	s.Invalid++
	if next := tenant.Pick(from.OnInvalid, s.Invalid); next != nil {
		return next
	}
	return from
}

// route sends a classified utterance to its step, or the router's fallback
// when classification failed.
func (e *Engine) route(from *tenant.Step, s *session.Session, t Turn, out *Outcome) (*tenant.Step, *wire.Error) {
	r := from.Router
	if t.Class == nil || t.ClassErr != nil {
		if r.Unavailable == nil {
			code := wire.InternalError
			if errors.Is(t.ClassErr, context.DeadlineExceeded) {
				code = wire.Timeout
			}
			return nil, wire.Errorf(code, "classification failed and router %q has no unavailable step", r.Name)
		}
		out.Degraded = true
		return r.Unavailable, nil
	}
	c := t.Class
	s.Invalid = 0
	s.Vars.Set("category1", c.Path[0])
	s.Vars.Set("category2", c.Path[1])
	s.Vars.Set("category3", c.Path[2])
	if c.Summary != "" {
		s.Vars.Set("answer", c.Summary)
	}
	out.Record.Category = c.Path.String()
	out.Record.Backend = c.Backend
	return r.For(c.Path), nil
}

// enter answers with step next and makes it the call's current step.
func (e *Engine) enter(next *tenant.Step, s *session.Session, t Turn, out *Outcome) {
	vars := s.Vars
	r := wire.Response{
		Code:         wire.OK,
		ServiceCode:  string(next.Service),
		ScenarioCode: next.ID,
		Description: next.Prompt.Render(func(name string) string {
			if name == "phone" {
				return t.Customer
			}
			return vars.Get(name)
		}),
	}
	switch next.Service {
	case tenant.Listen, tenant.YesNo:
		r.Timeout = next.Timeout
	case tenant.Digits:
		r.Timeout, r.DtmfLength, r.DtmfEndChar = next.Timeout, next.DTMF.Length, next.DTMF.EndChar
	case tenant.Transfer:
		r.TransferNumber = next.Transfer
	}
	s.Step = next.ID
	s.Turn++
	s.Updated = t.Now
	if e.SessionTTL > 0 {
		s.Expires = t.Now.Add(e.SessionTTL)
	}
	out.Response, out.Session, out.To = r, *s, next.ID
	out.Record.Turn, out.Record.At, out.Record.From, out.Record.To = s.Turn, t.Now, out.From, next.ID
	out.Record.ServiceCode, out.Record.TransCode, out.Record.Degraded = r.ServiceCode, string(wire.OK), out.Degraded
}

func maskIf(sensitive bool, digits string) string {
	if !sensitive {
		return digits
	}
	return strings.Repeat("*", len(digits))
}
