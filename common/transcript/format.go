package transcript

import "strings"

// String renders the turns canonically, one "상담원: …" or "고객: …" line a
// turn (unlabelled text on a line of its own), for backends that read text.
func (ts Turns) String() string {
	var b strings.Builder
	for i, t := range ts {
		if i > 0 {
			b.WriteByte('\n')
		}
		if t.Speaker != Unknown {
			b.WriteString(t.Speaker.String())
			b.WriteString(": ")
		}
		b.WriteString(t.Text)
	}
	return b.String()
}
