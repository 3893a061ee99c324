// Package mcprom exports the statistics of an mcsession store to
// Prometheus: what the store counted about each Memcached node, and what
// each node reports about itself. Register one collector per store:
//
//	prometheus.MustRegister(mcprom.NewCollector(store))
//
// The store packages do not import this one, so an application that does
// not use Prometheus does not compile it in.
//
// # Metrics
//
// Every metric has a "node" label, the node's address as given in
// Config.Servers. The store's own counts, read from Store.Stats without
// network I/O:
//
//	mcsession_gets_total                 get commands sent
//	mcsession_hits_total                 gets that found an item
//	mcsession_misses_total               gets that found none
//	mcsession_sets_total                 set commands sent
//	mcsession_deletes_total              deletes (or tombstones) sent
//	mcsession_repairs_total              stale or missing copies rewritten
//	mcsession_errors_total               round trips that failed
//	mcsession_timeouts_total             failed round trips that timed out
//	mcsession_ejections_total            times the node left the ring
//	mcsession_rejoins_total              times it came back
//	mcsession_node_ejected               1 while it is out of the ring
//	mcsession_operation_duration_seconds round-trip latency histogram
//
// What each node reports in memcached's "stats", for every application
// that uses it, read on each scrape:
//
//	mcsession_server_up                  1 if the node answered, else 0
//	mcsession_server_items               items stored (curr_items)
//	mcsession_server_bytes               bytes they take (bytes)
//	mcsession_server_limit_bytes         memory limit (limit_maxbytes)
//	mcsession_server_evictions_total     live items dropped for room
//	mcsession_server_get_hits_total      keys found (get_hits)
//	mcsession_server_get_misses_total    keys not found (get_misses)
//	mcsession_server_connections         open connections
//
// A node that does not answer reports mcsession_server_up 0 and none of
// the other server metrics. The store's hit ratio over five minutes is
//
//	sum(rate(mcsession_hits_total[5m])) / sum(rate(mcsession_gets_total[5m]))
//
// Several stores in one registry collide on these names. Tell them apart
// with a label of their own, through prometheus.WrapRegistererWith.
package mcprom

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mcsession/mcsession/internal/cluster"
)

// Source is a store whose statistics a Collector exports. The stores of
// packages gorillastore and scsstore are Sources.
type Source interface {
	// Stats returns what the store counted about each node.
	Stats() cluster.Stats
	// ServerStats asks every node for its own stats.
	ServerStats() []cluster.ServerStats
}

// Collector is a prometheus.Collector for the metrics of one store.
type Collector struct {
	src Source
}

var _ prometheus.Collector = (*Collector)(nil)

// NewCollector returns a collector for the metrics of src. Each scrape
// asks every node for its stats, concurrently, and so takes up to the
// store's Config.Timeout when a node does not answer.
func NewCollector(src Source) *Collector {
	return &Collector{src: src}
}

// Describe sends the descriptors of every metric the collector exports.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range nodeMetrics {
		ch <- m.desc
	}
	ch <- latencyDesc
	ch <- upDesc
	for _, m := range serverMetrics {
		ch <- m.desc
	}
}

// Collect sends the store's counters and the nodes' own stats.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.src.Stats().Nodes {
		for _, m := range nodeMetrics {
			m.collect(ch, s, s.Addr)
		}
		ch <- latency(s)
	}

	for _, s := range c.src.ServerStats() {
		ch <- prometheus.MustNewConstMetric(upDesc,
			prometheus.GaugeValue, float64(boolCount(s.Err == nil)), s.Addr)
		if s.Err != nil {
			continue
		}
		for _, m := range serverMetrics {
			m.collect(ch, s, s.Addr)
		}
	}
}

// latency returns the latency histogram of one node.
func latency(s cluster.NodeStats) prometheus.Metric {
	h := s.Latency
	buckets := make(map[float64]uint64, len(h.Bounds))
	for i, bound := range h.Bounds {
		buckets[bound.Seconds()] = h.Counts[i]
	}
	return prometheus.MustNewConstHistogram(latencyDesc, h.Count,
		h.Sum.Seconds(), buckets, s.Addr)
}
