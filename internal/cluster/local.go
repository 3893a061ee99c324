package cluster

import (
	"context"
	"errors"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/mcsession/mcsession/internal/envelope"
)

// heldCopy is a session kept in process memory while none of its
// replicas could be reached (Config.LocalFallback).
type heldCopy struct {
	value []byte // the encoded envelope, as it would be stored
	env   envelope.Envelope
}

func newLocal(size int) *lru.Cache[string, heldCopy] {
	if size <= 0 {
		return nil
	}
	cache, _ := lru.New[string, heldCopy](size) // fails only for size <= 0
	return cache
}

// hold keeps a write that no node took, if LocalFallback is on, and
// reports whether it did.
func (c *Cluster) hold(key string, value []byte, env envelope.Envelope,
	err error) bool {
	if c.local == nil || !errors.Is(err, ErrUnavailable) {
		return false
	}
	c.local.Add(key, heldCopy{value: value, env: env})
	return true
}

// release forgets the held copy of key, once a node took a write of it.
func (c *Cluster) release(key string) {
	if c.local != nil && c.local.Len() > 0 {
		c.local.Remove(key)
	}
}

// fromHeld answers a read of key from its held copy, if there is one: on
// its own when no replica answered, and otherwise after writing the held
// copy back when it is newer than what the replicas returned. It reports
// false when it has nothing to say.
func (c *Cluster) fromHeld(ctx context.Context, key string,
	reps []replica) (value []byte, found, ok bool) {
	if c.local == nil || c.local.Len() == 0 {
		return nil, false, false
	}
	h, ok := c.local.Get(key)
	if !ok || !h.env.ExpiresAt.After(time.Now()) {
		c.release(key)
		return nil, false, false
	}

	best := newest(reps)
	if best >= 0 && reps[best].env.Version >= h.env.Version {
		c.release(key)
		return nil, false, false
	}
	if best >= 0 || !allDown(reps) {
		c.writeBack(ctx, key, h)
	}
	if h.env.Kind == envelope.Tombstone {
		return nil, false, true
	}
	return h.env.Payload, true, true
}

// writeBack stores a held copy in Memcached again and, once a node has
// it, forgets it.
func (c *Cluster) writeBack(ctx context.Context, key string, h heldCopy) {
	exp, ok := exptime(h.env.ExpiresAt)
	if !ok {
		c.release(key)
		return
	}
	tomb := h.env.Kind == envelope.Tombstone
	if c.write(ctx, "set", key, h.value, exp, h.env.Version, tomb) == nil {
		c.release(key)
	}
}

// writeBackHeld offers every held session to the cluster again, once a
// node has rejoined.
func (c *Cluster) writeBackHeld(ctx context.Context) {
	if c.local == nil {
		return
	}
	for _, key := range c.local.Keys() {
		nodes := c.live(key, nil)
		if len(nodes) > 0 {
			var one [1]replica
			c.fromHeld(ctx, key, c.fetch(ctx, key, nodes, &one))
		}
	}
}

// allDown reports whether no replica answered.
func allDown(reps []replica) bool {
	for _, r := range reps {
		if !errors.Is(r.err, ErrUnavailable) {
			return false
		}
	}
	return true
}
