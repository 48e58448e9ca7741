package embedded

import "math/bits"

// gramTable is the trained character n-grams' feature ids, frozen: an
// open-addressed table probed linearly, each slot a key and its id on one
// cache line. Looking up every n-gram of an utterance is a third of a
// classification, and a Go map's lookup costs several times this one's.
type gramTable struct {
	slots []gramSlot // len is a power of two, at most half full
	shift uint       // 64 − log2(len(slots))
}

type gramSlot struct {
	key uint64 // 0: empty (no gram key is 0: no rune is)
	id  int32
}

func newGramTable(ids map[uint64]int32) gramTable {
	size := 8
	for size < 2*len(ids) {
		size *= 2
	}
	t := gramTable{slots: make([]gramSlot, size), shift: uint(64 - bits.TrailingZeros(uint(size)))}
	for key, id := range ids {
		i := t.home(key)
		for t.slots[i].key != 0 {
			i = (i + 1) & (len(t.slots) - 1)
		}
		t.slots[i] = gramSlot{key: key, id: id}
	}
	return t
}

// home is key's first slot: Fibonacci hashing, the top bits of key times
// 2^64/φ, which spreads the packed runes' low bits over the table.
func (t *gramTable) home(key uint64) int { return int((key * 0x9E3779B97F4A7C15) >> t.shift) }

func (t *gramTable) lookup(key uint64) (int32, bool) {
	mask := len(t.slots) - 1
	for i := t.home(key); ; i = (i + 1) & mask {
		s := t.slots[i]
		if s.key == key {
			return s.id, true
		}
		if s.key == 0 {
			return 0, false
		}
	}
}
