package tenant

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/routebot/routebot/common/classify"
	"github.com/routebot/routebot/common/store"
	"github.com/routebot/routebot/examples"
)

var updateDiagrams = flag.Bool("update-diagrams", false, "rewrite testdata/*.mmd from Flow.Mermaid")

// compiledDemo compiles the demo tenants the repository ships.
func compiledDemo(t *testing.T) map[string]*Tenant {
	t.Helper()
	tfs, err := ReadFS(examples.Tenants, "tenants")
	if err != nil {
		t.Fatal(err)
	}
	ts, err := ParseAll(tfs)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*Tenant{}
	for _, tn := range ts {
		out[tn.ID] = tn
	}
	return out
}

func TestMermaidGolden(t *testing.T) {
	demo := compiledDemo(t)
	tests := []struct {
		name, tenant, code string
	}{
		{"SCENARIO01", "nexus", "SCENARIO01"},
		{"star-wars", "nexus", "star-wars"},
		{"HANBIT01", "hanbit", "HANBIT01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := demo[tt.tenant].Flows[tt.code]
			if f == nil {
				t.Fatalf("no flow %s in tenant %s", tt.code, tt.tenant)
			}
			got := f.Mermaid()
			if again := f.Mermaid(); again != got {
				t.Fatal("Mermaid is not deterministic")
			}
			path := filepath.Join("testdata", "diagram-"+tt.name+".mmd")
			if *updateDiagrams {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run TestMermaidGolden -update-diagrams to create it)", err)
			}
			if got != string(want) {
				t.Errorf("Mermaid() differs from %s:\n--- got\n%s\n--- want\n%s", path, got, want)
			}
		})
	}
}

// TestMermaidEdges checks the demo's edges one by one, independently of the
// golden file, so that a wrong golden cannot be blessed unnoticed.
func TestMermaidEdges(t *testing.T) {
	got := compiledDemo(t)["nexus"].Flows["SCENARIO01"].Mermaid()
	for _, want := range []string{
		"flowchart TD\n",
		"    start((start))\n",
		"    start --> greeting\n",
		"    greeting --> router_main\n",
		`    router_main -->|"배송조회, 배송지연"| ask_birthdate` + "\n",
		`    router_main -->|"환불요청, 환불진행조회"| refund_notice` + "\n",
		`    router_main -->|"담당자확인전달요청, 상담원연결"| agent` + "\n",
		`    router_main -->|"otherwise"| agent_other` + "\n",
		`    router_main -->|"unavailable"| agent` + "\n",
		`    ask_birthdate -->|"next"| delivery_status` + "\n",
		`    ask_birthdate -->|"invalid #1"| birthdate_retry` + "\n",
		`    ask_birthdate -->|"invalid #2…"| agent` + "\n",
		`    delivery_status -->|"yes"| anything_else` + "\n",
		`    delivery_status -->|"no"| goodbye` + "\n",
		`    refund_notice -->|"next"| refund_agent` + "\n",
		`    silence -->|"무응답 #1"| silence_reprompt` + "\n",
		`    silence -->|"무응답 #2…"| silence_end` + "\n",
		`    silence -->|"무응답종료"| silence_end` + "\n",
		`    agent[["agent<br/>S2000 → 40001<br/>`,
		`    ask_birthdate[/"ask_birthdate<br/>S1000 · 6 digits<br/>`,
		`    delivery_status{"delivery_status<br/>S0003<br/>`,
		`    goodbye(["goodbye<br/>S0001<br/>`,
		`    greeting["greeting<br/>S0000<br/>안녕하세요 $#123;name#125;님`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("diagram lacks %q", want)
		}
	}
	// 1 start + 3 steps using the router + 13 step exits + 5 router exits + 3 silence.
	if n := strings.Count(got, "-->"); n != 25 {
		t.Errorf("%d edges, want 25", n)
	}
}

// oddFlow has ids Mermaid cannot take as they are, text that needs escaping,
// a step-level silence policy and a route by large category.
const oddFlow = `code: ODD
start: end
routers:
  r.1:
    routes:
      - when: [결제환불]
        to: a.b
    otherwise: end
steps:
  end:
    service: S0000
    prompt: '"y" [o] {n} <b>|x| #35; &'
    router: r.1
    onSilence: [a.b]
  a.b:
    service: S2000
    prompt: 연결합니다.
    transfer: "40001"
`

const oddTaxonomy = `fallback: 기타/기타/기타
categories:
  - path: 결제환불/환불/환불요청
    examples: [환불]
  - path: 결제환불/결제/결제오류
    examples: [결제 오류]
  - path: 기타/기타/기타
    examples: [기타]
`

func TestMermaidEscapesAndRenames(t *testing.T) {
	tn, err := Parse(store.TenantFiles{ID: "odd", Version: 1, Files: map[string][]byte{
		TenantFile:            []byte("apiVersion: routebot/v1\nid: odd\nbots: [b1]\n"),
		TaxonomyFile:          []byte(oddTaxonomy),
		FlowsDir + "ODD.yaml": []byte(oddFlow),
	}})
	if err != nil {
		t.Fatal(err)
	}
	got := tn.Flows["ODD"].Mermaid()
	tests := []struct {
		name, want string
	}{
		{"dotted id renamed", `    step[["a.b<br/>S2000 → 40001<br/>연결합니다."]]` + "\n"},
		{"keyword id renamed, text escaped", `    step1["end<br/>S0000<br/>#34;y#34; #91;o#93; #123;n#125; #60;b#62;#124;x#124; #35;35; #38;"]` + "\n"},
		{"dotted router renamed", `    router{{"router r.1"}}` + "\n"},
		{"start", "    start --> step1\n"},
		{"step uses router", "    step1 --> router\n"},
		{"step-level silence", `    step1 -->|"무응답 #1…"| step` + "\n"},
		{"large-category route lists its leaves", `    router -->|"결제오류, 환불요청"| step` + "\n"},
		{"otherwise", `    router -->|"otherwise"| step1` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(got, tt.want) {
				t.Errorf("diagram lacks %q:\n%s", tt.want, got)
			}
		})
	}
	if strings.Contains(got, "silence on any step") {
		t.Error("a flow without a silence policy got the silence marker")
	}
}

func TestRoutes(t *testing.T) {
	r := compiledDemo(t)["nexus"].Flows["SCENARIO01"].Steps["greeting"].Router
	got := r.Routes()
	want := []struct {
		to    string
		paths []string
	}{
		{"agent", []string{"기타/기타/담당자확인전달요청", "기타/기타/상담원연결"}},
		{"ask_birthdate", []string{"주문배송/배송/배송조회", "주문배송/배송/배송지연"}},
		{"refund_notice", []string{"결제환불/환불/환불요청", "결제환불/환불/환불진행조회"}},
	}
	if len(got) != len(want) {
		t.Fatalf("Routes() = %d targets, want %d", len(got), len(want))
	}
	for i, w := range want {
		if got[i].To.ID != w.to {
			t.Errorf("route %d goes to %s, want %s", i, got[i].To.ID, w.to)
		}
		var paths []string
		for _, p := range got[i].Paths {
			paths = append(paths, p.String())
		}
		if strings.Join(paths, " ") != strings.Join(w.paths, " ") {
			t.Errorf("route %d paths %v, want %v", i, paths, w.paths)
		}
		for _, p := range got[i].Paths {
			if r.For(p) != got[i].To {
				t.Errorf("For(%s) = %v, want %s", p, r.For(p), w.to)
			}
		}
	}
	if r.For(classify.Path{"수강교재", "수강", "수강신청"}).ID != "agent_other" {
		t.Error("an unrouted category does not go to otherwise")
	}
}

func TestShorten(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"short", "무엇을 도와드릴까요?", "무엇을 도와드릴까요?"},
		{"a little over is kept", strings.Repeat("가", 30), strings.Repeat("가", 30)},
		{"cut at a space", strings.Repeat("가", 20) + " " + strings.Repeat("나", 20), strings.Repeat("가", 20) + "…"},
		{"no space: cut at n", strings.Repeat("가", 40), strings.Repeat("가", 28) + "…"},
		{"whitespace folded", "a\n  b\tc", "a b c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := shorten(tt.in, promptRunes); got != tt.want {
				t.Errorf("shorten(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
