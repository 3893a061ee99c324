package cluster

import (
	"errors"
	"net"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
)

// latencyBounds are the upper bounds of the latency histogram's buckets.
// They span a round trip on a quiet LAN to the longest timeout that makes
// sense for a session store.
var latencyBounds = [...]time.Duration{
	100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second,
}

// Stats is a snapshot of what a cluster counted about its nodes since it
// was built. The counters only grow; compare two snapshots to get rates.
type Stats struct {
	// Nodes holds one entry per node, in the order of Config.Servers.
	Nodes []NodeStats
}

// NodeStats is what a cluster counted about one node. It counts the
// round trips of sessions: a request that was not sent, because the node
// was ejected or the context was done, is in no counter, nor is a read of
// the node's own stats (its item size limit, ServerStats), though a
// failed one counts against the node's health like any other.
type NodeStats struct {
	// Addr is the node, as given in Config.Servers.
	Addr string

	// Ejected reports whether the node is out of the ring now: ejected,
	// waiting for its retry, or back but still catching up on the writes
	// it missed.
	Ejected bool

	// Gets counts get commands, and Hits and Misses those that found an
	// item and those that did not. A get that failed is neither. Besides
	// the reads of Get, a Delete with Replicas > 1 reads every replica
	// first, and a node that rejoins is read to catch it up. A hit on an
	// item that does not decode (ErrCorrupt) is still a hit.
	Gets, Hits, Misses uint64

	// Sets and Deletes count the storage commands of Set and Delete. A
	// Delete with Replicas > 1 stores tombstones, counted as deletes.
	Sets, Deletes uint64

	// Repairs counts the copies written to a node that lacked a session
	// or held an older version of it: by a read with Replicas > 1, or
	// while the node caught up after rejoining.
	Repairs uint64

	// Errors counts the round trips that failed: the node was down, too
	// slow or answered with an error of its own. Timeouts counts those of
	// them that ran out of Config.Timeout, connecting or waiting for the
	// answer.
	Errors, Timeouts uint64

	// Ejections counts the times the node was taken out of the ring
	// after Config.FailureLimit failures in a row, and Rejoins the times
	// it was put back.
	Ejections, Rejoins uint64

	// Latency is the time each round trip took, failed ones included.
	Latency Histogram
}

// Histogram counts durations in buckets of fixed upper bounds, from
// 100µs to 1s.
type Histogram struct {
	// Bounds are the buckets' upper bounds, in increasing order.
	Bounds []time.Duration

	// Counts[i] is the number of durations of at most Bounds[i].
	Counts []uint64

	// Count is the number of durations, those above the last bound
	// included, and Sum their total.
	Count uint64
	Sum   time.Duration
}

// counters are a node's statistics. They are updated on every round trip
// without a lock or an allocation.
type counters struct {
	gets, hits, misses, sets, deletes, repairs atomic.Uint64
	errors, timeouts, ejections, rejoins       atomic.Uint64

	// buckets[i] counts the durations between latencyBounds[i-1] and
	// latencyBounds[i]; the last one those above every bound.
	buckets [len(latencyBounds) + 1]atomic.Uint64
	sum     atomic.Int64 // in nanoseconds
}

// observe counts one round trip of op that took took. raw is the error
// gomemcache returned, and failed tells whether the cluster sees it as a
// failure rather than an outcome such as a miss.
func (c *counters) observe(op string, raw error, failed bool,
	took time.Duration) {
	c.count(op, raw)

	if failed {
		c.errors.Add(1)
		if timedOut(raw) {
			c.timeouts.Add(1)
		}
	}

	c.buckets[bucket(took)].Add(1)
	c.sum.Add(int64(took))
}

// count adds a round trip of op to its command's counter, and a get to
// the hits or the misses.
func (c *counters) count(op string, raw error) {
	switch op {
	case "get":
		c.gets.Add(1)
		if raw == nil {
			c.hits.Add(1)
		} else if errors.Is(raw, memcache.ErrCacheMiss) {
			c.misses.Add(1)
		}
	case "set":
		c.sets.Add(1)
	case "delete":
		c.deletes.Add(1)
	case "repair":
		c.repairs.Add(1)
	}
}

// timedOut reports whether err is a connect or read timeout.
func timedOut(err error) bool {
	var connect *memcache.ConnectTimeoutError
	var ne net.Error
	return errors.As(err, &connect) || (errors.As(err, &ne) && ne.Timeout())
}

// bucket returns the index in counters.buckets of a duration d.
func bucket(d time.Duration) int {
	for i, bound := range latencyBounds {
		if d <= bound {
			return i
		}
	}
	return len(latencyBounds)
}

// snapshot returns the counters' values. Each is read atomically, but
// not all at once, so a snapshot taken under load may count a round trip
// in one counter and not yet in another.
func (c *counters) snapshot() NodeStats {
	return NodeStats{
		Gets: c.gets.Load(), Hits: c.hits.Load(), Misses: c.misses.Load(),
		Sets: c.sets.Load(), Deletes: c.deletes.Load(),
		Repairs: c.repairs.Load(),
		Errors:  c.errors.Load(), Timeouts: c.timeouts.Load(),
		Ejections: c.ejections.Load(), Rejoins: c.rejoins.Load(),
		Latency: c.latency(),
	}
}

// latency returns the latency histogram, with cumulative counts.
func (c *counters) latency() Histogram {
	h := Histogram{Bounds: slices.Clone(latencyBounds[:]),
		Counts: make([]uint64, len(latencyBounds)),
		Sum:    time.Duration(c.sum.Load())}
	for i := range c.buckets {
		h.Count += c.buckets[i].Load()
		if i < len(h.Counts) {
			h.Counts[i] = h.Count
		}
	}
	return h
}

// Stats returns a snapshot of the counters of every node. It does no
// network I/O.
func (c *Cluster) Stats() Stats {
	s := Stats{Nodes: make([]NodeStats, len(c.nodes))}
	for i, n := range c.nodes {
		s.Nodes[i] = n.counts.snapshot()
		s.Nodes[i].Addr = n.addr.address
		s.Nodes[i].Ejected = n.ejectedUntil.Load() != 0
	}
	return s
}

// ServerStats is what a node reports about itself in memcached's "stats",
// for all the applications that use it, not only this one. The fields are
// named after the stats they hold.
type ServerStats struct {
	// Addr is the node, as given in Config.Servers.
	Addr string

	// Err is why the node could not be read, or nil. The counts are zero
	// when it is set.
	Err error

	CurrItems       uint64 // items stored now
	Bytes           uint64 // bytes the items take
	LimitMaxbytes   uint64 // the memory limit for items (memcached -m)
	Evictions       uint64 // live items dropped to make room
	GetHits         uint64 // keys found by get commands
	GetMisses       uint64 // keys not found by get commands
	CurrConnections uint64 // open client connections
}

// ServerStats asks every node for its stats, concurrently, and returns
// the answers in the order of Config.Servers. It takes at most about
// Config.Timeout, whatever the nodes do. Ejected nodes are asked too. A
// node that does not answer counts a failure against its health, as any
// other round trip would, but not in its Stats.
func (c *Cluster) ServerStats() []ServerStats {
	out := make([]ServerStats, len(c.nodes))
	each(c.nodes, func(i int, n *node) {
		out[i] = n.serverStats()
	})
	return out
}

func (n *node) serverStats() ServerStats {
	s := ServerStats{Addr: n.addr.address}
	stats, err := n.stats("")
	if err != nil {
		s.Err = err
		return s
	}

	for name, field := range map[string]*uint64{
		"curr_items": &s.CurrItems, "bytes": &s.Bytes,
		"limit_maxbytes": &s.LimitMaxbytes, "evictions": &s.Evictions,
		"get_hits": &s.GetHits, "get_misses": &s.GetMisses,
		"curr_connections": &s.CurrConnections,
	} {
		*field, _ = strconv.ParseUint(stats[name], 10, 64)
	}
	return s
}
