package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/routebot/routebot/internal/tenanttest"

	"github.com/routebot/routebot/common/classify"
	"github.com/routebot/routebot/common/session"
	"github.com/routebot/routebot/common/tenant"
	"github.com/routebot/routebot/common/wire"
)

func demoFlow(t testing.TB, code string) *tenant.Flow {
	t.Helper()
	_, ts := tenanttest.Demo(t)
	for _, tn := range ts {
		if f, ok := tn.Flows[code]; ok {
			return f
		}
	}
	t.Fatalf("no flow %s", code)
	return nil
}

func leaf(t testing.TB, f *tenant.Flow, name string) *classify.Result {
	p, ok := f.Tenant.Taxonomy.Leaf(name)
	if !ok {
		t.Fatalf("no category %s", name)
	}
	return &classify.Result{Path: p, Backend: "test", Confidence: 1}
}

var now = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func at(step string) session.Session {
	return session.Session{CallID: "C1", Tenant: "nexus", Scenario: "SCENARIO01", Step: step, Turn: 1, Vars: session.Vars{{Name: "name", Value: "김민수"}}}
}

func TestTurn(t *testing.T) {
	f := demoFlow(t, "SCENARIO01")
	type want struct {
		service, step, desc string
		timeout, dtmfLen    int
		endChar, transfer   string
		silence, invalid    int
		degraded            bool
	}
	tests := []struct {
		name  string
		cur   session.Session
		found bool
		turn  Turn
		want  want
	}{
		{"greeting knows the caller", session.Session{}, false, Turn{Customer: "01012345678", CustomerName: "김민수"},
			want{service: "S0000", step: "greeting", desc: "안녕하세요 김민수님, 넥서스 고객센터입니다. 무엇을 도와드릴까요?", timeout: 7}},
		{"greeting of an unknown caller", session.Session{}, false, Turn{Customer: "0200000000"},
			want{service: "S0000", step: "greeting", desc: "안녕하세요 고객님, 넥서스 고객센터입니다. 무엇을 도와드릴까요?", timeout: 7}},
		{"ScenarioCode naming the flow starts it", session.Session{}, false, Turn{ScenarioCode: "SCENARIO01"},
			want{service: "S0000", step: "greeting", timeout: 7}},
		{"first utterance routes at once", session.Session{}, false, Turn{ChatMsg: "상담원", Class: leaf(t, f, "상담원연결")},
			want{service: "S2000", step: "agent", desc: "상담원을 연결해 드리겠습니다. 잠시만 기다려 주세요.", transfer: "40001"}},
		{"delivery asks the birth date", at("greeting"), true, Turn{ScenarioCode: "greeting", ChatMsg: "배송", Class: leaf(t, f, "배송지연")},
			want{service: "S1000", step: "ask_birthdate", desc: "주문자 확인을 위해 생년월일 6자리를 입력해 주세요.", timeout: 10, dtmfLen: 6, endChar: "#"}},
		{"refund notice continues", at("greeting"), true, Turn{ScenarioCode: "greeting", ChatMsg: "환불", Class: leaf(t, f, "환불진행조회")},
			want{service: "S0002", step: "refund_notice", desc: "환불 관련 문의는 전문 상담원이 도와드립니다."}},
		{"after the notice, the refund queue", at("refund_notice"), true, Turn{ScenarioCode: "refund_notice"},
			want{service: "S2000", step: "refund_agent", desc: "환불 담당 상담원을 연결해 드리겠습니다.", transfer: "40002"}},
		{"another category goes to an agent", at("greeting"), true, Turn{ScenarioCode: "greeting", ChatMsg: "비번", Class: leaf(t, f, "비밀번호재설정")},
			want{service: "S2000", step: "agent_other", desc: "해당 문의는 상담원이 도와드리겠습니다. 잠시만 기다려 주세요.", transfer: "40001"}},
		{"classifier down: the fallback transfer", at("greeting"), true, Turn{ScenarioCode: "greeting", ChatMsg: "배송", ClassErr: classify.ErrUnavailable},
			want{service: "S2000", step: "agent", transfer: "40001", degraded: true}},
		{"six digits", at("ask_birthdate"), true, Turn{ScenarioCode: "ask_birthdate", DTMF: "900101"},
			want{service: "S0003", step: "delivery_status", timeout: 7,
				desc: "확인되었습니다. 주문하신 상품은 배송 중이며 1~2일 내 도착 예정입니다. 더 궁금하신 점이 있으신가요?"}},
		{"six digits and the end key", at("ask_birthdate"), true, Turn{ScenarioCode: "ask_birthdate", DTMF: "900101#"},
			want{service: "S0003", step: "delivery_status", timeout: 7}},
		{"too few digits", at("ask_birthdate"), true, Turn{ScenarioCode: "ask_birthdate", DTMF: "12"},
			want{service: "S1000", step: "birthdate_retry", desc: "입력하신 번호가 올바르지 않습니다. 생년월일 6자리를 다시 입력해 주세요.", timeout: 10, dtmfLen: 6, endChar: "#", invalid: 1}},
		{"star is not a digit", at("ask_birthdate"), true, Turn{ScenarioCode: "ask_birthdate", DTMF: "9001*1"},
			want{service: "S1000", step: "birthdate_retry", invalid: 1, timeout: 10, dtmfLen: 6, endChar: "#"}},
		{"second wrong entry transfers", func() session.Session { s := at("birthdate_retry"); s.Invalid = 1; return s }(), true,
			Turn{ScenarioCode: "birthdate_retry", DTMF: "12345"},
			want{service: "S2000", step: "agent", transfer: "40001", invalid: 2}},
		{"spoken instead of keyed is invalid", at("ask_birthdate"), true, Turn{ScenarioCode: "ask_birthdate", ChatMsg: "구공공일공일"},
			want{service: "S1000", step: "birthdate_retry", invalid: 1, timeout: 10, dtmfLen: 6, endChar: "#"}},
		{"yes", at("delivery_status"), true, Turn{ScenarioCode: "delivery_status", Answer: "네 있어요"},
			want{service: "S0000", step: "anything_else", desc: "무엇을 도와드릴까요?", timeout: 7}},
		{"no", at("delivery_status"), true, Turn{ScenarioCode: "delivery_status", Answer: "아니요"},
			want{service: "S0001", step: "goodbye", desc: "이용해 주셔서 감사합니다. 좋은 하루 되세요."}},
		{"yes/no in ChatMsg", at("delivery_status"), true, Turn{ScenarioCode: "delivery_status", ChatMsg: "없어요"},
			want{service: "S0001", step: "goodbye"}},
		{"neither yes nor no", at("delivery_status"), true, Turn{ScenarioCode: "delivery_status", Answer: "글쎄요"},
			want{service: "S0003", step: "yes_or_no", desc: "네 또는 아니오로 말씀해 주세요.", timeout: 7, invalid: 1}},
		{"still neither", func() session.Session { s := at("yes_or_no"); s.Invalid = 1; return s }(), true,
			Turn{ScenarioCode: "yes_or_no", Answer: "음"}, want{service: "S0003", step: "yes_or_no", timeout: 7, invalid: 2}},
		{"first silence", at("greeting"), true, Turn{ScenarioCode: wire.Silence},
			want{service: "S0000", step: "silence_reprompt", desc: "말씀이 없으셔서 다시 여쭙겠습니다. 무엇을 도와드릴까요?", timeout: 7, silence: 1}},
		{"second silence ends", func() session.Session { s := at("silence_reprompt"); s.Silence = 1; return s }(), true,
			Turn{ScenarioCode: wire.Silence}, want{service: "S0001", step: "silence_end", desc: "응답이 없어 통화를 종료합니다. 이용해 주셔서 감사합니다.", silence: 2}},
		{"silence on a DTMF step", at("ask_birthdate"), true, Turn{ScenarioCode: wire.Silence},
			want{service: "S0000", step: "silence_reprompt", timeout: 7, silence: 1}},
		{"speech resets the silence count", func() session.Session { s := at("silence_reprompt"); s.Silence = 1; return s }(), true,
			Turn{ScenarioCode: "silence_reprompt", ChatMsg: "환불", Class: leaf(t, f, "환불요청")}, want{service: "S0002", step: "refund_notice"}},
		{"silence without a session starts from the start step", session.Session{}, false, Turn{ScenarioCode: wire.Silence},
			want{service: "S0000", step: "silence_reprompt", timeout: 7, silence: 1}},
		{"무응답종료", at("greeting"), true, Turn{ScenarioCode: wire.SilenceEnd},
			want{service: "S0001", step: "silence_end", desc: "응답이 없어 통화를 종료합니다. 이용해 주셔서 감사합니다.", silence: 1}},
		{"a transfer answers the same again", at("agent"), true, Turn{ScenarioCode: "agent", ChatMsg: "여보세요"},
			want{service: "S2000", step: "agent", transfer: "40001"}},
		{"a listening step with nothing said asks again", at("greeting"), true, Turn{ScenarioCode: "greeting"},
			want{service: "S0000", step: "greeting", timeout: 7}},
		{"a session of another scenario is not reused", func() session.Session { s := at("agent"); s.Scenario = "star-wars"; s.Silence = 1; return s }(), true,
			Turn{ScenarioCode: wire.Silence}, want{service: "S0000", step: "silence_reprompt", timeout: 7, silence: 1}},
	}
	e := &Engine{SessionTTL: time.Hour}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.turn.Now = now
			out, werr := e.Turn(f, tt.cur, tt.found, tt.turn)
			if werr != nil {
				t.Fatalf("error %v", werr)
			}
			r, w := out.Response, tt.want
			if r.ServiceCode != w.service || r.ScenarioCode != w.step || out.Session.Step != w.step {
				t.Errorf("got %s at %q (session %q), want %s at %q", r.ServiceCode, r.ScenarioCode, out.Session.Step, w.service, w.step)
			}
			if w.desc != "" && r.Description != w.desc {
				t.Errorf("Description %q, want %q", r.Description, w.desc)
			}
			if r.Timeout != w.timeout || r.DtmfLength != w.dtmfLen || r.DtmfEndChar != w.endChar || r.TransferNumber != w.transfer {
				t.Errorf("Timeout/DtmfLength/DtmfEndChar/Transfer = %d/%d/%q/%q, want %d/%d/%q/%q",
					r.Timeout, r.DtmfLength, r.DtmfEndChar, r.TransferNumber, w.timeout, w.dtmfLen, w.endChar, w.transfer)
			}
			if out.Session.Silence != w.silence || out.Session.Invalid != w.invalid {
				t.Errorf("silence/invalid = %d/%d, want %d/%d", out.Session.Silence, out.Session.Invalid, w.silence, w.invalid)
			}
			if out.Degraded != w.degraded || out.Record.Degraded != w.degraded {
				t.Errorf("degraded = %v, want %v", out.Degraded, w.degraded)
			}
			if r.Code != wire.OK || out.Session.Expires != now.Add(time.Hour) || out.Record.To != w.step {
				t.Errorf("code %s, expires %v, record to %q", r.Code, out.Session.Expires, out.Record.To)
			}
		})
	}
}

func TestTurnErrors(t *testing.T) {
	f := demoFlow(t, "SCENARIO01")
	noFallback := demoFlow(t, "SCENARIO01")
	// A copy of the greeting whose router has no unavailable step.
	g := *noFallback.Steps["greeting"]
	r := *g.Router
	r.Unavailable = nil
	g.Router = &r
	noFallback.Steps = map[string]*tenant.Step{"greeting": &g}
	noFallback.Start = &g

	tests := []struct {
		name string
		flow *tenant.Flow
		turn Turn
		want wire.Code
	}{
		{"unknown step", f, Turn{ScenarioCode: "nope"}, wire.NotFound},
		{"DTMF for a listening step", f, Turn{ScenarioCode: "greeting", DTMF: "1"}, wire.BadParameter},
		{"classification failed, no fallback", noFallback, Turn{ChatMsg: "x", ClassErr: errors.New("boom")}, wire.InternalError},
		{"classification timed out, no fallback", noFallback, Turn{ChatMsg: "x", ClassErr: context.DeadlineExceeded}, wire.Timeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, werr := (&Engine{}).Turn(tt.flow, session.Session{}, false, tt.turn)
			if werr == nil || werr.Code != tt.want {
				t.Fatalf("got %v, want TransCode %s", werr, tt.want)
			}
		})
	}
}

func TestSensitiveDTMFIsMasked(t *testing.T) {
	f := demoFlow(t, "SCENARIO01")
	out, werr := (&Engine{}).Turn(f, at("ask_birthdate"), true, Turn{ScenarioCode: "ask_birthdate", DTMF: "900101#", Now: now})
	if werr != nil {
		t.Fatal(werr)
	}
	if out.Record.DTMF != "*******" {
		t.Errorf("turn log DTMF = %q, want it masked", out.Record.DTMF)
	}
	for _, v := range out.Session.Vars {
		if strings.Contains(v.Value, "900101") {
			t.Errorf("session var %s keeps the sensitive digits", v.Name)
		}
	}
}

func TestVariables(t *testing.T) {
	f := demoFlow(t, "SCENARIO01")
	c := leaf(t, f, "배송조회")
	c.Summary = "배송 문의"
	out, werr := (&Engine{}).Turn(f, at("greeting"), true, Turn{ScenarioCode: "greeting", ChatMsg: "배송", Class: c, Now: now})
	if werr != nil {
		t.Fatal(werr)
	}
	want := map[string]string{"name": "김민수", "category1": "주문배송", "category2": "배송", "category3": "배송조회", "answer": "배송 문의"}
	for k, v := range want {
		if got := out.Session.Vars.Get(k); got != v {
			t.Errorf("${%s} = %q, want %q", k, got, v)
		}
	}
	if out.Record.Category != "주문배송/배송/배송조회" || out.Record.Backend != "test" {
		t.Errorf("record category %q backend %q", out.Record.Category, out.Record.Backend)
	}
}

// TestTurnTakesOverVars: the outcome's session keeps the caller's Vars
// (the stores hand a transaction its own copy, so no copy is made), and a
// session of another scenario starts with variables of its own.
func TestTurnTakesOverVars(t *testing.T) {
	f := demoFlow(t, "SCENARIO01")
	cur := at("greeting")
	cur.Vars = append(make(session.Vars, 0, 8), cur.Vars...) // room for the turn's variables, as the stores leave
	out, werr := (&Engine{}).Turn(f, cur, true, Turn{ScenarioCode: "greeting", ChatMsg: "배송", Class: leaf(t, f, "배송조회"), Now: now})
	if werr != nil {
		t.Fatal(werr)
	}
	if &out.Session.Vars[0] != &cur.Vars[0] || out.Session.Vars.Get("category3") != "배송조회" {
		t.Errorf("caller's Vars %v, outcome's %v: want the caller's, updated", cur.Vars[:cap(cur.Vars)], out.Session.Vars)
	}
	other := at("greeting")
	other.Scenario = "star-wars"
	out, werr = (&Engine{}).Turn(f, other, true, Turn{ScenarioCode: wire.Silence, Now: now})
	if werr != nil {
		t.Fatal(werr)
	}
	if out.Session.Vars.Set("name", "changed"); other.Vars.Get("name") != "김민수" {
		t.Errorf("another scenario's session shares its Vars with the new one: %v", other.Vars)
	}
}

func TestUtterance(t *testing.T) {
	f := demoFlow(t, "SCENARIO01")
	tests := []struct {
		name string
		turn Turn
		want string
	}{
		{"first turn with speech", Turn{ChatMsg: "환불"}, "환불"},
		{"first turn without speech", Turn{}, ""},
		{"listening step", Turn{ScenarioCode: "anything_else", ChatMsg: "배송"}, "배송"},
		{"Answer on a listening step", Turn{ScenarioCode: "greeting", Answer: "배송"}, "배송"},
		{"yes/no step", Turn{ScenarioCode: "delivery_status", Answer: "네"}, ""},
		{"DTMF step", Turn{ScenarioCode: "ask_birthdate", DTMF: "1"}, ""},
		{"silence", Turn{ScenarioCode: wire.Silence, ChatMsg: "x"}, ""},
		{"unknown step", Turn{ScenarioCode: "nope", ChatMsg: "x"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Utterance(f, tt.turn)
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("Utterance = %q, %v; want %q", got, ok, tt.want)
			}
		})
	}
}

func BenchmarkTurnClassified(b *testing.B) {
	f := demoFlow(b, "SCENARIO01")
	e := &Engine{SessionTTL: time.Hour}
	turn := Turn{ScenarioCode: "greeting", ChatMsg: "배송", Class: leaf(b, f, "배송조회"), Now: now}
	cur := at("greeting")
	b.ReportAllocs()
	for b.Loop() {
		if _, werr := e.Turn(f, cur, true, turn); werr != nil {
			b.Fatal(werr)
		}
	}
}
