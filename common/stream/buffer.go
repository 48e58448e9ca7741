package stream

// audioBuffer is a leg's audio from the replay point (the end of the last
// final result) to the newest byte received, addressed by leg offsets (bytes
// since the leg's first). It is bounded: beyond max bytes the oldest are
// dropped, which a slow or absent Dialogflow costs in lost audio rather than
// in memory. Live bytes are never rewritten, so a slice handed to a request
// stays valid after the buffer moves on.
type audioBuffer struct {
	data  []byte
	start int64 // leg offset of data[0]
	max   int
}

func (b *audioBuffer) end() int64 { return b.start + int64(len(b.data)) }

// append adds p and returns how many of the oldest bytes the bound dropped.
func (b *audioBuffer) append(p []byte) (dropped int) {
	b.data = append(b.data, p...)
	if over := len(b.data) - b.max; over > 0 {
		b.discardFront(over)
		return over
	}
	return 0
}

// trimTo drops the bytes before leg offset off: they will never be replayed.
func (b *audioBuffer) trimTo(off int64) {
	if n := off - b.start; n > 0 {
		b.discardFront(int(min(n, int64(len(b.data)))))
	}
}

func (b *audioBuffer) discardFront(n int) {
	b.data = b.data[n:]
	b.start += int64(n)
	if len(b.data) == 0 {
		// Reuse nothing: the old array may be large, and appends would
		// otherwise keep growing past it.
		b.data = nil
	}
}

// slice returns the bytes between leg offsets from and to, clamped to what
// the buffer holds.
func (b *audioBuffer) slice(from, to int64) []byte {
	from, to = max(from, b.start), min(to, b.end())
	if from >= to {
		return nil
	}
	return b.data[from-b.start : to-b.start : to-b.start]
}
