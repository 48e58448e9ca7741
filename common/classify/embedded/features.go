package embedded

import (
	"unicode"
	"unicode/utf8"
)

// normalize writes s to dst as lower-case letters and digits, every other run
// of characters folded to one space, with a space before and after, so that
// character n-grams see word boundaries. STT text has no reliable spacing or
// punctuation; this keeps only what is stable.
func normalize(dst []byte, s string) []byte {
	dst = append(dst[:0], ' ')
	for _, r := range s {
		switch {
		case r >= 0xAC00 && r <= 0xD7A3: // Hangul syllables, most of the text
			dst = utf8.AppendRune(dst, r)
		case r < utf8.RuneSelf && ('a' <= r && r <= 'z' || '0' <= r && r <= '9'):
			dst = append(dst, byte(r))
		case r < utf8.RuneSelf && 'A' <= r && r <= 'Z':
			dst = append(dst, byte(r+'a'-'A'))
		case r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			dst = utf8.AppendRune(dst, unicode.ToLower(r))
		case dst[len(dst)-1] != ' ':
			dst = append(dst, ' ')
		}
	}
	if dst[len(dst)-1] != ' ' {
		dst = append(dst, ' ')
	}
	return dst
}

// decodeRunes appends the runes of b to dst[:0].
func decodeRunes(dst []rune, b []byte) []rune {
	dst = dst[:0]
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			dst = append(dst, rune(b[i]))
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		dst = append(dst, r)
		i += size
	}
	return dst
}

// maxGramRunes is the longest character n-gram a uint64 key holds: 21 bits a
// rune. Keys of different lengths cannot collide since no rune is zero.
const maxGramRunes = 3

// gramKey packs up to maxGramRunes runes into a map key.
func gramKey(rs []rune) uint64 {
	var k uint64
	for _, r := range rs {
		k = k<<21 | uint64(r)
	}
	return k
}

// grams calls char with the key of every character n-gram of minN..maxN runes
// of the normalized text (spaces included, so " 환불" differs from "환불"; a
// lone space is not a feature) and, with words, word with each word.
func grams(b []byte, rs []rune, minN, maxN int, words bool, char func(key uint64), word func(w []byte)) {
	for i := range rs {
		for k := minN; k <= maxN && i+k <= len(rs); k++ {
			if k == 1 && rs[i] == ' ' {
				continue
			}
			char(gramKey(rs[i : i+k]))
		}
	}
	if !words {
		return
	}
	start := -1
	for i, c := range b {
		switch {
		case c == ' ' && start >= 0:
			word(b[start:i])
			start = -1
		case c != ' ' && start < 0:
			start = i
		}
	}
}
