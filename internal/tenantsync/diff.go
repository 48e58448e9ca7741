package tenantsync

import (
	"fmt"
	"io"
	"strings"
)

// contextLines is how many unchanged lines a diff hunk shows around changes.
const contextLines = 3

// maxDiffCells bounds the line-matching table; a bigger rewrite is shown as
// every old line removed and every new line added.
const maxDiffCells = 4 << 20

type opKind byte

const (
	keep opKind = ' '
	del  opKind = '-'
	ins  opKind = '+'
)

type lineOp struct {
	kind opKind
	text string // with its "\n", if it has one
}

// Unified writes a unified diff (GNU style, 3 lines of context) from old to
// new, with the file names given; nothing when they are equal.
func Unified(w io.Writer, oldName, newName string, old, new []byte) {
	ops := diffLines(splitLines(string(old)), splitLines(string(new)))
	changed := false
	for _, op := range ops {
		changed = changed || op.kind != keep
	}
	if !changed {
		return
	}
	fmt.Fprintf(w, "--- %s\n+++ %s\n", oldName, newName)
	// oldLine[i], newLine[i]: the 1-based line numbers before op i.
	oldLine, newLine := make([]int, len(ops)+1), make([]int, len(ops)+1)
	oldLine[0], newLine[0] = 1, 1
	for i, op := range ops {
		oldLine[i+1], newLine[i+1] = oldLine[i], newLine[i]
		if op.kind != ins {
			oldLine[i+1]++
		}
		if op.kind != del {
			newLine[i+1]++
		}
	}
	for i := 0; i < len(ops); {
		if ops[i].kind == keep {
			i++
			continue
		}
		start := max(0, i-contextLines)
		end := i // extend while the next change is within 2×context lines
		for j := i; j < len(ops); j++ {
			if ops[j].kind != keep {
				end = j + 1
			} else if j-end >= 2*contextLines {
				break
			}
		}
		end = min(len(ops), end+contextLines)
		fmt.Fprintf(w, "@@ -%s +%s @@\n",
			hunkRange(oldLine[start], oldLine[end]-oldLine[start]),
			hunkRange(newLine[start], newLine[end]-newLine[start]))
		for _, op := range ops[start:end] {
			w.Write([]byte{byte(op.kind)})
			io.WriteString(w, op.text)
			if !strings.HasSuffix(op.text, "\n") {
				io.WriteString(w, "\n\\ No newline at end of file\n")
			}
		}
		i = end
	}
}

// hunkRange is a hunk header's "start,count" (GNU: ",1" omitted; an empty
// range starts at the line before it).
func hunkRange(start, count int) string {
	switch count {
	case 0:
		return fmt.Sprintf("%d,0", start-1)
	case 1:
		return fmt.Sprint(start)
	}
	return fmt.Sprintf("%d,%d", start, count)
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// diffLines matches a and b by longest common subsequence, after taking off
// their common start and end (most edits touch a few lines of a file).
func diffLines(a, b []string) []lineOp {
	var ops []lineOp
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		ops = append(ops, lineOp{keep, a[pre]})
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	ma, mb := a[pre:len(a)-suf], b[pre:len(b)-suf]
	ops = append(ops, lcs(ma, mb)...)
	for _, l := range a[len(a)-suf:] {
		ops = append(ops, lineOp{keep, l})
	}
	return ops
}

func lcs(a, b []string) []lineOp {
	n, m := len(a), len(b)
	if n*m > maxDiffCells || n == 0 || m == 0 {
		ops := make([]lineOp, 0, n+m)
		for _, l := range a {
			ops = append(ops, lineOp{del, l})
		}
		for _, l := range b {
			ops = append(ops, lineOp{ins, l})
		}
		return ops
	}
	// t[i][j]: LCS length of a[i:] and b[j:].
	t := make([][]int32, n+1)
	for i := range t {
		t[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				t[i][j] = t[i+1][j+1] + 1
			} else {
				t[i][j] = max(t[i+1][j], t[i][j+1])
			}
		}
	}
	ops := make([]lineOp, 0, n+m)
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case a[i] == b[j]:
			ops = append(ops, lineOp{keep, a[i]})
			i, j = i+1, j+1
		case t[i+1][j] >= t[i][j+1]:
			ops = append(ops, lineOp{del, a[i]})
			i++
		default:
			ops = append(ops, lineOp{ins, b[j]})
			j++
		}
	}
	for ; i < n; i++ {
		ops = append(ops, lineOp{del, a[i]})
	}
	for ; j < m; j++ {
		ops = append(ops, lineOp{ins, b[j]})
	}
	return ops
}
