package embedded

import (
	"bytes"
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

// numberWord stands for a number in the rewritten text: '#' never survives
// normalize, so no caller's word can be it.
const numberWord = '#'

// minSpokenDigits is the shortest run of Sino-Korean number syllables read as
// a number: "구공공일공일", "공일공", "이십구" are, while "이사" (moving house),
// "오일" or "일이" stay words.
const minSpokenDigits = 3

// isNumberSyllable reports whether r is a Sino-Korean digit or power of ten
// as STT writes spoken numbers.
func isNumberSyllable(r rune) bool {
	switch r {
	case '영', '공', '일', '이', '삼', '사', '오', '육', '륙', '칠', '팔', '구', '십', '백', '천', '만':
		return true
	}
	return false
}

// dismissals are the words after which a caller has just ruled out what they
// named ("환불 말고요 영수증만", "비번 말고 아이디요", "영수증 건은 아니고요"):
// the dismissed words are evidence against what is asked, not for it.
var dismissals = [][]byte{
	[]byte("말고"), []byte("말고요"), []byte("말구"), []byte("말구요"),
	[]byte("아니고"), []byte("아니고요"), []byte("아니구요"), []byte("아니라"),
	[]byte("됐고"), []byte("됐고요"),
}

// dismissedWords is how many words before a dismissal it rules out: a noun
// and its particle or bound noun ("영수증 건은", "틀린 거").
const dismissedWords = 2

// rewrite writes the normalized text src to dst with every number (ASCII
// digits, or minSpokenDigits+ spoken digit syllables, "칠칠삼인데요" → "# 인데요")
// folded to one numberWord, so order numbers, phone numbers and birth dates
// are one stable feature instead of noise in the syllables they share with
// words (일, 이, 사); and with each dismissal and the words it rules out left
// out.
func rewrite(dst, src []byte) []byte {
	dst = append(dst[:0], ' ')
	for i := 0; i < len(src); {
		if src[i] == ' ' {
			i++
			continue
		}
		end := i + bytes.IndexByte(src[i:], ' ')
		word := src[i:end]
		i = end
		if isDismissal(word) {
			dst = dropWords(dst, dismissedWords)
			continue
		}
		if isNoNeed(word) && bytes.HasSuffix(dst, needWord) && (len(dst) == len(needWord) || dst[len(dst)-len(needWord)-1] == ' ') {
			dst = dropWords(dst, 1+dismissedWords) // "연장은 필요 없고"
			continue
		}
		if _, size := numberPrefix(word); size > 0 {
			dst = append(dst, numberWord, ' ')
			word = word[size:]
			if len(word) == 0 {
				continue
			}
		}
		dst = append(dst, word...)
		dst = append(dst, ' ')
	}
	return dst
}

// dropWords cuts the last n words off b, which holds " word word … ".
func dropWords(b []byte, n int) []byte {
	for ; n > 0 && len(b) > 1; n-- {
		b = b[:bytes.LastIndexByte(b[:len(b)-1], ' ')+1]
	}
	return b
}

// needWord and the words isNoNeed knows are the other dismissal: "X은 필요
// 없고요".
var needWord = []byte("필요 ")

func isNoNeed(word []byte) bool {
	return bytes.Equal(word, []byte("없고")) || bytes.Equal(word, []byte("없고요")) || bytes.Equal(word, []byte("없구요"))
}

func isDismissal(word []byte) bool {
	for _, d := range dismissals {
		if bytes.Equal(word, d) {
			return true
		}
	}
	return false
}

// numberPrefix returns how long (in runes and bytes) the number at the start
// of word is: a run of ASCII digits, or of at least minSpokenDigits spoken
// digit syllables; 0, 0 if it starts with none.
func numberPrefix(word []byte) (runes, size int) {
	for size < len(word) && '0' <= word[size] && word[size] <= '9' {
		size++
	}
	if size > 0 {
		return size, size
	}
	for size < len(word) {
		r, n := utf8.DecodeRune(word[size:])
		if !isNumberSyllable(r) {
			break
		}
		runes++
		size += n
	}
	if runes < minSpokenDigits {
		return 0, 0
	}
	return runes, size
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
// of the rewritten text (spaces included, so " 환불" differs from "환불"; a
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

// coarseFlag marks the key of a coarse n-gram apart from every exact one
// (those use at most 63 bits).
const coarseFlag = 1 << 63

// coarse writes rs to dst with each Hangul syllable reduced to what STT and
// hurried typing keep of it: no final consonant, tense initials plain
// (ㄲㄸㅃㅆㅉ → ㄱㄷㅂㅅㅈ) and the vowels speech no longer tells apart merged
// (ㅐ=ㅔ, ㅒ=ㅖ, ㅙ=ㅞ=ㅚ). "안왓어요" and "안 왔어요", "영수쯩" and "영수증",
// "결재" and "결제", "끗나요" and "끝나요" meet there.
func coarse(dst, rs []rune) []rune {
	dst = dst[:0]
	for _, r := range rs {
		if r >= 0xAC00 && r <= 0xD7A3 {
			i := int(r - 0xAC00)
			initial, medial := i/588, i%588/28
			switch initial {
			case 1, 4, 8, 10, 13: // ㄲ ㄸ ㅃ ㅆ ㅉ
				initial--
			}
			switch medial {
			case 1: // ㅐ
				medial = 5 // ㅔ
			case 3: // ㅒ
				medial = 7 // ㅖ
			case 10, 15: // ㅙ ㅞ
				medial = 11 // ㅚ
			}
			r = rune(0xAC00 + (initial*21+medial)*28)
		}
		dst = append(dst, r)
	}
	return dst
}

// coarseGrams calls char with the key of every coarse character bigram that
// holds a Hangul syllable.
func coarseGrams(rs []rune, char func(key uint64)) {
	for i := 0; i+2 <= len(rs); i++ {
		if rs[i] >= 0xAC00 || rs[i+1] >= 0xAC00 {
			char(gramKey(rs[i:i+2]) | coarseFlag)
		}
	}
}
