package classify

import (
	"reflect"
	"strings"
	"testing"
)

func TestDecodeTaxonomy(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Category
		wantErr string // a part of the error; "" for none
	}{
		{
			name: "tenant file",
			in: `# a comment
fallback: 기타/기타/담당자확인전달요청
categories:
  - path: 주문배송/배송/배송조회
    examples:
      - 주문한 책이 언제 오는지 궁금해요
      - "  택배 조회요  "
      - ""
  - path: " 기타 / 기타 / 담당자확인전달요청 "
    examples: [담당자분께 전달해 주세요]
`,
			want: []Category{
				{Path: Path{"주문배송", "배송", "배송조회"}, Examples: []string{"주문한 책이 언제 오는지 궁금해요", "택배 조회요"}},
				{Path: Path{"기타", "기타", "담당자확인전달요청"}, Examples: []string{"담당자분께 전달해 주세요"}},
			},
		},
		{
			name: "no examples",
			in:   "fallback: a/b/c\ncategories:\n  - path: a/b/c\n",
			want: []Category{{Path: Path{"a", "b", "c"}, Examples: []string{}}},
		},
		{name: "empty", in: "", wantErr: "fallback is missing"},
		{name: "not yaml", in: "fallback: [\n", wantErr: "line"},
		{name: "fallback not a path", in: "fallback: a/b\ncategories:\n  - path: a/b/c\n", wantErr: "line 1"},
		{name: "fallback a list", in: "fallback: [a, b, c]\ncategories:\n  - path: a/b/c\n", wantErr: "line 1"},
		{name: "fallback outside", in: "fallback: x/y/z\ncategories:\n  - path: a/b/c\n", wantErr: "not in the taxonomy"},
		{name: "bad path", in: "fallback: a/b/c\ncategories:\n  - path: a/b/c\n  - path: a//d\n", wantErr: "category 2: line 4"},
		{name: "path missing", in: "fallback: a/b/c\ncategories:\n  - examples: [x]\n", wantErr: "category 1: path is missing"},
		{name: "no categories", in: "fallback: a/b/c\n", wantErr: "no categories"},
		{name: "duplicate", in: "fallback: a/b/c\ncategories:\n  - path: a/b/c\n  - path: a/b/c\n", wantErr: "listed twice"},
		{name: "examples not a list", in: "fallback: a/b/c\ncategories:\n  - path: a/b/c\n    examples: 3\n", wantErr: "line 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeTaxonomy([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeTaxonomy: %v", err)
			}
			if !reflect.DeepEqual(got.Categories, tt.want) {
				t.Errorf("categories\n got %q\nwant %q", got.Categories, tt.want)
			}
			if !got.Contains(got.Fallback) {
				t.Errorf("fallback %s is not in the taxonomy", got.Fallback)
			}
		})
	}
}

func FuzzDecodeTaxonomy(f *testing.F) {
	f.Add([]byte("fallback: a/b/c\ncategories:\n  - path: a/b/c\n    examples: [x, y]\n"))
	f.Add([]byte("fallback: [\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		tax, err := DecodeTaxonomy(data)
		if err != nil {
			return
		}
		if !tax.Contains(tax.Fallback) {
			t.Fatalf("fallback %s is not in the taxonomy", tax.Fallback)
		}
		for _, c := range tax.Categories {
			for _, e := range c.Examples {
				if e == "" || e != strings.TrimSpace(e) {
					t.Fatalf("example %q is empty or untrimmed", e)
				}
			}
		}
	})
}
