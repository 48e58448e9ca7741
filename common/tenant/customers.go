package tenant

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// maxPhone is the wire's Customer field, text(35): a longer number can never
// be looked up.
const maxPhone = 35

// customers reads customers.yaml, the optional directory phone → name. A
// phone number may be written with dashes or spaces, as it is copied from a
// spreadsheet (010-1234-5678); it is kept as the digits the gateway sends.
// Problems mask the number and never show the name: they end up in logs.
func (p *parser) customers() map[string]string {
	dir := map[string]string{}
	if _, ok := p.files[CustomersFile]; !ok {
		return dir
	}
	root, ok := p.parseYAML(CustomersFile)
	if !ok || root == nil {
		return dir
	}
	if root.Kind != yaml.MappingNode {
		p.addf(CustomersFile, root.Line, "", "want phone: name entries, not %s", kindName(root.Kind))
		return dir
	}
	first := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, val := root.Content[i], root.Content[i+1]
		if key.Kind != yaml.ScalarNode {
			p.addf(CustomersFile, key.Line, "", "want a phone number as the key, not %s", kindName(key.Kind))
			continue
		}
		phone := strings.NewReplacer("-", "", " ", "").Replace(key.Value)
		shown := MaskPhone(key.Value)
		switch {
		case phone == "" || !digitsPattern.MatchString(phone):
			p.addf(CustomersFile, key.Line, "", "phone %s: digits only (dashes and spaces are allowed and dropped)", shown)
			continue
		case len(phone) > maxPhone:
			p.addf(CustomersFile, key.Line, "", "phone %s has %d digits: at most %d", shown, len(phone), maxPhone)
			continue
		}
		if line, dup := first[phone]; dup {
			p.addf(CustomersFile, key.Line, "", "phone %s is listed twice (first on line %d)", shown, line)
			continue
		}
		first[phone] = key.Line
		if val.Kind != yaml.ScalarNode || strings.TrimSpace(val.Value) == "" {
			p.addf(CustomersFile, key.Line, "", "phone %s: want the customer's name after the colon", shown)
			continue
		}
		dir[phone] = val.Value
	}
	return dir
}

// MaskPhone keeps the first three and last four digits of a phone number
// (fewer when it is short), enough to tell entries apart.
func MaskPhone(p string) string {
	r := []rune(p)
	keepStart, keepEnd := 3, 4
	if len(r) <= keepStart+keepEnd {
		keepStart, keepEnd = 0, min(2, len(r)/2)
	}
	return string(r[:keepStart]) + strings.Repeat("*", len(r)-keepStart-keepEnd) + string(r[len(r)-keepEnd:])
}
