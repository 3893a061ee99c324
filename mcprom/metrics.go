package mcprom

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mcsession/mcsession/internal/cluster"
)

type (
	nodeStats   = cluster.NodeStats
	serverStats = cluster.ServerStats
)

// nodeMetrics are the store's counts about each node.
var nodeMetrics = []metric[nodeStats]{
	counter("gets_total", "Get commands the store sent to the node.",
		func(s nodeStats) uint64 { return s.Gets }),
	counter("hits_total", "Gets that found an item.",
		func(s nodeStats) uint64 { return s.Hits }),
	counter("misses_total", "Gets that found no item.",
		func(s nodeStats) uint64 { return s.Misses }),
	counter("sets_total", "Set commands the store sent to the node.",
		func(s nodeStats) uint64 { return s.Sets }),
	counter("deletes_total", "Deletes (or tombstones) sent to the node.",
		func(s nodeStats) uint64 { return s.Deletes }),
	counter("repairs_total", "Missing or older copies of a session "+
		"that the store rewrote on the node.",
		func(s nodeStats) uint64 { return s.Repairs }),
	counter("errors_total", "Round trips to the node that failed.",
		func(s nodeStats) uint64 { return s.Errors }),
	counter("timeouts_total", "Round trips to the node that failed "+
		"because they ran out of time.",
		func(s nodeStats) uint64 { return s.Timeouts }),
	counter("ejections_total", "Times the node was taken out of the "+
		"ring after failures in a row.",
		func(s nodeStats) uint64 { return s.Ejections }),
	counter("rejoins_total", "Times the node was put back in the ring.",
		func(s nodeStats) uint64 { return s.Rejoins }),
	gauge("node_ejected", "1 while the node is out of the ring, else 0.",
		func(s nodeStats) uint64 { return boolCount(s.Ejected) }),
}

var latencyDesc = newDesc("operation_duration_seconds",
	"Time each round trip to the node took, failed ones included.")

var upDesc = newDesc("server_up",
	"1 if the node answered the stats command in time, else 0.")

// serverMetrics are what each node reports in its stats.
var serverMetrics = []metric[serverStats]{
	gauge("server_items", "Items stored on the node (curr_items).",
		func(s serverStats) uint64 { return s.CurrItems }),
	gauge("server_bytes", "Bytes the node's items take (bytes).",
		func(s serverStats) uint64 { return s.Bytes }),
	gauge("server_limit_bytes", "The node's memory limit for items "+
		"(limit_maxbytes).",
		func(s serverStats) uint64 { return s.LimitMaxbytes }),
	counter("server_evictions_total", "Live items the node dropped to "+
		"make room (evictions).",
		func(s serverStats) uint64 { return s.Evictions }),
	counter("server_get_hits_total", "Keys the node found for get "+
		"commands of every client (get_hits).",
		func(s serverStats) uint64 { return s.GetHits }),
	counter("server_get_misses_total", "Keys the node did not find for "+
		"get commands of every client (get_misses).",
		func(s serverStats) uint64 { return s.GetMisses }),
	gauge("server_connections", "Open client connections to the node "+
		"(curr_connections).",
		func(s serverStats) uint64 { return s.CurrConnections }),
}

// metric is one metric whose value for a node is read from a T.
type metric[T any] struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(T) uint64
}

func counter[T any](name, help string, value func(T) uint64) metric[T] {
	return metric[T]{newDesc(name, help), prometheus.CounterValue, value}
}

func gauge[T any](name, help string, value func(T) uint64) metric[T] {
	return metric[T]{newDesc(name, help), prometheus.GaugeValue, value}
}

// collect sends m's value for the node whose stats are s.
func (m metric[T]) collect(ch chan<- prometheus.Metric, s T, node string) {
	ch <- prometheus.MustNewConstMetric(m.desc, m.kind,
		float64(m.value(s)), node)
}

// newDesc describes the metric mcsession_<name>, labelled by node.
func newDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc("mcsession_"+name, help, []string{"node"}, nil)
}

func boolCount(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}
