// Package classify owns utterance and transcript classification: the tenant's
// category taxonomy, the Classifier seam the scenario engine and the classify
// function call through, and the backends behind it (embedded, llm, dialogflow).
package classify

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Path is one leaf of a taxonomy: large / middle / small category.
type Path [3]string

// String renders the path as "large/middle/small".
func (p Path) String() string { return p[0] + "/" + p[1] + "/" + p[2] }

// IsZero reports whether the path is unset.
func (p Path) IsZero() bool { return p == Path{} }

// ParsePath reads "large/middle/small".
func ParsePath(s string) (Path, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 3 {
		return Path{}, fmt.Errorf("category %q: want large/middle/small", s)
	}
	var p Path
	for i, part := range parts {
		part = strings.TrimSpace(part)
		if part == "" {
			return Path{}, fmt.Errorf("category %q: level %d is empty", s, i+1)
		}
		p[i] = part
	}
	return p, nil
}

// Category is one leaf of a tenant's taxonomy with the example utterances the
// embedded classifier learns it from.
type Category struct {
	Path     Path
	Examples []string
}

// Taxonomy is a tenant's predefined categories. Classifiers never answer
// outside it; Fallback is what "unsure" means for the tenant.
type Taxonomy struct {
	Categories []Category
	Fallback   Path

	byLeaf map[string]Path
	byPath map[Path]int
}

// NewTaxonomy indexes cats and checks that fallback is one of them and that
// every small category (level 3) names exactly one path.
func NewTaxonomy(cats []Category, fallback Path) (*Taxonomy, error) {
	t := &Taxonomy{Categories: cats, Fallback: fallback, byLeaf: map[string]Path{}, byPath: map[Path]int{}}
	for i, c := range cats {
		for lvl, name := range c.Path {
			if name == "" {
				return nil, fmt.Errorf("category %d (%s): level %d is empty", i+1, c.Path, lvl+1)
			}
		}
		if _, dup := t.byPath[c.Path]; dup {
			return nil, fmt.Errorf("category %s is listed twice", c.Path)
		}
		if prev, dup := t.byLeaf[c.Path[2]]; dup {
			return nil, fmt.Errorf("small category %q is under both %s and %s", c.Path[2], prev, c.Path)
		}
		t.byPath[c.Path] = i
		t.byLeaf[c.Path[2]] = c.Path
	}
	if len(cats) == 0 {
		return nil, errors.New("taxonomy has no categories")
	}
	if !t.Contains(fallback) {
		return nil, fmt.Errorf("fallback %s is not in the taxonomy", fallback)
	}
	return t, nil
}

// Contains reports whether p is a leaf of the taxonomy.
func (t *Taxonomy) Contains(p Path) bool { _, ok := t.byPath[p]; return ok }

// Leaf finds the path of a small category by its name.
func (t *Taxonomy) Leaf(name string) (Path, bool) { p, ok := t.byLeaf[name]; return p, ok }

// PathHasPrefix reports whether p starts with levels (1 to 3 of them).
func PathHasPrefix(p Path, levels []string) bool {
	if len(levels) == 0 || len(levels) > 3 {
		return false
	}
	for i, l := range levels {
		if p[i] != l {
			return false
		}
	}
	return true
}

// Result is what a classifier decided.
type Result struct {
	Path       Path
	Confidence float64 // 0..1; backends that give none report 1
	Summary    string  // short Korean summary, for transcripts; may be empty for one utterance
	Backend    string  // "embedded", "llm", "dialogflow"
	Fallback   bool    // true when Path is the taxonomy's fallback because the backend was unsure or failed
}

// Input is what to classify.
type Input struct {
	Text       string // one utterance, or a whole transcript
	Transcript bool   // Text is a 상담원:/고객: transcript and a summary is wanted
	SessionID  string // a stable id for backends that keep conversation state (Dialogflow)
}

// Classifier maps text onto a tenant's taxonomy. Implementations must return a
// path inside the taxonomy they were built for, or an error.
type Classifier interface {
	Classify(ctx context.Context, in Input) (Result, error)
}

// ErrUnavailable marks a backend that could not answer (down, slow, refused).
var ErrUnavailable = errors.New("classifier unavailable")
