package tenant

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/routebot/routebot/common/classify"
	"github.com/routebot/routebot/common/store"
	"github.com/routebot/routebot/examples"
)

// demoTenants reads and compiles the tenants the repository ships.
func demoTenants(t testing.TB) map[string]*Tenant {
	t.Helper()
	tfs, err := ReadFS(examples.Tenants, "tenants")
	if err != nil {
		t.Fatalf("ReadFS(examples): %v", err)
	}
	ts, err := ParseAll(tfs)
	if err != nil {
		t.Fatalf("ParseAll(examples): %v", err)
	}
	out := map[string]*Tenant{}
	for _, tn := range ts {
		out[tn.ID] = tn
	}
	return out
}

func TestDemoTenants(t *testing.T) {
	ts := demoTenants(t)
	if got := slices.Sorted(maps.Keys(ts)); !slices.Equal(got, []string{"hanbit", "nexus"}) {
		t.Fatalf("demo tenants = %v, want [hanbit nexus]", got)
	}
	for _, tn := range ts {
		for _, f := range tn.Flows {
			checkLinked(t, f)
		}
	}

	t.Run("nexus", func(t *testing.T) {
		n := ts["nexus"]
		if !maps.Equal(n.Bots, map[string]bool{"bot00001": true}) {
			t.Errorf("bots = %v, want bot00001", n.Bots)
		}
		if !maps.Equal(n.Queues, map[string]string{"general": "40001", "refunds": "40002"}) {
			t.Errorf("queues = %v", n.Queues)
		}
		if n.UnknownName != "고객" {
			t.Errorf("UnknownName = %q, want 고객", n.UnknownName)
		}
		if want := map[string]string{"01012345678": "김민수", "01099998888": "이서연"}; !maps.Equal(n.Customers, want) {
			t.Errorf("customers = %v, want %v", n.Customers, want)
		}
		if got := n.ScenarioCodes(); !slices.Equal(got, []string{"SCENARIO01", "star-wars"}) {
			t.Errorf("scenario codes = %v", got)
		}
		if got := n.Taxonomy.Fallback.String(); got != "기타/기타/담당자확인전달요청" {
			t.Errorf("fallback = %s", got)
		}
		if n.Version != 1 {
			t.Errorf("version = %d, want 1 (ReadFS)", n.Version)
		}
		if n.ClassifierSpec.Backend != "" || n.Profile.LanguageCode != "ko-KR" || n.Profile.SampleRate != 8000 {
			t.Errorf("classifier/profile = %+v / %+v", n.ClassifierSpec, n.Profile)
		}
	})

	t.Run("SCENARIO01", func(t *testing.T) {
		f := ts["nexus"].Flows["SCENARIO01"]
		if f == nil {
			t.Fatal("no SCENARIO01")
		}
		if f.Tenant != ts["nexus"] || f.Code != "SCENARIO01" {
			t.Errorf("flow %q of tenant %v", f.Code, f.Tenant.ID)
		}
		const (
			agentPrompt = "상담원을 연결해 드리겠습니다. 잠시만 기다려 주세요."
			endPrompt   = "응답이 없어 통화를 종료합니다. 이용해 주셔서 감사합니다."
		)
		type dtmf struct {
			length    int
			endChar   string
			sensitive bool
		}
		steps := []struct {
			id        string
			service   Service
			prompt    string
			timeout   int
			dtmf      *dtmf
			transfer  string
			next      string
			yes, no   string
			onInvalid []string
			router    string
		}{
			{id: "greeting", service: Listen, prompt: "안녕하세요 ${name}님, 넥서스 고객센터입니다. 무엇을 도와드릴까요?", timeout: 7, router: "main"},
			{id: "ask_birthdate", service: Digits, prompt: "주문자 확인을 위해 생년월일 6자리를 입력해 주세요.", timeout: 10,
				dtmf: &dtmf{6, "#", true}, next: "delivery_status", onInvalid: []string{"birthdate_retry", "agent"}},
			{id: "birthdate_retry", service: Digits, prompt: "입력하신 번호가 올바르지 않습니다. 생년월일 6자리를 다시 입력해 주세요.", timeout: 10,
				dtmf: &dtmf{6, "#", true}, next: "delivery_status", onInvalid: []string{"birthdate_retry", "agent"}},
			{id: "delivery_status", service: YesNo, prompt: "확인되었습니다. 주문하신 상품은 배송 중이며 1~2일 내 도착 예정입니다. 더 궁금하신 점이 있으신가요?",
				timeout: 7, yes: "anything_else", no: "goodbye", onInvalid: []string{"yes_or_no"}},
			{id: "yes_or_no", service: YesNo, prompt: "네 또는 아니오로 말씀해 주세요.", timeout: 7, yes: "anything_else", no: "goodbye", onInvalid: []string{"yes_or_no"}},
			{id: "anything_else", service: Listen, prompt: "무엇을 도와드릴까요?", timeout: 7, router: "main"},
			{id: "goodbye", service: Hangup, prompt: "이용해 주셔서 감사합니다. 좋은 하루 되세요."},
			{id: "refund_notice", service: Continue, prompt: "환불 관련 문의는 전문 상담원이 도와드립니다.", next: "refund_agent"},
			{id: "refund_agent", service: Transfer, prompt: "환불 담당 상담원을 연결해 드리겠습니다.", transfer: "40002"},
			{id: "agent", service: Transfer, prompt: agentPrompt, transfer: "40001"},
			{id: "agent_other", service: Transfer, prompt: "해당 문의는 상담원이 도와드리겠습니다. 잠시만 기다려 주세요.", transfer: "40001"},
			{id: "silence_reprompt", service: Listen, prompt: "말씀이 없으셔서 다시 여쭙겠습니다. 무엇을 도와드릴까요?", timeout: 7, router: "main"},
			{id: "silence_end", service: Hangup, prompt: endPrompt},
		}
		if len(f.Steps) != len(steps) {
			t.Errorf("SCENARIO01 has %d steps %v, want %d", len(f.Steps), slices.Sorted(maps.Keys(f.Steps)), len(steps))
		}
		id := func(s *Step) string {
			if s == nil {
				return ""
			}
			return s.ID
		}
		for _, w := range steps {
			t.Run(w.id, func(t *testing.T) {
				s := f.Steps[w.id]
				if s == nil {
					t.Fatalf("no step %s", w.id)
				}
				if s.Service != w.service || s.Prompt.String() != w.prompt || s.Timeout != w.timeout || s.Transfer != w.transfer {
					t.Errorf("step = %s %q timeout %d transfer %q; want %s %q timeout %d transfer %q",
						s.Service, s.Prompt.String(), s.Timeout, s.Transfer, w.service, w.prompt, w.timeout, w.transfer)
				}
				if id(s.Next) != w.next || id(s.Yes) != w.yes || id(s.No) != w.no {
					t.Errorf("next/yes/no = %q/%q/%q, want %q/%q/%q", id(s.Next), id(s.Yes), id(s.No), w.next, w.yes, w.no)
				}
				var onInvalid []string
				for _, o := range s.OnInvalid {
					onInvalid = append(onInvalid, o.ID)
				}
				if !slices.Equal(onInvalid, w.onInvalid) {
					t.Errorf("onInvalid = %v, want %v", onInvalid, w.onInvalid)
				}
				if (s.Router == nil) != (w.router == "") || (s.Router != nil && s.Router.Name != w.router) {
					t.Errorf("router = %v, want %q", s.Router, w.router)
				}
				if s.OnSilence != nil {
					t.Errorf("step overrides the silence policy: %v", s.OnSilence)
				}
				if w.dtmf == nil {
					if s.DTMF != nil {
						t.Errorf("DTMF = %+v on a %s step", s.DTMF, s.Service)
					}
					return
				}
				d := s.DTMF
				if d == nil || d.Length != w.dtmf.length || d.EndChar != w.dtmf.endChar || d.Sensitive != w.dtmf.sensitive || d.Capture != "" {
					t.Fatalf("DTMF = %+v, want %+v and no capture", d, *w.dtmf)
				}
				for in, want := range map[string]bool{"900101": true, "000000": true, "90010": false, "9001011": false, "90010a": false, "900101#": false, "": false} {
					if got := d.Pattern.MatchString(in); got != want {
						t.Errorf("pattern matches %q = %v, want %v", in, got, want)
					}
				}
			})
		}

		if got := f.Steps["greeting"].Prompt.Render(func(v string) string { return map[string]string{"name": "김민수"}[v] }); got != "안녕하세요 김민수님, 넥서스 고객센터입니다. 무엇을 도와드릴까요?" {
			t.Errorf("greeting renders %q", got)
		}
		if f.Start != f.Steps["greeting"] {
			t.Errorf("start = %s, want greeting", id(f.Start))
		}
		if len(f.OnSilence) != 2 || f.OnSilence[0] != f.Steps["silence_reprompt"] || f.OnSilence[1] != f.Steps["silence_end"] {
			t.Errorf("onSilence = %v, want [silence_reprompt silence_end]", f.OnSilence)
		}
		if Pick(f.OnSilence, 3) != f.Steps["silence_end"] {
			t.Error("a third silence does not end the call")
		}
		if f.OnSilenceEnd != f.Steps["silence_end"] || f.OnSilenceEnd.Prompt.String() != endPrompt {
			t.Errorf("무응답종료 → %s", id(f.OnSilenceEnd))
		}
		// A second wrong birth date transfers to the general queue.
		if s := Pick(f.Steps["birthdate_retry"].OnInvalid, 2); s == nil || s.Service != Transfer || s.Transfer != "40001" || s.Prompt.String() != agentPrompt {
			t.Errorf("second invalid DTMF → %+v", s)
		}

		r := f.Steps["greeting"].Router
		for _, s := range []string{"anything_else", "silence_reprompt"} {
			if f.Steps[s].Router != r {
				t.Errorf("%s reads utterances with another router", s)
			}
		}
		if r.Unavailable != f.Steps["agent"] {
			t.Errorf("unavailable → %s, want agent", id(r.Unavailable))
		}
		routes := map[string]string{"배송조회": "ask_birthdate", "배송지연": "ask_birthdate", "환불요청": "refund_notice",
			"환불진행조회": "refund_notice", "담당자확인전달요청": "agent", "상담원연결": "agent"}
		tax := ts["nexus"].Taxonomy
		for small := range routes {
			if _, ok := tax.Leaf(small); !ok {
				t.Errorf("small category %s is not in the nexus taxonomy", small)
			}
		}
		others := 0
		for _, c := range tax.Categories {
			want, ok := routes[c.Path[2]]
			if !ok {
				want = "agent_other"
				others++
			}
			if got := id(r.For(c.Path)); got != want {
				t.Errorf("router main: %s → %s, want %s", c.Path, got, want)
			}
		}
		if others == 0 {
			t.Error("no category exercises the otherwise route")
		}
		if got := id(r.For(classify.Path{"없는", "분류", "입니다"})); got != "agent_other" {
			t.Errorf("unknown path → %s, want agent_other", got)
		}
	})

	t.Run("star-wars", func(t *testing.T) {
		f := ts["nexus"].Flows["star-wars"]
		if f == nil || f.Start == nil {
			t.Fatal("no star-wars flow")
		}
		if s := f.Start; s.Service != Transfer || s.Transfer != "40001" || s.Prompt.String() != "상담원을 연결해 드리겠습니다. 잠시만 기다려 주세요." {
			t.Errorf("star-wars start = %+v", s)
		}
	})

	t.Run("hanbit", func(t *testing.T) {
		h := ts["hanbit"]
		if !maps.Equal(h.Bots, map[string]bool{"bot00002": true}) {
			t.Errorf("bots = %v, want bot00002", h.Bots)
		}
		if got := h.ScenarioCodes(); !slices.Equal(got, []string{"HANBIT01"}) {
			t.Fatalf("scenario codes = %v", got)
		}
		s := h.Flows["HANBIT01"].Start
		if s == nil || s.Service != Hangup || s.Prompt.String() != "한빛 고객센터입니다. 지금은 상담 시간이 아닙니다." {
			t.Errorf("HANBIT01 start = %+v", s)
		}
		if h.UnknownName != "고객" || len(h.Customers) != 0 {
			t.Errorf("UnknownName %q customers %v", h.UnknownName, h.Customers)
		}
	})

	t.Run("isolation", func(t *testing.T) {
		codes, bots := map[string]string{}, map[string]string{}
		for _, tn := range ts {
			for _, c := range tn.ScenarioCodes() {
				if o, dup := codes[c]; dup {
					t.Errorf("scenario code %s in %s and %s", c, o, tn.ID)
				}
				codes[c] = tn.ID
			}
			for b := range tn.Bots {
				if o, dup := bots[b]; dup {
					t.Errorf("bot %s in %s and %s", b, o, tn.ID)
				}
				bots[b] = tn.ID
			}
		}
		if bots["bot00001"] != "nexus" || bots["bot00002"] != "hanbit" || codes["SCENARIO01"] != "nexus" || codes["HANBIT01"] != "hanbit" {
			t.Errorf("owners: bots %v codes %v", bots, codes)
		}
	})
}

// checkLinked asserts that a compiled flow is runnable: every reference its
// steps' services need is set and points into the same flow.
func checkLinked(t testing.TB, f *Flow) {
	t.Helper()
	in := func(what string, s *Step) {
		t.Helper()
		if s == nil {
			t.Fatalf("flow %s: %s is nil", f.Code, what)
		}
		if f.Steps[s.ID] != s {
			t.Fatalf("flow %s: %s points at step %q outside the flow", f.Code, what, s.ID)
		}
	}
	if f.Tenant == nil || f.Tenant.Flows[f.Code] != f {
		t.Fatalf("flow %s is not its tenant's", f.Code)
	}
	in("start", f.Start)
	for i, s := range f.OnSilence {
		in(fmt.Sprintf("onSilence[%d]", i), s)
	}
	if f.OnSilenceEnd != nil {
		in("onSilenceEnd", f.OnSilenceEnd)
	}
	for id, s := range f.Steps {
		if s.ID != id {
			t.Fatalf("step %q has ID %q", id, s.ID)
		}
		for i, o := range s.OnInvalid {
			in(fmt.Sprintf("%s.onInvalid[%d]", id, i), o)
		}
		for i, o := range s.OnSilence {
			in(fmt.Sprintf("%s.onSilence[%d]", id, i), o)
		}
		if s.Prompt.String() == "" {
			t.Fatalf("step %s has no prompt", id)
		}
		listens := s.Service == Listen || s.Service == YesNo || s.Service == Digits
		if listens != (s.Timeout >= 1 && s.Timeout <= 600) || (!listens && s.Timeout != 0) {
			t.Fatalf("step %s (%s) timeout %d", id, s.Service, s.Timeout)
		}
		switch s.Service {
		case Listen:
			if s.Router == nil {
				t.Fatalf("S0000 step %s without router", id)
			}
			in(id+".router.otherwise", s.Router.Otherwise)
			if s.Router.Unavailable != nil {
				in(id+".router.unavailable", s.Router.Unavailable)
			}
			for p, to := range s.Router.byPath {
				in(fmt.Sprintf("%s.router[%s]", id, p), to)
				if !f.Tenant.Taxonomy.Contains(p) {
					t.Fatalf("router of %s routes %s, not in the taxonomy", id, p)
				}
			}
		case Hangup:
		case Continue:
			in(id+".next", s.Next)
		case YesNo:
			in(id+".yes", s.Yes)
			in(id+".no", s.No)
		case Digits:
			in(id+".next", s.Next)
			if s.DTMF == nil || s.DTMF.Pattern == nil || s.DTMF.Length < 1 || s.DTMF.Length > maxDTMFLength {
				t.Fatalf("S1000 step %s DTMF = %+v", id, s.DTMF)
			}
			if s.DTMF.Sensitive && s.DTMF.Capture != "" {
				t.Fatalf("sensitive step %s captures %q", id, s.DTMF.Capture)
			}
		case Transfer:
			if s.Transfer == "" || !digitsPattern.MatchString(s.Transfer) {
				t.Fatalf("S2000 step %s transfers to %q", id, s.Transfer)
			}
		default:
			t.Fatalf("step %s has service %q", id, s.Service)
		}
		if s.Service != Listen && s.Router != nil || s.Service != Digits && s.DTMF != nil || s.Service != Transfer && s.Transfer != "" {
			t.Fatalf("step %s (%s) has fields of another service", id, s.Service)
		}
	}
}

// acme is a small valid tenant the validation cases mutate. Line numbers in
// the cases refer to flowF1.
const (
	acmeTenant = `apiVersion: routebot/v1
id: acme
name: 에이크미
bots: [bot-acme]
queues:
  general: "40001"
  refunds: "40002"
`
	acmeTaxonomy = `# in the format of examples/tenants/hanbit/taxonomy.yaml
fallback: 기타/기타/상담원연결
categories:
  - path: 주문배송/배송/배송조회
    examples:
      - 배송 언제 와요
  - path: 주문배송/배송/배송지연
  - path: 결제환불/환불/환불요청
    examples:
      - 환불해 주세요
  - path: 결제환불/환불/환불진행조회
  - path: 결제환불/결제/결제오류
  - path: 기타/기타/상담원연결
`
	flowF1 = `code: F1
start: hello
onSilence: [hello, bye]
onSilenceEnd: bye
routers:
  main:
    routes:
      - when: [배송조회, 배송지연]
        to: pin
      - when: [결제환불]
        to: refund
    otherwise: agent
    unavailable: agent
steps:
  hello:
    service: S0000
    prompt: 안녕하세요 ${name}님
    router: main
  pin:
    service: S1000
    prompt: 생년월일 6자리를 입력해 주세요.
    dtmf: {length: 6, endChar: "#", sensitive: true}
    next: confirm
    onInvalid: [pin, agent]
  confirm:
    service: S0003
    prompt: 더 궁금하신 점이 있으신가요?
    yes: hello
    no: bye
  refund:
    service: S0002
    prompt: 환불 안내입니다.
    next: agent
  agent:
    service: S2000
    prompt: 상담원을 연결해 드리겠습니다.
    transfer: general
  bye:
    service: S0001
    prompt: 감사합니다.
`
)

func acmeFiles() store.TenantFiles {
	return store.TenantFiles{ID: "acme", Version: 1, Files: map[string][]byte{
		TenantFile:             []byte(acmeTenant),
		TaxonomyFile:           []byte(acmeTaxonomy),
		CustomersFile:          []byte("\"01012345678\": 김민수\n"),
		FlowsDir + "F1.yaml":   []byte(flowF1),
		FlowsDir + "README.md": []byte("not a flow"),
	}}
}

// edit replaces old with new in a file, failing the test when old is not
// there (a case that edits nothing would pass for the wrong reason).
func edit(t *testing.T, tf store.TenantFiles, file, old, new string) {
	t.Helper()
	s := string(tf.Files[file])
	if !strings.Contains(s, old) {
		t.Fatalf("test setup: %s does not contain %q", file, old)
	}
	tf.Files[file] = []byte(strings.Replace(s, old, new, 1))
}

func TestAcmeIsValid(t *testing.T) {
	tn, err := Parse(acmeFiles())
	if err != nil {
		t.Fatalf("Parse(acme): %v", err)
	}
	f := tn.Flows["F1"]
	checkLinked(t, f)
	if tn.Customers["01012345678"] != "김민수" || tn.UnknownName != "고객" {
		t.Errorf("customers %v unknown name %q", tn.Customers, tn.UnknownName)
	}
}

func TestParseIgnoresWhatIsNotATenantFile(t *testing.T) {
	// The same files ReadFS skips: a store may hold them too (an upload of
	// the whole folder), and they must not break the tenant.
	tf := acmeFiles()
	tf.Files["flows/drafts/F2.yaml"] = []byte("not: [a flow")
	tf.Files["notes.txt"] = []byte("메모")
	tn, err := Parse(tf)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got := tn.ScenarioCodes(); !slices.Equal(got, []string{"F1"}) {
		t.Errorf("scenario codes = %v, want [F1]", got)
	}
}

func TestBotKeyCountsCharacters(t *testing.T) {
	// text(50), as the wire decoder counts it: 50 Korean characters are 150 bytes.
	tf := acmeFiles()
	key := strings.Repeat("봇", 50)
	edit(t, tf, TenantFile, "bots: [bot-acme]", "bots: ["+key+"]")
	tn, err := Parse(tf)
	if err != nil {
		t.Fatalf("Parse with a 50-character bot key: %v", err)
	}
	if !tn.Bots[key] {
		t.Errorf("bots = %v", tn.Bots)
	}
}

func TestTimeouts(t *testing.T) {
	tests := []struct {
		name                  string
		edit                  func(t *testing.T, tf store.TenantFiles)
		listen, yesno, digits int
	}{
		{"built-in defaults", nil, 7, 7, 10},
		{"flow defaults", func(t *testing.T, tf store.TenantFiles) {
			edit(t, tf, "flows/F1.yaml", "start: hello\n", "start: hello\ndefaults: {listenTimeout: 5, dtmfTimeout: 20}\n")
		}, 5, 5, 20},
		{"step timeout wins", func(t *testing.T, tf store.TenantFiles) {
			edit(t, tf, "flows/F1.yaml", "    router: main\n", "    router: main\n    timeout: 3\n")
			edit(t, tf, "flows/F1.yaml", "    next: confirm\n", "    next: confirm\n    timeout: 30\n")
		}, 3, 7, 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tf := acmeFiles()
			if tt.edit != nil {
				tt.edit(t, tf)
			}
			tn, err := Parse(tf)
			if err != nil {
				t.Fatal(err)
			}
			s := tn.Flows["F1"].Steps
			got := [4]int{s["hello"].Timeout, s["confirm"].Timeout, s["pin"].Timeout, s["agent"].Timeout}
			if want := [4]int{tt.listen, tt.yesno, tt.digits, 0}; got != want {
				t.Errorf("timeouts S0000/S0003/S1000/S2000 = %v, want %v", got, want)
			}
		})
	}
}

func TestValidation(t *testing.T) {
	const f1 = "flows/F1.yaml"
	flow := func(old, new string) func(*testing.T, store.TenantFiles) {
		return func(t *testing.T, tf store.TenantFiles) { edit(t, tf, f1, old, new) }
	}
	type want struct {
		at     string // "acme/flows/F1.yaml:19: " — file, and line where one is known
		step   string // "" when the problem is not about a step or router
		reason string
	}
	tests := []struct {
		name   string
		mutate func(*testing.T, store.TenantFiles)
		want   want
	}{
		{"unknown step in next", flow("next: confirm", "next: confrim"), want{"acme/flows/F1.yaml:23: ", "pin", `next: unknown step "confrim"; did you mean "confirm"?`}},
		{"unknown step in yes", flow("yes: hello", "yes: helo"), want{"acme/flows/F1.yaml:28: ", "confirm", `yes: unknown step "helo"; did you mean "hello"?`}},
		{"unknown step in no", flow("no: bye", "no: bye-bye"), want{"acme/flows/F1.yaml:29: ", "confirm", `no: unknown step "bye-bye"`}},
		{"unknown step in onInvalid", flow("onInvalid: [pin, agent]", "onInvalid: [pin, agnet]"), want{"acme/flows/F1.yaml:24: ", "pin", `onInvalid[1]: unknown step "agnet"; did you mean "agent"?`}},
		{"unknown step in step onSilence", flow("    router: main\n", "    router: main\n    onSilence: [shh]\n"), want{"acme/flows/F1.yaml:19: ", "hello", `onSilence[0]: unknown step "shh"`}},
		{"unknown step in flow onSilence", flow("onSilence: [hello, bye]", "onSilence: [hello, quiet]"), want{"acme/flows/F1.yaml:3: ", "", `onSilence[1]: unknown step "quiet"`}},
		{"unknown step in onSilenceEnd", flow("onSilenceEnd: bye", "onSilenceEnd: gone"), want{"acme/flows/F1.yaml:4: ", "", `onSilenceEnd: unknown step "gone"`}},
		{"unknown start", flow("start: hello", "start: hi"), want{"acme/flows/F1.yaml:2: ", "", `start: unknown step "hi"`}},
		{"missing start", flow("start: hello\n", ""), want{"acme/flows/F1.yaml: ", "", "start is required"}},
		{"unknown step in route", flow("to: refund", "to: refnud"), want{"acme/flows/F1.yaml:11: ", "main", `routes[1].to: unknown step "refnud"; did you mean "refund"?`}},
		{"unknown step in otherwise", flow("otherwise: agent", "otherwise: agnt"), want{"acme/flows/F1.yaml:12: ", "main", `otherwise: unknown step "agnt"; did you mean "agent"?`}},
		{"missing otherwise", flow("    otherwise: agent\n", ""), want{"acme/flows/F1.yaml:6: ", "main", "otherwise is required"}},
		{"unknown step in unavailable", flow("unavailable: agent", "unavailable: agents"), want{"acme/flows/F1.yaml:13: ", "main", `unavailable: unknown step "agents"; did you mean "agent"?`}},
		{"router without routes", flow("    routes:\n      - when: [배송조회, 배송지연]\n        to: pin\n      - when: [결제환불]\n        to: refund\n", ""),
			want{"acme/flows/F1.yaml:6: ", "main", "router has no routes"}},
		{"route without when", flow("      - when: [결제환불]\n", "      - when: []\n"), want{"acme/flows/F1.yaml:10: ", "main", "routes[1].when: name at least one category"}},
		{"category not in taxonomy", flow("when: [결제환불]", "when: [결제환불, 우주여행]"), want{"acme/flows/F1.yaml:10: ", "main", `routes[1].when: category "우주여행" is not in the taxonomy`}},
		{"path not in taxonomy", flow("when: [결제환불]", "when: [결제환불/배송]"), want{"acme/flows/F1.yaml:10: ", "main", `category "결제환불/배송" is not in the taxonomy; did you mean "결제환불/결제"?`}},
		{"S1000 without dtmf", flow(`    dtmf: {length: 6, endChar: "#", sensitive: true}`+"\n", ""), want{"acme/flows/F1.yaml:19: ", "pin", "S1000 needs dtmf.length"}},
		{"S1000 with dtmf.length 0", flow("length: 6,", "length: 0,"), want{"acme/flows/F1.yaml:22: ", "pin", "S1000 needs dtmf.length"}},
		{"dtmf.length too long", flow("length: 6,", "length: 33,"), want{"acme/flows/F1.yaml:22: ", "pin", "dtmf.length 33: at most 32"}},
		{"bad dtmf.endChar", flow(`endChar: "#"`, `endChar: "0"`), want{"acme/flows/F1.yaml:22: ", "pin", `dtmf.endChar "0": want # or *`}},
		{"bad dtmf.pattern", flow(`endChar: "#",`, `endChar: "#", pattern: "[0-9",`), want{"acme/flows/F1.yaml:22: ", "pin", "dtmf.pattern: error parsing regexp"}},
		{"capture on a sensitive step", flow("sensitive: true}", "sensitive: true, capture: birth}"), want{"acme/flows/F1.yaml:22: ", "pin", "dtmf.capture: a sensitive step's digits are never kept"}},
		{"capture of a builtin", flow("sensitive: true}", "capture: phone}"), want{"acme/flows/F1.yaml:22: ", "pin", `dtmf.capture "phone": not a usable variable name`}},
		{"S2000 without transfer", flow("    transfer: general\n", ""), want{"acme/flows/F1.yaml:34: ", "agent", "S2000 needs transfer"}},
		{"transfer to unknown queue", flow("transfer: general", "transfer: sales"), want{"acme/flows/F1.yaml:37: ", "agent", `transfer: "sales" is neither a queue in tenant.yaml (general, refunds) nor a number (digits only)`}},
		{"S0000 without router", flow("    router: main\n", ""), want{"acme/flows/F1.yaml:15: ", "hello", "S0000 needs router"}},
		{"unknown router", flow("router: main", "router: mian"), want{"acme/flows/F1.yaml:18: ", "hello", `router: unknown router "mian"; did you mean "main"?`}},
		{"unreachable step", flow("  bye:\n", "  orphan:\n    service: S0001\n    prompt: 아무도 안 와요\n  bye:\n"), want{"acme/flows/F1.yaml:38: ", "orphan", "unreachable"}},
		{"unused router", flow("steps:\n", "  spare:\n    routes: [{when: [배송조회], to: agent}]\n    otherwise: agent\nsteps:\n"), want{"acme/flows/F1.yaml:14: ", "spare", `router "spare" is not used by any S0000 step`}},
		{"bad service code", flow("service: S0001", "service: S0004"), want{"acme/flows/F1.yaml:39: ", "bye", `service "S0004": want S0000 (listen), S0001 (hang up), S0002 (continue), S0003 (yes/no), S1000 (digits) or S2000 (transfer)`}},
		{"missing service", flow("    service: S0001\n", ""), want{"acme/flows/F1.yaml:38: ", "bye", `service "": want`}},
		{"missing prompt", flow("    prompt: 감사합니다.\n", ""), want{"acme/flows/F1.yaml:38: ", "bye", "prompt is required"}},
		{"prompt with unknown var", flow("${name}님", "${nmae}님"), want{"acme/flows/F1.yaml:17: ", "hello", `prompt uses ${nmae}: not a variable (phone, name, category1..3, answer, or a dtmf.capture); did you mean "name"?`}},
		{"prompt with captured var is fine but capture of unknown shape is not", flow("sensitive: true}", "capture: 생일}"), want{"acme/flows/F1.yaml:22: ", "pin", `dtmf.capture "생일": not a usable variable name`}},
		{"dtmf on an S0000 step", flow("    router: main\n", "    router: main\n    dtmf: {length: 4}\n"), want{"acme/flows/F1.yaml:19: ", "hello", "dtmf does not apply to an S0000 step (it takes router, timeout)"}},
		{"transfer on an S0001 step", flow("    prompt: 감사합니다.\n", "    prompt: 감사합니다.\n    transfer: general\n"), want{"acme/flows/F1.yaml:41: ", "bye", "transfer does not apply to an S0001 step (it takes only service, prompt and onSilence)"}},
		{"next on an S0003 step", flow("    no: bye\n", "    no: bye\n    next: hello\n"), want{"acme/flows/F1.yaml:30: ", "confirm", "next does not apply to an S0003 step (it takes yes, no, timeout, onInvalid)"}},
		{"timeout out of range", flow("    router: main\n", "    router: main\n    timeout: 601\n"), want{"acme/flows/F1.yaml:19: ", "hello", "timeout 601: want 1 to 600 seconds"}},
		{"bad step name", flow("  bye:\n", "  무응답:\n    service: S0001\n    prompt: x\n  bye:\n"), want{"acme/flows/F1.yaml:38: ", "무응답", "step name"}},
		{"unknown YAML key", flow("    prompt: 감사합니다.", "    promt: 감사합니다."), want{"acme/flows/F1.yaml:40: ", "bye", `unknown key "promt"; did you mean "prompt"?`}},
		{"YAML syntax error", flow("  refund:\n", "  refund\n"), want{"acme/flows/F1.yaml:30: ", "", "could not find expected ':'"}},
		{"no steps", func(t *testing.T, tf store.TenantFiles) { tf.Files[f1] = []byte("code: F1\nstart: x\nsteps: {}\n") }, want{"acme/flows/F1.yaml:3: ", "", "a flow needs at least one step"}},
		{"code not matching file name", flow("code: F1", "code: F2"), want{"acme/flows/F1.yaml:1: ", "", `code "F2" does not match the file name "F1"`}},
		{"missing code", flow("code: F1\n", ""), want{"acme/flows/F1.yaml: ", "", "code (the scenario code) is required"}},
		{"wrong apiVersion", func(t *testing.T, tf store.TenantFiles) { edit(t, tf, TenantFile, "routebot/v1", "routebot/v2") },
			want{"acme/tenant.yaml:1: ", "", `apiVersion must be "routebot/v1", not "routebot/v2"`}},
		{"id not matching folder", func(t *testing.T, tf store.TenantFiles) { edit(t, tf, TenantFile, "id: acme", "id: acme2") },
			want{"acme/tenant.yaml:2: ", "", `id "acme2" does not match the tenant folder "acme"`}},
		{"unknown tenant.yaml key", func(t *testing.T, tf store.TenantFiles) { edit(t, tf, TenantFile, "bots:", "bot:") },
			want{"acme/tenant.yaml:4: ", "", `unknown key "bot"; did you mean "bots"?`}},
		{"no bots", func(t *testing.T, tf store.TenantFiles) { edit(t, tf, TenantFile, "bots: [bot-acme]", "bots: []") },
			want{"acme/tenant.yaml:4: ", "", "at least one ChatBotKey"}},
		{"bot key too long", func(t *testing.T, tf store.TenantFiles) {
			edit(t, tf, TenantFile, "bots: [bot-acme]", "bots: ["+strings.Repeat("b", 51)+"]")
		}, want{"acme/tenant.yaml:4: ", "", "must be 1 to 50 characters"}},
		{"queue not digits", func(t *testing.T, tf store.TenantFiles) { edit(t, tf, TenantFile, `"40002"`, `"4000x"`) },
			want{"acme/tenant.yaml:7: ", "", `queues.refunds: "4000x": a queue's number is digits only (no dashes or spaces)`}},
		{"bad classifier backend", func(t *testing.T, tf store.TenantFiles) {
			tf.Files[TenantFile] = append(tf.Files[TenantFile], "classifier: {backend: gpt}\n"...)
		},
			want{"acme/tenant.yaml:8: ", "", `classifier.backend "gpt"`}},
		{"customer phone not digits", func(t *testing.T, tf store.TenantFiles) {
			tf.Files[CustomersFile] = []byte("\"01012345678\": 김\n010-12x4: 이\n")
		},
			want{"acme/customers.yaml:2: ", "", "phone 010*12x4: digits only (dashes and spaces are allowed and dropped)"}},
		{"missing tenant.yaml", func(t *testing.T, tf store.TenantFiles) { delete(tf.Files, TenantFile) }, want{"acme/tenant.yaml: ", "", "file is missing"}},
		{"missing taxonomy.yaml", func(t *testing.T, tf store.TenantFiles) { delete(tf.Files, TaxonomyFile) }, want{"acme/taxonomy.yaml: ", "", "file is missing"}},
		{"broken taxonomy.yaml", func(t *testing.T, tf store.TenantFiles) {
			edit(t, tf, TaxonomyFile, "fallback: 기타/기타/상담원연결", "fallback: 기타/상담원연결")
		}, want{"acme/taxonomy.yaml:", "", "want large/middle/small"}},
		{"no flows", func(t *testing.T, tf store.TenantFiles) { delete(tf.Files, f1) }, want{"acme/flows/: ", "", "no flows"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tf := acmeFiles()
			tt.mutate(t, tf)
			tn, err := Parse(tf)
			if err == nil {
				t.Fatalf("Parse accepted the files (flows %v)", tn.ScenarioCodes())
			}
			if tn != nil {
				t.Errorf("Parse returned a tenant with its error")
			}
			var perr *Error
			if !errors.As(err, &perr) || len(perr.Problems) == 0 {
				t.Fatalf("Parse error %T %v, want *Error with problems", err, err)
			}
			prefix := tt.want.at
			if tt.want.step != "" {
				prefix += tt.want.step + ": "
			}
			for _, p := range perr.Problems {
				s := p.String()
				if strings.HasPrefix(s, prefix) && strings.Contains(s, tt.want.reason) {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("Error() does not list %q", s)
					}
					return
				}
			}
			t.Errorf("no problem %q…%q in:\n%v", prefix, tt.want.reason, err)
		})
	}
}

func TestValidationReportsEveryProblem(t *testing.T) {
	tf := acmeFiles()
	edit(t, tf, "flows/F1.yaml", "next: confirm", "next: confrim")       // pin: unknown step (and no cascade: confirm is not reported unreachable)
	edit(t, tf, "flows/F1.yaml", "transfer: general", "transfer: sales") // agent: unknown queue
	edit(t, tf, "flows/F1.yaml", "${name}님", "${nmae}님")                 // hello: unknown var
	edit(t, tf, "flows/F1.yaml", "service: S0001", "service: S9999")     // bye: bad service
	edit(t, tf, TenantFile, "bots: [bot-acme]", "bots: []")              // tenant.yaml
	_, err := Parse(tf)
	var perr *Error
	if !errors.As(err, &perr) {
		t.Fatalf("Parse = %v, want *Error", err)
	}
	want := []string{ // in this order: by file, then by line
		"acme/tenant.yaml:4: bots: at least one ChatBotKey is required",
		"acme/flows/F1.yaml:17: hello: prompt uses ${nmae}",
		`acme/flows/F1.yaml:23: pin: next: unknown step "confrim"; did you mean "confirm"?`,
		`acme/flows/F1.yaml:37: agent: transfer: "sales" is neither a queue`,
		`acme/flows/F1.yaml:39: bye: service "S9999"`,
	}
	if len(perr.Problems) != len(want) {
		t.Fatalf("%d problems, want %d:\n%v", len(perr.Problems), len(want), err)
	}
	for i, w := range want {
		if got := perr.Problems[i].String(); !strings.HasPrefix(got, w) {
			t.Errorf("problem %d = %q, want %q…", i, got, w)
		}
	}
}

func TestUnknownKeysAllReported(t *testing.T) {
	tf := acmeFiles()
	edit(t, tf, "flows/F1.yaml", "    prompt: 감사합니다.", "    promt: 감사합니다.")
	edit(t, tf, "flows/F1.yaml", "    next: agent", "    nxet: agent")
	_, err := Parse(tf)
	var perr *Error
	if !errors.As(err, &perr) {
		t.Fatalf("Parse = %v, want *Error", err)
	}
	want := []string{`acme/flows/F1.yaml:33: refund: unknown key "nxet"; did you mean "next"?`, `acme/flows/F1.yaml:40: bye: unknown key "promt"; did you mean "prompt"?`}
	var got []string
	for _, p := range perr.Problems {
		got = append(got, p.String())
	}
	if len(got) != len(want) {
		t.Fatalf("problems = %q, want %d", got, len(want))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("problem %d = %q, want %q…", i, got[i], want[i])
		}
	}
}

func TestParseAllAcrossTenants(t *testing.T) {
	other := func(id, bot, code string) store.TenantFiles {
		return store.TenantFiles{ID: id, Version: 1, Files: map[string][]byte{
			TenantFile:                []byte("apiVersion: routebot/v1\nid: " + id + "\nbots: [" + bot + "]\n"),
			TaxonomyFile:              []byte(acmeTaxonomy),
			FlowsDir + code + ".yaml": []byte("code: " + code + "\nstart: bye\nsteps:\n  bye:\n    service: S0001\n    prompt: 안녕히 계세요\n"),
		}}
	}
	broken := other("gamma", "bot-gamma", "G1")
	delete(broken.Files, TaxonomyFile)
	tests := []struct {
		name string
		tfs  []store.TenantFiles
		want []string // problems, in full
	}{
		{"distinct", []store.TenantFiles{acmeFiles(), other("beta", "bot-beta", "B1")}, nil},
		{"duplicate scenario code", []store.TenantFiles{acmeFiles(), other("beta", "bot-beta", "F1")},
			[]string{`beta/flows/F1.yaml:1: scenario code "F1" is also tenant "acme"'s`}},
		{"duplicate bot", []store.TenantFiles{acmeFiles(), other("beta", "bot-acme", "B1")},
			[]string{`beta/tenant.yaml:3: bot "bot-acme" is also tenant "acme"'s`}},
		{"a broken tenant's problems are listed with the others", []store.TenantFiles{other("beta", "bot-acme", "B1"), acmeFiles(), broken},
			[]string{`acme/tenant.yaml:4: bot "bot-acme" is also tenant "beta"'s`, "gamma/taxonomy.yaml: file is missing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, err := ParseAll(tt.tfs)
			if tt.want == nil {
				if err != nil || len(ts) != len(tt.tfs) {
					t.Fatalf("ParseAll = %d tenants, %v", len(ts), err)
				}
				return
			}
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("ParseAll = %v, want *Error", err)
			}
			if ts != nil {
				t.Errorf("ParseAll returned tenants with its error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not report %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestCategoryRoutes(t *testing.T) {
	// Routes by full path, by prefix (large, large/middle), by bare small
	// category; the first route naming a path wins.
	const routes = `code: F1
start: hello
routers:
  main:
    routes:
      - when: [결제환불/환불/환불요청]
        to: full
      - when: [결제환불/환불]
        to: middle
      - when: [결제환불]
        to: large
      - when: [배송조회]
        to: small
      - when: [주문배송, 환불요청]
        to: late
    otherwise: other
steps:
  hello: {service: S0000, prompt: 네, router: main}
  full: {service: S2000, prompt: a, transfer: "1"}
  middle: {service: S2000, prompt: b, transfer: "2"}
  large: {service: S2000, prompt: c, transfer: "3"}
  small: {service: S2000, prompt: d, transfer: "4"}
  late: {service: S2000, prompt: e, transfer: "5"}
  other: {service: S2000, prompt: f, transfer: "6"}
`
	tf := acmeFiles()
	tf.Files["flows/F1.yaml"] = []byte(routes)
	tn, err := Parse(tf)
	if err != nil {
		t.Fatal(err)
	}
	r := tn.Flows["F1"].Steps["hello"].Router
	tests := []struct {
		path string
		want string
	}{
		{"결제환불/환불/환불요청", "full"},     // full path, before the prefixes and the later bare name
		{"결제환불/환불/환불진행조회", "middle"}, // large/middle prefix
		{"결제환불/결제/결제오류", "large"},    // large prefix
		{"주문배송/배송/배송조회", "small"},    // bare small category, before the later large prefix
		{"주문배송/배송/배송지연", "late"},     // large prefix
		{"기타/기타/상담원연결", "other"},     // no route names it
		{"없는/분류/예요", "other"},        // not even in the taxonomy
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			p, err := classify.ParsePath(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.For(p); got == nil || got.ID != tt.want {
				t.Errorf("For(%s) = %v, want %s", tt.path, got, tt.want)
			}
		})
	}
	if r.Unavailable != nil {
		t.Errorf("Unavailable = %s, want nil when the flow names none", r.Unavailable.ID)
	}
}

// fuzzTenant is the demo tenant nexus with one fuzzed flow file as its only
// flow, and its taxonomy without the example utterances (the categories are
// what flows refer to; the examples would only slow each run).
func fuzzTenant(nexus store.TenantFiles, code string, flow []byte) store.TenantFiles {
	tf := store.TenantFiles{ID: nexus.ID, Version: nexus.Version, Files: map[string][]byte{}}
	for name, data := range nexus.Files {
		if !strings.HasPrefix(name, FlowsDir) {
			tf.Files[name] = data
		}
	}
	tf.Files[FlowsDir+code+".yaml"] = flow
	return tf
}

func withoutExamples(t testing.TB, taxonomy []byte) []byte {
	tax, err := classify.DecodeTaxonomy(taxonomy)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("fallback: " + tax.Fallback.String() + "\ncategories:\n")
	for _, c := range tax.Categories {
		b.WriteString("  - path: " + c.Path.String() + "\n")
	}
	return []byte(b.String())
}

func FuzzParseFlow(f *testing.F) {
	tfs, err := ReadFS(examples.Tenants, "tenants")
	if err != nil {
		f.Fatal(err)
	}
	var nexus store.TenantFiles
	for _, tf := range tfs {
		if tf.ID == "nexus" {
			nexus = tf
		}
	}
	nexus.Files[TaxonomyFile] = withoutExamples(f, nexus.Files[TaxonomyFile])
	for _, code := range []string{"SCENARIO01", "star-wars"} {
		data, ok := nexus.Files[FlowsDir+code+".yaml"]
		if !ok {
			f.Fatalf("demo tenant nexus has no flow %s", code)
		}
		f.Add(code, data)
	}
	f.Add("F1", []byte(flowF1))
	for _, broken := range []string{
		"", "code: F1", "code: F1\nsteps: {}\n", "code: F1\nstart: a\nsteps:\n  a: {service: S0002, next: a, prompt: x}\n",
		"code: F1\nstart: a\nsteps:\n  a: {service: S1000, prompt: x, dtmf: {length: 4, pattern: '(', capture: a}}\n",
		"code: F1\nstart: a\nsteps:\n  a: [1, 2]\n", "code: [F1]\n", "- a\n- b\n", "code: F1\nsteps: &a {a: *a}\n",
		"code: F1\nstart: a\nonSilence: [a, a, b]\nrouters: {r: {routes: [{when: [결제환불], to: a}], otherwise: a}}\nsteps:\n  a: {service: S0000, prompt: '${x', router: r}\n",
		"\t\x00bad", "code: F1\nstart: a\nsteps:\n  a: {service: S0003, prompt: 네?, yes: a, no: a, timeout: -1}\n",
	} {
		f.Add("F1", []byte(broken))
	}
	f.Fuzz(func(t *testing.T, code string, flow []byte) {
		tn, err := Parse(fuzzTenant(nexus, code, flow))
		if err != nil {
			var perr *Error
			if !errors.As(err, &perr) || len(perr.Problems) == 0 {
				t.Fatalf("Parse error %T %v: want *Error with problems", err, err)
			}
			if tn != nil {
				t.Fatal("Parse returned a tenant with its error")
			}
			for _, p := range perr.Problems {
				if !strings.HasPrefix(p.File, "nexus/") || p.Msg == "" || p.Line < 0 {
					t.Fatalf("problem %+v: want a file under nexus/, a message, a line ≥ 0", p)
				}
			}
			return
		}
		if len(tn.Flows) != 1 || tn.Flows[code] == nil {
			t.Fatalf("flows = %v, want just %q", tn.ScenarioCodes(), code)
		}
		checkLinked(t, tn.Flows[code])
	})
}

func BenchmarkParseDemoTenant(b *testing.B) {
	tfs, err := ReadFS(examples.Tenants, "tenants")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseAll(tfs); err != nil {
			b.Fatal(err)
		}
	}
}
