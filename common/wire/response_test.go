package wire

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from AppendJSON's output")

// goldenResponses are one response per ServiceCode shape plus the error
// envelopes, with the demo tenant's prompts (DEMO_TENANT.md).
var goldenResponses = []struct {
	name string
	resp Response
}{
	{"S0000_listen", Response{CallID: "DS0000000001", ChatBotKey: "bot00001", Code: OK, ServiceCode: "S0000", ScenarioCode: "greeting",
		Description: "안녕하세요 김민수님, 넥서스 고객센터입니다. 무엇을 도와드릴까요?", Timeout: 7}},
	{"S0001_hangup", Response{CallID: "DS0000000001", ChatBotKey: "bot00001", Code: OK, ServiceCode: "S0001", ScenarioCode: "goodbye",
		Description: "이용해 주셔서 감사합니다. 좋은 하루 되세요."}},
	{"S0002_continue", Response{CallID: "DS0000000001", ChatBotKey: "bot00001", Code: OK, ServiceCode: "S0002", ScenarioCode: "refund_notice",
		Description: "환불 관련 문의는 전문 상담원이 도와드립니다."}},
	{"S0003_yesno", Response{CallID: "DS0000000001", ChatBotKey: "bot00001", Code: OK, ServiceCode: "S0003", ScenarioCode: "delivery_status",
		Description: "확인되었습니다. 주문하신 상품은 배송 중이며 1~2일 내 도착 예정입니다. 더 궁금하신 점이 있으신가요?", Timeout: 7}},
	{"S1000_digits", Response{CallID: "DS0000000001", ChatBotKey: "bot00001", Code: OK, ServiceCode: "S1000", ScenarioCode: "ask_birthdate",
		Description: "주문자 확인을 위해 생년월일 6자리를 입력해 주세요.", DtmfLength: 6, DtmfEndChar: "#", Timeout: 10}},
	{"S2000_transfer", Response{CallID: "DS0000000001", ChatBotKey: "bot00001", Code: OK, ServiceCode: "S2000", ScenarioCode: "agent",
		Description: "상담원을 연결해 드리겠습니다. 잠시만 기다려 주세요.", TransferNumber: "40001"}},
	{"error_401", ErrorResponse(Request{CallID: "DS0000000001", ChatBotKey: "bot00001"}, Errorf(Unauthorized, "bearer token is invalid"))},
	{"error_412", ErrorResponse(Request{}, Errorf(BadParameter, "CallId is required"))},
}

func TestResponseGolden(t *testing.T) {
	for _, tt := range goldenResponses {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.resp.AppendJSON(nil)
			path := filepath.Join("testdata", tt.name+".golden")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("AppendJSON =\n%s\nwant (%s)\n%s", got, path, want)
			}

			// Appending keeps what the buffer held.
			prefix := []byte("prefix:")
			if got := tt.resp.AppendJSON(prefix); !bytes.Equal(got, append([]byte("prefix:"), want...)) {
				t.Errorf("AppendJSON(prefix) = %s", got)
			}
		})
	}
}

// TestGoldenFilesAreTheContract reads the goldens as the gateway would.
func TestGoldenFilesAreTheContract(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(goldenResponses) {
		t.Errorf("%d golden files, want %d (one per goldenResponses entry): %v", len(files), len(goldenResponses), files)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(data, &m); err != nil {
				t.Fatalf("not JSON: %v", err)
			}
			for _, k := range []string{"CallId", "ChatBotKey", "Result", "ServiceCode", "TransCode", "Description"} {
				if _, ok := m[k]; !ok {
					t.Errorf("field %s missing", k)
				}
			}
			code, ok := m["TransCode"].(string)
			if !ok {
				t.Fatalf("TransCode = %#v, want a JSON string", m["TransCode"])
			}
			wantResult := "N"
			if code == "200" {
				wantResult = "Y"
			}
			if m["Result"] != wantResult {
				t.Errorf("Result = %v with TransCode %s, want %s", m["Result"], code, wantResult)
			}
			if _, ok := m["TransferNumber"]; ok {
				t.Error("TransferNumber present: the gateway reads the misspelt TransfterNumber")
			}
			switch m["ServiceCode"] {
			case "S2000":
				if _, ok := m["TransfterNumber"].(string); !ok {
					t.Errorf("S2000 without TransfterNumber as a string: %s", data)
				}
			case "S1000":
				if _, ok := m["DtmfLength"].(float64); !ok {
					t.Errorf("S1000 without a numeric DtmfLength: %s", data)
				}
			}
			for k, v := range m {
				if _, isNum := v.(float64); isNum && k != "DtmfLength" && k != "Timeout" {
					t.Errorf("%s is a JSON number, want a string", k)
				}
			}
		})
	}
}

func TestResponseMatchesSeedSample(t *testing.T) {
	// Seed 003's sample response; ours adds the ScenarioCode of the step.
	const seed = `{ "CallId":"DS0000000001", "ChatBotKey":"bot00001", "Result": "Y", "ServiceCode": "S2000", "TransCode": "200", "TransfterNumber" : "40001", "Description": "상담원을 연결해 드리겠습니다. 잠시만 기다려 주세요." }`
	var want, got map[string]any
	if err := json.Unmarshal([]byte(seed), &want); err != nil {
		t.Fatal(err)
	}
	want["ScenarioCode"] = "agent"
	r := Response{CallID: "DS0000000001", ChatBotKey: "bot00001", Code: OK, ServiceCode: "S2000", ScenarioCode: "agent",
		Description: "상담원을 연결해 드리겠습니다. 잠시만 기다려 주세요.", TransferNumber: "40001"}
	if err := json.Unmarshal(r.AppendJSON(nil), &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("AppendJSON decodes to\n %v\nwant (seed sample)\n %v", got, want)
	}
}

func TestResponseOptionalFields(t *testing.T) {
	tests := []struct {
		name    string
		resp    Response
		present []string
		absent  []string
	}{
		{"zero response", Response{}, []string{`"Result":"N"`, `"ServiceCode":""`, `"TransCode":""`, `"ScenarioCode":""`},
			[]string{"DtmfLength", "DtmfEndChar", "TransfterNumber", "Timeout"}},
		{"DtmfLength without end char", Response{Code: OK, DtmfLength: 4}, []string{`"Result":"Y"`, `"DtmfLength":4`},
			[]string{"DtmfEndChar", "TransfterNumber", "Timeout"}},
		{"negative numbers are unset", Response{DtmfLength: -1, Timeout: -5}, nil, []string{"DtmfLength", "Timeout"}},
		{"large timeout", Response{Timeout: 600}, []string{`"Timeout":600}`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(tt.resp.AppendJSON(nil))
			if !json.Valid([]byte(got)) {
				t.Fatalf("AppendJSON = %s: not JSON", got)
			}
			for _, s := range tt.present {
				if !strings.Contains(got, s) {
					t.Errorf("AppendJSON = %s, want it to contain %s", got, s)
				}
			}
			for _, s := range tt.absent {
				if strings.Contains(got, s) {
					t.Errorf("AppendJSON = %s, want no %s", got, s)
				}
			}
		})
	}
}

func TestErrorResponse(t *testing.T) {
	got := ErrorResponse(Request{CallID: "C1", ChatBotKey: "bot00001", Customer: "010"}, Errorf(NotFound, "scenario %q", "NOPE"))
	want := Response{CallID: "C1", ChatBotKey: "bot00001", Code: NotFound, Description: `[Error]Not found!: scenario "NOPE"`}
	if got != want {
		t.Errorf("ErrorResponse = %+v, want %+v", got, want)
	}
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	strs := []string{
		"", "plain ascii", "상담원을 연결해 드리겠습니다.", `"quoted"`, `back\slash`, `\"`, `\\\`,
		"tab\tnew\nline\rcr", "\b\f", "<script>&amp;</script>", "\u2028 line sep \u2029 para sep", "😀 emoji 👩‍👩‍👧", "\U0010FFFF",
		"\xff", "a\xffb", "\xc3\x28", "\xe2\x82", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\uFFFD valid replacement",
		"mixed \x00 nul \x1f unit sep \x7f del 가\xfe나",
	}
	var ctl strings.Builder
	for c := 0; c < 0x20; c++ {
		strs = append(strs, string(rune(c)), "x"+string(rune(c))+"y")
		ctl.WriteByte(byte(c))
	}
	strs = append(strs, ctl.String())
	for b := 0x80; b < 0x100; b++ { // every lone high byte
		strs = append(strs, "가"+string([]byte{byte(b)})+"나")
	}
	for _, s := range strs {
		enc := appendString(nil, s)
		var got string
		if err := json.Unmarshal(enc, &got); err != nil {
			t.Errorf("appendString(%q) = %s: not a JSON string: %v", s, enc, err)
			continue
		}
		std, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var want string
		if err := json.Unmarshal(std, &want); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("appendString(%q) = %s decodes to %q; encoding/json round-trips to %q", s, enc, got, want)
		}
		if bytes.ContainsAny(enc, "\u2028\u2029") {
			t.Errorf("appendString(%q) = %s: U+2028/U+2029 left unescaped", s, enc)
		}
		for _, c := range enc {
			if c < 0x20 {
				t.Errorf("appendString(%q) = %q: raw control byte %#x", s, enc, c)
				break
			}
		}
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	r := goldenResponses[4].resp // S1000: every optional field but the transfer
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = r.AppendJSON(buf[:0])
	}
	b.SetBytes(int64(len(buf)))
}
