// Package seal encrypts and authenticates the values mcsession keeps in
// Memcached, with AES-256-GCM and HKDF-SHA256 from the standard library.
//
// A sealed value is the byte Format, a key ID (4 bytes), a random nonce
// (24 bytes), then the AES-GCM ciphertext and its 16-byte tag. Every value
// is encrypted under an AES key of its own, derived from the configured
// key and the first half of the nonce; the second half is the GCM nonce.
// Random nonces therefore never repeat under one AES key, however many
// values are sealed, where AES-GCM used directly with random 12-byte
// nonces is only safe for a few billion values per key.
//
// The key ID is derived from the key with HKDF, so it tells which of the
// configured keys opens a value and nothing usable about the key itself.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// Format is the first byte of every sealed value. Envelope formats count
// up from 1 and sealed formats from 0x81, so the two never meet.
const Format byte = 0x81

const (
	idLen     = 4
	nonceLen  = 24
	headerLen = 1 + idLen + nonceLen
	tagLen    = 16

	// Overhead is the number of bytes sealing adds to a value.
	Overhead = headerLen + tagLen
)

// HKDF info strings; the version in them binds a key to this format.
const (
	idInfo    = "mcsession seal v1 key id"
	valueInfo = "mcsession seal v1 value key\x00"
)

// ErrOpen means a value did not open: it is not sealed, it was damaged
// or changed, it is bound to other additional data, or none of the keys
// sealed it.
var ErrOpen = errors.New("mcsession: sealed value does not open")

// Keys seals with the first of its keys and opens with any of them, so
// that a new key can be put first while values sealed with the old ones
// still open. It is safe for concurrent use.
type Keys struct {
	keys []key
}

type key struct {
	id  [idLen]byte
	prk []byte // HKDF pseudorandom key extracted from the secret
}

// New returns Keys over secrets, the first of which seals. Each secret
// must be 16, 24 or 32 random bytes (32 is best), and no two the same.
// New keeps no reference to secrets.
func New(secrets [][]byte) (*Keys, error) {
	if len(secrets) == 0 {
		return nil, errors.New("no keys given")
	}

	k := &Keys{}
	seen := make(map[string]bool, len(secrets))
	for i, s := range secrets {
		switch {
		case len(s) != 16 && len(s) != 24 && len(s) != 32:
			return nil, fmt.Errorf("key %d is %d bytes; want 16, 24 "+
				"or 32 random bytes", i+1, len(s))
		case seen[string(s)]:
			return nil, fmt.Errorf("key %d repeats an earlier key", i+1)
		}
		seen[string(s)] = true
		prk := must(hkdf.Extract(sha256.New, s, nil))
		id := must(hkdf.Expand(sha256.New, prk, idInfo, idLen))
		k.keys = append(k.keys, key{id: [idLen]byte(id), prk: prk})
	}
	return k, nil
}

// IsSealed reports whether b starts like a sealed value. Only Open tells
// whether it is one.
func IsSealed(b []byte) bool { return len(b) > 0 && b[0] == Format }

// Seal appends to dst plaintext sealed with the first key and bound to
// ad: Open returns plaintext only when given the same ad.
func (k *Keys) Seal(dst, plaintext, ad []byte) []byte {
	first := k.keys[0]
	var nonce [nonceLen]byte
	rand.Read(nonce[:])

	dst = append(dst, Format)
	dst = append(dst, first.id[:]...)
	dst = append(dst, nonce[:]...)
	salt, gcmNonce := nonce[:nonceLen/2], nonce[nonceLen/2:]
	return first.aead(salt).Seal(dst, gcmNonce, plaintext, ad)
}

// Open appends to dst the plaintext of sealed, a value from Seal bound to
// ad, and returns the result. Anything else gives ErrOpen.
func (k *Keys) Open(dst, sealed, ad []byte) ([]byte, error) {
	if len(sealed) < Overhead || sealed[0] != Format {
		return nil, ErrOpen
	}

	id := [idLen]byte(sealed[1:])
	nonce := sealed[1+idLen : headerLen]
	salt, gcmNonce := nonce[:nonceLen/2], nonce[nonceLen/2:]
	for _, key := range k.keys {
		if key.id != id {
			continue
		}
		out, err := key.aead(salt).Open(dst, gcmNonce, sealed[headerLen:], ad)
		if err == nil {
			return out, nil
		}
	}
	return nil, ErrOpen
}

// aead returns AES-256-GCM under the key this value's salt derives.
func (k key) aead(salt []byte) cipher.AEAD {
	vk := must(hkdf.Expand(sha256.New, k.prk, valueInfo+string(salt), 32))
	return must(cipher.NewGCM(must(aes.NewCipher(vk))))
}

// must returns v, and panics on an error that the fixed sizes used here
// rule out.
func must[T any](v T, err error) T {
	if err != nil {
		panic("seal: " + err.Error())
	}
	return v
}
