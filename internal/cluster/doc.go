// Package cluster is the sharding layer under both session stores: it
// places each session on Memcached nodes with a consistent-hash ring,
// writes it to Config.Replicas of them, watches the nodes' health and
// moves sessions off nodes that stop answering.
//
// Each node has a gomemcache client of its own, dialled by name, whose
// connections send every command in one write (see batchConn).
//
// # Failure
//
// A node that fails Config.FailureLimit round trips in a row (refused or
// timed out) is ejected: its sessions go to the next nodes on the ring
// and no request waits on it. After Config.RetryInterval one background
// check asks it for its version; when it answers, it rejoins.
//
// # Replication
//
// Every item is an envelope (package envelope) carrying a version, taken
// from the writer's clock in nanoseconds, and the session's expiry. A
// write goes to the first Replicas live nodes after the key on the ring,
// concurrently. A read asks the same nodes, keeps the newest copy and
// repairs the others: a missing copy with add, an older one with a
// compare-and-swap, so a repair never overwrites a newer write.
//
// A delete with Replicas > 1 writes a tombstone, a versioned "deleted"
// marker, instead of removing the items. A replica that missed the delete
// (it was down or paused) still holds the live session when it returns,
// but every read also sees a tombstone with a newer version and the
// session stays deleted; the read then repairs the stale replica. A
// delete succeeds only when one of the session's home nodes (its first
// Replicas nodes on the full ring) took it, because a home node is where
// reads go once every node is back.
//
// # Coming back
//
// A node that returns from an ejection still holds the copies it had
// before, and for sessions that changed meanwhile they are stale. Reads
// that ask several replicas see the newer copy and win over it, but with
// Replicas 1, or after a second node failed, the returning node may be
// the only one asked. So every write made while a home node is out
// leaves a hint (the key and its version) for that node, and the node
// rejoins the ring only after it has caught up on them: each hinted key
// gets the newest copy from the nodes that stood in, or is deleted there
// when nothing newer is left. Tombstones and versions make the catch-up
// safe to run beside live traffic and on every app server at once. We
// chose hints over emptying the node (flush_all) on return because app
// servers see the node come back at different times, and a late flush
// would erase writes that another server had already made to it. Hints
// are kept per node up to a bound; past it, the node is emptied when it
// rejoins instead.
//
// Each app server keeps its own view of the nodes' health and its own
// hints. Until one has noticed that a node is back, it keeps writing to
// the stand-ins and catches the node up when it does notice.
//
// # Degraded mode
//
// With Config.LocalFallback set, a write that no replica could take is
// held in an in-process LRU and served from there, on this app server
// only, until a node rejoins; then it is written back.
//
// # Known limits
//
// Versions come from the app servers' clocks. Keep them synchronized
// (NTP): replicas disagree only after a failed write, and then a clock
// that is behind by more than the time between two writes of one session
// can make the older write win. gomemcache cannot cancel a round trip
// already on the wire, so a context ends an operation only between round
// trips; Config.Timeout bounds each one. A write that timed out on a hung
// node may still be applied when the node resumes; with Replicas > 1 its
// version loses to the newer copies, but with Replicas 1 it can leave
// that node's copy older than the last write that succeeded.
package cluster
