package tenant

import (
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/routebot/routebot/common/classify"
	"github.com/routebot/routebot/common/wire"
)

// flowParser compiles one flow file, recording problems against it.
type flowParser struct {
	*parser
	t        *Tenant
	file     string
	doc      *yamlDoc
	spec     flowSpec
	f        *Flow
	routers  map[string]*Router
	captures map[string]bool // variables some dtmf.capture defines
}

// where a problem is: a step, a router, or the flow itself.
type where struct {
	kind string // "steps", "routers", or "" for the flow's own keys
	name string
}

func stepAt(id string) where     { return where{"steps", id} }
func routerAt(name string) where { return where{"routers", name} }

var flowAt = where{}

func (p *parser) flow(t *Tenant, file string) *Flow {
	fp := &flowParser{parser: p, t: t, file: file}
	fp.doc = p.decode(file, &fp.spec, flowScope)
	if fp.doc == nil {
		return nil
	}
	before := len(p.problems)
	f := fp.compile()
	if len(p.problems) > before {
		return nil
	}
	return f
}

// problemf reports a problem of w at the line of its key field, or of w
// itself when field is not in the file (a required key left out).
func (fp *flowParser) problemf(w where, field, format string, args ...any) {
	key := field
	if w.kind != "" {
		key = w.kind + "." + w.name
		if field != "" {
			key += "." + field
		}
	}
	fp.addf(fp.file, fp.doc.line(key), w.name, format, args...)
}

func (fp *flowParser) compile() *Flow {
	s := &fp.spec // defaults filled in here are read by step()
	want := strings.TrimSuffix(strings.TrimPrefix(fp.file, FlowsDir), ".yaml")
	switch {
	case s.Code == "":
		fp.problemf(flowAt, "code", "code (the scenario code) is required: %q, as the file is named", want)
	case s.Code != want:
		fp.problemf(flowAt, "code", "code %q does not match the file name %q", s.Code, want)
	case !namePattern.MatchString(s.Code):
		fp.problemf(flowAt, "code", "code %q: use letters, digits, '_', '-', '.'", s.Code)
	}
	if s.Defaults.ListenTimeout == 0 {
		s.Defaults.ListenTimeout = defaultListen
	}
	if s.Defaults.DTMFTimeout == 0 {
		s.Defaults.DTMFTimeout = defaultDigits
	}
	f := &Flow{Code: s.Code, Tenant: fp.t, Steps: make(map[string]*Step, len(s.Steps)), codeLine: fp.doc.line("code")}
	fp.f = f
	if len(s.Steps) == 0 {
		fp.problemf(flowAt, "steps", "steps: a flow needs at least one step")
		return nil
	}
	// Allocate every step first so references can link in any order.
	names := slices.Sorted(maps.Keys(s.Steps))
	for _, id := range names {
		if !namePattern.MatchString(id) || id == wire.Silence || id == wire.SilenceEnd {
			fp.problemf(stepAt(id), "", "step name %q: use letters, digits, '_', '-', '.'", id)
		}
		f.Steps[id] = &Step{ID: id}
	}
	fp.captures = map[string]bool{}
	for _, ss := range s.Steps {
		if ss.DTMF != nil && ss.DTMF.Capture != "" {
			fp.captures[ss.DTMF.Capture] = true
		}
	}
	fp.routers = map[string]*Router{}
	for name := range s.Routers {
		fp.routers[name] = &Router{Name: name}
	}
	for _, name := range slices.Sorted(maps.Keys(s.Routers)) {
		fp.router(fp.routers[name], s.Routers[name])
	}
	for _, id := range names {
		fp.step(f.Steps[id], s.Steps[id])
	}
	f.Start = fp.ref(flowAt, "start", s.Start)
	if s.Start == "" {
		fp.problemf(flowAt, "start", "start is required: the step a call begins with")
	}
	f.OnSilence = fp.refs(flowAt, "onSilence", s.OnSilence)
	f.OnSilenceEnd = fp.ref(flowAt, "onSilenceEnd", s.OnSilenceEnd)
	fp.reachable()
	return f
}

// ref resolves a step reference written at field of w ("" is no reference).
func (fp *flowParser) ref(w where, field, name string) *Step {
	if name == "" {
		return nil
	}
	st, ok := fp.f.Steps[name]
	if !ok {
		fp.problemf(w, field, "%s: unknown step %q%s", field, name, didYouMean(name, fp.stepNames()))
	}
	return st
}

// required is ref for a reference the step cannot do without.
func (fp *flowParser) required(w where, field, name, why string) *Step {
	if name == "" {
		fp.problemf(w, field, "%s is required: %s", field, why)
		return nil
	}
	return fp.ref(w, field, name)
}

func (fp *flowParser) refs(w where, field string, names []string) []*Step {
	var out []*Step
	for i, n := range names {
		item := field + "[" + strconv.Itoa(i) + "]"
		if n == "" {
			fp.problemf(w, item, "%s: name a step", item)
			continue
		}
		if st := fp.ref(w, item, n); st != nil {
			out = append(out, st)
		}
	}
	return out
}

func (fp *flowParser) stepNames() []string   { return slices.Collect(maps.Keys(fp.spec.Steps)) }
func (fp *flowParser) routerNames() []string { return slices.Collect(maps.Keys(fp.spec.Routers)) }

func (fp *flowParser) router(r *Router, rs routerSpec) {
	at := routerAt(r.Name)
	tax := fp.t.Taxonomy
	r.byPath = map[classify.Path]*Step{}
	r.Otherwise = fp.required(at, "otherwise", rs.Otherwise, "the step for a category no route names")
	r.Unavailable = fp.ref(at, "unavailable", rs.Unavailable)
	if len(rs.Routes) == 0 {
		fp.problemf(at, "routes", "router has no routes")
	}
	for i, route := range rs.Routes {
		key := "routes[" + strconv.Itoa(i) + "]"
		to := fp.required(at, key+".to", route.To, "the step these categories go to")
		if len(route.When) == 0 {
			fp.problemf(at, key+".when", "%s.when: name at least one category", key)
		}
		for j, cat := range route.When {
			if tax == nil {
				continue // the taxonomy's own problem is reported already
			}
			matched := fp.categoryPaths(cat)
			if len(matched) == 0 {
				fp.problemf(at, key+".when["+strconv.Itoa(j)+"]", "%s.when: category %q is not in the taxonomy%s", key, cat, didYouMean(cat, categoryNames(tax)))
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

// categoryNames is every way a route may name a category: small names,
// large and large/middle prefixes, full paths.
func categoryNames(tax *classify.Taxonomy) []string {
	seen := map[string]bool{}
	for _, c := range tax.Categories {
		seen[c.Path[2]] = true
		seen[c.Path[0]] = true
		seen[c.Path[0]+"/"+c.Path[1]] = true
		seen[c.Path.String()] = true
	}
	return slices.Collect(maps.Keys(seen))
}

// serviceFields are the keys each ServiceCode takes beyond service, prompt
// and onSilence, for "does not apply" problems that say what does.
var serviceFields = map[Service][]string{
	Listen:   {"router", "timeout"},
	Hangup:   nil,
	Continue: {"next"},
	YesNo:    {"yes", "no", "timeout", "onInvalid"},
	Digits:   {"dtmf", "next", "timeout", "onInvalid"},
	Transfer: {"transfer"},
}

func (fp *flowParser) step(st *Step, ss stepSpec) {
	at := stepAt(st.ID)
	st.Service = Service(ss.Service)
	st.Prompt = ParseTemplate(ss.Prompt)
	st.Timeout = ss.Timeout
	st.OnInvalid = fp.refs(at, "onInvalid", ss.OnInvalid)
	st.OnSilence = fp.refs(at, "onSilence", ss.OnSilence)
	if strings.TrimSpace(ss.Prompt) == "" {
		fp.problemf(at, "prompt", "prompt is required (it is the Description the gateway speaks)")
	}
	vars := slices.Concat(builtinVars, slices.Collect(maps.Keys(fp.captures)))
	for _, v := range st.Prompt.Vars {
		if !slices.Contains(vars, v) {
			fp.problemf(at, "prompt", "prompt uses ${%s}: not a variable (phone, name, category1..3, answer, or a dtmf.capture)%s", v, didYouMean(v, vars))
		}
	}
	switch st.Service {
	case Listen:
		if ss.Router == "" {
			fp.problemf(at, "router", "S0000 needs router: which router reads the caller's utterance")
		} else if st.Router = fp.routers[ss.Router]; st.Router == nil {
			fp.problemf(at, "router", "router: unknown router %q%s", ss.Router, didYouMean(ss.Router, fp.routerNames()))
		}
		if st.Timeout == 0 {
			st.Timeout = fp.spec.Defaults.ListenTimeout
		}
	case Hangup:
	case Continue:
		st.Next = fp.required(at, "next", ss.Next, "the step that follows")
	case YesNo:
		st.Yes = fp.required(at, "yes", ss.Yes, "the step for a yes")
		st.No = fp.required(at, "no", ss.No, "the step for a no")
		if st.Timeout == 0 {
			st.Timeout = fp.spec.Defaults.ListenTimeout
		}
	case Digits:
		st.Next = fp.required(at, "next", ss.Next, "the step after valid input")
		st.DTMF = fp.dtmf(at, ss.DTMF)
		if st.Timeout == 0 {
			st.Timeout = fp.spec.Defaults.DTMFTimeout
		}
	case Transfer:
		st.Transfer = fp.transfer(at, ss.Transfer)
	default:
		fp.problemf(at, "service", "service %q: want S0000 (listen), S0001 (hang up), S0002 (continue), S0003 (yes/no), S1000 (digits) or S2000 (transfer)", ss.Service)
		return
	}
	set := map[string]bool{"router": ss.Router != "", "next": ss.Next != "", "yes": ss.Yes != "", "no": ss.No != "",
		"dtmf": ss.DTMF != nil, "transfer": ss.Transfer != "", "timeout": ss.Timeout != 0, "onInvalid": len(ss.OnInvalid) > 0}
	allowed := serviceFields[st.Service]
	for _, field := range []string{"router", "next", "yes", "no", "dtmf", "transfer", "timeout", "onInvalid"} {
		if set[field] && !slices.Contains(allowed, field) {
			takes := "only service, prompt and onSilence"
			if len(allowed) > 0 {
				takes = strings.Join(allowed, ", ")
			}
			fp.problemf(at, field, "%s does not apply to an %s step (it takes %s)", field, ss.Service, takes)
		}
	}
	if st.Timeout < 0 || st.Timeout > 600 {
		fp.problemf(at, "timeout", "timeout %d: want 1 to 600 seconds", st.Timeout)
	}
}

func (fp *flowParser) dtmf(at where, ds *dtmfSpec) *DTMF {
	if ds == nil || ds.Length <= 0 {
		fp.problemf(at, "dtmf.length", "S1000 needs dtmf.length (the number of digits to collect)")
		return nil
	}
	d := &DTMF{Length: ds.Length, EndChar: ds.EndChar, Sensitive: ds.Sensitive, Capture: ds.Capture}
	if ds.Length > maxDTMFLength {
		fp.problemf(at, "dtmf.length", "dtmf.length %d: at most %d", ds.Length, maxDTMFLength)
	}
	if ds.EndChar != "" && ds.EndChar != "#" && ds.EndChar != "*" {
		fp.problemf(at, "dtmf.endChar", "dtmf.endChar %q: want # or *", ds.EndChar)
	}
	pattern := ds.Pattern
	if pattern == "" {
		pattern = "[0-9]+"
	}
	re, err := regexp.Compile("^(?:" + pattern + ")$")
	if err != nil {
		fp.problemf(at, "dtmf.pattern", "dtmf.pattern: %v", err)
	}
	d.Pattern = re
	if ds.Sensitive && ds.Capture != "" {
		fp.problemf(at, "dtmf.capture", "dtmf.capture: a sensitive step's digits are never kept")
	}
	if ds.Capture != "" && (slices.Contains(builtinVars, ds.Capture) || !namePattern.MatchString(ds.Capture)) {
		fp.problemf(at, "dtmf.capture", "dtmf.capture %q: not a usable variable name", ds.Capture)
	}
	return d
}

func (fp *flowParser) transfer(at where, target string) string {
	switch {
	case target == "":
		fp.problemf(at, "transfer", "S2000 needs transfer: a queue name from tenant.yaml or a number")
	case digitsPattern.MatchString(target):
		return target
	default:
		if number, ok := fp.t.Queues[target]; ok {
			return number
		}
		queues := slices.Sorted(maps.Keys(fp.t.Queues))
		fp.problemf(at, "transfer", "transfer: %q is neither a queue in tenant.yaml (%s) nor a number (digits only)%s",
			target, strings.Join(queues, ", "), didYouMean(target, queues))
	}
	return ""
}
