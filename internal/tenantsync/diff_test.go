package tenantsync

import (
	"fmt"
	"strings"
	"testing"
)

func lines(from, to int, f func(i int) string) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		b.WriteString(f(i) + "\n")
	}
	return b.String()
}

func plain(i int) string { return fmt.Sprintf("line %d", i) }

func TestUnified(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		want     string
	}{
		{"equal", "a\nb\n", "a\nb\n", ""},
		{"both empty", "", "", ""},
		{
			"one line changed in the middle",
			lines(1, 10, plain),
			lines(1, 10, func(i int) string {
				if i == 5 {
					return "LINE 5"
				}
				return plain(i)
			}),
			"--- a\n+++ b\n@@ -2,7 +2,7 @@\n line 2\n line 3\n line 4\n-line 5\n+LINE 5\n line 6\n line 7\n line 8\n",
		},
		{
			"first line changed",
			"a\nb\nc\nd\ne\n", "A\nb\nc\nd\ne\n",
			"--- a\n+++ b\n@@ -1,4 +1,4 @@\n-a\n+A\n b\n c\n d\n",
		},
		{
			"insertion at the end",
			"a\nb\n", "a\nb\nc\n",
			"--- a\n+++ b\n@@ -1,2 +1,3 @@\n a\n b\n+c\n",
		},
		{
			"deletion",
			"a\nb\nc\n", "a\nc\n",
			"--- a\n+++ b\n@@ -1,3 +1,2 @@\n a\n-b\n c\n",
		},
		{
			"from empty",
			"", "x\ny\n",
			"--- a\n+++ b\n@@ -0,0 +1,2 @@\n+x\n+y\n",
		},
		{
			"to empty",
			"x\n", "",
			"--- a\n+++ b\n@@ -1 +0,0 @@\n-x\n",
		},
		{
			"newline added at the end of the file",
			"a\nb", "a\nb\n",
			"--- a\n+++ b\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n",
		},
		{
			"changes 6 lines apart share a hunk",
			lines(1, 20, plain),
			lines(1, 20, func(i int) string {
				if i == 5 || i == 12 {
					return "X"
				}
				return plain(i)
			}),
			"--- a\n+++ b\n@@ -2,14 +2,14 @@\n line 2\n line 3\n line 4\n-line 5\n+X\n line 6\n line 7\n line 8\n line 9\n line 10\n line 11\n-line 12\n+X\n line 13\n line 14\n line 15\n",
		},
		{
			"changes 7 lines apart get two hunks",
			lines(1, 20, plain),
			lines(1, 20, func(i int) string {
				if i == 5 || i == 13 {
					return "X"
				}
				return plain(i)
			}),
			"--- a\n+++ b\n@@ -2,7 +2,7 @@\n line 2\n line 3\n line 4\n-line 5\n+X\n line 6\n line 7\n line 8\n" +
				"@@ -10,7 +10,7 @@\n line 10\n line 11\n line 12\n-line 13\n+X\n line 14\n line 15\n line 16\n",
		},
		{
			"Korean text",
			"prompt: 무엇을 도와드릴까요?\n", "prompt: 무엇을 도와 드릴까요?\n",
			"--- a\n+++ b\n@@ -1 +1 @@\n-prompt: 무엇을 도와드릴까요?\n+prompt: 무엇을 도와 드릴까요?\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			Unified(&b, "a", "b", []byte(tt.old), []byte(tt.new))
			if b.String() != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", b.String(), tt.want)
			}
		})
	}
}

// TestUnifiedBigRewrite takes the fallback (no line matching) and must still
// be a correct diff: every old line out, every new line in.
func TestUnifiedBigRewrite(t *testing.T) {
	old := lines(1, 3000, plain)
	new := lines(1, 3000, func(i int) string { return fmt.Sprintf("other %d", i) })
	var b strings.Builder
	Unified(&b, "a", "b", []byte(old), []byte(new))
	got := b.String()
	if !strings.HasPrefix(got, "--- a\n+++ b\n@@ -1,3000 +1,3000 @@\n") ||
		strings.Count(got, "\n-line ") != 3000 || strings.Count(got, "\n+other ") != 3000 {
		t.Errorf("big rewrite diff: %.200s… (%d lines)", got, strings.Count(got, "\n"))
	}
}

// TestDiffLinesRoundTrip: applying the ops to old gives new.
func TestDiffLinesRoundTrip(t *testing.T) {
	tests := []struct{ name, old, new string }{
		{"interleaved", "a\nb\nc\nd\ne\nf\n", "b\nx\nd\ny\nf\nz\n"},
		{"reversed", "1\n2\n3\n4\n", "4\n3\n2\n1\n"},
		{"repeats", "a\na\nb\na\n", "a\nb\na\na\nb\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotOld, gotNew strings.Builder
			for _, op := range diffLines(splitLines(tt.old), splitLines(tt.new)) {
				if op.kind != ins {
					gotOld.WriteString(op.text)
				}
				if op.kind != del {
					gotNew.WriteString(op.text)
				}
			}
			if gotOld.String() != tt.old || gotNew.String() != tt.new {
				t.Errorf("ops rebuild %q → %q", gotOld.String(), gotNew.String())
			}
		})
	}
}

func BenchmarkUnifiedTaxonomyEdit(b *testing.B) {
	old := lines(1, 700, plain)
	new := strings.Replace(old, "line 350\n", "line three hundred fifty\n", 1)
	b.ReportAllocs()
	for b.Loop() {
		var w strings.Builder
		Unified(&w, "a", "b", []byte(old), []byte(new))
	}
}
