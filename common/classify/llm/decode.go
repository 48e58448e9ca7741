package llm

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/routebot/routebot/common/classify"
)

var (
	// ErrOutsideTaxonomy marks an answer whose categories are not a leaf of
	// the tenant's taxonomy, even after rebuilding the path from category3.
	ErrOutsideTaxonomy = errors.New("answer outside the taxonomy")
	// ErrMalformedAnswer marks message content that holds no classification
	// object (broken or truncated JSON, a refusal, no choices).
	ErrMalformedAnswer = errors.New("malformed answer")
)

// decodeAttempts bounds how many '{' DecodeAnswer tries as the start of the
// object, so prose full of braces costs little.
const decodeAttempts = 16

type answer struct {
	Answer     string          `json:"answer"`
	Category1  string          `json:"category1"`
	Category2  string          `json:"category2"`
	Category3  string          `json:"category3"`
	Confidence json.RawMessage `json:"confidence"`
}

// DecodeAnswer reads the classification object out of a model's message
// content: plain JSON, JSON in a ```json fence, or one object with text
// around it (an object wrapping it is looked into). The path must be a leaf
// of tax; when only category3 names a leaf, the path is rebuilt from it.
// The result is always inside tax; errors wrap ErrMalformedAnswer or
// ErrOutsideTaxonomy.
func DecodeAnswer(content string, tax *classify.Taxonomy) (classify.Result, error) {
	a, err := findAnswer(content)
	if err != nil {
		return classify.Result{}, err
	}
	p := classify.Path{strings.TrimSpace(a.Category1), strings.TrimSpace(a.Category2), strings.TrimSpace(a.Category3)}
	if !tax.Contains(p) {
		leaf, ok := tax.Leaf(p[2])
		if !ok {
			return classify.Result{}, fmt.Errorf("%w: %q", ErrOutsideTaxonomy, clipRunes(p.String(), 120))
		}
		p = leaf
	}
	return classify.Result{
		Path:       p,
		Confidence: confidence(a.Confidence),
		Summary:    strings.TrimSpace(a.Answer),
		Backend:    "llm",
		Fallback:   p == tax.Fallback,
	}, nil
}

// findAnswer decodes the first object, from the first '{' on, that carries
// a category3; json.Decoder stops after one value, so trailing text and
// closing fences are ignored.
func findAnswer(content string) (answer, error) {
	rest := content
	for range decodeAttempts {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			break
		}
		rest = rest[i:]
		var a answer
		if err := json.NewDecoder(strings.NewReader(rest)).Decode(&a); err == nil && strings.TrimSpace(a.Category3) != "" {
			return a, nil
		}
		rest = rest[1:]
	}
	return answer{}, fmt.Errorf("%w: no JSON object with category3 in %d bytes of content", ErrMalformedAnswer, len(content))
}

// confidence reads a number or a numeric string; models sometimes answer in
// percent. Absent or unreadable means the model gave none, reported as 1
// like every backend without a score.
func confidence(raw json.RawMessage) float64 {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	c, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil || math.IsNaN(c) || math.IsInf(c, 0) {
		return 1
	}
	if c > 1 && c <= 100 {
		c /= 100
	}
	return min(max(c, 0), 1)
}

// clipRunes cuts s to at most n runes.
func clipRunes(s string, n int) string {
	if n <= 0 || utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for range n {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i]
}
