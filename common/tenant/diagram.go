package tenant

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/routebot/routebot/common/classify"
)

// RouteTarget is one step a router sends classified utterances to, with
// every taxonomy path that leads there.
type RouteTarget struct {
	To    *Step
	Paths []classify.Path // sorted
}

// Routes lists the router's routes grouped by target step, sorted by the
// target's id (Otherwise and Unavailable are not included). It is for
// reading the compiled flow (diagrams, tooling); For is what a turn uses.
func (r *Router) Routes() []RouteTarget {
	byStep := map[*Step][]classify.Path{}
	for p, s := range r.byPath {
		byStep[s] = append(byStep[s], p)
	}
	out := make([]RouteTarget, 0, len(byStep))
	for s, paths := range byStep {
		slices.SortFunc(paths, func(a, b classify.Path) int { return strings.Compare(a.String(), b.String()) })
		out = append(out, RouteTarget{To: s, Paths: paths})
	}
	slices.SortFunc(out, func(a, b RouteTarget) int { return strings.Compare(a.To.ID, b.To.ID) })
	return out
}

// promptRunes is how much of a prompt a diagram node shows.
const promptRunes = 28

// Mermaid draws the flow as a Mermaid flowchart: one node per step (its id,
// ServiceCode and the start of its prompt; the shape says what the gateway
// does), one per router (shared by the steps that use it), and one edge per
// way out (router categories, otherwise, unavailable, next, yes/no, invalid
// input, silence), with the start and the flow's silence policy marked. The
// output depends only on the flow, so it can be kept under version control.
func (f *Flow) Mermaid() string {
	steps := make([]string, 0, len(f.Steps))
	routers := map[string]*Router{}
	for id, s := range f.Steps {
		steps = append(steps, id)
		if s.Router != nil {
			routers[s.Router.Name] = s.Router
		}
	}
	slices.Sort(steps)
	routerNames := slices.Sorted(maps.Keys(routers))
	node, routerNode, start, silence := nodeIDs(steps, routerNames)

	var b strings.Builder
	fmt.Fprintf(&b, "%%%% scenario %s", f.Code)
	if f.Tenant != nil {
		fmt.Fprintf(&b, " of tenant %s", f.Tenant.ID)
	}
	b.WriteString(" (routebotctl diagram)\nflowchart TD\n")
	edge := func(from, label string, to *Step) {
		if to == nil {
			return
		}
		if label == "" {
			fmt.Fprintf(&b, "    %s --> %s\n", from, node[to.ID])
			return
		}
		fmt.Fprintf(&b, "    %s -->|\"%s\"| %s\n", from, mermaidText(label), node[to.ID])
	}
	policy := func(from, name string, steps []*Step) {
		for i, s := range steps {
			label := name + " #" + strconv.Itoa(i+1)
			if i == len(steps)-1 {
				label += "…" // the last one repeats
			}
			edge(from, label, s)
		}
	}

	fmt.Fprintf(&b, "    %s((start))\n", start)
	for _, id := range steps {
		b.WriteString("    " + stepNode(node[id], f.Steps[id]) + "\n")
	}
	for _, name := range routerNames {
		fmt.Fprintf(&b, "    %s{{\"router %s\"}}\n", routerNode[name], mermaidText(name))
	}
	if len(f.OnSilence) > 0 || f.OnSilenceEnd != nil {
		fmt.Fprintf(&b, "    %s([\"silence on any step\"])\n", silence)
	}

	edge(start, "", f.Start)
	for _, id := range steps {
		s, from := f.Steps[id], node[id]
		if s.Router != nil {
			fmt.Fprintf(&b, "    %s --> %s\n", from, routerNode[s.Router.Name])
		}
		edge(from, "next", s.Next)
		edge(from, "yes", s.Yes)
		edge(from, "no", s.No)
		policy(from, "invalid", s.OnInvalid)
		policy(from, "무응답", s.OnSilence)
	}
	var tax *classify.Taxonomy
	if f.Tenant != nil {
		tax = f.Tenant.Taxonomy
	}
	for _, name := range routerNames {
		r, from := routers[name], routerNode[name]
		for _, rt := range r.Routes() {
			edge(from, categoryLabel(tax, rt.Paths), rt.To)
		}
		edge(from, "otherwise", r.Otherwise)
		edge(from, "unavailable", r.Unavailable)
	}
	policy(silence, "무응답", f.OnSilence)
	edge(silence, "무응답종료", f.OnSilenceEnd)
	return b.String()
}

// stepNode is a step's node: its shape says what the gateway does.
func stepNode(id string, s *Step) string {
	what := string(s.Service)
	if s.Service == Transfer {
		what += " → " + s.Transfer
	}
	if s.DTMF != nil {
		what += " · " + strconv.Itoa(s.DTMF.Length) + " digits"
	}
	label := `"` + mermaidText(s.ID) + "<br/>" + mermaidText(what) + "<br/>" +
		mermaidText(shorten(s.Prompt.String(), promptRunes)) + `"`
	switch s.Service {
	case Hangup:
		return id + "([" + label + "])"
	case YesNo:
		return id + "{" + label + "}"
	case Digits:
		return id + "[/" + label + "/]"
	case Transfer:
		return id + "[[" + label + "]]"
	}
	return id + "[" + label + "]"
}

// categoryLabel names route categories by their small category, or by the
// whole path when the small name alone would be ambiguous.
func categoryLabel(tax *classify.Taxonomy, paths []classify.Path) string {
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = p.String()
		if tax != nil {
			if leaf, ok := tax.Leaf(p[2]); ok && leaf == p {
				names[i] = p[2]
			}
		}
	}
	return strings.Join(names, ", ")
}

// shorten keeps about n runes of s, cut at a space, with "…" for the rest; a
// few runes over n are kept rather than cut.
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n+n/4 {
		return s
	}
	cut := string(r[:n])
	if i := strings.LastIndexByte(cut, ' '); i > 0 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,.") + "…"
}

// mermaidText escapes what Mermaid would read as syntax inside a quoted
// label (quotes, brackets, pipes, HTML, a '#' that would start an entity)
// as its #code; entity.
func mermaidText(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch r {
		case '"', '&', '(', ')', '<', '>', '[', ']', '{', '}', '|', '`':
			b.WriteString("#" + strconv.Itoa(int(r)) + ";")
		case '#':
			if entity.MatchString(s[i:]) {
				b.WriteString("#35;")
			} else {
				b.WriteByte('#')
			}
		case '\n', '\r', '\t':
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// entity is what Mermaid decodes as a character code: "#quot;", "#35;".
var entity = regexp.MustCompile(`^#\w+;`)

var plainID = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

// mermaidWords cannot be node ids.
var mermaidWords = map[string]bool{"end": true, "graph": true, "flowchart": true, "subgraph": true, "style": true,
	"classdef": true, "class": true, "click": true, "linkstyle": true, "direction": true, "call": true,
	"href": true, "default": true, "interpolate": true}

// nodeIDs names the diagram's nodes: a step by its id when Mermaid reads
// that as a plain id, else stepN; a router router_<name> (or routerN); and
// the start and silence markers with names no step or router took.
func nodeIDs(steps, routers []string) (step, router map[string]string, start, silence string) {
	used := map[string]bool{}
	plain := func(id string) bool { return plainID.MatchString(id) && !mermaidWords[strings.ToLower(id)] }
	free := func(base string) string {
		name := base
		for n := 1; used[name]; n++ {
			name = base + strconv.Itoa(n)
		}
		used[name] = true
		return name
	}
	step = make(map[string]string, len(steps))
	for _, id := range steps {
		if plain(id) {
			step[id], used[id] = id, true
		}
	}
	for _, id := range steps {
		if _, ok := step[id]; !ok {
			step[id] = free("step")
		}
	}
	router = make(map[string]string, len(routers))
	for _, name := range routers {
		if plain(name) {
			router[name] = free("router_" + name)
		} else {
			router[name] = free("router")
		}
	}
	return step, router, free("start"), free("silence")
}
