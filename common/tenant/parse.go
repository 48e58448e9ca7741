package tenant

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/routebot/routebot/common/classify"
	"github.com/routebot/routebot/common/store"
)

// Problem is one thing wrong in a tenant's files.
type Problem struct {
	File string // relative to the tenants folder: "nexus/flows/SCENARIO01.yaml"
	Line int    // 0 when unknown
	Step string // the step or router concerned, if any
	Msg  string
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		b.WriteString(":" + strconv.Itoa(p.Line))
	}
	b.WriteString(": ")
	if p.Step != "" {
		b.WriteString(p.Step + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Error lists every problem found, so an author fixes them in one pass.
type Error struct{ Problems []Problem }

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return "invalid tenant files:\n  " + strings.Join(lines, "\n  ")
}

var (
	namePattern    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$`)
	digitsPattern  = regexp.MustCompile(`^[0-9]+$`)
	builtinVars    = map[string]bool{"phone": true, "name": true, "category1": true, "category2": true, "category3": true, "answer": true}
	maxDTMFLength  = 32
	defaultListen  = 7
	defaultDigits  = 10
	defaultUnknown = "고객"
)

// Parse validates and compiles one tenant's files. Every problem is reported
// with its file, line and step; nothing half-valid is returned.
func Parse(tf store.TenantFiles) (*Tenant, error) {
	p := &parser{id: tf.ID, files: tf.Files}
	t := p.tenant()
	if t != nil {
		t.Version = tf.Version
	}
	if len(p.problems) > 0 {
		return nil, &Error{Problems: p.problems}
	}
	return t, nil
}

type parser struct {
	id       string
	files    map[string][]byte
	problems []Problem
}

func (p *parser) addf(file string, line int, step, format string, args ...any) {
	p.problems = append(p.problems, Problem{File: p.id + "/" + file, Line: line, Step: step, Msg: fmt.Sprintf(format, args...)})
}

// decode reads one YAML file strictly (unknown keys are mistakes) and returns
// its node tree for line numbers.
func (p *parser) decode(file string, v any) *yaml.Node {
	data, ok := p.files[file]
	if !ok {
		p.addf(file, 0, "", "file is missing")
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			p.addf(file, yamlLine(err), "", "%s", yamlMessage(err))
			return nil
		}
		for _, msg := range te.Errors { // one problem per bad key, each with its own line
			e := errors.New(msg)
			p.addf(file, yamlLine(e), "", "%s", yamlMessage(e))
		}
		return nil
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil
	}
	return &root
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

// keyLines maps the keys of the mapping at path (e.g. "steps") to their lines.
func keyLines(root *yaml.Node, path ...string) map[string]int {
	n := root
	if n == nil {
		return nil
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, key := range path {
		n = mapValue(n, key)
		if n == nil {
			return nil
		}
	}
	lines := map[string]int{}
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			lines[n.Content[i].Value] = n.Content[i].Line
		}
	}
	return lines
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func (p *parser) tenant() *Tenant {
	var ts tenantSpec
	root := p.decode(TenantFile, &ts)
	if root == nil {
		return nil
	}
	lines := keyLines(root)
	t := &Tenant{ID: ts.ID, Name: ts.Name, Bots: map[string]bool{}, Queues: ts.Queues,
		UnknownName: ts.Customers.UnknownName, Spec: ts.Classifier, Profile: ts.Profile, Flows: map[string]*Flow{}}
	switch {
	case ts.APIVersion != APIVersion:
		p.addf(TenantFile, lines["apiVersion"], "", "apiVersion must be %q, not %q", APIVersion, ts.APIVersion)
	case ts.ID != p.id:
		p.addf(TenantFile, lines["id"], "", "id %q does not match the tenant folder %q", ts.ID, p.id)
	case !namePattern.MatchString(ts.ID):
		p.addf(TenantFile, lines["id"], "", "id %q: use letters, digits, '_', '-', '.'", ts.ID)
	}
	if len(ts.Bots) == 0 {
		p.addf(TenantFile, lines["bots"], "", "bots: at least one ChatBotKey is required")
	}
	for _, b := range ts.Bots {
		if b == "" || utf8.RuneCountInString(b) > 50 { // text(50) counts characters, as wire does
			p.addf(TenantFile, lines["bots"], "", "bot key %q must be 1 to 50 characters", b)
		}
		t.Bots[b] = true
	}
	for name, number := range ts.Queues {
		if !digitsPattern.MatchString(number) {
			p.addf(TenantFile, lines["queues"], "", "queue %q: number %q must be digits", name, number)
		}
	}
	if t.UnknownName == "" {
		t.UnknownName = defaultUnknown
	}
	switch ts.Classifier.Backend {
	case "", "embedded", "llm", "dialogflow":
	default:
		p.addf(TenantFile, lines["classifier"], "", "classifier.backend %q: want embedded, llm or dialogflow", ts.Classifier.Backend)
	}
	p.profile(ts.Profile, root)
	for intent, cat := range ts.Classifier.Dialogflow.Intents {
		if cat == "" {
			p.addf(TenantFile, lines["classifier"], "", "classifier.dialogflow.intents[%q] is empty", intent)
		}
	}

	t.Customers = map[string]string{}
	if _, ok := p.files[CustomersFile]; ok {
		var dir map[string]string
		if p.decode(CustomersFile, &dir) != nil {
			for phone, name := range dir {
				if !digitsPattern.MatchString(phone) || len(phone) > 35 {
					p.addf(CustomersFile, 0, "", "phone %q must be up to 35 digits", phone)
				}
				t.Customers[phone] = name
			}
		}
	}

	if data, ok := p.files[TaxonomyFile]; !ok {
		p.addf(TaxonomyFile, 0, "", "file is missing")
	} else if tax, err := classify.DecodeTaxonomy(data); err != nil {
		p.addf(TaxonomyFile, yamlLine(err), "", "%s", err)
	} else {
		t.Taxonomy = tax
	}

	var flowFiles []string
	for name := range p.files {
		if strings.HasPrefix(name, FlowsDir) && IsTenantFile(name) { // flows/drafts/… is ignored, as ReadFS does
			flowFiles = append(flowFiles, name)
		}
	}
	sort.Strings(flowFiles)
	if len(flowFiles) == 0 {
		p.addf(FlowsDir, 0, "", "no flows: add flows/<SCENARIO CODE>.yaml")
	}
	for _, file := range flowFiles {
		if f := p.flow(t, file); f != nil {
			if prev, dup := t.Flows[f.Code]; dup {
				p.addf(file, 0, "", "scenario code %q is already defined by another flow file (%s)", f.Code, prev.Code)
				continue
			}
			t.Flows[f.Code] = f
		}
	}
	return t
}

// ScenarioCodes lists a tenant's flows' codes, sorted.
func (t *Tenant) ScenarioCodes() []string {
	codes := make([]string, 0, len(t.Flows))
	for c := range t.Flows {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	return codes
}
