package memstore

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/routebot/routebot/common/session"
)

// Sessions and turn records are kept encoded: a []byte holds no pointers,
// so the garbage collector does not scan the hundreds of thousands of live
// calls a busy local run keeps, and a turn's latency does not pay for it.
// The encoding is private to this process (no versioning needed).

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return binary.AppendVarint(b, 0)
	}
	return binary.AppendVarint(b, t.UnixNano())
}

// encodeSession appends s to b without its CallID (the map key). The times
// and LastAnswer come first so that decodeSession can copy everything after
// them into one string.
func encodeSession(b []byte, s session.Session) []byte {
	b = appendTime(b, s.Updated)
	b = appendTime(b, s.Expires)
	b = binary.AppendUvarint(b, uint64(len(s.LastAnswer)))
	b = append(b, s.LastAnswer...)
	for _, n := range []int{s.Turn, s.Silence, s.Invalid} {
		b = binary.AppendVarint(b, int64(n))
	}
	for _, f := range []string{s.Tenant, s.Scenario, s.Step, s.LastKey} {
		b = appendString(b, f)
	}
	b = binary.AppendUvarint(b, uint64(len(s.Vars)))
	for _, v := range s.Vars {
		b = appendString(appendString(b, v.Name), v.Value)
	}
	return b
}

func encodeRecord(b []byte, r session.Record) []byte {
	b = binary.AppendVarint(b, int64(r.Turn))
	b = appendTime(b, r.At)
	for _, f := range []string{r.ScenarioCode, r.ChatMsg, r.Answer, r.DTMF, r.From, r.To, r.ServiceCode, r.TransCode, r.Category, r.Backend} {
		b = appendString(b, f)
	}
	if r.Degraded {
		return append(b, 1)
	}
	return append(b, 0)
}

var errCorrupt = errors.New("memstore: corrupt encoding")

type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err, r.b = errCorrupt, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err, r.b = errCorrupt, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.err, r.b = errCorrupt, nil
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) string() string { return string(r.bytes()) }

func (r *reader) time() time.Time {
	if n := r.varint(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// decodeSession decodes what encodeSession wrote: every string field a
// substring of one copy, LastAnswer a copy of its own, Vars a new slice. The
// caller owns the result and may change it without touching b.
func decodeSession(callID string, b []byte) (session.Session, error) {
	if len(b) == 0 {
		return session.Session{}, nil
	}
	r := &reader{b: b}
	s := session.Session{CallID: callID}
	s.Updated, s.Expires = r.time(), r.time()
	if last := r.bytes(); len(last) > 0 {
		s.LastAnswer = append([]byte(nil), last...)
	}
	s.Turn, s.Silence, s.Invalid = int(r.varint()), int(r.varint()), int(r.varint())
	if r.err != nil {
		return session.Session{}, r.err
	}
	// The string fields are read with r, as every other field, and taken
	// as substrings of one copy of the bytes they stand in.
	rest, copied := r.b, string(r.b)
	str := func() string {
		v := r.bytes()
		end := len(rest) - len(r.b)
		return copied[end-len(v) : end]
	}
	s.Tenant, s.Scenario, s.Step, s.LastKey = str(), str(), str(), str()
	if n := r.uvarint(); n > 0 && n <= uint64(len(r.b)) {
		s.Vars = make(session.Vars, n, n+4) // room for a turn's category1..3 and answer
		for i := range s.Vars {
			s.Vars[i].Name = str()
			s.Vars[i].Value = str()
		}
	}
	return s, r.err
}

func decodeRecords(b []byte) ([]session.Record, error) {
	r := &reader{b: b}
	var out []session.Record
	for len(r.b) > 0 && r.err == nil {
		rec := session.Record{Seq: len(out) + 1} // entries are appended in order
		rec.Turn, rec.At = int(r.varint()), r.time()
		for _, f := range []*string{&rec.ScenarioCode, &rec.ChatMsg, &rec.Answer, &rec.DTMF, &rec.From, &rec.To, &rec.ServiceCode, &rec.TransCode, &rec.Category, &rec.Backend} {
			*f = r.string()
		}
		if len(r.b) == 0 {
			return nil, errCorrupt
		}
		rec.Degraded, r.b = r.b[0] == 1, r.b[1:]
		out = append(out, rec)
	}
	return out, r.err
}
