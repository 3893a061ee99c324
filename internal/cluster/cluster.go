package cluster

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/mcsession/mcsession/internal/envelope"
	"github.com/mcsession/mcsession/internal/expiry"
	"github.com/mcsession/mcsession/internal/ring"
)

// ErrCorrupt means a stored item is not a session written by mcsession:
// garbage, or a value damaged in Memcached.
var ErrCorrupt = envelope.ErrCorrupt

// Cluster stores sessions on a set of Memcached nodes. It is safe for
// concurrent use.
type Cluster struct {
	cfg     Config
	ring    *ring.Ring
	nodes   []*node
	skip    func(int) bool               // skips nodes that are not live
	version atomic.Uint64                // the last version handed out
	local   *lru.Cache[string, heldCopy] // nil unless LocalFallback > 0
}

// New returns a cluster for cfg. It does no network I/O: nodes are dialled
// on first use. It fails only for an invalid cfg.
func New(cfg Config) (*Cluster, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}

	c := &Cluster{cfg: cfg, local: newLocal(cfg.LocalFallback)}
	servers := make([]ring.Server, len(cfg.Servers))
	for i, s := range cfg.Servers {
		servers[i] = ring.Server{Addr: s, Weight: cfg.Weights[s]}
		n := newNode(s, &c.cfg)
		n.rejoin = c.handOff
		c.nodes = append(c.nodes, n)
	}
	c.ring = ring.New(servers)
	c.skip = func(i int) bool { return !c.nodes[i].live() }
	return c, nil
}

// Config returns the configuration in use, defaults filled in.
func (c *Cluster) Config() Config { return c.cfg }

// Close closes the idle connections to every node.
func (c *Cluster) Close() error {
	for _, n := range c.nodes {
		n.client.Close()
	}
	return nil
}

// Replicas returns the addresses of the nodes that a write of id goes to
// now, in ring order: the first of them is the session's primary.
func (c *Cluster) Replicas(id string) []string {
	var addrs []string
	for _, n := range c.live(c.Key(id), nil) {
		addrs = append(addrs, n.addr.address)
	}
	return addrs
}

// live appends to dst the first Replicas live nodes for key.
func (c *Cluster) live(key string, dst []*node) []*node {
	return c.liveAt(ring.Hash(key), dst)
}

// liveAt is live for a key whose ring hash is hash.
func (c *Cluster) liveAt(hash uint32, dst []*node) []*node {
	var buf [8]int
	for _, i := range c.ring.Successors(buf[:0], hash, c.cfg.Replicas,
		c.skip) {
		dst = append(dst, c.nodes[i])
	}
	return dst
}

// nextVersion returns a version above every one this process handed out
// before, and at least the current time in nanoseconds.
func (c *Cluster) nextVersion(now time.Time) uint64 {
	for {
		last := c.version.Load()
		v := max(uint64(now.UnixNano()), last+1)
		if c.version.CompareAndSwap(last, v) {
			return v
		}
	}
}

// each calls fn for every node, concurrently when there are several, and
// returns when all calls have.
func each(nodes []*node, fn func(i int, n *node)) {
	if len(nodes) <= 1 {
		for i, n := range nodes {
			fn(i, n)
		}
		return
	}

	var wg sync.WaitGroup
	for i, n := range nodes[1:] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(i+1, n)
		}()
	}
	fn(0, nodes[0])
	wg.Wait()
}

// do runs one round trip on n unless ctx is already done, turns its
// outcome into the cluster's error and n's health, and counts it in n's
// Stats.
func (n *node) do(ctx context.Context, op string,
	f func(*memcache.Client) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if n.ejectedUntil.Load() > 0 {
		return &NodeError{Addr: n.addr.address, Op: op, Kind: ErrUnavailable}
	}

	start := time.Now()
	raw := f(n.client)
	err := classify(n.addr.address, op, raw)
	n.counts.observe(op, raw, err != nil, time.Since(start))
	return n.record(err)
}

// exptime converts an expiry for a storage command, false meaning the
// item must not be stored.
func exptime(expiresAt time.Time) (int32, bool) {
	return expiry.Exptime(expiresAt, time.Now())
}
