package embedded

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/routebot/routebot/common/classify"
)

// moduleRoot walks up from the test's working directory to the directory
// holding go.mod.
func moduleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("getwd: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's working directory")
		}
		dir = parent
	}
}

// nexusTaxonomy loads the demo tenant's taxonomy file.
func nexusTaxonomy(t testing.TB) *classify.Taxonomy {
	t.Helper()
	path := filepath.Join(moduleRoot(t), "examples", "tenants", "nexus", "taxonomy.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read taxonomy: %v", err)
	}
	tax, err := classify.DecodeTaxonomy(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return tax
}

// sharedData locates ../shared/data beside the module, or $ROUTEBOT_SHARED_DATA.
func sharedData(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("ROUTEBOT_SHARED_DATA")
	if dir == "" {
		dir = filepath.Join(moduleRoot(t), "..", "shared", "data")
	}
	if _, err := os.Stat(filepath.Join(dir, "utterances_public.jsonl")); err != nil {
		t.Fatalf("shared evaluation data not found in %s (set ROUTEBOT_SHARED_DATA to the directory holding utterances_public.jsonl): %v", dir, err)
	}
	return dir
}

type labelled struct {
	Text     string   `json:"text"`
	Question string   `json:"question"`
	Cat1     string   `json:"category1"`
	Cat2     string   `json:"category2"`
	Cat3     string   `json:"category3"`
	Keywords []string `json:"summary_keywords"`
}

func readJSONL(t testing.TB, path string) []labelled {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	var out []labelled
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<20)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var l labelled
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("%s:%d: %v", path, line, err)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if len(out) == 0 {
		t.Fatalf("%s has no examples", path)
	}
	return out
}

// evalReport is the outcome of classifying a labelled set.
type evalReport struct {
	right, total int
	wrong        map[string]int // "true → predicted"
	keywordsHit  int
	keywords     int
}

func (r evalReport) accuracy() float64 { return float64(r.right) / float64(r.total) }

func (r evalReport) confusion() string {
	pairs := make([]string, 0, len(r.wrong))
	for p, n := range r.wrong {
		pairs = append(pairs, fmt.Sprintf("%s ×%d", p, n))
	}
	slices.Sort(pairs)
	return strings.Join(pairs, "; ")
}

func evaluate(t testing.TB, c classify.Classifier, items []labelled, asTranscript bool) evalReport {
	t.Helper()
	r := evalReport{wrong: map[string]int{}}
	for _, it := range items {
		text := it.Text
		if asTranscript {
			text = it.Question
		}
		res, err := c.Classify(context.Background(), classify.Input{Text: text, Transcript: asTranscript})
		if err != nil {
			t.Fatalf("classify %q: %v", text, err)
		}
		r.total++
		if res.Path[2] == it.Cat3 {
			r.right++
		} else {
			r.wrong[it.Cat3+" → "+res.Path[2]]++
		}
		summary := strings.ReplaceAll(res.Summary, " ", "")
		for _, k := range it.Keywords {
			r.keywords++
			if strings.Contains(summary, strings.ReplaceAll(k, " ", "")) {
				r.keywordsHit++
			}
		}
	}
	return r
}

// heldOut are sentences written for this test only, apart from the taxonomy
// examples and the public data, to catch a classifier that merely fits them.
var heldOut = []struct{ text, want string }{
	{"교재 보내셨으면 송장 번호 좀 문자로 넣어 주세요", "배송조회"},
	{"아 그 월요일에 결제한 책이요 지금 어디쯤 오고 있나요", "배송조회"},
	{"택배 도착 예정 시간 좀 알 수 있을까요", "배송조회"},
	{"벌써 이 주째 기다리고 있는데 책이 안 와요 어떻게 된 거죠", "배송지연"},
	{"배송 예정일을 사흘이나 넘겼어요 너무하시네요", "배송지연"},
	{"택배가 며칠째 물류센터에서 안 움직여요 왜 이렇게 늦어요", "배송지연"},
	{"주문서에 적은 주소가 틀려서요 다른 주소로 좀 바꿔 주세요", "배송지변경"},
	{"이번 주문은 시골 할머니 댁으로 받고 싶은데 주소 수정 돼요?", "배송지변경"},
	{"배송지 정보 수정하려고 전화했는데요 아직 출발 안 했죠", "배송지변경"},
	{"그 주문 그냥 취소할게요 필요가 없어졌어요", "주문취소"},
	{"입금하기 전인데 주문 건 취소 처리해 주세요", "주문취소"},
	{"주문 잘못 넣었어요 전부 취소 부탁드립니다", "주문취소"},
	{"주문한 문제집 권수를 좀 늘리고 싶은데 가능할까요", "주문변경"},
	{"제가 고른 책이 초급이었는데 중급으로 교체해 주세요", "주문변경"},
	{"배송 전이면 주문 상품 하나만 다른 걸로 바꿔 주세요", "주문변경"},
	{"받아 보니까 제가 찾던 책이 아니네요 환불 부탁드립니다", "환불요청"},
	{"인강 결제한 지 이틀 됐는데 환불 신청하려고요", "환불요청"},
	{"책에 물이 묻어서 왔어요 돈으로 돌려받고 싶어요", "환불요청"},
	{"환불해 준다고 하셨는데 아직 통장에 안 들어왔어요", "환불진행조회"},
	{"반품 접수한 책 환불이 어디까지 진행됐는지 알고 싶어요", "환불진행조회"},
	{"결제 취소 요청한 게 카드 내역에 아직 그대로 남아 있어요", "환불진행조회"},
	{"결제 진행하면 카드 승인이 안 된다고 떠요", "결제오류"},
	{"돈은 나갔는데 주문 완료가 안 됐어요", "결제오류"},
	{"계속 결제 실패라고 나와서 주문을 못 하겠어요", "결제오류"},
	{"회사에 제출할 결제 영수증이 필요한데 발급해 주실 수 있나요", "영수증발급"},
	{"현금영수증 신청을 깜빡했는데 지금 해도 되나요", "영수증발급"},
	{"세금계산서 발행 받으려면 뭘 보내 드려야 돼요", "영수증발급"},
	{"영어 회화 인강을 듣고 싶은데 어떻게 등록하나요", "수강신청"},
	{"교재 쿠폰 등록해서 무료 강의 신청하려고요", "수강신청"},
	{"수강 신청 페이지가 어디 있는지 모르겠어요", "수강신청"},
	{"강의 기간이 끝나 가는데 연장 좀 할 수 있을까요", "수강기간연장"},
	{"수강 기간 만료돼서 더 이상 강의가 안 열려요 연장하고 싶어요", "수강기간연장"},
	{"사정이 생겨서 강의를 못 들었는데 기간 늘려 주실 수 있나요", "수강기간연장"},
	{"이 문법책이 중학생 수준에 맞는지 궁금해요", "교재내용문의"},
	{"교재 듣기 음원은 어디서 다운받아요", "교재내용문의"},
	{"개정판에는 어떤 내용이 추가됐나요", "교재내용문의"},
	{"교재에 틀린 답이 있는 것 같은데 정오표 확인해 주세요", "정오표문의"},
	{"해설지 답이 본문 문제랑 안 맞아요 오타 같아요", "정오표문의"},
	{"정오표를 홈페이지에서 못 찾겠어요", "정오표문의"},
	{"아이디를 까먹어서 로그인을 못 하고 있어요", "아이디찾기"},
	{"가입한 아이디가 뭔지 확인하고 싶어요", "아이디찾기"},
	{"본인 인증했는데도 아이디가 안 찾아져요", "아이디찾기"},
	{"비밀번호가 기억 안 나서 새로 설정하고 싶어요", "비밀번호재설정"},
	{"비번 찾기 눌렀는데 인증 메일이 안 와요", "비밀번호재설정"},
	{"비밀번호 몇 번 틀렸더니 로그인이 막혔어요", "비밀번호재설정"},
	{"이 건은 담당자분께 전달해 주시고 연락 부탁드려요", "담당자확인전달요청"},
	{"교재 대량 구매 관련해서 담당 부서 회신을 받고 싶어요", "담당자확인전달요청"},
	{"지난번 문의에 대해 아직 답을 못 받았어요 담당자 확인 부탁드립니다", "담당자확인전달요청"},
	{"상담원이랑 바로 얘기하고 싶어요", "상담원연결"},
	{"직원분 연결 좀 해 주세요", "상담원연결"},
	{"ARS 말고 사람이랑 통화할래요", "상담원연결"},
}

// heldOutTranscripts are calls written for this test only.
var heldOutTranscripts = []struct{ text, want string }{
	{"상담원:안녕하세요 넥서스입니다 무엇을 도와드릴까요?\n고객:제가 토익 인강을 듣고 있는데요 회사 일이 바빠서 진도를 절반도 못 나갔어요 다음 주면 끝난다고 나와서요\n상담원:네 수강 기간은 마이페이지에서 한 번 연장하실 수 있습니다\n고객:연장하면 얼마나 더 들을 수 있어요?\n상담원:한 달 단위로 연장되고 비용은 정가의 일부만 받고 있습니다\n고객:네 그럼 한 달 연장할게요", "수강기간연장"},
	{"상담원:넥서스 고객센터입니다\n고객:아 네 문제집 사려고 결제하는데요 카카오페이로 하면 자꾸 오류가 떠요\n상담원:불편 드려 죄송합니다 혹시 다른 결제 수단도 시도해 보셨을까요?\n고객:카드로도 해 봤는데 똑같아요 결제 화면에서 넘어가질 않아요\n상담원:현재 결제 대행사 쪽 점검이 있어서 그런 것 같습니다 한 시간 뒤에 다시 시도해 주세요", "결제오류"},
	{"상담원:안녕하세요 무엇을 도와드릴까요?\n고객:예전에 아이 인강 때문에 가입했는데 아이디를 모르겠어요\n상담원:네 가입하신 분 성함과 생년월일 말씀해 주시면 조회해 드리겠습니다\n고객:박지영이고요 팔십오 년 삼월 이일이에요\n상담원:확인됐습니다 아이디 앞 세 자리가 jyp로 시작하는 계정이 있습니다 전체 아이디는 문자로 보내 드리겠습니다", "아이디찾기"},
	{"상담원:넥서스 고객센터 상담원 이도윤입니다\n고객:그게요 오늘 오전에 단어장 두 권 주문했는데 서점에서 그냥 사 버려서요 주문한 건 취소해 주세요\n상담원:네 아직 출고 전이라 바로 취소 가능합니다 전체 취소해 드릴까요?\n고객:네 전부요\n상담원:취소 완료됐습니다 결제하신 카드로 승인 취소됩니다", "주문취소"},
	{"상담원:안녕하세요 넥서스입니다\n고객:고등 영어 독해 책 보고 있는데 해설에 나온 해석이랑 본문 내용이 달라요 이거 책이 잘못된 거죠?\n상담원:확인해 보겠습니다 몇 쪽인지 말씀해 주시겠어요?\n고객:칠십이 쪽 세 번째 지문이요\n상담원:네 해당 부분은 인쇄 오류로 정오표에 반영돼 있습니다 홈페이지 자료실에서 확인하실 수 있습니다", "정오표문의"},
	{"상담원:넥서스 자동 안내입니다 무엇을 도와드릴까요?\n고객:사람이랑 통화하고 싶은데요 상담사 연결해 주세요\n상담원:네 상담사 연결해 드리겠습니다 잠시만 기다려 주세요", "상담원연결"},
	{"상담원:네 넥서스 고객센터입니다\n고객:저번 주에 인강 환불해 달라고 했는데요 아직 돈이 안 들어왔어요\n상담원:확인해 보겠습니다 성함이 어떻게 되세요?\n고객:최은비요\n상담원:최은비 고객님 환불은 어제 처리 완료됐고 계좌 입금까지 하루 이틀 정도 걸립니다\n고객:아 그럼 내일까지 기다려 볼게요", "환불진행조회"},
	{"상담원:안녕하세요 넥서스입니다\n고객:어제 주문한 책이요 받는 주소를 회사로 바꾸고 싶어서요\n상담원:네 아직 출고 전이라 변경 가능합니다 새 주소 말씀해 주세요\n고객:서울 중구 세종대로 백십 번지 오 층이요\n상담원:변경해 드렸습니다", "배송지변경"},
}

func TestAccuracyOnSharedData(t *testing.T) {
	dir := sharedData(t)
	c, err := New(nexusTaxonomy(t))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	tests := []struct {
		name       string
		file       string
		transcript bool
		bar        float64
	}{
		{"utterances", "utterances_public.jsonl", false, 0.90},
		{"transcripts", "transcripts_public.jsonl", true, 0.85},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := evaluate(t, c, readJSONL(t, filepath.Join(dir, tt.file)), tt.transcript)
			t.Logf("category3 accuracy %.1f%% (%d/%d)", 100*r.accuracy(), r.right, r.total)
			if len(r.wrong) > 0 {
				t.Logf("wrong (true → predicted): %s", r.confusion())
			}
			if r.keywords > 0 {
				t.Logf("summary keyword coverage %.1f%% (%d/%d)", 100*float64(r.keywordsHit)/float64(r.keywords), r.keywordsHit, r.keywords)
			}
			if r.accuracy() < tt.bar {
				t.Errorf("category3 accuracy %.1f%% is below the bar of %.0f%%", 100*r.accuracy(), 100*tt.bar)
			}
		})
	}
	t.Run("cross-validation on the examples", func(t *testing.T) {
		// Each fifth of the examples classified by a classifier built from the
		// other four: how well the examples generalise to each other.
		acc := crossValidate(t, nexusTaxonomy(t), 5)
		t.Logf("category3 accuracy %.1f%%", 100*acc)
		if acc < 0.70 {
			t.Errorf("category3 accuracy %.1f%% is below the bar of 70%%", 100*acc)
		}
	})
	heldOutTests := []struct {
		name       string
		items      []struct{ text, want string }
		transcript bool
	}{
		{"held-out utterances", heldOut, false},
		{"held-out transcripts", heldOutTranscripts, true},
	}
	for _, tt := range heldOutTests {
		t.Run(tt.name, func(t *testing.T) {
			items := make([]labelled, len(tt.items))
			for i, h := range tt.items {
				items[i] = labelled{Text: h.text, Question: h.text, Cat3: h.want}
			}
			r := evaluate(t, c, items, tt.transcript)
			t.Logf("category3 accuracy %.1f%% (%d/%d)", 100*r.accuracy(), r.right, r.total)
			if len(r.wrong) > 0 {
				t.Logf("wrong (true → predicted): %s", r.confusion())
			}
			if r.accuracy() < 0.85 {
				t.Errorf("category3 accuracy %.1f%% is below the bar of 85%%", 100*r.accuracy())
			}
		})
	}
}

func crossValidate(t *testing.T, tax *classify.Taxonomy, folds int) float64 {
	t.Helper()
	right, total := 0, 0
	for fold := range folds {
		var train []classify.Category
		var test []labelled
		for _, cat := range tax.Categories {
			var kept []string
			for i, e := range cat.Examples {
				if i%folds == fold {
					test = append(test, labelled{Text: e, Cat3: cat.Path[2]})
				} else {
					kept = append(kept, e)
				}
			}
			train = append(train, classify.Category{Path: cat.Path, Examples: kept})
		}
		tx, err := classify.NewTaxonomy(train, tax.Fallback)
		if err != nil {
			t.Fatalf("fold %d: %v", fold, err)
		}
		c, err := New(tx)
		if err != nil {
			t.Fatalf("fold %d: %v", fold, err)
		}
		r := evaluate(t, c, test, false)
		right += r.right
		total += r.total
	}
	return float64(right) / float64(total)
}
