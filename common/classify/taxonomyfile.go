package classify

import (
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// taxonomyFile is the on-disk form of a tenant taxonomy
// (examples/tenants/<tenant>/taxonomy.yaml).
type taxonomyFile struct {
	Fallback   yaml.Node `yaml:"fallback"`
	Categories []struct {
		Path     yaml.Node `yaml:"path"`
		Examples []string  `yaml:"examples"`
	} `yaml:"categories"`
}

// DecodeTaxonomy reads a taxonomy in the tenant file format:
//
//	fallback: 기타/기타/담당자확인전달요청
//	categories:
//	  - path: 주문배송/배송/배송조회
//	    examples:
//	      - 주문한 책이 언제 오는지 궁금해요
//
// Errors carry the YAML line where one is known.
func DecodeTaxonomy(data []byte) (*Taxonomy, error) {
	var f taxonomyFile
	if err := yaml.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("decode taxonomy: %w", err)
	}
	if f.Fallback.Kind == 0 {
		return nil, errors.New("decode taxonomy: fallback is missing")
	}
	fallback, err := decodePath(&f.Fallback)
	if err != nil {
		return nil, fmt.Errorf("decode taxonomy: fallback: %w", err)
	}
	cats := make([]Category, 0, len(f.Categories))
	for i, c := range f.Categories {
		if c.Path.Kind == 0 {
			return nil, fmt.Errorf("decode taxonomy: category %d: path is missing", i+1)
		}
		p, err := decodePath(&c.Path)
		if err != nil {
			return nil, fmt.Errorf("decode taxonomy: category %d: %w", i+1, err)
		}
		examples := make([]string, 0, len(c.Examples))
		for _, e := range c.Examples {
			if e = strings.TrimSpace(e); e != "" {
				examples = append(examples, e)
			}
		}
		cats = append(cats, Category{Path: p, Examples: examples})
	}
	t, err := NewTaxonomy(cats, fallback)
	if err != nil {
		return nil, fmt.Errorf("decode taxonomy: %w", err)
	}
	return t, nil
}

func decodePath(n *yaml.Node) (Path, error) {
	if n.Kind != yaml.ScalarNode {
		return Path{}, fmt.Errorf("line %d: want a large/middle/small string", n.Line)
	}
	p, err := ParsePath(n.Value)
	if err != nil {
		return Path{}, fmt.Errorf("line %d: %w", n.Line, err)
	}
	return p, nil
}
