package tenant

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// didYouMean is `; did you mean "x"?` for the candidate closest to got, or ""
// when none is close enough to be what the author meant to write.
func didYouMean(got string, candidates []string) string {
	if s, ok := closest(got, candidates); ok {
		return fmt.Sprintf("; did you mean %q?", s)
	}
	return ""
}

// closest finds the candidate nearest to got by edit distance (ignoring
// case; a swap of two neighbours counts as one edit), if it is within about
// a third of got's length. Ties go to the first in sorted order, so the
// suggestion does not depend on map order.
func closest(got string, candidates []string) (string, bool) {
	n := utf8.RuneCountInString(got)
	if n > maxSuggestRunes {
		return "", false
	}
	limit := max(1, min(3, n/3))
	best, bestD := "", limit+1
	for _, c := range slices.Sorted(slices.Values(candidates)) {
		if c == got || abs(utf8.RuneCountInString(c)-n) > limit {
			continue
		}
		if d := editDistance(strings.ToLower(got), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best, bestD <= limit
}

// maxSuggestRunes bounds the work on a long mistyped name: nobody mistypes
// a 64-character key by a letter or two.
const maxSuggestRunes = 64

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// editDistance is the optimal string alignment distance between a and b,
// counted in runes (Korean category names are one rune a syllable).
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// d[i][j]: distance between ra[:i] and rb[:j].
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
