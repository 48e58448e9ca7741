package tenant

import (
	"strconv"
	"strings"
)

// Problem is one thing wrong in a tenant's files.
type Problem struct {
	File string // relative to the tenants folder: "nexus/flows/SCENARIO01.yaml"
	Line int    // 0 when unknown
	Step string // the step or router concerned, if any
	Msg  string // names the key and, where one is close, suggests what was meant
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
