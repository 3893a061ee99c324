package gorillastore

import "github.com/mcsession/mcsession/internal/cluster"

// Statistics for operators, per Memcached node. Package mcprom exports
// them to Prometheus.
type (
	// Stats is a snapshot of what the store counted about each node. A
	// load by New is a get (a hit when the session was there), a Save is
	// a set, and a Save with MaxAge < 0 or a RenewID is a delete.
	Stats = cluster.Stats

	// NodeStats is what the store counted about one node: commands,
	// hits, misses, repairs, errors, timeouts, ejections, rejoins, and a
	// histogram of round-trip times.
	NodeStats = cluster.NodeStats

	// Histogram counts round-trip times in fixed buckets.
	Histogram = cluster.Histogram

	// ServerStats is what a node says about itself in memcached's
	// "stats": items, memory, evictions, hits and connections, for every
	// application it serves, not only this store.
	ServerStats = cluster.ServerStats
)

// Stats returns the counters the store keeps for each node, since it was
// made. It does no network I/O, so a metrics scrape may call it freely.
func (s *Store) Stats() Stats { return s.cluster.Stats() }

// ServerStats reads every node's own stats, concurrently, in about
// Config.Timeout at most. A node that did not answer has Err set.
func (s *Store) ServerStats() []ServerStats {
	return s.cluster.ServerStats()
}
