package tenant

import "strings"

// Template is a prompt split once into literal text and ${variables}.
type Template struct {
	parts []part
	Vars  []string
}

type part struct {
	text  string
	isVar bool
}

// ParseTemplate splits s at ${name}; an unclosed "${" is literal text.
func ParseTemplate(s string) Template {
	var t Template
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			break
		}
		if i > 0 {
			t.parts = append(t.parts, part{text: s[:i]})
		}
		name := s[i+2 : i+j]
		t.parts = append(t.parts, part{text: name, isVar: true})
		t.Vars = append(t.Vars, name)
		s = s[i+j+1:]
	}
	if s != "" {
		t.parts = append(t.parts, part{text: s})
	}
	return t
}

// Render substitutes variables with lookup.
func (t Template) Render(lookup func(string) string) string {
	switch {
	case len(t.parts) == 0:
		return ""
	case len(t.parts) == 1 && !t.parts[0].isVar:
		return t.parts[0].text
	}
	var b strings.Builder
	for _, p := range t.parts {
		if p.isVar {
			b.WriteString(lookup(p.text))
		} else {
			b.WriteString(p.text)
		}
	}
	return b.String()
}

// String gives the template back as written.
func (t Template) String() string {
	var b strings.Builder
	for _, p := range t.parts {
		if p.isVar {
			b.WriteString("${" + p.text + "}")
		} else {
			b.WriteString(p.text)
		}
	}
	return b.String()
}
