// Package transcript parses call transcripts as the AI Gateway sends them for
// classification (seed 003 §1.2.2): lines of "상담원:" (agent) and "고객:"
// (customer) turns. The gateway's text is loose: newlines may arrive as the
// two characters `\n`, two turns may run onto one line, colons may be
// full-width or surrounded by spaces, and a line without a label continues
// the turn before it.
package transcript

import (
	"strings"
	"unicode"
)

// Speaker says who spoke a turn.
type Speaker uint8

const (
	// Unknown is text before any speaker label (or a transcript without labels).
	Unknown Speaker = iota
	// Agent is the contact-center agent ("상담원:").
	Agent
	// Customer is the caller ("고객:").
	Customer
)

// String names the speaker by its transcript label.
func (s Speaker) String() string {
	switch s {
	case Agent:
		return "상담원"
	case Customer:
		return "고객"
	default:
		return "unknown"
	}
}

// Turn is one speaker's uninterrupted text, whitespace collapsed.
type Turn struct {
	Speaker Speaker
	Text    string
}

// Turns is a parsed transcript in spoken order.
type Turns []Turn

// labels are the speaker names recognised before a colon. "상담사" is the
// other common word for an agent in Korean call logs.
var labels = [...]struct {
	name    string
	speaker Speaker
}{
	{"상담원", Agent},
	{"상담사", Agent},
	{"고객", Customer},
}

// literalNewlines turns the two-character escapes the gateway may send into
// real line breaks.
var literalNewlines = strings.NewReplacer(`\r\n`, "\n", `\n`, "\n", `\r`, "\n")

// Parse splits a transcript into turns. It never fails: text before the first
// label becomes an Unknown turn, and empty input gives no turns. Turn text is
// taken from the input only (trimmed, inner whitespace collapsed to one space).
func Parse(s string) Turns {
	if strings.Contains(s, `\`) {
		// The seed's curl sample posts literal backslash-n between turns.
		s = literalNewlines.Replace(s)
	}
	ts := make(Turns, 0, strings.Count(s, ":")+strings.Count(s, "：")+1)
	cur := -1 // index in ts of the turn text is appended to
	appendText := func(text string) {
		text = collapse(text)
		if text == "" {
			return
		}
		if cur < 0 {
			ts = append(ts, Turn{Speaker: Unknown})
			cur = len(ts) - 1
		}
		if ts[cur].Text == "" {
			ts[cur].Text = text
		} else {
			ts[cur].Text += " " + text
		}
	}
	for line := range strings.Lines(s) {
		for {
			at, end, sp := findLabel(line)
			if at < 0 {
				appendText(line)
				break
			}
			appendText(line[:at])
			ts = append(ts, Turn{Speaker: sp})
			cur = len(ts) - 1
			line = line[end:]
		}
	}
	// A label followed by nothing leaves an empty turn: drop it.
	out := ts[:0]
	for _, t := range ts {
		if t.Text != "" {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// findLabel finds the first speaker label in line: a label name, optional
// spaces, then ":" or "：". It returns where the label starts, where the text
// after its colon starts, and the speaker; at is -1 when there is none.
func findLabel(line string) (at, end int, sp Speaker) {
	const wideColon = "："
	ascii, wide := -2, -2 // next colon of each kind at or after off; -2: not searched yet
	for off := 0; off < len(line); {
		if ascii != -1 && ascii < off {
			if ascii = strings.IndexByte(line[off:], ':'); ascii >= 0 {
				ascii += off
			}
		}
		if wide != -1 && wide < off {
			if wide = strings.Index(line[off:], wideColon); wide >= 0 {
				wide += off
			}
		}
		var colon, size int
		switch {
		case ascii < 0 && wide < 0:
			return -1, -1, Unknown
		case wide < 0 || (ascii >= 0 && ascii < wide):
			colon, size = ascii, 1
		default:
			colon, size = wide, len(wideColon)
		}
		j := colon
		for j > 0 && (line[j-1] == ' ' || line[j-1] == '\t') {
			j--
		}
		for _, l := range labels {
			if strings.HasSuffix(line[:j], l.name) {
				return j - len(l.name), colon + size, l.speaker
			}
		}
		off = colon + size
	}
	return -1, -1, Unknown
}

// collapse trims s and folds each whitespace run to one space, returning s
// itself when nothing needs folding so that clean transcripts do not allocate.
func collapse(s string) string {
	s = strings.TrimFunc(s, unicode.IsSpace)
	clean := true
	prevSpace := false
	for _, r := range s {
		space := unicode.IsSpace(r)
		if space && (r != ' ' || prevSpace) {
			clean = false
			break
		}
		prevSpace = space
	}
	if clean {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}
