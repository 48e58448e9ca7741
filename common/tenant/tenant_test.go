package tenant

import (
	"reflect"
	"testing"
)

func TestTemplate(t *testing.T) {
	vars := map[string]string{"phone": "01012345678", "name": "김민수"}
	lookup := func(v string) string {
		if s, ok := vars[v]; ok {
			return s
		}
		return "<" + v + ">"
	}
	tests := []struct {
		name     string
		in       string
		wantVars []string
		want     string // rendered
	}{
		{"empty", "", nil, ""},
		{"no vars", "상담원을 연결해 드리겠습니다.", nil, "상담원을 연결해 드리겠습니다."},
		{"phone", "${phone}", []string{"phone"}, "01012345678"},
		{"name with Korean around", "안녕하세요 ${name}님, 넥서스 고객센터입니다.", []string{"name"}, "안녕하세요 김민수님, 넥서스 고객센터입니다."},
		{"phone and name", "${name}님 ${phone} 번호로 연락드릴게요", []string{"name", "phone"}, "김민수님 01012345678 번호로 연락드릴게요"},
		{"adjacent vars", "${name}${phone}", []string{"name", "phone"}, "김민수01012345678"},
		{"repeated var", "${name}, ${name}", []string{"name", "name"}, "김민수, 김민수"},
		{"unknown var goes to lookup", "분류: ${category3}", []string{"category3"}, "분류: <category3>"},
		{"unclosed ${ is literal", "안녕 ${name", nil, "안녕 ${name"},
		{"closed then unclosed", "${name}님 ${phone", []string{"name"}, "김민수님 ${phone"},
		{"dollar alone", "$", nil, "$"},
		{"dollars and braces", "$ 10 {x} $name }", nil, "$ 10 {x} $name }"},
		{"${ alone", "${", nil, "${"},
		{"empty var name", "a${}b", []string{""}, "a<>b"},
		{"brace before var", "} ${name} {", []string{"name"}, "} 김민수 {"},
		{"var at end", "고객님 성함은 ${name}", []string{"name"}, "고객님 성함은 김민수"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl := ParseTemplate(tt.in)
			if !reflect.DeepEqual(tpl.Vars, tt.wantVars) {
				t.Errorf("ParseTemplate(%q).Vars = %q, want %q", tt.in, tpl.Vars, tt.wantVars)
			}
			if got := tpl.Render(lookup); got != tt.want {
				t.Errorf("Render = %q, want %q", got, tt.want)
			}
			if got := tpl.String(); got != tt.in {
				t.Errorf("String() = %q, want the template as written %q", got, tt.in)
			}
		})
	}
}

func TestTemplateRenderWithoutVarsSkipsLookup(t *testing.T) {
	called := false
	if got := ParseTemplate("고정 문구").Render(func(string) string { called = true; return "" }); got != "고정 문구" || called {
		t.Errorf("Render = %q, lookup called = %v; want the text and no lookup", got, called)
	}
}

func TestPick(t *testing.T) {
	a, b := &Step{ID: "a"}, &Step{ID: "b"}
	tests := []struct {
		name   string
		policy []*Step
		n      int
		want   *Step
	}{
		{"empty policy", nil, 1, nil},
		{"n zero", []*Step{a, b}, 0, nil},
		{"n negative", []*Step{a, b}, -1, nil},
		{"first", []*Step{a, b}, 1, a},
		{"second", []*Step{a, b}, 2, b},
		{"last repeats", []*Step{a, b}, 9, b},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Pick(tt.policy, tt.n); got != tt.want {
				t.Errorf("Pick(%d) = %v, want %v", tt.n, got, tt.want)
			}
		})
	}
}
