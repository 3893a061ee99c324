package cluster

import (
	"github.com/mcsession/mcsession/internal/envelope"
	"github.com/mcsession/mcsession/internal/seal"
)

// encode returns the bytes stored under key for env: the envelope, sealed
// and bound to key when Config.EncryptionKeys are set.
func (c *Cluster) encode(key string, env envelope.Envelope) []byte {
	plain := envelope.Append(make([]byte, 0, envelope.Size(env)), env)
	if c.cfg.sealer == nil {
		return plain
	}
	return c.cfg.sealer.Seal(make([]byte, 0, seal.Overhead+len(plain)),
		plain, []byte(key))
}

// decode reads what encode wrote under key. With EncryptionKeys set, it
// accepts only a value sealed for key with one of them, or an unsealed
// envelope when AcceptPlaintext is set too. Anything else gives
// ErrCorrupt.
func (c *Cluster) decode(key string, b []byte) (envelope.Envelope, error) {
	switch s := c.cfg.sealer; {
	case s != nil && seal.IsSealed(b):
		plain, err := s.Open(nil, b, []byte(key))
		if err != nil {
			return envelope.Envelope{}, ErrCorrupt
		}
		return envelope.Decode(plain)
	case s != nil && !c.cfg.AcceptPlaintext:
		return envelope.Envelope{}, ErrCorrupt
	}
	return envelope.Decode(b)
}
