package container_test

import (
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/mcsession/mcsession/testutil/container"
)

// client returns a memcache client for one server. Its timeout is long,
// for a loaded machine, except where a test wants one.
func client(t *testing.T, addr string) *memcache.Client {
	t.Helper()

	c := memcache.New(addr)
	c.Timeout = 5 * time.Second
	t.Cleanup(func() { c.Close() })
	return c
}

func set(t *testing.T, c *memcache.Client, key, value string) {
	t.Helper()

	if err := c.Set(&memcache.Item{Key: key, Value: []byte(value)}); err != nil {
		t.Fatalf("Set(%q) = %v; want nil", key, err)
	}
}

func TestStartAnswers(t *testing.T) {
	t.Parallel()
	m := container.Start(t)

	if !strings.HasPrefix(m.Addr(), "127.0.0.1:") {
		t.Errorf("Addr() = %q; want 127.0.0.1:PORT", m.Addr())
	}
	if !m.Running() {
		t.Error("Running() = false right after Start; want true")
	}
	c := client(t, m.Addr())
	set(t, c, "k", "v")
	if it, err := c.Get("k"); err != nil || string(it.Value) != "v" {
		t.Errorf("Get(k) = %v, %v; want v", it, err)
	}
}

func TestStartClusterServersAreDistinct(t *testing.T) {
	t.Parallel()
	servers := container.StartCluster(t, 3)

	addrs := container.Addrs(servers)
	seen := map[string]bool{}
	for i, m := range servers {
		if addrs[i] != m.Addr() {
			t.Errorf("Addrs()[%d] = %q; want %q", i, addrs[i], m.Addr())
		}
		if seen[m.Addr()] {
			t.Errorf("address %s given twice", m.Addr())
		}
		seen[m.Addr()] = true
	}

	set(t, client(t, addrs[0]), "only-on-0", "x")
	_, err := client(t, addrs[1]).Get("only-on-0")
	if !errors.Is(err, memcache.ErrCacheMiss) {
		t.Errorf("Get on another server = %v; want a miss", err)
	}
}

// The default item size limit is 1 MiB; Args raise it.
func TestArgsReachMemcached(t *testing.T) {
	t.Parallel()
	m := container.Start(t, container.Options{Args: []string{"-I", "2m"}})

	big := strings.Repeat("x", 1536<<10)
	set(t, client(t, m.Addr()), "big", big)
}

func TestKillRefusesConnectionsAndRestartKeepsTheAddress(t *testing.T) {
	t.Parallel()
	m := container.Start(t)
	addr := m.Addr()
	set(t, client(t, addr), "k", "before")

	m.Kill()
	if m.Running() {
		t.Error("Running() = true after Kill; want false")
	}
	_, err := net.DialTimeout("tcp", addr, time.Second)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial after Kill = %v; want connection refused", err)
	}
	m.Kill() // killing a dead server does nothing

	m.Restart()
	if m.Addr() != addr {
		t.Errorf("Addr() after Restart = %q; want %q", m.Addr(), addr)
	}
	if !m.Running() {
		t.Error("Running() = false after Restart; want true")
	}
	c := client(t, addr)
	if _, err := c.Get("k"); !errors.Is(err, memcache.ErrCacheMiss) {
		t.Errorf("Get(k) after Restart = %v; want a miss (starts empty)",
			err)
	}
	set(t, c, "k", "after")
}

func TestStopThenRestart(t *testing.T) {
	t.Parallel()
	m := container.Start(t)
	addr := m.Addr()

	m.Stop()
	if m.Running() {
		t.Error("Running() = true after Stop; want false")
	}
	if _, err := client(t, addr).Get("k"); err == nil {
		t.Error("Get after Stop = nil error; want a failure")
	}

	m.Restart()
	set(t, client(t, m.Addr()), "k", "v")
}

func TestPauseTimesOutAndResumeAnswers(t *testing.T) {
	t.Parallel()
	m := container.Start(t)
	c := client(t, m.Addr())
	set(t, c, "k", "v")
	c.Timeout = 300 * time.Millisecond

	m.Pause()
	if !m.Running() {
		t.Error("Running() = false while paused; want true")
	}
	start := time.Now()
	_, err := c.Get("k")
	var timeout *memcache.ConnectTimeoutError
	if err == nil {
		t.Fatal("Get while paused = nil error; want a timeout")
	}
	if ne, ok := err.(net.Error); !(ok && ne.Timeout()) &&
		!errors.As(err, &timeout) {
		t.Errorf("Get while paused = %v; want a timeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Get while paused took %v; want about the 300ms timeout",
			d)
	}

	m.Resume()
	c.Timeout = 5 * time.Second
	if it, err := c.Get("k"); err != nil || string(it.Value) != "v" {
		t.Errorf("Get(k) after Resume = %v, %v; want v", it, err)
	}
}

// A paused server can be killed, and a restart brings it back.
func TestRestartOfPausedServer(t *testing.T) {
	t.Parallel()
	m := container.Start(t)

	m.Pause()
	m.Restart()
	set(t, client(t, m.Addr()), "k", "v")
}

// Methods called after the test has ended, say by a straggling goroutine,
// do nothing: no panic, no container started that nobody removes.
func TestMethodsAfterTheTestEndedDoNothing(t *testing.T) {
	t.Parallel()
	var m *container.Memcached
	t.Run("owner", func(t *testing.T) { m = container.Start(t) })
	if m == nil {
		t.Skip("the subtest did not start a server")
	}

	m.Restart()
	m.Kill()
	m.Pause()
	if m.Running() {
		t.Error("Running() = true after the owning test ended; want false")
	}
	if _, err := net.DialTimeout("tcp", m.Addr(), time.Second); err == nil {
		t.Errorf("dial %s after the owning test ended succeeded; want the "+
			"container gone", m.Addr())
	}
}
