package cluster

import (
	"context"
	"errors"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/mcsession/mcsession/internal/envelope"
	"github.com/mcsession/mcsession/internal/expiry"
	"github.com/mcsession/mcsession/internal/ring"
)

// tombstoneTTL is how long a tombstone is kept when no copy of the
// deleted session told how long the session had left.
const tombstoneTTL = 30 * 24 * time.Hour

// replica is what one node holds for a key.
type replica struct {
	node *node
	item *memcache.Item // nil for a miss
	env  envelope.Envelope
	err  error // a failure, or ErrCorrupt for an item that does not decode
}

// fetch reads key from every node, concurrently when there are several,
// and returns what each holds, in the order of nodes. A single node is
// asked on the caller's goroutine and its answer kept in one, so that a
// read with Replicas 1 allocates nothing here.
func (c *Cluster) fetch(ctx context.Context, key string, nodes []*node,
	one *[1]replica) []replica {
	if len(nodes) == 1 {
		one[0] = c.fetchOne(ctx, key, nodes[0])
		return one[:]
	}

	reps := make([]replica, len(nodes))
	each(nodes, func(i int, n *node) { reps[i] = c.fetchOne(ctx, key, n) })
	return reps
}

// fetchOne reads key from n. An item that does not decode is ErrCorrupt,
// and one whose session has expired is a miss.
func (c *Cluster) fetchOne(ctx context.Context, key string,
	n *node) replica {
	r := replica{node: n}
	r.err = n.do(ctx, "get", func(mc *memcache.Client) error {
		var err error
		r.item, err = mc.Get(key)
		return err
	})
	if r.item == nil || r.err != nil {
		return r
	}

	var err error
	if r.env, err = c.decode(key, r.item.Value); err != nil {
		r.err = &NodeError{Addr: n.addr.address, Op: "get",
			Kind: ErrCorrupt}
	} else if expired(r.env) {
		r.item, r.env = nil, envelope.Envelope{}
	}
	return r
}

// expired reports whether env's session has ended although Memcached
// still holds it. That happens when someone who can write to Memcached
// puts back an old copy; the expiry inside the envelope, sealed when
// EncryptionKeys are set, still tells. The envelope keeps whole seconds,
// so a second of grace covers what was cut off.
func expired(env envelope.Envelope) bool {
	return time.Now().After(env.ExpiresAt.Add(time.Second))
}

// newest returns the index of the newest decoded copy in reps, or -1.
// A tie goes to the earlier node in ring order.
func newest(reps []replica) int {
	best := -1
	for i, r := range reps {
		if r.item == nil || r.err != nil {
			continue
		}
		if best < 0 || r.env.Version > reps[best].env.Version {
			best = i
		}
	}
	return best
}

// Get returns the session stored for id. A session that was never
// stored, has expired or was deleted is found == false with a nil error.
// An item that is not an mcsession envelope gives ErrCorrupt. err is
// non-nil otherwise only when no replica could be asked.
//
// With Replicas > 1 it asks every replica, returns the newest copy and
// writes it back to the replicas that lacked it or held an older one.
func (c *Cluster) Get(ctx context.Context, id string) (value []byte,
	found bool, err error) {
	key := c.Key(id)
	nodes := c.live(key, make([]*node, 0, c.cfg.Replicas))
	var one [1]replica
	var reps []replica
	if len(nodes) > 0 {
		reps = c.fetch(ctx, key, nodes, &one)
	}
	if value, found, ok := c.fromHeld(ctx, key, reps); ok {
		return value, found, nil
	}
	if len(nodes) == 0 {
		return nil, false, c.noNodes("get")
	}

	best := newest(reps)
	if best < 0 {
		return nil, false, firstError(reps)
	}
	if len(reps) > 1 {
		c.repair(ctx, key, reps, best)
	}

	win := reps[best].env
	if win.Kind == envelope.Tombstone {
		return nil, false, nil
	}
	return win.Payload, true, nil
}

// firstError explains a read that found no copy: the first failure if
// every replica failed, ErrCorrupt if a replica held garbage, else nil.
func firstError(reps []replica) error {
	var corrupt error
	for _, r := range reps {
		switch {
		case r.err == nil:
			return nil
		case errors.Is(r.err, ErrCorrupt):
			corrupt = r.err
		}
	}
	if corrupt != nil {
		return corrupt
	}
	return reps[0].err
}

// repair copies reps[best] to the replicas that lack it or hold an older
// version. Repairs are best effort: a failure leaves the replica as it was
// for a later read to repair.
func (c *Cluster) repair(ctx context.Context, key string, reps []replica,
	best int) {
	for i, r := range reps {
		if i != best && !errors.Is(r.err, ErrUnavailable) &&
			(r.item == nil || r.err != nil ||
				r.env.Version < reps[best].env.Version) {
			c.repairOne(ctx, key, reps[best], r)
		}
	}
}

// repairOne writes win's item over r's: with add where r had none, so a
// concurrent write is never overwritten, and with a compare-and-swap
// against what r held otherwise.
func (c *Cluster) repairOne(ctx context.Context, key string,
	win, r replica) error {
	exp, ok := exptime(win.env.ExpiresAt)
	if !ok {
		return nil
	}
	it := &memcache.Item{Key: key, Value: win.item.Value, Expiration: exp}
	return r.node.do(ctx, "repair", func(mc *memcache.Client) error {
		if r.item == nil {
			return mc.Add(it)
		}
		it.CasID = r.item.CasID
		return mc.CompareAndSwap(it)
	})
}

// Set stores value as the session id until expiresAt. An expiresAt less
// than a second away deletes the session instead.
//
// The write goes to every replica concurrently and succeeds when one of
// them stored it. A value above a node's item size limit (memcached -I)
// is refused before anything is sent, with an error matching ErrTooLarge,
// and the stored session is left as it was.
func (c *Cluster) Set(ctx context.Context, id string, value []byte,
	expiresAt time.Time) error {
	now := time.Now()
	exp, ok := expiry.Exptime(expiresAt, now)
	if !ok {
		return c.Delete(ctx, id)
	}

	env := envelope.Envelope{Kind: envelope.Live,
		Version: c.nextVersion(now), ExpiresAt: expiresAt, Payload: value}
	key := c.Key(id)
	value = c.encode(key, env)
	err := c.write(ctx, "set", key, value, exp, env.Version, false)
	if err == nil {
		c.release(key)
	} else if c.hold(key, value, env, err) {
		return nil
	}
	return err
}

// Delete removes the session id. Deleting a session that does not exist
// is not an error. Delete fails, and the session may still be served,
// when none of the session's home nodes could be reached.
//
// With Replicas == 1 it deletes the item. With more it writes tombstones,
// kept as long as the longest-lived copy it finds (30 days when it finds
// none), so that a replica that missed the delete cannot bring the
// session back.
func (c *Cluster) Delete(ctx context.Context, id string) error {
	key := c.Key(id)
	tomb := c.tombstone(ctx, key)
	var err error
	if c.cfg.Replicas == 1 {
		err = c.write(ctx, "delete", key, nil, 0, tomb.Version, true)
	} else {
		exp, ok := exptime(tomb.ExpiresAt)
		if !ok {
			exp = 1 // never 0, which would keep the tombstone forever
		}
		err = c.write(ctx, "delete", key, c.encode(key, tomb), exp,
			tomb.Version, true)
	}

	if err == nil {
		c.release(key)
	} else {
		c.hold(key, c.encode(key, tomb), tomb, err)
	}
	return err
}

// tombstone returns the marker that deletes key. With Replicas > 1 it
// reads the replicas to make the tombstone last as long as the
// longest-lived copy, and at least a few seconds.
func (c *Cluster) tombstone(ctx context.Context, key string) envelope.Envelope {
	now := time.Now()
	tomb := envelope.Envelope{Kind: envelope.Tombstone,
		Version: c.nextVersion(now), ExpiresAt: now.Add(tombstoneTTL)}
	if c.cfg.Replicas == 1 {
		return tomb
	}

	var one [1]replica
	reps := c.fetch(ctx, key, c.live(key, nil), &one)
	if newest(reps) < 0 {
		return tomb
	}
	tomb.ExpiresAt = now.Add(2 * time.Second)
	for _, r := range reps {
		if r.item != nil && r.err == nil &&
			r.env.ExpiresAt.After(tomb.ExpiresAt) {
			tomb.ExpiresAt = r.env.ExpiresAt
		}
	}
	return tomb
}

// write sends a set of value, or a delete command when value is nil, to
// the live replicas of key, and to any home node of key that is out of
// the ring, where it fails at once. Each home node out of the ring gets a
// hint to catch up on version when it rejoins. The write succeeds when a
// node took it, and with needHome only when that node is a home node.
func (c *Cluster) write(ctx context.Context, op, key string, value []byte,
	exp int32, version uint64, needHome bool) error {
	hash := ring.Hash(key)
	var buf [8]int
	homes := c.ring.Successors(buf[:0], hash, c.cfg.Replicas, nil)
	nodes := c.targets(key, hash, version, homes,
		make([]*node, 0, c.cfg.Replicas+1))
	if len(nodes) == 0 {
		return c.noNodes(op)
	}
	if err := c.checkSize(op, key, len(value), nodes); err != nil {
		return err
	}

	var one [1]error
	errs := one[:]
	if len(nodes) == 1 {
		one[0] = nodes[0].store(ctx, op, key, value, exp)
	} else {
		errs = storeEach(ctx, op, key, value, exp, nodes)
	}

	for i, err := range errs {
		if err == nil && (!needHome || c.isHome(homes, nodes[i])) {
			return nil
		}
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return c.noNodes(op)
}

// targets appends to dst the nodes a write of key at version goes to:
// its live replicas in ring order, then its home nodes that are out of
// the ring, each of which gets a hint. hash is the ring hash of key and
// homes are its home nodes. When every home node is live they are the
// live replicas, and the ring is not walked again.
func (c *Cluster) targets(key string, hash uint32, version uint64,
	homes []int, dst []*node) []*node {
	if c.allLive(homes) {
		for _, i := range homes {
			dst = append(dst, c.nodes[i])
		}
		return dst
	}

	dst = c.liveAt(hash, dst)
	for _, i := range homes {
		if n := c.nodes[i]; !n.live() {
			n.addHint(key, version)
			dst = append(dst, n)
		}
	}
	return dst
}

func (c *Cluster) allLive(servers []int) bool {
	for _, i := range servers {
		if !c.nodes[i].live() {
			return false
		}
	}
	return true
}

// store sends a set of value to n, or a delete when value is nil.
func (n *node) store(ctx context.Context, op, key string, value []byte,
	exp int32) error {
	return n.do(ctx, op, func(mc *memcache.Client) error {
		if value == nil {
			return mc.Delete(key)
		}
		return mc.Set(&memcache.Item{Key: key, Value: value,
			Expiration: exp})
	})
}

// storeEach is store on every node, concurrently, and returns their
// errors in the order of nodes.
func storeEach(ctx context.Context, op, key string, value []byte,
	exp int32, nodes []*node) []error {
	errs := make([]error, len(nodes))
	each(nodes, func(i int, n *node) {
		errs[i] = n.store(ctx, op, key, value, exp)
	})
	return errs
}

func (c *Cluster) isHome(homes []int, n *node) bool {
	for _, i := range homes {
		if c.nodes[i] == n {
			return true
		}
	}
	return false
}

// checkSize refuses a value that some target node cannot hold. memcached
// unlinks the stored item when a set is too large, so this is checked
// before anything is sent.
func (c *Cluster) checkSize(op, key string, size int, nodes []*node) error {
	if size == 0 {
		return nil
	}
	for _, n := range nodes {
		if !n.live() {
			continue
		}
		limit, err := n.maxValue(len(key))
		if err != nil {
			continue // the write itself reports the node
		}
		if size > limit {
			return &NodeError{Addr: n.addr.address, Op: op,
				Kind: ErrTooLarge}
		}
	}
	return nil
}

func (c *Cluster) noNodes(op string) error {
	return &NodeError{Addr: "(no live node)", Op: op, Kind: ErrUnavailable}
}
