package tenant

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// reachable reports steps no path from the start or the silence policy
// reaches, and routers no S0000 step names: dead text an author believes is
// live. It follows what the author wrote rather than what compiled, so that
// one mistake is one problem: a misspelt reference counts as pointing at the
// name it was probably meant to be (the one its problem suggests), a step of
// an unknown service still leads where its keys say, and a route whose
// category is wrong still leads to its step. When a reference points at a
// name too far from any to guess, nothing is reported unreachable: any step
// might be the one meant. Of the steps only other unreachable steps lead
// to, only the first is reported (naming the rest).
func (fp *flowParser) reachable() {
	s := &fp.spec
	steps, routers := fp.stepNames(), fp.routerNames()
	guessed := false
	resolve := func(name string, names []string) (string, bool) {
		if name == "" {
			return "", false
		}
		if slices.Contains(names, name) {
			return name, true
		}
		id, ok := closest(name, names)
		guessed = guessed || !ok
		return id, ok
	}
	// next lists the steps a step leads to, directly or through its router.
	next := func(id string) []string {
		ss := s.Steps[id]
		var out []string
		add := func(name string) {
			if to, ok := resolve(name, steps); ok {
				out = append(out, to)
			}
		}
		for _, n := range slices.Concat([]string{ss.Next, ss.Yes, ss.No}, ss.OnInvalid, ss.OnSilence) {
			add(n)
		}
		if r, ok := resolve(ss.Router, routers); ok {
			rs := s.Routers[r]
			add(rs.Otherwise)
			add(rs.Unavailable)
			for _, route := range rs.Routes {
				add(route.To)
			}
		}
		return out
	}
	// walk marks what the steps from lead to, returning the steps it marked.
	seen := map[string]bool{}
	walk := func(from ...string) []string {
		var marked []string
		queue := slices.Clone(from)
		for len(queue) > 0 {
			id := queue[0]
			queue = queue[1:]
			if seen[id] {
				continue
			}
			seen[id] = true
			marked = append(marked, id)
			queue = append(queue, next(id)...)
		}
		return marked
	}

	start, ok := resolve(s.Start, steps)
	if !ok {
		return // every step would be unreachable: the start's own problem says it
	}
	roots := []string{start}
	for _, n := range append([]string{s.OnSilenceEnd}, s.OnSilence...) {
		if id, ok := resolve(n, steps); ok {
			roots = append(roots, id)
		}
	}
	walk(roots...)
	usedRouters := map[string]bool{}
	for id, ss := range s.Steps {
		if r, ok := resolve(ss.Router, routers); ok {
			usedRouters[r] = true
		}
		next(id) // resolves every reference, so that guessed is complete
	}
	if guessed {
		return
	}

	// The unreachable steps nothing else unreachable leads to come first.
	var unreachable []string
	led := map[string]bool{}
	for _, id := range slices.Sorted(maps.Keys(s.Steps)) {
		if !seen[id] {
			unreachable = append(unreachable, id)
			for _, to := range next(id) {
				if to != id {
					led[to] = true
				}
			}
		}
	}
	slices.SortStableFunc(unreachable, func(a, b string) int {
		return boolCompare(led[a], led[b])
	})
	for _, id := range unreachable {
		if seen[id] {
			continue
		}
		msg := "unreachable: no step, router or silence policy leads here"
		if rest := walk(id)[1:]; len(rest) > 0 {
			slices.Sort(rest)
			msg += fmt.Sprintf(" (nor, through it, to %s)", strings.Join(rest, ", "))
		}
		fp.problemf(stepAt(id), "", "%s", msg)
	}
	for _, name := range slices.Sorted(maps.Keys(s.Routers)) {
		if !usedRouters[name] {
			fp.problemf(routerAt(name), "", "router %q is not used by any S0000 step", name)
		}
	}
}

func boolCompare(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}
