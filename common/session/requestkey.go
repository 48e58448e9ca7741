package session

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"slices"
	"sync"

	"github.com/routebot/routebot/common/secrets"
)

// MinRequestKeyBytes is the shortest key RequestKeys accepts: a short key
// could be brute-forced together with the digits it hides.
const MinRequestKeyBytes = 32

// RequestKeys makes Session.LastKey: a keyed HMAC-SHA256 of the request's
// fields. A request carries DTMF, and a sensitive step's digits (a birth
// date) have so few values that an unkeyed digest gives them back to anyone
// who can read the store; without the key, which the store never sees, the
// digest says nothing. Every instance serving one store must share the key,
// or a retry reaching another instance is not recognised.
type RequestKeys struct {
	secret *secrets.Secret
	pool   sync.Pool // of *hmacs: a turn digests without allocating its hashes
}

// hmacs are HMAC hashes of one list of accepted keys, and a buffer.
type hmacs struct {
	keys [][]byte
	hs   []hash.Hash
	buf  []byte
	sum  [sha256.Size]byte
	hex  [32]byte // half the sum, in hex
}

// NewRequestKeys keys digests with secret's values: the current one makes
// new digests; during a rotation, the previous one still recognises a
// retry of a turn answered before it.
func NewRequestKeys(secret *secrets.Secret) (*RequestKeys, error) {
	for _, v := range secret.Accepted() {
		if len(v) < MinRequestKeyBytes {
			return nil, fmt.Errorf("session: request key %s has %d bytes, want at least %d random bytes", secret, len(v), MinRequestKeyBytes)
		}
	}
	return &RequestKeys{secret: secret}, nil
}

// RandomRequestKeys keys digests with a random key of this process: for a
// single process (the local run, tests), whose sessions no other reads.
func RandomRequestKeys() *RequestKeys {
	return &RequestKeys{secret: secrets.Literal([]byte(rand.Text() + rand.Text()))} // 2×26 base32 characters: 260 bits
}

// AppendDigests appends to dst the request's digest under every accepted
// key, current first: store the first, recognise a retry by any. Each field
// is length-prefixed, so no two field lists digest the same bytes.
func (k *RequestKeys) AppendDigests(dst []string, fields ...string) []string {
	keys := k.secret.Accepted()
	m, _ := k.pool.Get().(*hmacs)
	if m == nil || !slices.EqualFunc(m.keys, keys, bytes.Equal) { // first use, or a rotation
		m = &hmacs{keys: keys, hs: make([]hash.Hash, len(keys))}
		for i, key := range keys {
			m.hs[i] = hmac.New(sha256.New, key)
		}
	}
	m.buf = m.buf[:0]
	for _, f := range fields {
		m.buf = append(binary.AppendUvarint(m.buf, uint64(len(f))), f...)
	}
	for _, h := range m.hs {
		h.Reset()
		h.Write(m.buf)
		hex.Encode(m.hex[:], h.Sum(m.sum[:0])[:16])
		dst = append(dst, string(m.hex[:]))
	}
	k.pool.Put(m)
	return dst
}
