package cluster

import (
	"crypto/sha256"
	"encoding/base64"
)

// hashedIDLen is the length of a session ID once hashed for a key.
const hashedIDLen = 43 // base64 of 32 bytes, unpadded

// Key returns the Memcached key that holds the session id: the prefix and
// the SHA-256 of id in URL-safe base64. Any id, of any length and with any
// bytes, gives a legal key, and the id itself never reaches Memcached, so
// a reader of the keys (lru_crawler metadump) learns no live session ID.
func (c *Cluster) Key(id string) string {
	sum := sha256.Sum256([]byte(id))
	buf := make([]byte, len(c.cfg.Prefix)+hashedIDLen)
	n := copy(buf, c.cfg.Prefix)
	base64.RawURLEncoding.Encode(buf[n:], sum[:])
	return string(buf)
}
