package cluster

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/bradfitz/gomemcache/memcache"
)

// maxHints bounds the writes remembered for one node while it is out of
// the ring. Past it the node is emptied (flush_all) when it rejoins
// instead, which is safe because every key it holds is then stale or
// available elsewhere for reads to repair.
const maxHints = 100_000

// hints are the keys written while a home node of theirs was out of the
// ring, with the version of the newest such write. They are what the
// node must catch up on before it serves reads again: without them a
// node that was away would answer with the copies it had before.
type hints struct {
	mu       sync.Mutex
	versions map[string]uint64
	lost     bool // more than maxHints were missed
}

// addHint remembers that key was written at version while n was out of
// the ring. If n is back in the ring by now it remembers nothing: the
// write then reaches n itself.
func (n *node) addHint(key string, version uint64) {
	h := &n.hints
	h.mu.Lock()
	defer h.mu.Unlock()

	if n.ejectedUntil.Load() == 0 {
		return
	}
	switch {
	case h.versions == nil:
		h.versions = map[string]uint64{key: version}
	case len(h.versions) >= maxHints:
		h.lost = true
	default:
		h.versions[key] = max(h.versions[key], version)
	}
}

// takeHints returns and forgets n's hints. With none left it puts n back
// in the ring, in the same step, so no hint can be added in between.
func (n *node) takeHints() (versions map[string]uint64, lost bool) {
	h := &n.hints
	h.mu.Lock()
	defer h.mu.Unlock()

	versions, lost = h.versions, h.lost
	h.versions, h.lost = nil, false
	if len(versions) == 0 && !lost {
		n.ejectedUntil.Store(0)
	}
	return versions, lost
}

// handOff brings n, which answers again, up to date with the writes it
// missed, then puts it back in the ring. Until then reads and writes keep
// going to the nodes that stood in for it. If n fails again meanwhile it
// is ejected again, and keeps the hints it has not caught up on.
func (c *Cluster) handOff(n *node) {
	ctx := context.Background()
	caught := 0
	for {
		versions, lost := n.takeHints()
		if len(versions) == 0 && !lost {
			n.log("mcsession: node rejoined", slog.Int("handed_off", caught))
			n.counts.rejoins.Add(1)
			c.writeBackHeld(ctx)
			return
		}
		if lost {
			if err := n.do(ctx, "flush_all", (*memcache.Client).FlushAll); err != nil {
				c.abandonHandOff(n, nil, true, err)
				return
			}
			continue
		}
		for key, version := range versions {
			if err := c.catchUp(ctx, n, key, version); err != nil {
				c.abandonHandOff(n, versions, false, err)
				return
			}
			delete(versions, key)
			caught++
		}
	}
}

// abandonHandOff ejects n again, keeping the hints it did not catch up on.
func (c *Cluster) abandonHandOff(n *node, left map[string]uint64,
	lost bool, err error) {
	n.eject()
	h := &n.hints
	h.mu.Lock()
	for key, version := range left {
		if h.versions == nil {
			h.versions = make(map[string]uint64, len(left))
		}
		h.versions[key] = max(h.versions[key], version)
	}
	h.lost = h.lost || lost || len(h.versions) > maxHints
	h.mu.Unlock()
	n.log("mcsession: node failed while rejoining", slog.Any("err", err))
}

// catchUp makes n's copy of key at least as new as version: it copies the
// newest copy held by the nodes that stood in for n, or deletes n's copy
// when nothing newer is left anywhere (the session expired or was deleted
// with Replicas 1). With Replicas 1 the stand-in's copy is deleted once n
// has it, so that it cannot come back the next time n is away.
func (c *Cluster) catchUp(ctx context.Context, n *node, key string,
	version uint64) error {
	nodes := append(c.live(key, nil), n)
	var one [1]replica
	reps := c.fetch(ctx, key, nodes, &one)
	mine := reps[len(reps)-1]
	if errors.Is(mine.err, ErrUnavailable) {
		return mine.err
	}
	if mine.item != nil && mine.err == nil && mine.env.Version >= version {
		return nil
	}

	best := newest(reps)
	if best < 0 || reps[best].node == n {
		if mine.item == nil {
			return nil
		}
		return n.do(ctx, "delete", func(mc *memcache.Client) error {
			return mc.Delete(key)
		})
	}
	c.repairOne(ctx, key, reps[best], mine)
	if c.cfg.Replicas == 1 {
		for _, r := range reps[:len(reps)-1] {
			r.node.do(ctx, "delete", func(mc *memcache.Client) error {
				return mc.Delete(key)
			})
		}
	}
	return nil
}
