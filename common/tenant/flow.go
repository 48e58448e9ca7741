package tenant

import (
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/routebot/routebot/common/classify"
	"github.com/routebot/routebot/common/wire"
)

// flowParser compiles one flow file, recording problems against it.
type flowParser struct {
	*parser
	t          *Tenant
	file       string
	stepLines  map[string]int
	routeLines map[string]int
	top        map[string]int
	spec       flowSpec
	f          *Flow
	captures   map[string]bool // variables some dtmf.capture defines
}

func (p *parser) flow(t *Tenant, file string) *Flow {
	fp := &flowParser{parser: p, t: t, file: file}
	root := p.decode(file, &fp.spec)
	if root == nil {
		return nil
	}
	fp.top, fp.stepLines, fp.routeLines = keyLines(root), keyLines(root, "steps"), keyLines(root, "routers")
	before := len(p.problems)
	f := fp.compile()
	if len(p.problems) > before {
		return nil
	}
	return f
}

func (fp *flowParser) errf(step string, format string, args ...any) {
	line := fp.stepLines[step]
	if line == 0 {
		line = fp.routeLines[step]
	}
	fp.addf(fp.file, line, step, format, args...)
}

func (fp *flowParser) topf(key, format string, args ...any) {
	fp.addf(fp.file, fp.top[key], "", format, args...)
}

func (fp *flowParser) compile() *Flow {
	s := &fp.spec // defaults filled in here are read by step()
	want := strings.TrimSuffix(strings.TrimPrefix(fp.file, FlowsDir), ".yaml")
	switch {
	case s.Code == "":
		fp.topf("code", "code (the scenario code) is required")
	case s.Code != want:
		fp.topf("code", "code %q does not match the file name %q", s.Code, want)
	case !namePattern.MatchString(s.Code):
		fp.topf("code", "code %q: use letters, digits, '_', '-', '.'", s.Code)
	}
	if s.Defaults.ListenTimeout == 0 {
		s.Defaults.ListenTimeout = defaultListen
	}
	if s.Defaults.DTMFTimeout == 0 {
		s.Defaults.DTMFTimeout = defaultDigits
	}
	f := &Flow{Code: s.Code, Tenant: fp.t, Steps: make(map[string]*Step, len(s.Steps))}
	fp.f = f
	if len(s.Steps) == 0 {
		fp.topf("steps", "steps: a flow needs at least one step")
		return nil
	}
	// Allocate every step first so references can link in any order.
	names := make([]string, 0, len(s.Steps))
	for id := range s.Steps {
		names = append(names, id)
		if !namePattern.MatchString(id) || id == wire.Silence || id == wire.SilenceEnd {
			fp.errf(id, "step name %q: use letters, digits, '_', '-', '.'", id)
		}
		f.Steps[id] = &Step{ID: id}
	}
	sort.Strings(names)
	fp.captures = map[string]bool{}
	for _, ss := range s.Steps {
		if ss.DTMF != nil && ss.DTMF.Capture != "" {
			fp.captures[ss.DTMF.Capture] = true
		}
	}
	routers := map[string]*Router{}
	for name := range s.Routers {
		routers[name] = &Router{Name: name}
	}
	for name, rs := range s.Routers {
		fp.router(routers[name], rs)
	}
	for _, id := range names {
		fp.step(f.Steps[id], s.Steps[id], routers)
	}
	f.Start = fp.ref("", "start", s.Start, true)
	f.OnSilence = fp.refs("", "onSilence", s.OnSilence)
	f.OnSilenceEnd = fp.ref("", "onSilenceEnd", s.OnSilenceEnd, false)
	if f.Start != nil {
		fp.reachable(names, routers)
	}
	return f
}

// ref resolves a step reference; from is the referring step ("" for the flow).
func (fp *flowParser) ref(from, field, name string, required bool) *Step {
	if name == "" {
		if required {
			fp.refErr(from, field, "%s is required", field)
		}
		return nil
	}
	st, ok := fp.f.Steps[name]
	if !ok {
		fp.refErr(from, field, "%s: unknown step %q", field, name)
	}
	return st
}

func (fp *flowParser) refs(from, field string, names []string) []*Step {
	var out []*Step
	for _, n := range names {
		if st := fp.ref(from, field, n, true); st != nil {
			out = append(out, st)
		}
	}
	return out
}

func (fp *flowParser) refErr(from, field, format string, args ...any) {
	if from == "" {
		fp.topf(field, format, args...)
	} else {
		fp.errf(from, format, args...)
	}
}

func (fp *flowParser) router(r *Router, rs routerSpec) {
	from := r.Name
	tax := fp.t.Taxonomy
	r.byPath = map[classify.Path]*Step{}
	r.Otherwise = fp.ref(from, "otherwise", rs.Otherwise, true)
	r.Unavailable = fp.ref(from, "unavailable", rs.Unavailable, false)
	if len(rs.Routes) == 0 {
		fp.errf(from, "router has no routes")
	}
	for i, route := range rs.Routes {
		to := fp.ref(from, "routes["+strconv.Itoa(i)+"].to", route.To, true)
		if len(route.When) == 0 {
			fp.errf(from, "routes[%d].when: name at least one category", i)
		}
		for _, cat := range route.When {
			if tax == nil {
				continue // the taxonomy's own problem is reported already
			}
			matched := fp.categoryPaths(cat)
			if len(matched) == 0 {
				fp.errf(from, "routes[%d].when: category %q is not in the taxonomy", i, cat)
			}
			for _, path := range matched {
				if _, taken := r.byPath[path]; !taken && to != nil {
					r.byPath[path] = to // the first route naming a path wins
				}
			}
		}
	}
}

// categoryPaths resolves a route's category: "large/middle/small", a prefix
// "large" or "large/middle", or a bare small category name.
func (fp *flowParser) categoryPaths(cat string) []classify.Path {
	tax := fp.t.Taxonomy
	var levels []string
	if strings.Contains(cat, "/") {
		levels = strings.Split(cat, "/")
	} else if leaf, ok := tax.Leaf(cat); ok {
		return []classify.Path{leaf}
	} else {
		levels = []string{cat}
	}
	var out []classify.Path
	for _, c := range tax.Categories {
		if classify.PathHasPrefix(c.Path, levels) {
			out = append(out, c.Path)
		}
	}
	return out
}

func (fp *flowParser) step(st *Step, ss stepSpec, routers map[string]*Router) {
	id := st.ID
	st.Service = Service(ss.Service)
	st.Prompt = ParseTemplate(ss.Prompt)
	st.Timeout = ss.Timeout
	st.OnInvalid = fp.refs(id, "onInvalid", ss.OnInvalid)
	st.OnSilence = fp.refs(id, "onSilence", ss.OnSilence)
	if strings.TrimSpace(ss.Prompt) == "" {
		fp.errf(id, "prompt is required (it is the Description the gateway speaks)")
	}
	for _, v := range st.Prompt.Vars {
		if !builtinVars[v] && !fp.captures[v] {
			fp.errf(id, "prompt uses ${%s}: not a variable (phone, name, category1..3, answer, or a dtmf.capture)", v)
		}
	}
	allowed := map[string]bool{}
	switch st.Service {
	case Listen:
		allowed["router"], allowed["timeout"] = true, true
		if ss.Router == "" {
			fp.errf(id, "S0000 needs router: which router reads the caller's utterance")
		} else if st.Router = routers[ss.Router]; st.Router == nil {
			fp.errf(id, "router: unknown router %q", ss.Router)
		}
		if st.Timeout == 0 {
			st.Timeout = fp.spec.Defaults.ListenTimeout
		}
	case Hangup:
	case Continue:
		allowed["next"] = true
		st.Next = fp.ref(id, "next", ss.Next, true)
	case YesNo:
		allowed["yes"], allowed["no"], allowed["timeout"], allowed["onInvalid"] = true, true, true, true
		st.Yes = fp.ref(id, "yes", ss.Yes, true)
		st.No = fp.ref(id, "no", ss.No, true)
		if st.Timeout == 0 {
			st.Timeout = fp.spec.Defaults.ListenTimeout
		}
	case Digits:
		allowed["dtmf"], allowed["next"], allowed["timeout"], allowed["onInvalid"] = true, true, true, true
		st.Next = fp.ref(id, "next", ss.Next, true)
		st.DTMF = fp.dtmf(id, ss.DTMF)
		if st.Timeout == 0 {
			st.Timeout = fp.spec.Defaults.DTMFTimeout
		}
	case Transfer:
		allowed["transfer"] = true
		st.Transfer = fp.transfer(id, ss.Transfer)
	default:
		fp.errf(id, "service %q: want S0000, S0001, S0002, S0003, S1000 or S2000", ss.Service)
		return
	}
	set := map[string]bool{"router": ss.Router != "", "next": ss.Next != "", "yes": ss.Yes != "", "no": ss.No != "",
		"dtmf": ss.DTMF != nil, "transfer": ss.Transfer != "", "timeout": ss.Timeout != 0, "onInvalid": len(ss.OnInvalid) > 0}
	for _, field := range []string{"router", "next", "yes", "no", "dtmf", "transfer", "timeout", "onInvalid"} {
		if set[field] && !allowed[field] {
			fp.errf(id, "%s does not apply to a %s step", field, ss.Service)
		}
	}
	if st.Timeout < 0 || st.Timeout > 600 {
		fp.errf(id, "timeout %d: want 1 to 600 seconds", st.Timeout)
	}
}

func (fp *flowParser) dtmf(id string, ds *dtmfSpec) *DTMF {
	if ds == nil || ds.Length <= 0 {
		fp.errf(id, "S1000 needs dtmf.length (the number of digits to collect)")
		return nil
	}
	d := &DTMF{Length: ds.Length, EndChar: ds.EndChar, Sensitive: ds.Sensitive, Capture: ds.Capture}
	if ds.Length > maxDTMFLength {
		fp.errf(id, "dtmf.length %d: at most %d", ds.Length, maxDTMFLength)
	}
	if ds.EndChar != "" && ds.EndChar != "#" && ds.EndChar != "*" {
		fp.errf(id, "dtmf.endChar %q: want # or *", ds.EndChar)
	}
	pattern := ds.Pattern
	if pattern == "" {
		pattern = "[0-9]+"
	}
	re, err := regexp.Compile("^(?:" + pattern + ")$")
	if err != nil {
		fp.errf(id, "dtmf.pattern: %v", err)
	}
	d.Pattern = re
	if ds.Sensitive && ds.Capture != "" {
		fp.errf(id, "dtmf.capture: a sensitive step's digits are never kept")
	}
	if ds.Capture != "" && (builtinVars[ds.Capture] || !namePattern.MatchString(ds.Capture)) {
		fp.errf(id, "dtmf.capture %q: not a usable variable name", ds.Capture)
	}
	return d
}

func (fp *flowParser) transfer(id, target string) string {
	switch {
	case target == "":
		fp.errf(id, "S2000 needs transfer: a queue name from tenant.yaml or a number")
	case digitsPattern.MatchString(target):
		return target
	default:
		if number, ok := fp.t.Queues[target]; ok {
			return number
		}
		fp.errf(id, "transfer: %q is neither a queue in tenant.yaml nor a number", target)
	}
	return ""
}

// reachable reports steps no path from the start, silence policy or a router
// reaches: they are dead text an author believes is live.
func (fp *flowParser) reachable(names []string, routers map[string]*Router) {
	f := fp.f
	seen := map[*Step]bool{}
	usedRouters := map[*Router]bool{}
	var visit func(*Step)
	visit = func(s *Step) {
		if s == nil || seen[s] {
			return
		}
		seen[s] = true
		for _, n := range []*Step{s.Next, s.Yes, s.No} {
			visit(n)
		}
		for _, n := range s.OnInvalid {
			visit(n)
		}
		for _, n := range s.OnSilence {
			visit(n)
		}
		if r := s.Router; r != nil && !usedRouters[r] {
			usedRouters[r] = true
			visit(r.Otherwise)
			visit(r.Unavailable)
			for _, to := range r.byPath {
				visit(to)
			}
		}
	}
	visit(f.Start)
	visit(f.OnSilenceEnd)
	for _, s := range f.OnSilence {
		visit(s)
	}
	for _, id := range names {
		if !seen[f.Steps[id]] {
			fp.errf(id, "unreachable: no step, router or silence policy leads here")
		}
	}
	for name, r := range routers {
		if !usedRouters[r] {
			fp.errf(name, "router %q is not used by any S0000 step", name)
		}
	}
}
