package tenant

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/routebot/routebot/common/store"
)

var (
	namePattern    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$`)
	digitsPattern  = regexp.MustCompile(`^[0-9]+$`)
	builtinVars    = []string{"phone", "name", "category1", "category2", "category3", "answer"}
	backends       = []string{"embedded", "llm", "dialogflow"}
	maxDTMFLength  = 32
	defaultListen  = 7
	defaultDigits  = 10
	defaultUnknown = "고객"
)

// Parse validates and compiles one tenant's files. Every problem is reported
// with its file, line and step; nothing half-valid is returned.
func Parse(tf store.TenantFiles) (*Tenant, error) {
	p := &parser{id: tf.ID, files: tf.Files, renamed: map[string]bool{}}
	p.misnamedFiles()
	t := p.tenant()
	if t != nil {
		t.Version = tf.Version
	}
	if len(p.problems) > 0 {
		return nil, &Error{Problems: inFileOrder(p.problems)}
	}
	return t, nil
}

// inFileOrder sorts problems by line within each file, the files in the
// order they were read in, so that an author reads them top to bottom.
func inFileOrder(ps []Problem) []Problem {
	rank := map[string]int{}
	for _, p := range ps {
		if _, ok := rank[p.File]; !ok {
			rank[p.File] = len(rank)
		}
	}
	slices.SortStableFunc(ps, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(rank[a.File], rank[b.File]), cmp.Compare(a.Line, b.Line))
	})
	return ps
}

// ParseAll parses several tenants and checks what spans them: a scenario code
// or a bot key belongs to one tenant only.
func ParseAll(tfs []store.TenantFiles) ([]*Tenant, error) {
	var problems []Problem
	var out []*Tenant
	codeOwner, botOwner := map[string]string{}, map[string]string{}
	for _, tf := range tfs {
		t, err := Parse(tf)
		var perr *Error
		if errors.As(err, &perr) {
			problems = append(problems, perr.Problems...)
			continue
		} else if err != nil {
			return nil, err
		}
		for _, code := range t.ScenarioCodes() {
			if owner, dup := codeOwner[code]; dup {
				problems = append(problems, Problem{File: t.ID + "/" + FlowsDir + code + ".yaml", Line: t.Flows[code].codeLine, Msg: fmt.Sprintf("scenario code %q is also tenant %q's", code, owner)})
			}
			codeOwner[code] = t.ID
		}
		for _, bot := range slices.Sorted(maps.Keys(t.Bots)) {
			if owner, dup := botOwner[bot]; dup {
				problems = append(problems, Problem{File: t.ID + "/" + TenantFile, Line: t.botLines[bot], Msg: fmt.Sprintf("bot %q is also tenant %q's", bot, owner)})
			}
			botOwner[bot] = t.ID
		}
		out = append(out, t)
	}
	if len(problems) > 0 {
		return nil, &Error{Problems: problems}
	}
	return out, nil
}

type parser struct {
	id       string
	files    map[string][]byte
	renamed  map[string]bool // tenant files a misnamed file stands in for
	problems []Problem
}

func (p *parser) addf(file string, line int, step, format string, args ...any) {
	p.problems = append(p.problems, Problem{File: p.id + "/" + file, Line: line, Step: step, Msg: fmt.Sprintf(format, args...)})
}

// misnamedFiles reports files named like tenant files but for their
// extension: they are not read, and an author who wrote flows/F1.yml would
// otherwise wonder where the flow went.
func (p *parser) misnamedFiles() {
	for _, name := range slices.Sorted(maps.Keys(p.files)) {
		if want, ok := misnamed(name); ok {
			p.renamed[want] = true
			p.addf(name, 0, "", "not read: tenant files end in .yaml; rename it %s", path.Base(want))
		}
	}
}

func (p *parser) tenant() *Tenant {
	var ts tenantSpec
	doc := p.decode(TenantFile, &ts, noScope)
	if doc == nil {
		return nil
	}
	t := &Tenant{ID: ts.ID, Name: ts.Name, Bots: map[string]bool{}, botLines: map[string]int{}, Queues: ts.Queues,
		UnknownName: ts.Customers.UnknownName, ClassifierSpec: ts.Classifier, Profile: ts.Profile, Flows: map[string]*Flow{}}
	at := func(key string) int { return doc.line(key) }
	switch {
	case ts.APIVersion != APIVersion:
		p.addf(TenantFile, at("apiVersion"), "", "apiVersion must be %q, not %q", APIVersion, ts.APIVersion)
	case ts.ID != p.id:
		p.addf(TenantFile, at("id"), "", "id %q does not match the tenant folder %q", ts.ID, p.id)
	case !namePattern.MatchString(ts.ID):
		p.addf(TenantFile, at("id"), "", "id %q: use letters, digits, '_', '-', '.'", ts.ID)
	}
	if len(ts.Bots) == 0 {
		p.addf(TenantFile, at("bots"), "", "bots: at least one ChatBotKey is required")
	}
	for i, b := range ts.Bots {
		key := "bots[" + strconv.Itoa(i) + "]"
		switch {
		case b == "" || utf8.RuneCountInString(b) > 50: // text(50) counts characters, as wire does
			p.addf(TenantFile, at(key), "", "%s: bot key %q must be 1 to 50 characters", key, b)
		case t.Bots[b]:
			p.addf(TenantFile, at(key), "", "%s: bot key %q is listed twice", key, b)
		}
		t.Bots[b] = true
		t.botLines[b] = at(key)
	}
	for _, name := range slices.Sorted(maps.Keys(ts.Queues)) {
		if number := ts.Queues[name]; !digitsPattern.MatchString(number) {
			p.addf(TenantFile, at("queues."+name), "", "queues.%s: %q: a queue's number is digits only (no dashes or spaces)", name, number)
		}
	}
	if t.UnknownName == "" {
		t.UnknownName = defaultUnknown
	}
	if b := ts.Classifier.Backend; b != "" && !slices.Contains(backends, b) {
		p.addf(TenantFile, at("classifier.backend"), "", "classifier.backend %q: want embedded, llm or dialogflow (or empty: the deployment's default)%s", b, didYouMean(b, backends))
	}
	p.profile(ts.Profile, doc)
	for _, intent := range slices.Sorted(maps.Keys(ts.Classifier.Dialogflow.Intents)) {
		if ts.Classifier.Dialogflow.Intents[intent] == "" {
			p.addf(TenantFile, at("classifier.dialogflow.intents."+intent), "", "classifier.dialogflow.intents.%s: name the category it means", intent)
		}
	}

	t.Customers = p.customers()
	t.Taxonomy = p.taxonomy()

	var flowFiles []string
	for name := range p.files {
		if strings.HasPrefix(name, FlowsDir) && IsTenantFile(name) { // flows/drafts/… is ignored, as ReadFS does
			flowFiles = append(flowFiles, name)
		}
	}
	sort.Strings(flowFiles)
	if len(flowFiles) == 0 && len(p.renamed) == 0 {
		p.addf(FlowsDir, 0, "", "no flows: add flows/<SCENARIO CODE>.yaml")
	}
	for _, file := range flowFiles {
		if f := p.flow(t, file); f != nil {
			t.Flows[f.Code] = f // the code is the file's name, so codes are distinct
		}
	}
	return t
}
