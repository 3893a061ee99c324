package scsstore

import "github.com/mcsession/mcsession/internal/cluster"

// Stats is a snapshot of the counters the store keeps for each Memcached
// node: FindCtx sends gets, CommitCtx sets and DeleteCtx deletes. A token
// that FindCtx refuses without a round trip is in no counter. Package
// mcprom exports Stats and ServerStats to Prometheus.
type Stats = cluster.Stats

// NodeStats holds the counters for one node, and its latency Histogram.
type NodeStats = cluster.NodeStats

// Histogram counts round-trip times in buckets from 100µs to 1s.
type Histogram = cluster.Histogram

// ServerStats holds what a node reports in memcached's "stats" about all
// of its clients: items, bytes, memory limit, evictions, get hits and
// misses, connections.
type ServerStats = cluster.ServerStats

// Stats returns a snapshot of the store's counters. It does no network
// I/O.
func (s *Store) Stats() Stats { return s.c.Stats() }

// ServerStats asks each node for its stats, all at once, and returns
// within about Config.Timeout; Err is set for a node that did not answer.
func (s *Store) ServerStats() []ServerStats { return s.c.ServerStats() }
