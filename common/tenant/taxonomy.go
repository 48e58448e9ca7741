package tenant

import (
	"strconv"
	"strings"

	"github.com/routebot/routebot/common/classify"
)

// taxonomy reads taxonomy.yaml: each problem at its line, a fallback that is
// not a category with the category it was probably meant to be.
func (p *parser) taxonomy() *classify.Taxonomy {
	var ts taxonomySpec
	doc := p.decode(TaxonomyFile, &ts, noScope)
	if doc == nil {
		return nil
	}
	before := len(p.problems)
	cats := make([]classify.Category, 0, len(ts.Categories))
	pathLine, leafLine := map[classify.Path]int{}, map[string]int{}
	leafPath := map[string]classify.Path{}
	for i, c := range ts.Categories {
		key := "categories[" + strconv.Itoa(i) + "]"
		line := doc.line(key + ".path")
		if c.Path == "" {
			p.addf(TaxonomyFile, line, "", "%s: path (large/middle/small) is required", key)
			continue
		}
		path, err := classify.ParsePath(c.Path)
		if err != nil {
			p.addf(TaxonomyFile, line, "", "%s.path: %v", key, err)
			continue
		}
		if first, dup := pathLine[path]; dup {
			p.addf(TaxonomyFile, line, "", "%s.path: category %s is listed twice (first on line %d)", key, path, first)
			continue
		}
		if first, dup := leafLine[path[2]]; dup {
			p.addf(TaxonomyFile, line, "", "%s.path: small category %q is also under %s (line %d): a small category names one path",
				key, path[2], leafPath[path[2]], first)
			continue
		}
		pathLine[path], leafLine[path[2]], leafPath[path[2]] = line, line, path
		examples := make([]string, 0, len(c.Examples))
		for _, e := range c.Examples {
			if e = strings.TrimSpace(e); e != "" {
				examples = append(examples, e)
			}
		}
		cats = append(cats, classify.Category{Path: path, Examples: examples})
	}
	if len(ts.Categories) == 0 {
		p.addf(TaxonomyFile, doc.line("categories"), "", "categories: at least one is required")
	}
	var fallback classify.Path
	switch path, err := classify.ParsePath(ts.Fallback); {
	case ts.Fallback == "":
		p.addf(TaxonomyFile, 0, "", "fallback is required: the category of an utterance no category fits (large/middle/small)")
	case err != nil:
		p.addf(TaxonomyFile, doc.line("fallback"), "", "fallback: %v", err)
	case len(p.problems) == before && pathLine[path] == 0:
		names := make([]string, 0, len(cats))
		for _, c := range cats {
			names = append(names, c.Path.String())
		}
		p.addf(TaxonomyFile, doc.line("fallback"), "", "fallback %s is not one of the categories%s", path, didYouMean(path.String(), names))
	default:
		fallback = path
	}
	if len(p.problems) > before {
		return nil
	}
	tax, err := classify.NewTaxonomy(cats, fallback)
	if err != nil { // the checks above are NewTaxonomy's, with lines; this is a safety net
		p.addf(TaxonomyFile, 0, "", "%v", err)
		return nil
	}
	return tax
}
