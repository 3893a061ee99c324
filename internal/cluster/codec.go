package cluster

import "github.com/mcsession/mcsession/internal/envelope"

// encode returns the bytes stored under key for env.
func (c *Cluster) encode(key string, env envelope.Envelope) []byte {
	return envelope.Append(make([]byte, 0, envelope.Size(env)), env)
}

// decode reads what encode wrote under key. Anything else gives
// ErrCorrupt.
func (c *Cluster) decode(key string, b []byte) (envelope.Envelope, error) {
	return envelope.Decode(b)
}
