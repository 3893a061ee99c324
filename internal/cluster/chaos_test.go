package cluster

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcsession/mcsession/testutil"
)

// chaosSession is what the test knows a session should hold. Only its
// own goroutine touches it.
type chaosSession struct {
	id      string
	value   int  // the last value written
	deleted bool // the last write was a delete
	unsure  bool // the last write failed: it may or may not have landed
	prev    int  // the value before the last write
	prevDel bool // whether the session was deleted before the last write
}

// chaosCounts are the outcomes the test reports.
type chaosCounts struct {
	reads, writes, deletes      atomic.Int64
	lost, stale, resurrected    atomic.Int64
	errors, errorsOutsideWindow atomic.Int64
}

// faults records when the last fault began, for the detection window.
type faults struct {
	mu   sync.Mutex
	last time.Time
}

func (f *faults) mark() {
	f.mu.Lock()
	f.last = time.Now()
	f.mu.Unlock()
}

func (f *faults) within(d time.Duration) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return time.Since(f.last) < d
}

// TestChaos runs 50 goroutines over 500 sessions with Replicas 2 while one
// node at a time is killed, paused or restarted, and checks that no
// session is lost, stale or brought back after a delete.
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("a minute of chaos; not in -short")
	}
	// Not parallel: it measures load and latency, so it runs alone.
	servers := testutil.StartCluster(t, 3)
	var logs syncBuffer
	start := time.Now()
	c := newCluster(t, servers, func(cfg *Config) {
		fastFailover(2)(cfg)
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	// An error is allowed while a fault is being detected: up to
	// FailureLimit timeouts, then the retry interval.
	window := time.Duration(c.cfg.FailureLimit)*c.cfg.Timeout + 2*time.Second

	var counts chaosCounts
	var fl faults
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			chaosWorker(t, c, w, &stop, &counts, &fl, window)
		}()
	}

	events := chaosFaults(t, servers, &fl, 60*time.Second, start)
	stop.Store(true)
	wg.Wait()

	t.Logf("chaos: %d faults (%s); %d reads, %d writes, %d deletes; "+
		"lost %d, stale %d, resurrected %d; %d errors, %d outside the "+
		"%v detection window", len(events), events, counts.reads.Load(),
		counts.writes.Load(), counts.deletes.Load(), counts.lost.Load(),
		counts.stale.Load(), counts.resurrected.Load(),
		counts.errors.Load(), counts.errorsOutsideWindow.Load(), window)
	if counts.lost.Load()+counts.stale.Load()+counts.resurrected.Load() != 0 {
		t.Errorf("sessions were lost, stale or resurrected; node log:\n%s",
			logs.String())
	}
	if counts.errorsOutsideWindow.Load() != 0 {
		t.Error("errors outside the detection window")
	}
}

// chaosFaults hurts one node at a time for d: each fault is healed
// before the next, and events are at least three seconds apart.
func chaosFaults(t *testing.T, servers []*testutil.Server, fl *faults,
	d time.Duration, start time.Time) []string {
	rng := rand.New(rand.NewPCG(7, 7))
	var events []string
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		s := servers[rng.IntN(len(servers))]
		fl.mark()
		at := fmt.Sprintf(" %s at %.1fs", s.Addr(),
			time.Since(start).Seconds())
		switch rng.IntN(3) {
		case 0:
			s.Kill()
			events = append(events, "kill"+at)
			time.Sleep(3 * time.Second)
			fl.mark()
			s.Restart()
		case 1:
			s.Pause()
			events = append(events, "pause"+at)
			time.Sleep(3 * time.Second)
			fl.mark()
			s.Resume()
		default:
			s.Restart()
			events = append(events, "restart"+at)
		}
		time.Sleep(3 * time.Second)
	}
	return events
}

func chaosWorker(t *testing.T, c *Cluster, w int, stop *atomic.Bool,
	counts *chaosCounts, fl *faults, window time.Duration) {
	rng := rand.New(rand.NewPCG(uint64(w), 42))
	sessions := make([]*chaosSession, 10)
	for i := range sessions {
		s := &chaosSession{id: fmt.Sprintf("chaos-%d-%d", w, i)}
		for c.Set(ctx, s.id, []byte("0"), time.Now().Add(time.Hour)) != nil {
			time.Sleep(100 * time.Millisecond)
		}
		sessions[i] = s
	}

	failed := func(err error) bool {
		if err == nil {
			return false
		}
		counts.errors.Add(1)
		if !fl.within(window) {
			counts.errorsOutsideWindow.Add(1)
			t.Logf("error outside the detection window: %v", err)
		}
		return true
	}

	for i := 0; !stop.Load(); i++ {
		s := sessions[i%len(sessions)]
		v, found, err := c.Get(ctx, s.id)
		counts.reads.Add(1)
		if !failed(err) {
			checkChaosRead(t, c, s, v, found, counts)
		}

		s.prev, s.prevDel = s.value, s.deleted
		switch {
		case s.deleted || rng.IntN(20) != 0:
			s.value++
			s.deleted = false
			err = c.Set(ctx, s.id, []byte(strconv.Itoa(s.value)),
				time.Now().Add(time.Hour))
			counts.writes.Add(1)
		default:
			s.deleted = true
			err = c.Delete(ctx, s.id)
			counts.deletes.Add(1)
		}
		s.unsure = failed(err)
		time.Sleep(100 * time.Millisecond) // each session about once a second
	}
}

// checkChaosRead compares a read with what the session should hold.
func checkChaosRead(t *testing.T, c *Cluster, s *chaosSession, v []byte,
	found bool, counts *chaosCounts) {
	got, _ := strconv.Atoi(string(v))
	switch {
	case s.unsure:
		// Either outcome of the failed write is right; adopt it.
		if found && got != s.value && got != s.prev {
			counts.stale.Add(1)
			t.Errorf("%s: read %d after an unsure write of %d over %d",
				s.id, got, s.value, s.prev)
		}
		if !found && !s.deleted && !s.prevDel {
			counts.lost.Add(1)
			t.Errorf("%s: lost after an unsure write", s.id)
		}
		s.deleted, s.value = !found, max(got, s.prev)
	case s.deleted && found:
		counts.resurrected.Add(1)
		t.Errorf("%s: deleted, but read %d", s.id, got)
	case !s.deleted && !found:
		counts.lost.Add(1)
		t.Errorf("%s: lost (want %d); replicas %v; copies: %s", s.id,
			s.value, c.Replicas(s.id), copies(c, s.id))
	case !s.deleted && got != s.value:
		counts.stale.Add(1)
		t.Errorf("%s: read %d; want %d", s.id, got, s.value)
	}
	s.unsure = false
}

// copies describes what every node holds for id, asking each directly.
func copies(c *Cluster, id string) string {
	key := c.Key(id)
	var out []string
	for _, n := range c.nodes {
		it, err := n.client.Get(key)
		desc := fmt.Sprint(err)
		if err == nil {
			env, err := c.decode(key, it.Value)
			desc = fmt.Sprintf("kind %d version %d %q (%v)", env.Kind,
				env.Version%1e6, env.Payload, err)
		}
		out = append(out, fmt.Sprintf("%s live=%v: %s", n.addr,
			n.live(), desc))
	}
	return strings.Join(out, "; ")
}
