package cluster

import (
	"errors"
	"fmt"
	"net"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/mcsession/mcsession/testutil"
)

// statsOf returns the counters of the node at addr.
func statsOf(t *testing.T, c *Cluster, addr string) NodeStats {
	t.Helper()
	for _, n := range c.Stats().Nodes {
		if n.Addr == addr {
			return n
		}
	}
	t.Fatalf("no stats for %s", addr)
	return NodeStats{}
}

func TestStatsCountEachCommand(t *testing.T) {
	t.Parallel()
	server := testutil.StartServer(t)
	c := newCluster(t, []*testutil.Server{server}, nil)

	for i := range 4 {
		mustSet(t, c, fmt.Sprint("s", i), []byte("v"))
	}
	for i := range 6 { // s4 and s5 were never stored
		c.Get(ctx, fmt.Sprint("s", i))
	}
	if err := c.Delete(ctx, "s0"); err != nil {
		t.Fatal(err)
	}

	got := statsOf(t, c, server.Addr())
	want := NodeStats{Addr: server.Addr(), Gets: 6, Hits: 4, Misses: 2,
		Sets: 4, Deletes: 1}
	got.Latency = Histogram{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Stats = %+v; want %+v", got, want)
	}
	if h := statsOf(t, c, server.Addr()).Latency; h.Count != 11 ||
		h.Counts[len(h.Counts)-1] > h.Count || h.Sum <= 0 {
		t.Errorf("Latency = %+v; want 11 round trips", h)
	}

	s := c.ServerStats()[0]
	if s.Err != nil || s.GetHits != 4 || s.GetMisses != 2 ||
		s.CurrItems != 3 || s.LimitMaxbytes != 64<<20 ||
		s.CurrConnections == 0 || s.Bytes == 0 {
		t.Errorf("ServerStats = %+v; want 4 hits, 2 misses, 3 items", s)
	}
}

func TestStatsCountRepairs(t *testing.T) {
	t.Parallel()
	servers := testutil.StartCluster(t, 2)
	c := newCluster(t, servers, func(cfg *Config) { cfg.Replicas = 2 })
	mustSet(t, c, "r", []byte("v"))
	lost := servers[1]
	lost.Command(t, "delete "+c.Key("r"))

	wantValue(t, c, "r", []byte("v"))

	if got := statsOf(t, c, lost.Addr()); got.Repairs != 1 ||
		got.Misses != 1 {
		t.Errorf("node that lost its copy: %+v; want 1 miss, 1 repair", got)
	}
	if got := statsOf(t, c, servers[0].Addr()); got.Repairs != 0 ||
		got.Hits != 1 {
		t.Errorf("node that kept its copy: %+v; want 1 hit, 0 repairs", got)
	}
}

func TestStatsCountTimeoutsEjectionAndRejoin(t *testing.T) {
	t.Parallel()
	servers := testutil.StartCluster(t, 2)
	c := newCluster(t, servers, func(cfg *Config) {
		cfg.Timeout = 300 * time.Millisecond
		cfg.RetryInterval = 100 * time.Millisecond
		cfg.FailureLimit = 2
	})
	slow := servers[0]
	ids := idsOn(c, slow.Addr(), 3)
	mustSet(t, c, ids[0], []byte("v")) // reads the node's item size limit
	slow.Pause()

	// SIGSTOP reaches memcached's threads one at a time, so on a busy
	// machine a set may still get through before the node goes quiet.
	for i := 0; statsOf(t, c, slow.Addr()).Ejections == 0; i++ {
		if i == 50 {
			t.Fatal("paused node not ejected after 50 sets")
		}
		c.Set(ctx, ids[i%len(ids)], []byte("v"), time.Now().Add(time.Hour))
	}
	got := statsOf(t, c, slow.Addr())
	if got.Timeouts < 2 || got.Errors != got.Timeouts ||
		got.Ejections != 1 || !got.Ejected {
		t.Errorf("paused node: %+v; want every failure a timeout, and "+
			"1 ejection", got)
	}

	start := time.Now()
	if s := c.ServerStats(); s[0].Err == nil {
		t.Errorf("ServerStats of the paused node: %+v; want Err set", s[0])
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("ServerStats took %v with a paused node; want about "+
			"the 300ms timeout", took)
	}

	slow.Resume()
	waitLive(t, c)
	if got := statsOf(t, c, slow.Addr()); got.Rejoins != 1 || got.Ejected {
		t.Errorf("resumed node: %+v; want 1 rejoin, not ejected", got)
	}
}

// idsOn returns n session IDs whose primary is the node at addr.
func idsOn(c *Cluster, addr string, n int) []string {
	var ids []string
	for i := 0; len(ids) < n; i++ {
		id := fmt.Sprint("on-", i)
		if c.Replicas(id)[0] == addr {
			ids = append(ids, id)
		}
	}
	return ids
}

func TestObserveDoesNotAllocate(t *testing.T) {
	var c counters
	slow := &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}
	for _, err := range []error{nil, memcache.ErrCacheMiss} {
		allocs := testing.AllocsPerRun(100, func() {
			c.observe("get", err, false, time.Millisecond)
		})
		if allocs != 0 {
			t.Errorf("observe(get, %v) allocates %v times; want 0", err,
				allocs)
		}
	}
	c.observe("set", slow, true, 2*time.Second)
	got := c.snapshot()
	h := got.Latency
	if got.Timeouts != 1 || got.Errors != 1 ||
		h.Count-h.Counts[len(h.Counts)-1] != 1 {
		t.Errorf("after a 2s timeout: %+v; want it counted, over 1s", got)
	}
}

func TestTimedOut(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{&memcache.ConnectTimeoutError{}, true},
		{&net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}, true},
		{fmt.Errorf("tls: %w", os.ErrDeadlineExceeded), true},
		{&net.OpError{Op: "dial", Err: errors.New("refused")}, false},
		{errors.New("SERVER_ERROR out of memory"), false},
	} {
		if got := timedOut(tt.err); got != tt.want {
			t.Errorf("timedOut(%v) = %v; want %v", tt.err, got, tt.want)
		}
	}
}

func TestBucketEdges(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want int
	}{
		{0, 0},
		{100 * time.Microsecond, 0},
		{100*time.Microsecond + 1, 1},
		{time.Second, len(latencyBounds) - 1},
		{time.Second + 1, len(latencyBounds)},
		{time.Hour, len(latencyBounds)},
	} {
		if got := bucket(tt.d); got != tt.want {
			t.Errorf("bucket(%v) = %d; want %d", tt.d, got, tt.want)
		}
	}
}
