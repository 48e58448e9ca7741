package tenant

import (
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/routebot/routebot/common/store"
)

// TestAuthoringMistakes makes one deliberate mistake in one tenant file per
// case and wants exactly the problems listed: each at its file and line,
// naming the step or key, with a suggestion where one is close, and nothing
// else (no problem that is only a consequence of another).
func TestAuthoringMistakes(t *testing.T) {
	const f1 = FlowsDir + "F1.yaml"
	in := func(file, old, new string) func(*testing.T, store.TenantFiles) {
		return func(t *testing.T, tf store.TenantFiles) { edit(t, tf, file, old, new) }
	}
	appendTo := func(file, text string) func(*testing.T, store.TenantFiles) {
		return func(t *testing.T, tf store.TenantFiles) { tf.Files[file] = append(tf.Files[file], text...) }
	}
	rename := func(from, to string) func(*testing.T, store.TenantFiles) {
		return func(t *testing.T, tf store.TenantFiles) {
			tf.Files[to] = tf.Files[from]
			delete(tf.Files, from)
		}
	}
	customers := func(text string) func(*testing.T, store.TenantFiles) {
		return func(t *testing.T, tf store.TenantFiles) { tf.Files[CustomersFile] = []byte(text) }
	}
	tests := []struct {
		name   string
		mutate func(*testing.T, store.TenantFiles)
		want   []string
	}{
		// tenant.yaml
		{"tenant.yaml: misspelt key", appendTo(TenantFile, "classifer: {backend: llm}\n"),
			[]string{`acme/tenant.yaml:8: unknown key "classifer"; did you mean "classifier"?`}},
		{"tenant.yaml: misspelt nested key", appendTo(TenantFile, "classifier: {backnd: llm}\n"),
			[]string{`acme/tenant.yaml:8: classifier: unknown key "backnd"; did you mean "backend"?`}},
		{"tenant.yaml: misspelt backend", appendTo(TenantFile, "classifier:\n  backend: dialogflw\n"),
			[]string{`acme/tenant.yaml:9: classifier.backend "dialogflw": want embedded, llm or dialogflow (or empty: the deployment's default); did you mean "dialogflow"?`}},
		{"tenant.yaml: a list written as text", in(TenantFile, "bots: [bot-acme]", "bots: bot-acme"),
			[]string{`acme/tenant.yaml:4: bots: want a list, not a single value`}},
		{"tenant.yaml: queue number with dashes", in(TenantFile, `"40002"`, `"400-02"`),
			[]string{`acme/tenant.yaml:7: queues.refunds: "400-02": a queue's number is digits only (no dashes or spaces)`}},
		{"tenant.yaml: key given twice", appendTo(TenantFile, "name: 또\n"),
			[]string{`acme/tenant.yaml:8: "name" is given twice (first on line 3)`}},
		{"tenant.yml", rename(TenantFile, "tenant.yml"),
			[]string{"acme/tenant.yml: not read: tenant files end in .yaml; rename it tenant.yaml"}},

		// taxonomy.yaml
		{"taxonomy.yaml: misspelt fallback", in(TaxonomyFile, "fallback: 기타/기타/상담원연결", "fallback: 기타/기타/상담원연걸"),
			[]string{`acme/taxonomy.yaml:2: fallback 기타/기타/상담원연걸 is not one of the categories; did you mean "기타/기타/상담원연결"?`}},
		{"taxonomy.yaml: path of two levels", in(TaxonomyFile, "path: 주문배송/배송/배송지연", "path: 주문배송/배송지연"),
			[]string{`acme/taxonomy.yaml:7: categories[1].path: category "주문배송/배송지연": want large/middle/small`}},
		{"taxonomy.yaml: category listed twice", in(TaxonomyFile, "path: 결제환불/결제/결제오류", "path: 결제환불/환불/환불요청"),
			[]string{"acme/taxonomy.yaml:12: categories[4].path: category 결제환불/환불/환불요청 is listed twice (first on line 8)"}},
		{"taxonomy.yaml: small category under two paths", in(TaxonomyFile, "path: 결제환불/결제/결제오류", "path: 결제환불/결제/환불요청"),
			[]string{`acme/taxonomy.yaml:12: categories[4].path: small category "환불요청" is also under 결제환불/환불/환불요청 (line 8): a small category names one path`}},
		{"taxonomy.yaml: misspelt key", in(TaxonomyFile, "    examples:\n      - 환불해", "    exmaples:\n      - 환불해"),
			[]string{`acme/taxonomy.yaml:9: categories[2]: unknown key "exmaples"; did you mean "examples"?`}},
		{"taxonomy.yaml: no fallback", in(TaxonomyFile, "fallback: 기타/기타/상담원연결\n", ""),
			[]string{"acme/taxonomy.yaml: fallback is required: the category of an utterance no category fits (large/middle/small)"}},
		{"taxonomy.yml", rename(TaxonomyFile, "taxonomy.yml"),
			[]string{"acme/taxonomy.yml: not read: tenant files end in .yaml; rename it taxonomy.yaml"}},

		// customers.yaml
		{"customers.yaml: a letter in a phone number", customers("\"01012345678\": 김민수\n010-99x9-8888: 이서연\n"),
			[]string{"acme/customers.yaml:2: phone 010******8888: digits only (dashes and spaces are allowed and dropped)"}},
		{"customers.yaml: the same number twice", customers("\"01012345678\": 김민수\n010-1234-5678: 김민호\n"),
			[]string{"acme/customers.yaml:2: phone 010******5678 is listed twice (first on line 1)"}},
		{"customers.yaml: no name", customers("\"01012345678\":\n"),
			[]string{"acme/customers.yaml:1: phone 010****5678: want the customer's name after the colon"}},
		{"customers.yaml: too long", customers("\"" + strings.Repeat("1", 36) + "\": 김\n"),
			[]string{"acme/customers.yaml:1: phone 111*****************************1111 has 36 digits: at most 35"}},
		{"customers.yaml: a list", customers("- \"01012345678\": 김민수\n"),
			[]string{"acme/customers.yaml:1: want phone: name entries, not a list"}},
		{"customers.yml", rename(CustomersFile, "customers.yml"),
			[]string{"acme/customers.yml: not read: tenant files end in .yaml; rename it customers.yaml"}},

		// flows/*.yaml
		{"flow: misspelt step key", in(f1, "onInvalid: [pin, agent]", "onInvaild: [pin, agent]"),
			[]string{`acme/flows/F1.yaml:24: pin: unknown key "onInvaild"; did you mean "onInvalid"?`}},
		{"flow: misspelt dtmf key", in(f1, "{length: 6,", "{lenght: 6,"),
			[]string{`acme/flows/F1.yaml:22: pin: dtmf: unknown key "lenght"; did you mean "length"?`}},
		{"flow: misspelt top-level key", in(f1, "onSilenceEnd: bye", "onSilenceEnd: bye\ndescripton: x"),
			[]string{`acme/flows/F1.yaml:5: unknown key "descripton"; did you mean "description"?`}},
		{"flow: a word for a number", in(f1, "    router: main\n", "    router: main\n    timeout: seven\n"),
			[]string{`acme/flows/F1.yaml:19: hello: timeout: want a whole number, not the text "seven"`}},
		{"flow: a quoted number", in(f1, "{length: 6,", `{length: "6",`),
			[]string{`acme/flows/F1.yaml:22: pin: dtmf.length: want a whole number, not the text "6"`}},
		{"flow: a list for a step", in(f1, "    yes: hello", "    yes: [hello]"),
			[]string{"acme/flows/F1.yaml:28: confirm: yes: want a single value, not a list"}},
		{"flow: steps as a list", func(t *testing.T, tf store.TenantFiles) {
			tf.Files[f1] = []byte("code: F1\nstart: a\nsteps:\n  - a\n")
		}, []string{"acme/flows/F1.yaml:4: steps: want key: value entries, not a list"}},
		{"flow: wrong category, its step reached no other way", in(f1, "when: [결제환불]", "when: [결재환불]"),
			[]string{`acme/flows/F1.yaml:10: main: routes[1].when: category "결재환불" is not in the taxonomy; did you mean "결제환불"?`}},
		{"flow: misspelt next, its target reached no other way", in(f1, "next: confirm", "next: confrim"),
			[]string{`acme/flows/F1.yaml:23: pin: next: unknown step "confrim"; did you mean "confirm"?`}},
		{"flow: next nowhere near a step", in(f1, "next: confirm", "next: xyz"),
			[]string{`acme/flows/F1.yaml:23: pin: next: unknown step "xyz"`}},
		{"flow: misspelt router", in(f1, "router: main", "router: mian"),
			[]string{`acme/flows/F1.yaml:18: hello: router: unknown router "mian"; did you mean "main"?`}},
		{"flow: misspelt start", in(f1, "start: hello", "start: helo"),
			[]string{`acme/flows/F1.yaml:2: start: unknown step "helo"; did you mean "hello"?`}},
		{"flow: unknown service still leads on", in(f1, "service: S0003", "service: S003"),
			[]string{`acme/flows/F1.yaml:26: confirm: service "S003": want S0000 (listen), S0001 (hang up), S0002 (continue), S0003 (yes/no), S1000 (digits) or S2000 (transfer)`}},
		{"flow: yes/no written as next", in(f1, "    yes: hello\n    no: bye\n", "    next: hello\n"),
			[]string{
				"acme/flows/F1.yaml:25: confirm: yes is required: the step for a yes",
				"acme/flows/F1.yaml:25: confirm: no is required: the step for a no",
				"acme/flows/F1.yaml:28: confirm: next does not apply to an S0003 step (it takes yes, no, timeout, onInvalid)",
			}},
		{"flow: an unreachable chain is one problem", in(f1, "  bye:\n", "  orphan:\n    service: S0002\n    prompt: 아무도\n    next: orphan2\n  orphan2:\n    service: S0001\n    prompt: 안 와요\n  bye:\n"),
			[]string{"acme/flows/F1.yaml:38: orphan: unreachable: no step, router or silence policy leads here (nor, through it, to orphan2)"}},
		{"flow: an unreachable step's router is not also reported", func(t *testing.T, tf store.TenantFiles) {
			edit(t, tf, f1, "  bye:\n", "  orphan:\n    service: S0000\n    prompt: 아무도\n    router: spare\n  bye:\n")
			edit(t, tf, f1, "steps:\n", "  spare:\n    routes: [{when: [배송조회], to: agent}]\n    otherwise: agent\nsteps:\n")
		}, []string{"acme/flows/F1.yaml:41: orphan: unreachable: no step, router or silence policy leads here"}},
		{"flow: an unused router", in(f1, "steps:\n", "  spare:\n    routes: [{when: [배송조회], to: agent}]\n    otherwise: agent\nsteps:\n"),
			[]string{`acme/flows/F1.yaml:14: spare: router "spare" is not used by any S0000 step`}},
		{"flow: code does not match the file", in(f1, "code: F1", "code: F2"),
			[]string{`acme/flows/F1.yaml:1: code "F2" does not match the file name "F1"`}},
		{"flow named .yml beside the others", func(t *testing.T, tf store.TenantFiles) {
			tf.Files[FlowsDir+"F3.yml"] = []byte("code: F3")
		}, []string{"acme/flows/F3.yml: not read: tenant files end in .yaml; rename it F3.yaml"}},
		{"the only flow named .yml", rename(f1, FlowsDir+"F1.yml"),
			[]string{"acme/flows/F1.yml: not read: tenant files end in .yaml; rename it F1.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tf := acmeFiles()
			tt.mutate(t, tf)
			_, err := Parse(tf)
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("Parse = %v, want *Error", err)
			}
			var got []string
			for _, p := range perr.Problems {
				got = append(got, p.String())
				if p.Line == 0 && !strings.HasSuffix(p.File, ".yml") && !strings.Contains(p.Msg, "is required") {
					t.Errorf("problem without a line: %s", p)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}

func TestCustomerPhonesWithDashes(t *testing.T) {
	// Copied from a spreadsheet: kept as the digits the gateway sends.
	tf := acmeFiles()
	tf.Files[CustomersFile] = []byte("010-1234-5678: 김민수\n\"010 9999 8888\": 이서연\n")
	tn, err := Parse(tf)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"01012345678": "김민수", "01099998888": "이서연"}; !maps.Equal(tn.Customers, want) {
		t.Errorf("customers = %v, want %v", tn.Customers, want)
	}
}

func TestProblemsNeverShowCustomers(t *testing.T) {
	// Problems are logged by the server: a customer's number only masked,
	// their name never.
	tf := acmeFiles()
	tf.Files[CustomersFile] = []byte("\"0101234567x\": 김민수\n\"01012345678\": 이서연\n\"01012345678\": 박지훈\n")
	_, err := Parse(tf)
	if err == nil {
		t.Fatal("Parse accepted the directory")
	}
	for _, secret := range []string{"0101234567", "01012345678", "김민수", "이서연", "박지훈"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("the problems show %q:\n%v", secret, err)
		}
	}
}

func TestDidYouMean(t *testing.T) {
	keys := []string{"service", "prompt", "timeout", "router", "next", "yes", "no", "dtmf", "transfer", "onInvalid", "onSilence"}
	tests := []struct {
		got, want string
	}{
		{"onInvaild", "onInvalid"}, // a swap is one edit
		{"promt", "prompt"},
		{"OnInvalid", "onInvalid"}, // case does not count
		{"nxet", "next"},
		{"timout", "timeout"},
		{"transfr", "transfer"},
		{"colour", ""}, // nothing close
		{"x", ""},
		{strings.Repeat("a", 100), ""},
	}
	for _, tt := range tests {
		t.Run(tt.got, func(t *testing.T) {
			got, ok := closest(tt.got, keys)
			if ok != (tt.want != "") || ok && got != tt.want {
				t.Errorf("closest(%q) = %q, %v; want %q", tt.got, got, ok, tt.want)
			}
		})
	}
	if got := didYouMean("배송지연됨", []string{"배송지연", "배송조회"}); got != `; did you mean "배송지연"?` {
		t.Errorf("Korean: %q", got)
	}
}

func TestMaskPhone(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"mobile", "01012345678", "010****5678"},
		{"landline", "0212345678", "021***5678"},
		{"short", "1234567", "*****67"},
		{"tiny", "12", "*2"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MaskPhone(tt.in); got != tt.want {
				t.Errorf("MaskPhone(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// FuzzParseTenantFiles feeds tenant.yaml, taxonomy.yaml and customers.yaml
// of the acme tenant: any input is a tenant or problems with lines ≥ 0,
// and a problem never shows a customer's name.
func FuzzParseTenantFiles(f *testing.F) {
	f.Add([]byte(acmeTenant), []byte(acmeTaxonomy), []byte("\"01012345678\": 김민수\n"))
	f.Add([]byte(acmeTenant+"classifier: {backnd: x, dialogflow: {intents: {a: ''}}}\nbots: [a, a]\n"),
		[]byte("fallback: a/b\ncategories:\n  - path: [a]\n  - {path: a/b/c, exmaples: 1}\n  - path: a/b/c\n  - path: x/y/c\n"),
		[]byte("- a\n"))
	f.Add([]byte("queues: {a: 1-2}\nbots: x\n"), []byte("fallback: &a a/b/c\ncategories: [{path: *a}]\n"), []byte("010-1234-5678: 김\n\"010 1234 5678\": 이\n"))
	f.Add([]byte(""), []byte(""), []byte(""))
	f.Fuzz(func(t *testing.T, tenantYAML, taxonomy, customers []byte) {
		tf := acmeFiles()
		tf.Files[TenantFile], tf.Files[TaxonomyFile], tf.Files[CustomersFile] = tenantYAML, taxonomy, customers
		tn, err := Parse(tf)
		if err == nil {
			checkLinked(t, tn.Flows["F1"])
			for phone := range tn.Customers {
				if !digitsPattern.MatchString(phone) || len(phone) > maxPhone {
					t.Fatalf("customer phone %q kept", phone)
				}
			}
			return
		}
		var perr *Error
		if !errors.As(err, &perr) || len(perr.Problems) == 0 || tn != nil {
			t.Fatalf("Parse = %v, %v: want *Error with problems and no tenant", tn, err)
		}
		for _, p := range perr.Problems {
			if p.Line < 0 || p.Msg == "" {
				t.Fatalf("problem %+v", p)
			}
			if p.File == "acme/"+CustomersFile && strings.Contains(p.Msg, "김민수") {
				t.Fatalf("problem shows a name: %s", p)
			}
		}
	})
}
