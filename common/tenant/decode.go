package tenant

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// yamlDoc is one decoded tenant file with the line of every key and list
// item, by path: "steps.pin.next", "routers.main.routes[1].to", "bots[0]".
type yamlDoc struct {
	lines map[string]int
}

// line is the line of path, or of the nearest enclosing key that has one
// (0 when not even that is in the file).
func (d *yamlDoc) line(path string) int {
	for path != "" {
		if n, ok := d.lines[path]; ok {
			return n
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

// keyPath is where a value sits in a file: keys and "[i]" list indices.
type keyPath []string

func (k keyPath) String() string {
	var b strings.Builder
	for i, e := range k {
		if i > 0 && !strings.HasPrefix(e, "[") {
			b.WriteByte('.')
		}
		b.WriteString(e)
	}
	return b.String()
}

// with is k extended by e, never sharing k's backing array.
func (k keyPath) with(e string) keyPath { return append(k[:len(k):len(k)], e) }

// scopeFunc splits a key path into the step or router it belongs to and the
// key within it (flows: "steps.pin.dtmf.length" → "pin", "dtmf.length").
type scopeFunc func(keyPath) (step string, key keyPath)

func noScope(k keyPath) (string, keyPath) { return "", k }

// flowScope is a flow file's scope: its steps and routers.
func flowScope(k keyPath) (string, keyPath) {
	if len(k) >= 2 && (k[0] == "steps" || k[0] == "routers") {
		return k[1], k[2:]
	}
	return "", k
}

// parseYAML reads a file's YAML into a node tree, reporting a syntax error.
// A missing file is reported unless a misnamed one stands in for it (that
// problem is reported already). root is nil for an empty file.
func (p *parser) parseYAML(file string) (root *yaml.Node, ok bool) {
	data, present := p.files[file]
	if !present {
		if !p.renamed[file] {
			p.addf(file, 0, "", "file is missing")
		}
		return nil, false
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		p.addf(file, yamlLine(err), "", "%s", yamlMessage(err))
		return nil, false
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		return doc.Content[0], true
	}
	return nil, true
}

// decode reads file into v strictly: every key must be one v has, every
// value of the kind v's field takes. Each mistake is reported at its line,
// with the step it is in and the key's path, and a suggestion for a
// misspelt key. nil when anything is wrong (nothing half-decoded is used).
func (p *parser) decode(file string, v any, scope scopeFunc) *yamlDoc {
	root, ok := p.parseYAML(file)
	if !ok {
		return nil
	}
	doc := &yamlDoc{lines: map[string]int{}}
	w := &walker{p: p, file: file, doc: doc, scope: scope, seen: map[*yaml.Node]bool{}}
	before := len(p.problems)
	w.check(root, reflect.TypeOf(v).Elem(), nil)
	if len(p.problems) > before {
		return nil
	}
	if root == nil {
		return doc
	}
	if err := root.Decode(v); err != nil {
		// What the walk does not check (a number too big for its field, a
		// recursive alias): yaml's message, at its line.
		var te *yaml.TypeError
		msgs := []string{err.Error()}
		if errors.As(err, &te) {
			msgs = te.Errors
		}
		for _, msg := range msgs {
			e := errors.New(msg)
			p.addf(file, yamlLine(e), "", "%s", yamlMessage(e))
		}
		return nil
	}
	return doc
}

// walker checks a node tree against the Go type it decodes into.
type walker struct {
	p     *parser
	file  string
	doc   *yamlDoc
	scope scopeFunc
	seen  map[*yaml.Node]bool // anchors already checked (each once: no loop, no blow-up)
}

// problem reports msg about the value at k, on line.
func (w *walker) problem(line int, k keyPath, format string, args ...any) {
	step, key := w.scope(k)
	msg := fmt.Sprintf(format, args...)
	if len(key) > 0 {
		msg = key.String() + ": " + msg
	}
	w.p.addf(w.file, line, step, "%s", msg)
}

func (w *walker) check(n *yaml.Node, t reflect.Type, k keyPath) {
	if n == nil {
		return
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil || w.seen[n.Alias] {
			return
		}
		w.seen[n.Alias] = true
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // an empty value is the zero value of any kind
	}
	switch t.Kind() {
	case reflect.Struct:
		if !w.want(n, yaml.MappingNode, k) {
			return
		}
		fields := yamlFields(t)
		names := make([]string, 0, len(fields))
		for name := range fields {
			names = append(names, name)
		}
		w.mapping(n, k, func(key, val *yaml.Node) {
			ft, ok := fields[key.Value]
			if !ok {
				w.problem(key.Line, k, "unknown key %q%s", key.Value, unknownKeyHint(key.Value, names))
				return
			}
			w.check(val, ft, k.with(key.Value))
		})
	case reflect.Map:
		if !w.want(n, yaml.MappingNode, k) {
			return
		}
		w.mapping(n, k, func(key, val *yaml.Node) { w.check(val, t.Elem(), k.with(key.Value)) })
	case reflect.Slice:
		if !w.want(n, yaml.SequenceNode, k) {
			return
		}
		for i, item := range n.Content {
			ik := k.with("[" + strconv.Itoa(i) + "]")
			w.doc.lines[ik.String()] = item.Line
			w.check(item, t.Elem(), ik)
		}
	case reflect.String:
		w.want(n, yaml.ScalarNode, k)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		switch {
		case !w.want(n, yaml.ScalarNode, k):
		case n.ShortTag() != "!!int":
			w.problem(n.Line, k, "want a whole number, not %s", scalarText(n))
		case n.Decode(reflect.New(t).Interface()) != nil:
			w.problem(n.Line, k, "%s is too large", n.Value)
		}
	case reflect.Float32, reflect.Float64:
		if tag := n.ShortTag(); w.want(n, yaml.ScalarNode, k) && tag != "!!int" && tag != "!!float" {
			w.problem(n.Line, k, "want a number, not %s", scalarText(n))
		}
	case reflect.Bool:
		if w.want(n, yaml.ScalarNode, k) && n.ShortTag() != "!!bool" {
			w.problem(n.Line, k, "want true or false, not %s", scalarText(n))
		}
	}
}

// unknownKeyHint suggests the key meant, or lists the keys when there are
// only a few.
func unknownKeyHint(got string, names []string) string {
	if hint := didYouMean(got, names); hint != "" {
		return hint
	}
	if len(names) <= 6 {
		slices.Sort(names)
		return " (want one of " + strings.Join(names, ", ") + ")"
	}
	return ""
}

// want reports a node of another kind than the field takes.
func (w *walker) want(n *yaml.Node, kind yaml.Kind, k keyPath) bool {
	if n.Kind == kind {
		return true
	}
	w.problem(n.Line, k, "want %s, not %s", kindName(kind), kindName(n.Kind))
	return false
}

// mapping calls f for each entry of a mapping node, recording key lines and
// reporting keys that are not text or are given twice.
func (w *walker) mapping(n *yaml.Node, k keyPath, f func(key, val *yaml.Node)) {
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		if key.Kind != yaml.ScalarNode {
			w.problem(key.Line, k, "a key must be text, not %s", kindName(key.Kind))
			continue
		}
		if key.ShortTag() == "!!merge" {
			continue // "<<: *anchor": the anchor is checked where it is defined
		}
		if line, dup := first[key.Value]; dup {
			w.problem(key.Line, k, "%q is given twice (first on line %d)", key.Value, line)
			continue
		}
		first[key.Value] = key.Line
		w.doc.lines[k.with(key.Value).String()] = key.Line
		f(key, val)
	}
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "key: value entries"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a single value"
	case yaml.AliasNode:
		return "an alias"
	}
	return "a document"
}

func scalarText(n *yaml.Node) string {
	if n.ShortTag() == "!!str" {
		return fmt.Sprintf("the text %q", n.Value)
	}
	return strconv.Quote(n.Value)
}

// yamlFields maps a struct's YAML keys to their types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		out[name] = f.Type
	}
	return out
}

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

func yamlLine(err error) int {
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

var yamlLinePrefixRE = regexp.MustCompile(`line \d+: `)

func yamlMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.ReplaceAll(msg, "unmarshal errors:\n  ", "")
	return yamlLinePrefixRE.ReplaceAllString(msg, "") // the line is in Problem.Line
}
