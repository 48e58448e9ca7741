package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// seedBody is seed 003 §1.2.1's sample request body, byte for byte: the space
// after a comma and the trailing comma are the real gateway's.
const seedBody = `{"CallId":"DS0000000001","ChatBotKey":"bot00001","Customer":"01012345678", "Agent":1000,"IsFirstChat":"Y","ChatMsg":"담당자확인전달요청",}`

// body builds a request body from the required fields plus extra members
// (raw JSON, already comma-separated), so a case shows only what it is about.
func body(extra string) string {
	b := `{"CallId":"C1","ChatBotKey":"bot00001","Customer":"01012345678","Agent":1000`
	if extra != "" {
		b += "," + extra
	}
	return b + "}"
}

// base is what body("") decodes to; cases adjust a copy.
func base(adjust func(*Request)) Request {
	r := Request{CallID: "C1", ChatBotKey: "bot00001", Customer: "01012345678", Agent: "1000"}
	if adjust != nil {
		adjust(&r)
	}
	return r
}

func TestDecodeRequest(t *testing.T) {
	type want struct {
		req    Request
		code   Code   // "" when the body must decode
		reason string // substring of the 412's reason
	}
	ok := func(r Request) want { return want{req: r} }
	bad := func(reason string) want { return want{code: BadParameter, reason: reason} }

	korean := func(n int) string { return strings.Repeat("가", n) }
	tests := []struct {
		name string
		body string
		want want
	}{
		{"seed sample body, trailing comma and all", seedBody, ok(Request{CallID: "DS0000000001", ChatBotKey: "bot00001",
			Customer: "01012345678", Agent: "1000", ChatMsg: "담당자확인전달요청", IsFirstChat: true})},

		// Agent: int(5), as a number or a numeric string.
		{"Agent as number", body(""), ok(base(nil))},
		{"Agent as numeric string", `{"CallId":"C1","ChatBotKey":"bot00001","Customer":"01012345678","Agent":"1000"}`, ok(base(nil))},
		{"Agent 01000 keeps its leading zero", `{"CallId":"C1","ChatBotKey":"bot00001","Customer":"01012345678","Agent":"01000"}`,
			ok(base(func(r *Request) { r.Agent = "01000" }))},
		{"Agent of one digit", `{"CallId":"C1","ChatBotKey":"bot00001","Customer":"01012345678","Agent":7}`,
			ok(base(func(r *Request) { r.Agent = "7" }))},
		{"Agent 0", `{"CallId":"C1","ChatBotKey":"bot00001","Customer":"01012345678","Agent":0}`,
			ok(base(func(r *Request) { r.Agent = "0" }))},
		{"Agent of 6 digits", `{"CallId":"C1","ChatBotKey":"bot00001","Customer":"01012345678","Agent":100000}`, bad("Agent is longer than 5")},
		{"Agent of 6 digits as string", `{"CallId":"C1","ChatBotKey":"bot00001","Customer":"01012345678","Agent":"100000"}`, bad("Agent is longer than 5")},
		{"Agent not digits", `{"CallId":"C1","ChatBotKey":"bot00001","Customer":"01012345678","Agent":"10a0"}`, bad("Agent must be an extension of 1 to 5 digits")},
		{"Agent negative", `{"CallId":"C1","ChatBotKey":"bot00001","Customer":"01012345678","Agent":-100}`, bad("Agent must be an extension")},
		{"Agent float", `{"CallId":"C1","ChatBotKey":"bot00001","Customer":"01012345678","Agent":10.5}`, bad("Agent must be an extension")},
		{"Agent exponent", `{"CallId":"C1","ChatBotKey":"bot00001","Customer":"01012345678","Agent":1e3}`, bad("Agent must be an extension")},
		{"Agent bool", `{"CallId":"C1","ChatBotKey":"bot00001","Customer":"01012345678","Agent":true}`, bad("Agent must be text")},
		{"Agent blank string", `{"CallId":"C1","ChatBotKey":"bot00001","Customer":"01012345678","Agent":"  "}`, bad("Agent is required")},

		// The gateway's trailing commas, and commas that are not trailing.
		{"trailing commas in nested arrays and objects", body(`"ChatMsg":"x","Extra":[1,2,[3,4,],{"a":[],},],"Obj":{"k":"v" ,
		 },`), ok(base(func(r *Request) { r.ChatMsg = "x" }))},
		{"comma before ] with whitespace", body(`"Extra":[1 ,	
 ]`), ok(base(nil))},
		{"commas inside strings untouched", body(`"ChatMsg":"a,}"`), ok(base(func(r *Request) { r.ChatMsg = "a,}" }))},
		{"comma and bracket inside string", body(`"ChatMsg":"a, ]",`), ok(base(func(r *Request) { r.ChatMsg = "a, ]" }))},
		{"escaped quotes in strings", body(`"ChatMsg":"say \"hi,}\" ok",`), ok(base(func(r *Request) { r.ChatMsg = `say "hi,}" ok` }))},
		{"escaped backslash before closing quote", body(`"ChatMsg":"dir\\",`), ok(base(func(r *Request) { r.ChatMsg = `dir\` }))},
		{"double comma is still an error", body(`"ChatMsg":"x",,`), bad("not a JSON object")},

		// Fields beyond the table.
		{"unknown fields ignored", body(`"Foo":{"bar":[1,{"baz":null}]},"Qux":true,"Extra":"x"`), ok(base(nil))},
		{"null fields are absent", body(`"ChatMsg":null,"DTMF":null,"Answer":null,"ScenarioCode":null,"IsFirstChat":null`), ok(base(nil))},
		{"empty optional fields are absent", body(`"ChatMsg":"","DTMF":"","Answer":""`), ok(base(nil))},
		{"all optional fields", body(`"ChatMsg":"배송 조회","DTMF":"12*#","Answer":"네","ScenarioCode":"ask_birthdate","IsFirstChat":"N"`),
			ok(base(func(r *Request) {
				r.ChatMsg, r.DTMF, r.Answer, r.ScenarioCode = "배송 조회", "12*#", "네", "ask_birthdate"
			}))},
		{"silence ScenarioCode", body(`"ScenarioCode":"무응답"`), ok(base(func(r *Request) { r.ScenarioCode = Silence }))},
		{"text fields sent as numbers", `{"CallId":12345,"ChatBotKey":"bot00001","Customer":1012345678,"Agent":1000}`,
			ok(base(func(r *Request) { r.CallID, r.Customer = "12345", "1012345678" }))},

		// Required fields.
		{"missing CallId", `{"ChatBotKey":"bot00001","Customer":"01012345678","Agent":1000}`, bad("CallId is required")},
		{"null CallId", `{"CallId":null,"ChatBotKey":"bot00001","Customer":"01012345678","Agent":1000}`, bad("CallId is required")},
		{"blank CallId", `{"CallId":" \t ","ChatBotKey":"bot00001","Customer":"01012345678","Agent":1000}`, bad("CallId is required")},
		{"missing ChatBotKey", `{"CallId":"C1","Customer":"01012345678","Agent":1000}`, bad("ChatBotKey is required")},
		{"missing Customer", `{"CallId":"C1","ChatBotKey":"bot00001","Agent":1000}`, bad("Customer is required")},
		{"missing Agent", `{"CallId":"C1","ChatBotKey":"bot00001","Customer":"01012345678"}`, bad("Agent is required")},
		{"all missing names CallId first", `{}`, bad("CallId is required")},
		{"JSON null body", `null`, bad("CallId is required")},

		// Lengths are characters: a Korean rune counts as one.
		{"CallId of 255", fmt.Sprintf(`{"CallId":%q,"ChatBotKey":"b","Customer":"1","Agent":1}`, strings.Repeat("x", 255)),
			ok(Request{CallID: strings.Repeat("x", 255), ChatBotKey: "b", Customer: "1", Agent: "1"})},
		{"CallId of 256", fmt.Sprintf(`{"CallId":%q,"ChatBotKey":"b","Customer":"1","Agent":1}`, strings.Repeat("x", 256)), bad("CallId is longer than 255")},
		{"CallId of 255 Korean runes", fmt.Sprintf(`{"CallId":%q,"ChatBotKey":"b","Customer":"1","Agent":1}`, korean(255)),
			ok(Request{CallID: korean(255), ChatBotKey: "b", Customer: "1", Agent: "1"})},
		{"CallId of 256 Korean runes", fmt.Sprintf(`{"CallId":%q,"ChatBotKey":"b","Customer":"1","Agent":1}`, korean(256)), bad("CallId is longer than 255")},
		{"ChatBotKey of 50", fmt.Sprintf(`{"CallId":"C","ChatBotKey":%q,"Customer":"1","Agent":1}`, korean(50)),
			ok(Request{CallID: "C", ChatBotKey: korean(50), Customer: "1", Agent: "1"})},
		{"ChatBotKey of 51", fmt.Sprintf(`{"CallId":"C","ChatBotKey":%q,"Customer":"1","Agent":1}`, strings.Repeat("k", 51)), bad("ChatBotKey is longer than 50")},
		{"Customer of 35", fmt.Sprintf(`{"CallId":"C","ChatBotKey":"b","Customer":%q,"Agent":1}`, strings.Repeat("1", 35)),
			ok(Request{CallID: "C", ChatBotKey: "b", Customer: strings.Repeat("1", 35), Agent: "1"})},
		{"Customer of 36", fmt.Sprintf(`{"CallId":"C","ChatBotKey":"b","Customer":%q,"Agent":1}`, strings.Repeat("1", 36)), bad("Customer is longer than 35")},
		{"spaces do not count toward the limit", fmt.Sprintf(`{"CallId":"C","ChatBotKey":"b","Customer":%q,"Agent":1}`, "  "+strings.Repeat("1", 35)+"  "),
			ok(Request{CallID: "C", ChatBotKey: "b", Customer: strings.Repeat("1", 35), Agent: "1"})},
		{"ScenarioCode of 256", body(fmt.Sprintf(`"ScenarioCode":%q`, strings.Repeat("s", 256))), bad("ScenarioCode is longer than 255")},
		{"DTMF of 65", body(fmt.Sprintf(`"ScenarioCode":"s","DTMF":%q`, strings.Repeat("1", 65))), bad("DTMF is longer than 64")},

		// DTMF.
		{"DTMF without ScenarioCode", body(`"DTMF":"1234"`), bad("ScenarioCode is required with DTMF")},
		{"DTMF with letters", body(`"DTMF":"12a4","ScenarioCode":"ask_birthdate"`), bad("DTMF may hold only 0-9, * and #")},
		{"DTMF with the end key", body(`"DTMF":"900101#","ScenarioCode":"ask_birthdate"`),
			ok(base(func(r *Request) { r.DTMF, r.ScenarioCode = "900101#", "ask_birthdate" }))},
		{"DTMF as number", body(`"DTMF":900101,"ScenarioCode":"ask_birthdate"`),
			ok(base(func(r *Request) { r.DTMF, r.ScenarioCode = "900101", "ask_birthdate" }))},

		// Text fields given something else.
		{"object for ChatMsg", body(`"ChatMsg":{"text":"hi"}`), bad("ChatMsg must be text")},
		{"array for Customer", `{"CallId":"C1","ChatBotKey":"bot00001","Customer":["010"],"Agent":1000}`, bad("Customer must be text")},
		{"bool for CallId", `{"CallId":true,"ChatBotKey":"bot00001","Customer":"01012345678","Agent":1000}`, bad("CallId must be text")},
		{"bool for DTMF", body(`"DTMF":false,"ScenarioCode":"s"`), bad("DTMF must be text")},
		{"array for ScenarioCode", body(`"ScenarioCode":[]`), bad("ScenarioCode must be text")},
		{"object for IsFirstChat", body(`"IsFirstChat":{}`), bad("IsFirstChat must be text")},

		// Bodies that are not a request at all.
		{"empty body", ``, bad("empty body")},
		{"whitespace body", " \r\n\t ", bad("empty body")},
		{"array body", `[]`, bad("not a JSON object")},
		{"string body", `"str"`, bad("not a JSON object")},
		{"number body", `42`, bad("not a JSON object")},
		{"not JSON", `this is not json`, bad("not a JSON object: syntax error")},
		{"truncated JSON", `{"CallId":"C1"`, bad("not a JSON object")},
		{"text after the object", body("") + ` x`, bad("not a JSON object")},
		{"invalid UTF-8", "{\"CallId\":\"C\xff1\",\"ChatBotKey\":\"b\",\"Customer\":\"1\",\"Agent\":1}", bad("not UTF-8")},
		{"body of MaxBody+1 bytes", body(`"ChatMsg":"` + strings.Repeat("a", MaxBody+1-len(body(`"ChatMsg":""`))) + `"`), bad("larger than 65536 bytes")},

		// IsFirstChat.
		{"IsFirstChat Y", body(`"IsFirstChat":"Y"`), ok(base(func(r *Request) { r.IsFirstChat = true }))},
		{"IsFirstChat y", body(`"IsFirstChat":"y"`), ok(base(func(r *Request) { r.IsFirstChat = true }))},
		{"IsFirstChat N", body(`"IsFirstChat":"N"`), ok(base(nil))},
		{"IsFirstChat absent", body(""), ok(base(nil))},

		// Whitespace.
		{"surrounding spaces trimmed", `  {"CallId":"  DS1 ","ChatBotKey":" bot00001","Customer":"01012345678  ","Agent":" 1000 ","ChatMsg":" 안녕하세요 ","ScenarioCode":" 무응답 ","IsFirstChat":" Y "}` + "\n",
			ok(Request{CallID: "DS1", ChatBotKey: "bot00001", Customer: "01012345678", Agent: "1000", ChatMsg: "안녕하세요", ScenarioCode: Silence, IsFirstChat: true})},
		{"pretty-printed body", "{\n  \"CallId\": \"C1\",\n  \"ChatBotKey\": \"bot00001\",\n  \"Customer\": \"01012345678\",\n  \"Agent\": 1000,\n}\n", ok(base(nil))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeRequest([]byte(tt.body))
			if tt.want.code == "" {
				if err != nil {
					t.Fatalf("DecodeRequest: %v", err)
				}
				if got != tt.want.req {
					t.Errorf("DecodeRequest =\n %+v\nwant\n %+v", got, tt.want.req)
				}
				return
			}
			if err == nil {
				t.Fatalf("DecodeRequest = %+v, want TransCode %s", got, tt.want.code)
			}
			if err.Code != tt.want.code || !strings.Contains(err.Reason, tt.want.reason) {
				t.Errorf("DecodeRequest error = %s %q, want %s containing %q", err.Code, err.Reason, tt.want.code, tt.want.reason)
			}
			if got != (Request{CallID: got.CallID, ChatBotKey: got.ChatBotKey}) {
				t.Errorf("DecodeRequest returned %+v with its error, want at most CallID and ChatBotKey", got)
			}
		})
	}
}

// A refused body still names its call when it could be read: the gateway
// matches answers to calls by CallId and ChatBotKey.
func TestDecodeRequestErrorEchoesIDs(t *testing.T) {
	long := strings.Repeat("x", maxCallID+1)
	tests := []struct {
		name, body string
		want       Request
	}{
		{"DTMF not digits", body(`"ScenarioCode":"ask_birthdate","DTMF":"abcdef"`), Request{CallID: "C1", ChatBotKey: "bot00001"}},
		{"missing Customer", `{"CallId":"C1","ChatBotKey":"bot00001","Agent":1000}`, Request{CallID: "C1", ChatBotKey: "bot00001"}},
		{"Agent not digits", `{"CallId":"C1","ChatBotKey":"bot00001","Customer":"01012345678","Agent":"abc"}`, Request{CallID: "C1", ChatBotKey: "bot00001"}},
		{"DTMF without ScenarioCode", body(`"DTMF":"12"`), Request{CallID: "C1", ChatBotKey: "bot00001"}},
		{"missing CallId", `{"ChatBotKey":"bot00001","Customer":"01012345678","Agent":1000}`, Request{ChatBotKey: "bot00001"}},
		{"CallId too long", `{"CallId":"` + long + `","ChatBotKey":"bot00001","Customer":"1","Agent":1}`, Request{ChatBotKey: "bot00001"}},
		{"ChatBotKey an object", `{"CallId":"C1","ChatBotKey":{},"Customer":"1","Agent":1}`, Request{CallID: "C1"}},
		{"not JSON", `{"CallId":"C1",`, Request{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeRequest([]byte(tt.body))
			if err == nil || err.Code != BadParameter {
				t.Fatalf("DecodeRequest error = %v, want TransCode 412", err)
			}
			if got != tt.want {
				t.Errorf("DecodeRequest = %+v with its error, want %+v", got, tt.want)
			}
		})
	}
}

func TestDecodeRequestMaxBody(t *testing.T) {
	// Exactly MaxBody bytes (padding included) is still accepted.
	b := body(`"ChatMsg":"x"`)
	b = b[:len(b)-1] + strings.Repeat(" ", MaxBody-len(b)) + "}"
	if len(b) != MaxBody {
		t.Fatalf("test body is %d bytes, want %d", len(b), MaxBody)
	}
	if _, err := DecodeRequest([]byte(b)); err != nil {
		t.Errorf("DecodeRequest(%d bytes) = %v, want success", len(b), err)
	}
	if _, err := DecodeRequest([]byte(b + " ")); err == nil || err.Code != BadParameter {
		t.Errorf("DecodeRequest(%d bytes) = %v, want 412", len(b)+1, err)
	}
}

func TestDecodeRequestErrorDoesNotEchoBody(t *testing.T) {
	// A malformed body may hold a caller's digits: the reason says where, not what.
	_, err := DecodeRequest([]byte(`{"CallId":"C1","DTMF":"900101" "secret"}`))
	if err == nil {
		t.Fatal("DecodeRequest accepted a malformed body")
	}
	if strings.Contains(err.Error(), "900101") || strings.Contains(err.Error(), "secret") {
		t.Errorf("error %q echoes the body", err)
	}
}

func TestStripTrailingCommas(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"seed sample", seedBody, strings.Replace(seedBody, `",}`, `"}`, 1)},
		{"nothing to strip", `{"a":1,"b":[1,2]}`, `{"a":1,"b":[1,2]}`},
		{"empty", ``, ``},
		{"object", `{"a":1,}`, `{"a":1}`},
		{"array", `[1,2,]`, `[1,2]`},
		{"nested", `{"a":[1,[2,],{"b":3,},],}`, `{"a":[1,[2],{"b":3}]}`},
		{"whitespace kept", "{\"a\":1 , \n\t\r}", "{\"a\":1  \n\t\r}"},
		{"comma inside string", `{"a":"x,}","b":"y,]"}`, `{"a":"x,}","b":"y,]"}`},
		{"escaped quote keeps the string open", `{"a":"\",}",}`, `{"a":"\",}"}`},
		{"escaped backslash closes the string", `{"a":"\\",}`, `{"a":"\\"}`},
		{"unicode escape", `{"a":"\u0022,}",}`, `{"a":"\u0022,}"}`},
		{"Korean", `{"a":"가,}나",}`, `{"a":"가,}나"}`},
		{"comma at end of input", `{"a":1,`, `{"a":1,`},
		{"comma then spaces at end", `[1,  `, `[1,  `},
		{"unterminated string", `{"a":",}`, `{"a":",}`},
		{"double comma loses only the last", `[1,,]`, `[1,]`},
		{"comma not before a closer", `{"a":1,"b":2}`, `{"a":1,"b":2}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(stripTrailingCommas([]byte(tt.in))); got != tt.want {
				t.Errorf("stripTrailingCommas(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestStripTrailingCommasLeavesValidJSONAlone(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 1))
	for i := 0; i < 2000; i++ {
		v := randomJSONValue(rng, 0)
		in, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 1 { // indented JSON too: whitespace between commas and values
			var buf bytes.Buffer
			if err := json.Indent(&buf, in, " ", "\t"); err != nil {
				t.Fatal(err)
			}
			in = buf.Bytes()
		}
		got := stripTrailingCommas(in)
		if len(got) != len(in) || (len(in) > 0 && &got[0] != &in[0]) {
			t.Fatalf("stripTrailingCommas(%s) = %s, want the input slice itself", in, got)
		}
	}
}

// randomJSONValue builds a value whose encoding has commas everywhere a
// trailing-comma scanner could go wrong: strings full of , } ] " and \.
func randomJSONValue(rng *rand.Rand, depth int) any {
	kind := rng.IntN(6)
	if depth > 3 {
		kind %= 3
	}
	switch kind {
	case 0:
		return randomString(rng)
	case 1:
		return rng.NormFloat64() * 1e6
	case 2:
		return []any{nil, true, false}[rng.IntN(3)]
	case 3, 4:
		arr := make([]any, rng.IntN(5))
		for i := range arr {
			arr[i] = randomJSONValue(rng, depth+1)
		}
		return arr
	default:
		obj := map[string]any{}
		for n := rng.IntN(5); n > 0; n-- {
			obj[randomString(rng)] = randomJSONValue(rng, depth+1)
		}
		return obj
	}
}

func randomString(rng *rand.Rand) string {
	const alphabet = `,}]{["\ a가:` + "\n\t"
	runes := []rune(alphabet)
	var b strings.Builder
	for n := rng.IntN(8); n > 0; n-- {
		b.WriteRune(runes[rng.IntN(len(runes))])
	}
	return b.String()
}

// Bodies of shared/data/callscripts, as the call scripts send them (defaults
// merged, CallId filled in).
var callscriptBodies = []string{
	`{"CallId":"T-01-1","ChatBotKey":"bot00001","Customer":"01012345678","Agent":1000,"IsFirstChat":"Y"}`,
	`{"CallId":"T-03-2","ChatBotKey":"bot00001","Customer":"01012345678","Agent":1000,"ChatMsg":"주문한 교재가 언제 도착하는지 알고 싶어요","ScenarioCode":"greeting"}`,
	`{"CallId":"T-03-3","ChatBotKey":"bot00001","Customer":"01012345678","Agent":1000,"DTMF":"900101","ScenarioCode":"ask_birthdate"}`,
	`{"CallId":"T-03-4","ChatBotKey":"bot00001","Customer":"01012345678","Agent":1000,"Answer":"아니요","ScenarioCode":"delivery_status"}`,
	`{"CallId":"T-06-2","ChatBotKey":"bot00001","Customer":"01012345678","Agent":1000,"ScenarioCode":"무응답"}`,
	`{"CallId":null,"ChatBotKey":"bot00001","Customer":"01012345678","Agent":1000}`,
	`this is not json`,
}

func FuzzDecodeRequest(f *testing.F) {
	f.Add([]byte(seedBody))
	for _, b := range callscriptBodies {
		f.Add([]byte(b))
	}
	for _, b := range []string{``, ` `, `{}`, `[]`, `null`, `{,}`, `[,]`, `{"CallId":"\u0000","Agent":"-"}`,
		"{\"CallId\":\"\xed\xa0\x80\"}", `{"CallId":"\ud800","ChatBotKey":"k","Customer":"1","Agent":1e99}`,
		`{"Agent":00001}`, `{"a":"\\\"",}`, `{{{{[[[[`, "\xff\xfe"} {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := DecodeRequest(b)
		if err != nil {
			if err.Code != BadParameter || err.Reason == "" {
				t.Fatalf("DecodeRequest error %+v: want TransCode 412 with a reason", err)
			}
			// Only the call's ids are echoed, and only valid ones.
			if req != (Request{CallID: req.CallID, ChatBotKey: req.ChatBotKey}) {
				t.Fatalf("DecodeRequest returned %+v with an error", req)
			}
			for _, f := range []struct {
				name, v string
				max     int
			}{{"CallId", req.CallID, maxCallID}, {"ChatBotKey", req.ChatBotKey, maxChatBotKey}} {
				if utf8.RuneCountInString(f.v) > f.max || !utf8.ValidString(f.v) || strings.TrimSpace(f.v) != f.v {
					t.Fatalf("echoed %s %q is not a valid one", f.name, f.v)
				}
			}
			return
		}
		checkRequest(t, req)

		// What was decoded survives a plain encoding/json round trip.
		m := map[string]any{"CallId": req.CallID, "ChatBotKey": req.ChatBotKey, "Customer": req.Customer,
			"Agent": req.Agent, "ChatMsg": req.ChatMsg, "DTMF": req.DTMF, "Answer": req.Answer,
			"ScenarioCode": req.ScenarioCode, "IsFirstChat": "N"}
		if req.IsFirstChat {
			m["IsFirstChat"] = "Y"
		}
		again, err2 := json.Marshal(m)
		if err2 != nil {
			t.Fatal(err2)
		}
		req2, err := DecodeRequest(again)
		if err != nil {
			t.Fatalf("re-encoded %s: %v", again, err)
		}
		if req2 != req {
			t.Fatalf("round trip changed the request:\n %+v\n %+v", req, req2)
		}
	})
}

// checkRequest asserts what every accepted request must satisfy.
func checkRequest(t *testing.T, req Request) {
	t.Helper()
	for _, f := range []struct {
		name, v  string
		required bool
		max      int
	}{
		{"CallId", req.CallID, true, maxCallID}, {"ChatBotKey", req.ChatBotKey, true, maxChatBotKey},
		{"Customer", req.Customer, true, maxCustomer}, {"Agent", req.Agent, true, maxAgent},
		{"ChatMsg", req.ChatMsg, false, 0}, {"DTMF", req.DTMF, false, maxDTMF},
		{"Answer", req.Answer, false, 0}, {"ScenarioCode", req.ScenarioCode, false, maxCode},
	} {
		if f.required && f.v == "" {
			t.Fatalf("%s is empty in an accepted request %+v", f.name, req)
		}
		if f.max > 0 && utf8.RuneCountInString(f.v) > f.max {
			t.Fatalf("%s has %d characters, limit %d", f.name, utf8.RuneCountInString(f.v), f.max)
		}
		if !utf8.ValidString(f.v) || strings.TrimSpace(f.v) != f.v {
			t.Fatalf("%s = %q: not trimmed valid UTF-8", f.name, f.v)
		}
	}
	if n, err := strconv.Atoi(req.Agent); err != nil || n < 0 || len(req.Agent) > 5 || strings.Trim(req.Agent, "0123456789") != "" {
		t.Fatalf("Agent = %q, want 1 to 5 digits", req.Agent)
	}
	if req.DTMF != "" {
		if req.ScenarioCode == "" {
			t.Fatalf("DTMF %q accepted without ScenarioCode", req.DTMF)
		}
		if strings.Trim(req.DTMF, "0123456789*#") != "" {
			t.Fatalf("DTMF = %q, want only 0-9 * #", req.DTMF)
		}
	}
}

func TestCallscriptBodiesDecode(t *testing.T) {
	// The seed corpus must exercise the success path, not only errors.
	n := 0
	for _, b := range callscriptBodies {
		if req, err := DecodeRequest([]byte(b)); err == nil {
			checkRequest(t, req)
			n++
		}
	}
	if n != len(callscriptBodies)-2 {
		t.Errorf("%d call script bodies decode, want %d", n, len(callscriptBodies)-2)
	}
}

func TestErrorString(t *testing.T) {
	e := Errorf(BadParameter, "%s is required", "CallId")
	want := &Error{Code: BadParameter, Reason: "CallId is required"}
	if !reflect.DeepEqual(e, want) {
		t.Errorf("Errorf = %+v, want %+v", e, want)
	}
	if got := e.Error(); got != "412 [Error] parameter error: CallId is required" {
		t.Errorf("Error() = %q", got)
	}
}

func BenchmarkDecodeRequest(b *testing.B) {
	body := []byte(seedBody)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := DecodeRequest(body); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzScanMatchesJSON: whatever the fast path accepts, encoding/json (the
// path that owns every error) decodes to the same fields.
func FuzzScanMatchesJSON(f *testing.F) {
	f.Add([]byte(seedBody))
	for _, b := range callscriptBodies {
		f.Add([]byte(b))
	}
	for _, b := range []string{`{}`, `{,}`, `{"callid":"a","CALLID":"b"}`, `{"Agent":-0.5e+3}`, `{"Agent":01}`,
		`{"ChatMsg":null,"ChatMsg":"x",}`, `{"DTMF":true}`, `{"x":1,}`, "{\"Agent\":1 ,\n}", `{"a":"b"}}`,
		"{\"CallId\":\"\t\"}", "{\"\u212aey\":1}", `{"ChatBotKey":"k" "Agent":1}`} {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var fast rawRequest
		if !fast.scan(b) {
			return
		}
		var slow rawRequest
		if err := json.Unmarshal(stripTrailingCommas(b), &slow); err != nil {
			t.Fatalf("scan accepted %q, encoding/json: %v", b, err)
		}
		if fast != slow {
			t.Fatalf("%q: scan %+v, encoding/json %+v", b, fast, slow)
		}
	})
}

// TestGatewayBodiesTakeTheFastPath: what the gateway sends is decoded
// without encoding/json, so the speed of a turn does not silently regress.
func TestGatewayBodiesTakeTheFastPath(t *testing.T) {
	for _, b := range append([]string{seedBody}, callscriptBodies[:len(callscriptBodies)-2]...) {
		var raw rawRequest
		if !raw.scan(bytes.TrimSpace([]byte(b))) {
			t.Errorf("%s: not decoded by scan", b)
		}
	}
}

// FuzzTrimSpace: trimSpace's shortcut cuts what strings.TrimSpace cuts.
func FuzzTrimSpace(f *testing.F) {
	for _, s := range []string{"", " ", "a", " a ", "a\u3000", "\u00a0a", "\u0085", "담당자 ", "x\t", "\x7f", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := trimSpace(s), strings.TrimSpace(s); got != want {
			t.Errorf("trimSpace(%q) = %q, want %q", s, got, want)
		}
	})
}
