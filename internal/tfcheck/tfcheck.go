// Package tfcheck checks Terraform configuration offline, against the JSON
// schema of its providers (`terraform providers schema -json`): what
// `terraform validate` would catch without downloading a provider. It checks
// resource and data source types, every argument and nested block, required
// arguments and blocks, read-only arguments, that references resolve, that
// variables have a type and a description, and that files are formatted as
// `terraform fmt` would. It is test tooling: nothing deployed imports it.
package tfcheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// Schema is the union of the providers' schemas.
type Schema struct {
	Providers   map[string]*Block // by local name: google, archive
	Resources   map[string]*Block
	DataSources map[string]*Block
}

// Block is one block's schema: its arguments and nested block types.
type Block struct {
	Attributes map[string]*Attribute `json:"attributes"`
	BlockTypes map[string]*BlockType `json:"block_types"`
}

// Attribute is one argument or exported attribute.
type Attribute struct {
	Required bool `json:"required"`
	Optional bool `json:"optional"`
	Computed bool `json:"computed"`
}

// BlockType is a nested block type with its item bounds.
type BlockType struct {
	NestingMode string `json:"nesting_mode"`
	Block       *Block `json:"block"`
	MinItems    int    `json:"min_items"`
	MaxItems    int    `json:"max_items"`
}

type schemaFile struct {
	ProviderSchemas map[string]struct {
		Provider          struct{ Block *Block }            `json:"provider"`
		ResourceSchemas   map[string]struct{ Block *Block } `json:"resource_schemas"`
		DataSourceSchemas map[string]struct{ Block *Block } `json:"data_source_schemas"`
	} `json:"provider_schemas"`
}

// LoadSchema reads the output of `terraform providers schema -json`.
func LoadSchema(path string) (*Schema, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tfcheck: read schema: %w", err)
	}
	var f schemaFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("tfcheck: decode schema %s: %w", path, err)
	}
	s := &Schema{Providers: map[string]*Block{}, Resources: map[string]*Block{}, DataSources: map[string]*Block{}}
	for addr, p := range f.ProviderSchemas {
		s.Providers[addr[strings.LastIndex(addr, "/")+1:]] = p.Provider.Block
		for name, r := range p.ResourceSchemas {
			s.Resources[name] = r.Block
		}
		for name, d := range p.DataSourceSchemas {
			s.DataSources[name] = d.Block
		}
	}
	if len(s.Resources) == 0 {
		return nil, fmt.Errorf("tfcheck: %s holds no resource schemas", path)
	}
	return s, nil
}

// CheckDir checks every .tf file of dir (not its subdirectories) as one
// Terraform module, and its variable files (*.tfvars, *.tfvars.example).
func CheckDir(dir string, s *Schema) error {
	var paths []string
	for _, pattern := range []string{"*.tf", "*.tfvars", "*.tfvars.example"} {
		m, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			return fmt.Errorf("tfcheck: %w", err)
		}
		paths = append(paths, m...)
	}
	if !slices.ContainsFunc(paths, func(p string) bool { return strings.HasSuffix(p, ".tf") }) {
		return fmt.Errorf("tfcheck: no .tf files in %s", dir)
	}
	var err error
	files := map[string][]byte{}
	for _, p := range paths {
		if files[p], err = os.ReadFile(p); err != nil {
			return fmt.Errorf("tfcheck: %w", err)
		}
	}
	return Check(files, s)
}

// Check checks the files (name → content) as one module and returns every
// problem found, joined, or nil. Files named *.tfvars or *.tfvars.example
// are variable files: each of their arguments must be a declared variable.
func Check(files map[string][]byte, s *Schema) error {
	c := &checker{schema: s, mod: module{
		variables: map[string]bool{}, locals: map[string]bool{}, modules: map[string]bool{},
		resources: map[string]*decl{}, data: map[string]*decl{},
	}}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	parser := hclparse.NewParser()
	var bodies, varFiles []*hclsyntax.Body
	for _, name := range names {
		src := files[name]
		if formatted := hclwrite.Format(src); !bytes.Equal(formatted, src) {
			c.errs = append(c.errs, fmt.Errorf("%s: not formatted as `terraform fmt` would (first difference at line %d)", name, firstDiffLine(src, formatted)))
		}
		f, diags := parser.ParseHCL(src, name)
		if diags.HasErrors() {
			c.errs = append(c.errs, fmt.Errorf("%s: %w", name, diags))
			continue
		}
		if isVarFile(name) {
			varFiles = append(varFiles, f.Body.(*hclsyntax.Body))
		} else {
			bodies = append(bodies, f.Body.(*hclsyntax.Body))
		}
	}
	for _, b := range bodies {
		c.declare(b)
	}
	for _, b := range bodies {
		c.checkFile(b)
	}
	for _, b := range varFiles {
		c.checkVarFile(b)
	}
	return errors.Join(c.errs...)
}

func isVarFile(name string) bool {
	return strings.HasSuffix(name, ".tfvars") || strings.HasSuffix(name, ".tfvars.example")
}

// checkVarFile checks a variable file: only assignments of declared variables.
func (c *checker) checkVarFile(body *hclsyntax.Body) {
	for name, a := range body.Attributes {
		if !c.mod.variables[name] {
			c.errorf(a.NameRange, "%q is not a declared variable%s", name, suggest(name, keys(c.mod.variables)))
		}
		if vars := a.Expr.Variables(); len(vars) > 0 {
			c.errorf(a.SrcRange, "variable files hold values, not references (%s)", vars[0].RootName())
		}
	}
	for _, b := range body.Blocks {
		c.errorf(b.TypeRange, "variable files hold assignments, not blocks (%q)", b.Type)
	}
}

// decl is a declared resource or data source.
type decl struct {
	typ      string
	repeated bool // count or for_each: references index it first
}

type module struct {
	variables, locals, modules map[string]bool
	resources, data            map[string]*decl // by "type.name"
}

type checker struct {
	schema *Schema
	mod    module
	errs   []error
}

func (c *checker) errorf(rng hcl.Range, format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("%s: %s", rng.String(), fmt.Sprintf(format, args...)))
}

// declare records every name the module declares, so references in any file
// can resolve to declarations in any other.
func (c *checker) declare(body *hclsyntax.Body) {
	for _, b := range body.Blocks {
		switch {
		case b.Type == "variable" && len(b.Labels) == 1:
			c.dup(c.mod.variables, b.Labels[0], b, "variable")
		case b.Type == "module" && len(b.Labels) == 1:
			c.dup(c.mod.modules, b.Labels[0], b, "module")
		case b.Type == "locals":
			for name, a := range b.Body.Attributes {
				if c.mod.locals[name] {
					c.errorf(a.NameRange, "local.%s is defined twice", name)
				}
				c.mod.locals[name] = true
			}
		case (b.Type == "resource" || b.Type == "data") && len(b.Labels) == 2:
			m := c.mod.resources
			if b.Type == "data" {
				m = c.mod.data
			}
			key := b.Labels[0] + "." + b.Labels[1]
			if m[key] != nil {
				c.errorf(b.DefRange(), "%s %s is declared twice", b.Type, key)
			}
			_, count := b.Body.Attributes["count"]
			_, forEach := b.Body.Attributes["for_each"]
			m[key] = &decl{typ: b.Labels[0], repeated: count || forEach}
		}
	}
}

func (c *checker) dup(m map[string]bool, name string, b *hclsyntax.Block, what string) {
	if m[name] {
		c.errorf(b.DefRange(), "%s %q is declared twice", what, name)
	}
	m[name] = true
}

// Meta-arguments every resource and data source accepts.
var (
	resourceMetaAttrs  = []string{"count", "for_each", "depends_on", "provider"}
	resourceMetaBlocks = []string{"lifecycle", "provisioner", "connection"}
)

func (c *checker) checkFile(body *hclsyntax.Body) {
	for name, a := range body.Attributes {
		c.errorf(a.NameRange, "unexpected top-level argument %q", name)
	}
	for _, b := range body.Blocks {
		switch b.Type {
		case "terraform":
			c.refs(b.Body, scope{})
		case "provider":
			if len(b.Labels) != 1 {
				c.errorf(b.DefRange(), "provider block needs one label")
				continue
			}
			ps, ok := c.schema.Providers[b.Labels[0]]
			if !ok {
				c.errorf(b.LabelRanges[0], "unknown provider %q", b.Labels[0])
				continue
			}
			c.body(b.Body, ps, "provider."+b.Labels[0], []string{"alias"}, nil, scope{})
		case "variable":
			c.variable(b)
		case "locals":
			c.refs(b.Body, scope{})
		case "output":
			if _, ok := b.Body.Attributes["value"]; !ok {
				c.errorf(b.DefRange(), "output %q has no value", label(b))
			}
			c.refs(b.Body, scope{})
		case "module", "moved", "import", "removed", "check":
			c.refs(b.Body, scope{})
		case "resource", "data":
			c.resource(b)
		default:
			c.errorf(b.TypeRange, "unknown top-level block %q", b.Type)
		}
	}
}

func label(b *hclsyntax.Block) string {
	if len(b.Labels) == 0 {
		return ""
	}
	return b.Labels[0]
}

func (c *checker) variable(b *hclsyntax.Block) {
	name := label(b)
	for _, required := range []string{"type", "description"} {
		if _, ok := b.Body.Attributes[required]; !ok {
			c.errorf(b.DefRange(), "variable %q has no %s", name, required)
		}
	}
	if d, ok := b.Body.Attributes["description"]; ok {
		if v, diags := d.Expr.Value(nil); diags.HasErrors() || v.Type() != cty.String || v.IsNull() || !v.IsKnown() || strings.TrimSpace(v.AsString()) == "" {
			c.errorf(d.SrcRange, "variable %q: the description must be a non-empty literal string", name)
		}
	}
	allowed := []string{"type", "description", "default", "sensitive", "nullable", "ephemeral"}
	for n, a := range b.Body.Attributes {
		if !slices.Contains(allowed, n) {
			c.errorf(a.NameRange, "variable %q: unexpected argument %q", name, n)
		}
	}
	for _, vb := range b.Body.Blocks {
		if vb.Type != "validation" {
			c.errorf(vb.TypeRange, "variable %q: unexpected block %q", name, vb.Type)
			continue
		}
		c.refs(vb.Body, scope{})
		for _, req := range []string{"condition", "error_message"} {
			if _, ok := vb.Body.Attributes[req]; !ok {
				c.errorf(vb.DefRange(), "variable %q: validation has no %s", name, req)
			}
		}
	}
	if d, ok := b.Body.Attributes["default"]; ok { // type is a type expression, not references
		c.exprRefs(d.Expr, scope{})
	}
}

func (c *checker) resource(b *hclsyntax.Block) {
	if len(b.Labels) != 2 {
		c.errorf(b.DefRange(), "%s block needs a type and a name", b.Type)
		return
	}
	types, kind := c.schema.Resources, "resource type"
	if b.Type == "data" {
		types, kind = c.schema.DataSources, "data source type"
	}
	bs, ok := types[b.Labels[0]]
	if !ok {
		c.errorf(b.LabelRanges[0], "unknown %s %q%s", kind, b.Labels[0], suggest(b.Labels[0], keys(types)))
		return
	}
	sc := scope{}
	if _, ok := b.Body.Attributes["for_each"]; ok {
		sc = sc.with("each")
	}
	if _, ok := b.Body.Attributes["count"]; ok {
		sc = sc.with("count")
	}
	sc = sc.with("self") // provisioners and postconditions
	c.body(b.Body, bs, b.Labels[0]+"."+b.Labels[1], resourceMetaAttrs, resourceMetaBlocks, sc)
}

// body checks a block's arguments and nested blocks against its schema.
func (c *checker) body(body *hclsyntax.Body, s *Block, where string, metaAttrs, metaBlocks []string, sc scope) {
	for name, a := range body.Attributes {
		c.exprRefs(a.Expr, sc)
		if slices.Contains(metaAttrs, name) {
			continue
		}
		as, ok := s.Attributes[name]
		switch {
		case ok && !as.Required && !as.Optional:
			c.errorf(a.NameRange, "%s: %q is read-only (computed by the provider)", where, name)
		case ok:
		case s.BlockTypes[name] != nil:
			c.errorf(a.NameRange, "%s: %q is a block: write %s { … }", where, name, name)
		default:
			c.errorf(a.NameRange, "%s: unsupported argument %q%s", where, name, suggest(name, keys(s.Attributes)))
		}
	}
	for name, as := range s.Attributes {
		if _, set := body.Attributes[name]; as.Required && !set {
			c.errorf(body.SrcRange, "%s: the argument %q is required, but no definition was found", where, name)
		}
	}
	counts := map[string]int{}
	dynamic := map[string]bool{}
	for _, nb := range body.Blocks {
		if slices.Contains(metaBlocks, nb.Type) {
			c.refs(nb.Body, sc)
			continue
		}
		if nb.Type == "dynamic" {
			c.dynamic(nb, s, where, sc)
			if len(nb.Labels) == 1 {
				dynamic[nb.Labels[0]] = true
			}
			continue
		}
		bt, ok := s.BlockTypes[nb.Type]
		if !ok {
			if s.Attributes[nb.Type] != nil {
				c.errorf(nb.TypeRange, "%s: %q is an argument, not a block: write %s = …", where, nb.Type, nb.Type)
			} else {
				c.errorf(nb.TypeRange, "%s: unsupported block type %q%s", where, nb.Type, suggest(nb.Type, keys(s.BlockTypes)))
			}
			c.refs(nb.Body, sc)
			continue
		}
		if len(nb.Labels) != 0 {
			c.errorf(nb.LabelRanges[0], "%s: block %q takes no labels", where, nb.Type)
		}
		counts[nb.Type]++
		c.body(nb.Body, bt.Block, where+"."+nb.Type, nil, nil, sc)
	}
	for name, bt := range s.BlockTypes {
		n := counts[name]
		max := bt.MaxItems
		if bt.NestingMode == "single" || bt.NestingMode == "group" {
			max = 1
		}
		if n < bt.MinItems && !dynamic[name] {
			c.errorf(body.SrcRange, "%s: at least %d %q block(s) required, found %d", where, bt.MinItems, name, n)
		}
		if max > 0 && n > max {
			c.errorf(body.SrcRange, "%s: at most %d %q block(s) allowed, found %d", where, max, name, n)
		}
	}
}

// dynamic checks a dynamic block: its label names a nested block type, its
// content is checked against that type with the iterator in scope.
func (c *checker) dynamic(nb *hclsyntax.Block, s *Block, where string, sc scope) {
	if len(nb.Labels) != 1 {
		c.errorf(nb.DefRange(), "%s: a dynamic block needs one label", where)
		return
	}
	name := nb.Labels[0]
	bt, ok := s.BlockTypes[name]
	if !ok {
		c.errorf(nb.LabelRanges[0], "%s: unsupported block type %q%s", where, name, suggest(name, keys(s.BlockTypes)))
		return
	}
	if _, ok := nb.Body.Attributes["for_each"]; !ok {
		c.errorf(nb.DefRange(), "%s: dynamic %q has no for_each", where, name)
	}
	iterator := name
	for an, a := range nb.Body.Attributes {
		switch an {
		case "for_each", "labels":
			c.exprRefs(a.Expr, sc)
		case "iterator":
			if tr, diags := hcl.AbsTraversalForExpr(a.Expr); !diags.HasErrors() && len(tr) == 1 {
				iterator = tr.RootName()
			} else {
				c.errorf(a.SrcRange, "%s: dynamic %q: iterator must be a name", where, name)
			}
		default:
			c.errorf(a.NameRange, "%s: dynamic %q: unsupported argument %q", where, name, an)
		}
	}
	contents := 0
	for _, cb := range nb.Body.Blocks {
		if cb.Type != "content" {
			c.errorf(cb.TypeRange, "%s: dynamic %q: unsupported block %q", where, name, cb.Type)
			continue
		}
		contents++
		c.body(cb.Body, bt.Block, where+"."+name, nil, nil, sc.with(iterator))
	}
	if contents != 1 {
		c.errorf(nb.DefRange(), "%s: dynamic %q needs exactly one content block", where, name)
	}
}

// scope is the extra root names valid in an expression (each, count, a
// dynamic block's iterator).
type scope []string

func (s scope) with(name string) scope { return append(slices.Clone(s), name) }

// refs checks the references of every expression in body, recursively.
func (c *checker) refs(body *hclsyntax.Body, sc scope) {
	for _, a := range body.Attributes {
		c.exprRefs(a.Expr, sc)
	}
	for _, b := range body.Blocks {
		c.refs(b.Body, sc)
	}
}

// Root names Terraform itself provides.
var builtinRoots = []string{"path", "terraform"}

func (c *checker) exprRefs(expr hclsyntax.Expression, sc scope) {
	for _, tr := range expr.Variables() {
		c.traversal(tr, sc)
	}
	// Variables stops at a computed index (fn[each.key].email): check what
	// is read after it too.
	hclsyntax.VisitAll(expr, func(n hclsyntax.Node) hcl.Diagnostics {
		rel, ok := n.(*hclsyntax.RelativeTraversalExpr)
		if !ok {
			return nil
		}
		idx, ok := rel.Source.(*hclsyntax.IndexExpr)
		if !ok {
			return nil
		}
		root, ok := idx.Collection.(*hclsyntax.ScopeTraversalExpr)
		if !ok {
			return nil
		}
		tr := append(slices.Clone(root.Traversal), hcl.TraverseIndex{Key: cty.DynamicVal})
		c.readAfterIndex(append(tr, rel.Traversal...), rel.SrcRange)
		return nil
	})
}

// readAfterIndex checks the attribute read from a resource or data source
// instance selected by a computed key; undeclared names are reported by
// traversal already.
func (c *checker) readAfterIndex(tr hcl.Traversal, rng hcl.Range) {
	name := func(i int) string {
		if a, ok := tr[i].(hcl.TraverseAttr); ok {
			return a.Name
		}
		return ""
	}
	root := tr.RootName()
	switch root {
	case "var", "local", "module", "each", "count", "self", "path", "terraform":
	case "data":
		if len(tr) > 3 {
			if d := c.mod.data[name(1)+"."+name(2)]; d != nil {
				c.attrRef(tr[3:], d, c.schema.DataSources[d.typ], "data."+name(1)+"."+name(2), rng)
			}
		}
	default:
		if len(tr) > 2 {
			if d := c.mod.resources[root+"."+name(1)]; d != nil {
				c.attrRef(tr[2:], d, c.schema.Resources[d.typ], root+"."+name(1), rng)
			}
		}
	}
}

func (c *checker) traversal(tr hcl.Traversal, sc scope) {
	root := tr.RootName()
	rng := tr.SourceRange()
	name := func(i int) (string, bool) {
		if len(tr) <= i {
			return "", false
		}
		a, ok := tr[i].(hcl.TraverseAttr)
		return a.Name, ok
	}
	switch {
	case slices.Contains(sc, root) || slices.Contains(builtinRoots, root):
	case root == "each" || root == "count" || root == "self":
		c.errorf(rng, "%s is not valid here (no %s on this block)", root, map[string]string{"each": "for_each", "count": "count", "self": "provisioner"}[root])
	case root == "var" || root == "local" || root == "module":
		n, ok := name(1)
		m := map[string]map[string]bool{"var": c.mod.variables, "local": c.mod.locals, "module": c.mod.modules}[root]
		if !ok || !m[n] {
			c.errorf(rng, "reference to undeclared %s.%s%s", root, n, suggest(n, keys(m)))
		}
	case root == "data":
		typ, ok1 := name(1)
		n, ok2 := name(2)
		d := c.mod.data[typ+"."+n]
		if !ok1 || !ok2 || d == nil {
			c.errorf(rng, "reference to undeclared data source data.%s.%s", typ, n)
			return
		}
		c.attrRef(tr[3:], d, c.schema.DataSources[typ], "data."+typ+"."+n, rng)
	default:
		n, ok := name(1)
		d := c.mod.resources[root+"."+n]
		if !ok || d == nil {
			c.errorf(rng, "reference to undeclared resource %s.%s", root, n)
			return
		}
		c.attrRef(tr[2:], d, c.schema.Resources[root], root+"."+n, rng)
	}
}

// attrRef checks that the attribute a reference reads exists in the schema
// (after the instance key of a repeated resource).
func (c *checker) attrRef(rest hcl.Traversal, d *decl, s *Block, addr string, rng hcl.Range) {
	if s == nil {
		return // its type is unknown: reported where declared
	}
	if d.repeated {
		if len(rest) == 0 {
			return
		}
		if _, ok := rest[0].(hcl.TraverseIndex); !ok {
			c.errorf(rng, "%s has count or for_each: index it before reading an attribute", addr)
			return
		}
		rest = rest[1:]
	}
	// Walk nested blocks (service_config[0].uri) as far as the traversal
	// names them; an attribute's own value (a map, an object) is not checked.
	for len(rest) > 0 {
		a, ok := rest[0].(hcl.TraverseAttr)
		if !ok {
			return
		}
		addr += "." + a.Name
		if s.Attributes[a.Name] != nil {
			return
		}
		bt := s.BlockTypes[a.Name]
		if bt == nil {
			c.errorf(rng, "%s: no such attribute or block%s", addr, suggest(a.Name, append(keys(s.Attributes), keys(s.BlockTypes)...)))
			return
		}
		rest, s = rest[1:], bt.Block
		if bt.NestingMode != "single" && bt.NestingMode != "group" {
			if len(rest) == 0 {
				return
			}
			if _, ok := rest[0].(hcl.TraverseIndex); !ok {
				c.errorf(rng, "%s is a list of blocks: index it ([0]) before reading an attribute", addr)
				return
			}
			rest = rest[1:]
		}
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// suggest names the closest candidate when one is a likely typo.
func suggest(name string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := distance(name, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func firstDiffLine(a, b []byte) int {
	line := 1
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return line
		}
		if a[i] == '\n' {
			line++
		}
	}
	return line
}
