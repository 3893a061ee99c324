// Package envelope frames what mcsession stores in a Memcached item: the
// session's bytes plus the version and expiry that replication needs to
// pick the newest copy and to repair the others.
//
// The layout is a format byte, a kind byte, the version (8 bytes) and the
// expiry in Unix seconds (8 bytes), big-endian, then the payload.
package envelope

import (
	"encoding/binary"
	"errors"
	"time"
)

const (
	formatV1   = 1
	headerSize = 18
)

// Kind tells a live session from the marker a delete leaves behind.
type Kind byte

const (
	// Live is a stored session.
	Live Kind = iota
	// Tombstone marks a deleted session, so that an older copy on a
	// replica that missed the delete is never served again.
	Tombstone
)

// ErrCorrupt is returned by Decode for bytes that are not an envelope.
var ErrCorrupt = errors.New("mcsession: stored value is not a session " +
	"written by mcsession, or is sealed with a key not in EncryptionKeys")

// Envelope is one decoded item.
type Envelope struct {
	Kind      Kind
	Version   uint64
	ExpiresAt time.Time
	Payload   []byte
}

// Append appends the encoding of e to dst and returns the result.
func Append(dst []byte, e Envelope) []byte {
	dst = append(dst, formatV1, byte(e.Kind))
	dst = binary.BigEndian.AppendUint64(dst, e.Version)
	dst = binary.BigEndian.AppendUint64(dst, uint64(e.ExpiresAt.Unix()))
	return append(dst, e.Payload...)
}

// Size returns the length of e's encoding.
func Size(e Envelope) int { return headerSize + len(e.Payload) }

// Decode parses b. The payload aliases b. Anything that is not an
// envelope of a known format and kind gives ErrCorrupt.
func Decode(b []byte) (Envelope, error) {
	if len(b) < headerSize || b[0] != formatV1 || Kind(b[1]) > Tombstone {
		return Envelope{}, ErrCorrupt
	}
	e := Envelope{
		Kind:      Kind(b[1]),
		Version:   binary.BigEndian.Uint64(b[2:]),
		ExpiresAt: time.Unix(int64(binary.BigEndian.Uint64(b[10:])), 0),
		Payload:   b[headerSize:],
	}
	if e.Kind == Tombstone && len(e.Payload) != 0 {
		return Envelope{}, ErrCorrupt
	}
	return e, nil
}
