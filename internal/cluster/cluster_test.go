package cluster

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcsession/mcsession/internal/envelope"
	"github.com/mcsession/mcsession/testutil"
)

var ctx = context.Background()

// newCluster returns a cluster over servers with a prefix of its own, so
// tests can share servers without flushing them.
func newCluster(t *testing.T, servers []*testutil.Server,
	tweak func(*Config)) *Cluster {
	t.Helper()
	cfg := Config{Servers: testutil.Addrs(servers), Prefix: randomID(4) + ":"}
	if tweak != nil {
		tweak(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func randomID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func mustSet(t *testing.T, c *Cluster, id string, v []byte) {
	t.Helper()
	if err := c.Set(ctx, id, v, time.Now().Add(time.Hour)); err != nil {
		t.Fatalf("Set(%q): %v", id, err)
	}
}

func wantValue(t *testing.T, c *Cluster, id string, want []byte) {
	t.Helper()
	got, found, err := c.Get(ctx, id)
	if err != nil || !found || !bytes.Equal(got, want) {
		t.Fatalf("Get(%q) = %.40q, %v, %v; want %.40q, true, nil",
			id, got, found, err, want)
	}
}

func wantMissing(t *testing.T, c *Cluster, id string) {
	t.Helper()
	got, found, err := c.Get(ctx, id)
	if err != nil || found {
		t.Fatalf("Get(%q) = %.40q, %v, %v; want not found", id, got,
			found, err)
	}
}

func TestConfigDefaultsAndErrors(t *testing.T) {
	t.Parallel()
	c, err := New(Config{Servers: []string{"a:1", "b:2"},
		Weights: map[string]int{"b:2": 3}})
	if err != nil {
		t.Fatal(err)
	}
	got := c.Config()
	if got.Replicas != 1 || got.Prefix != DefaultPrefix ||
		got.Timeout != DefaultTimeout || got.FailureLimit != 3 ||
		got.MaxIdleConns != DefaultMaxIdleConns || got.Logger == nil {
		t.Errorf("defaults not applied: %+v", got)
	}

	bad := []Config{
		{},
		{Servers: []string{"a:1", "a:1"}},
		{Servers: []string{"a:1"}, Replicas: 2},
		{Servers: []string{"a:1"}, Replicas: -1},
		{Servers: []string{"a:1"}, Prefix: "has space"},
		{Servers: []string{"a:1"}, Prefix: strings.Repeat("p", 300)},
		{Servers: []string{"a:1"}, Timeout: -time.Second},
		{Servers: []string{"a:1"}, Weights: map[string]int{"a:1": 0}},
		{Servers: []string{"a:1"}, Weights: map[string]int{"b:1": 2}},
	}
	for _, cfg := range bad {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded; want an error", cfg)
		}
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   error
		want error
	}{
		{nil, nil},
		{errors.New(`memcache: unexpected response line from "set": ` +
			`"SERVER_ERROR object too large for cache\r\n"`), ErrTooLarge},
		{errors.New(`memcache: unexpected response line from "set": ` +
			`"SERVER_ERROR out of memory storing object\r\n"`), ErrServer},
		{errors.New("dial tcp 127.0.0.1:1: connect: connection refused"),
			ErrUnavailable},
	}
	for _, tt := range tests {
		got := classify("n:1", "set", tt.in)
		if !errors.Is(got, tt.want) || (tt.want == nil && got != nil) {
			t.Errorf("classify(%v) = %v; want %v", tt.in, got, tt.want)
		}
		var ne *NodeError
		if tt.want != nil &&
			(!errors.As(got, &ne) || ne.Addr != "n:1") {
			t.Errorf("classify(%v) = %v; want a *NodeError for n:1",
				tt.in, got)
		}
	}
}

func TestLongExpiriesAreStored(t *testing.T) {
	t.Parallel()
	c := newCluster(t, testutil.StartCluster(t, 1), nil)
	for _, ttl := range []time.Duration{
		2_592_000 * time.Second, 2_592_001 * time.Second,
		365 * 24 * time.Hour, 100 * 365 * 24 * time.Hour,
	} {
		id := "ttl-" + ttl.String()
		if err := c.Set(ctx, id, []byte("v"), time.Now().Add(ttl)); err != nil {
			t.Fatalf("Set with TTL %v: %v", ttl, err)
		}
		wantValue(t, c, id, []byte("v"))
	}
}

func TestShortExpiryStoresNothing(t *testing.T) {
	t.Parallel()
	c := newCluster(t, testutil.StartCluster(t, 1), nil)
	for _, ttl := range []time.Duration{-time.Hour, 0, 300 * time.Millisecond} {
		mustSet(t, c, "s", []byte("old"))
		if err := c.Set(ctx, "s", []byte("v"), time.Now().Add(ttl)); err != nil {
			t.Fatalf("Set with TTL %v: %v", ttl, err)
		}
		wantMissing(t, c, "s")
	}
}

// TestKeyIsPrefixAndHashedID pins the key of stored sessions, and that
// building it allocates only the key. It is not parallel, for
// AllocsPerRun.
func TestKeyIsPrefixAndHashedID(t *testing.T) {
	c, err := New(Config{Servers: []string{"a:1"}, Prefix: "p:"})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 43, shortID, shortID + 1, 300} {
		id := strings.Repeat("i", n)
		sum := sha256.Sum256([]byte(id))
		want := "p:" + base64.RawURLEncoding.EncodeToString(sum[:])
		if got := c.Key(id); got != want {
			t.Errorf("Key(%d bytes) = %q; want %q", n, got, want)
		}
		a := testing.AllocsPerRun(10, func() { c.Key(id) })
		if n <= shortID && a != 1 {
			t.Errorf("Key(%d bytes): %v allocations; want 1", n, a)
		}
	}
}

func TestHostileIDsGiveLegalKeys(t *testing.T) {
	t.Parallel()
	servers := testutil.StartCluster(t, 2)
	c := newCluster(t, servers, nil)
	ids := []string{
		strings.Repeat("x", 300), "with space", "new\nline", "nul\x00byte",
		"\xff\xfe not utf-8", "", "\r\nset evil 0 0 1\r\n",
	}
	for _, id := range ids {
		v := []byte("value of " + id)
		mustSet(t, c, id, v)
		wantValue(t, c, id, v)
	}

	// The keys may all land on one node, so count them over both.
	keys := 0
	for _, s := range servers {
		dump, err := url.PathUnescape(s.Command(t, "lru_crawler metadump all"))
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids[:5] {
			if id != "" && strings.Contains(dump, id) {
				t.Errorf("%s: metadump shows session ID %q", s.Addr(), id)
			}
		}
		keys += strings.Count(dump, "key="+c.Config().Prefix)
	}
	if keys != len(ids) {
		t.Errorf("metadump lists %d of our keys; want %d", keys, len(ids))
	}
}

func TestTooLargeLeavesStoredValue(t *testing.T) {
	t.Parallel()
	c := newCluster(t, testutil.StartCluster(t, 1), nil)
	mustSet(t, c, "big", []byte("small and intact"))

	err := c.Set(ctx, "big", make([]byte, 2<<20), time.Now().Add(time.Hour))
	var ne *NodeError
	if !errors.Is(err, ErrTooLarge) || !errors.As(err, &ne) || ne.Addr == "" {
		t.Fatalf("Set(2 MiB) = %v; want ErrTooLarge naming the node", err)
	}
	wantValue(t, c, "big", []byte("small and intact"))
}

func TestLargerItemLimitIsUsed(t *testing.T) {
	t.Parallel()
	s := testutil.StartServer(t, testutil.Options{Args: []string{"-I", "2m"}})
	c := newCluster(t, []*testutil.Server{s}, nil)
	v := bytes.Repeat([]byte("0123456789abcdef"), 3<<15) // 1.5 MiB
	mustSet(t, c, "large", v)
	wantValue(t, c, "large", v)
}

// syncBuffer collects log output from concurrent goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestKilledNodeIsEjectedAndRejoins(t *testing.T) {
	t.Parallel()
	servers := testutil.StartCluster(t, 3)
	var logs syncBuffer
	c := newCluster(t, servers, func(cfg *Config) {
		cfg.RetryInterval = 200 * time.Millisecond
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	dead := servers[0]

	// Sessions on each node, by primary.
	byNode := map[string][]string{}
	for i := 0; len(byNode) < 3 || len(byNode[dead.Addr()]) < 5; i++ {
		id := fmt.Sprint("session-", i)
		p := c.Replicas(id)[0]
		byNode[p] = append(byNode[p], id)
		mustSet(t, c, id, []byte(id))
	}
	dead.Kill()

	for addr, ids := range byNode {
		if addr == dead.Addr() {
			continue
		}
		for _, id := range ids {
			wantValue(t, c, id, []byte(id))
		}
	}

	// Sessions of the dead node fail until it is ejected, then move.
	failures := 0
	for _, id := range byNode[dead.Addr()] {
		if err := c.Set(ctx, id, []byte("moved"), time.Now().Add(time.Hour)); err != nil {
			if !errors.Is(err, ErrUnavailable) {
				t.Fatalf("Set on dead node: %v; want ErrUnavailable", err)
			}
			failures++
		}
	}
	if failures != DefaultFailureLimit {
		t.Errorf("%d failed writes before ejection; want %d", failures,
			DefaultFailureLimit)
	}
	id := byNode[dead.Addr()][len(byNode[dead.Addr()])-1]
	if got := c.Replicas(id)[0]; got == dead.Addr() {
		t.Fatalf("dead node %s still primary after ejection", got)
	}
	wantValue(t, c, id, []byte("moved"))
	if !strings.Contains(logs.String(), "node ejected") ||
		!strings.Contains(logs.String(), dead.Addr()) {
		t.Errorf("no ejection logged:\n%s", logs.String())
	}

	dead.Restart()
	deadline := time.Now().Add(5 * time.Second)
	for c.Replicas(id)[0] != dead.Addr() {
		if time.Now().After(deadline) {
			t.Fatalf("restarted node not used again; log:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	mustSet(t, c, id, []byte("home again"))
	wantValue(t, c, id, []byte("home again"))
	if !strings.Contains(logs.String(), "node rejoined") {
		t.Errorf("no rejoin logged:\n%s", logs.String())
	}
}

func TestConcurrentMixedLoad(t *testing.T) {
	// Not parallel: it measures load and latency, so it runs alone.
	c := newCluster(t, testutil.StartCluster(t, 3), nil)
	const workers, ops = 200, 1000
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < ops/2; i++ { // a set and a get each
				id := fmt.Sprintf("w%d-s%d", w, i%10)
				want := []byte(fmt.Sprint(i))
				if err := c.Set(ctx, id, want, time.Now().Add(time.Minute)); err != nil {
					errs <- err
					return
				}
				got, found, err := c.Get(ctx, id)
				if err != nil || !found || !bytes.Equal(got, want) {
					errs <- fmt.Errorf("Get(%s) = %q, %v, %v; want %q",
						id, got, found, err, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestReplicatedReadRepairsAndTombstones(t *testing.T) {
	t.Parallel()
	servers := testutil.StartCluster(t, 3)
	c := newCluster(t, servers, func(cfg *Config) { cfg.Replicas = 2 })
	mustSet(t, c, "r", []byte("v1"))
	reps := c.Replicas("r")
	if len(reps) != 2 || reps[0] == reps[1] {
		t.Fatalf("Replicas = %v; want two distinct nodes", reps)
	}

	// Lose the primary's copy behind the cluster's back.
	primary := serverAt(t, servers, reps[0])
	if got := primary.Command(t, "delete "+c.Key("r")); !strings.HasPrefix(got, "DELETED") {
		t.Fatalf("delete on primary: %q", got)
	}
	wantValue(t, c, "r", []byte("v1"))
	if got := primary.Command(t, "get "+c.Key("r")); !strings.HasPrefix(got, "VALUE") {
		t.Errorf("primary not repaired: %q", got)
	}

	if err := c.Delete(ctx, "r"); err != nil {
		t.Fatal(err)
	}
	wantMissing(t, c, "r")
	if err := c.Delete(ctx, "never-stored"); err != nil {
		t.Errorf("Delete of a missing session: %v", err)
	}
}

func serverAt(t *testing.T, servers []*testutil.Server, addr string) *testutil.Server {
	t.Helper()
	for _, s := range servers {
		if s.Addr() == addr {
			return s
		}
	}
	t.Fatalf("no server at %s", addr)
	return nil
}

func TestGarbageIsCorrupt(t *testing.T) {
	t.Parallel()
	s := testutil.StartServer(t)
	c := newCluster(t, []*testutil.Server{s}, nil)
	s.Command(t, "set "+c.Key("g")+" 0 0 7\r\ngarbage")
	_, found, err := c.Get(ctx, "g")
	var ne *NodeError
	if found || !errors.Is(err, ErrCorrupt) || !errors.As(err, &ne) ||
		ne.Addr != s.Addr() {
		t.Errorf("Get of garbage = %v, %v; want ErrCorrupt naming %s",
			found, err, s.Addr())
	}
}

func TestDeleteWithR1WhenHomeIsDownFails(t *testing.T) {
	t.Parallel()
	servers := testutil.StartCluster(t, 2)
	c := newCluster(t, servers, func(cfg *Config) { cfg.FailureLimit = 1 })
	mustSet(t, c, "d", []byte("v"))
	home := serverAt(t, servers, c.Replicas("d")[0])
	home.Kill()

	for i := 0; i < 3; i++ { // before and after the ejection
		if err := c.Delete(ctx, "d"); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Delete #%d with home down = %v; want ErrUnavailable",
				i+1, err)
		}
	}
}

// A server named by host name is dialled by that name: the node keeps
// "localhost:PORT", not an address resolved once at start.
func TestServerNamedByHost(t *testing.T) {
	t.Parallel()
	s := testutil.StartServer(t)
	_, port, _ := strings.Cut(s.Addr(), ":")
	c, err := New(Config{Servers: []string{"localhost:" + port},
		Prefix: randomID(4) + ":"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if got := c.nodes[0].addr.String(); got != "localhost:"+port {
		t.Errorf("node dials %q; want the name localhost:%s", got, port)
	}
	mustSet(t, c, "named", []byte("v"))
	wantValue(t, c, "named", []byte("v"))
}

// An item whose envelope says the session has ended is a miss, even
// though Memcached still holds it: a writer to Memcached cannot bring
// back an old copy of a session past its expiry.
func TestReplayedExpiredCopyIsAMiss(t *testing.T) {
	t.Parallel()
	s := testutil.StartServer(t)
	c := newCluster(t, []*testutil.Server{s}, nil)
	key := c.Key("replayed")
	old := envelope.Envelope{Kind: envelope.Live, Version: 1,
		ExpiresAt: time.Now().Add(-time.Hour), Payload: []byte("old")}
	b := c.encode(key, old)
	s.Command(t, fmt.Sprintf("set %s 0 3600 %d\r\n%s", key, len(b), b))

	wantMissing(t, c, "replayed")
}
