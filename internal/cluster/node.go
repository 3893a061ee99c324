package cluster

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
)

// defaultItemSizeMax is memcached's default -I, assumed for a node that
// does not report its own.
const defaultItemSizeMax = 1 << 20

// itemOverhead is what memcached adds to a value before comparing it with
// its item size limit (item header, CAS, flags, line ending), rounded up.
const itemOverhead = 128

// addr is a node's address, kept as text so that the host name is
// resolved again on every dial.
type addr struct{ network, address string }

// Network and String make addr a net.Addr.
func (a addr) Network() string { return a.network }

// String returns the address as given in Config.Servers.
func (a addr) String() string { return a.address }

func parseAddr(server string) addr {
	if strings.Contains(server, "/") {
		return addr{"unix", server}
	}
	return addr{"tcp", server}
}

// node is one Memcached server: its client, its health and its limits.
type node struct {
	addr   *addr // a pointer, so that handing it to gomemcache allocates nothing
	client *memcache.Client
	cfg    *Config

	failures atomic.Int32
	// ejectedUntil is 0 while the node is in the ring, rejoining while
	// it is back but still catching up on hints, else the Unix time in
	// nanoseconds of its next retry.
	ejectedUntil atomic.Int64
	probing      atomic.Bool
	itemSizeMax  atomic.Int64 // 0 until read from the node
	hints        hints        // writes it missed while out of the ring
	counts       counters     // what it did, for Stats
	rejoin       func(*node)  // brings it back once it answers again
}

// rejoining marks a node that answers again but is still out of the ring
// while the writes it missed are handed to it.
const rejoining = -1

func newNode(server string, cfg *Config) *node {
	a := parseAddr(server)
	n := &node{addr: &a, cfg: cfg}
	n.client = memcache.NewFromSelector(n)
	n.client.Timeout = cfg.Timeout
	n.client.MaxIdleConns = cfg.MaxIdleConns
	n.client.DialContext = n.dial
	return n
}

// PickServer and Each make the node its own gomemcache server selector,
// so that the client dials the node's name rather than an address
// resolved once.
func (n *node) PickServer(string) (net.Addr, error) { return n.addr, nil }

// Each calls f with the node's one address.
func (n *node) Each(f func(net.Addr) error) error { return f(n.addr) }

// live reports whether n may be used now. An ejected node whose retry
// time has come is checked once in the background and stays out until
// that check succeeds, so no request waits on a node that is down.
func (n *node) live() bool {
	until := n.ejectedUntil.Load()
	if until == 0 {
		return true
	}
	if until > 0 && time.Now().UnixNano() >= until &&
		n.probing.CompareAndSwap(false, true) {
		go n.probe()
	}
	return false
}

func (n *node) probe() {
	defer n.probing.Store(false)

	if err := n.client.Ping(); err != nil {
		n.eject()
		n.log("mcsession: node still down", slog.Any("err", err))
		return
	}
	n.failures.Store(0)
	n.itemSizeMax.Store(0)
	n.ejectedUntil.Store(rejoining)
	n.rejoin(n)
}

// eject takes n out of the ring until its next retry, and closes its
// idle connections: they lead to a process that died or hangs, and a
// probe that picked one up would fail long after the node is back.
func (n *node) eject() {
	n.ejectedUntil.Store(time.Now().Add(n.cfg.RetryInterval).UnixNano())
	n.client.Close()
}

// record updates n's health with the outcome of one operation and
// returns err.
func (n *node) record(err error) error {
	if !nodeDown(err) {
		if n.failures.Load() != 0 {
			n.failures.Store(0)
		}
		return err
	}
	if n.failures.Add(1) == int32(n.cfg.FailureLimit) {
		n.eject()
		n.counts.ejections.Add(1)
		n.log("mcsession: node ejected",
			slog.Int("failures", n.cfg.FailureLimit), slog.Any("err", err))
	}
	return err
}

func (n *node) log(msg string, attrs ...slog.Attr) {
	attrs = append(attrs, slog.String("node", n.addr.address))
	n.cfg.Logger.LogAttrs(context.Background(), slog.LevelWarn, msg, attrs...)
}

// maxValue returns the largest value n stores under a key of keyLen
// bytes, reading the node's item size limit on first use.
func (n *node) maxValue(keyLen int) (int, error) {
	limit := n.itemSizeMax.Load()
	if limit == 0 {
		settings, err := n.stats("settings")
		if err != nil {
			return 0, err
		}
		limit, err = strconv.ParseInt(settings["item_size_max"], 10, 64)
		if err != nil || limit <= 0 {
			limit = defaultItemSizeMax
		}
		n.itemSizeMax.Store(limit)
	}
	return int(limit) - keyLen - itemOverhead, nil
}

// stats returns the node's "stats <group>" (all of "stats" for an empty
// group) as a map. It uses a connection of its own, which is closed after,
// and takes at most Config.Timeout in all. A failure does not count
// against the node's health: the write that needed the stats, or the
// next request, counts it, and a metrics scrape should not eject a node.
func (n *node) stats(group string) (map[string]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), n.cfg.Timeout)
	defer cancel()
	conn, err := n.dial(ctx, n.addr.network, n.addr.address)
	if err != nil {
		return nil, classify(n.addr.address, "stats", err)
	}
	defer conn.Close()

	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	stats, err := readStats(conn, group)
	return stats, classify(n.addr.address, "stats", err)
}

func readStats(conn net.Conn, group string) (map[string]string, error) {
	cmd := strings.TrimSpace("stats " + group)
	if _, err := fmt.Fprintf(conn, "%s\r\n", cmd); err != nil {
		return nil, err
	}
	stats := make(map[string]string)
	sc := bufio.NewScanner(conn)
	for sc.Scan() {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if line == "END" {
			return stats, nil
		}
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != "STAT" {
			// Servers that lack this group answer ERROR; their
			// defaults apply.
			return stats, nil
		}
		stats[f[1]] = f[2]
	}
	if sc.Err() != nil {
		return nil, sc.Err()
	}
	return nil, fmt.Errorf("connection closed during %q", cmd)
}
