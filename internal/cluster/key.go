package cluster

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// hashedIDLen is the length of a session ID once hashed for a key.
const hashedIDLen = 43 // base64 of 32 bytes, unpadded

// shortID is the longest session ID that Key hashes from a copy on the
// stack rather than on the heap. The IDs of scs (43 bytes) and of
// gorillastore (52 bytes) fit.
const shortID = 64

// Key returns the Memcached key that holds the session id: the prefix and
// the SHA-256 of id in URL-safe base64. Any id, of any length and with any
// bytes, gives a legal key, and the id itself never reaches Memcached, so
// a reader of the keys (lru_crawler metadump) learns no live session ID.
//
// Key allocates only the key, and for an id longer than 64 bytes a copy
// of it.
func (c *Cluster) Key(id string) string {
	var sum [sha256.Size]byte
	if len(id) <= shortID {
		var buf [shortID]byte
		sum = sha256.Sum256(buf[:copy(buf[:], id)])
	} else {
		sum = sha256.Sum256([]byte(id))
	}
	var hashed [hashedIDLen]byte
	base64.RawURLEncoding.Encode(hashed[:], sum[:])

	var key strings.Builder
	key.Grow(len(c.cfg.Prefix) + hashedIDLen)
	key.WriteString(c.cfg.Prefix)
	key.Write(hashed[:])
	return key.String()
}
