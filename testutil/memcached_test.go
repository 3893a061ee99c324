package testutil_test

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcsession/mcsession/testutil"
)

func TestSetAndGet(t *testing.T) {
	t.Parallel()
	s := testutil.StartServer(t)

	tests := []struct{ command, want string }{
		{"set k 0 0 1\r\nx", "STORED\r\n"},
		{"get k", "VALUE k 0 1\r\nx\r\nEND\r\n"},
		{"mg k v", "VA 1\r\nx\r\n"},
		{"mg missing v", "EN\r\n"},
		{"set n 0 0 1\r\n7", "STORED\r\n"},
		{"incr n 5", "12\r\n"},
		{"delete k", "DELETED\r\n"},
		{"no_such_command", "ERROR\r\n"},
	}
	for _, tt := range tests {
		if got := s.Command(t, tt.command); got != tt.want {
			t.Errorf("Command(%q) = %q; want %q", tt.command, got, tt.want)
		}
	}
}

func TestStartClusterServersAreDistinct(t *testing.T) {
	t.Parallel()
	servers := testutil.StartCluster(t, 3)

	addrs := testutil.Addrs(servers)
	seen := map[string]bool{}
	for i, s := range servers {
		if addrs[i] != s.Addr() {
			t.Errorf("Addrs()[%d] = %q; want %q", i, addrs[i], s.Addr())
		}
		if seen[s.Addr()] {
			t.Errorf("address %s given twice", s.Addr())
		}
		seen[s.Addr()] = true

		key := fmt.Sprintf("k%d", i)
		s.Command(t, "set "+key+" 0 0 1\r\nx")
		for j, other := range servers {
			hit := other.Command(t, "mg "+key) == "HD\r\n"
			if hit != (i == j) {
				t.Errorf("%s on server %d: hit = %v", key, j, hit)
			}
		}
	}
}

// The verbs themselves are tested in internal/mcproc; this checks that
// each Server method reaches its process.
func TestVerbsReachTheProcess(t *testing.T) {
	t.Parallel()
	s := testutil.StartServer(t)

	s.Pause()
	s.Resume()
	s.Command(t, "set k 0 0 1\r\nx")
	s.Kill()
	if s.Running() {
		t.Error("Running() = true after Kill")
	}
	s.Restart()
	if got := s.Command(t, "get k"); got != "END\r\n" {
		t.Errorf("get k after Kill and Restart = %q; want a miss", got)
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	bin := testutil.RequireBinary(t)

	s := testutil.StartServer(t, testutil.Options{Args: []string{"-I", "2m"},
		Binary: bin})
	settings := s.Command(t, "stats settings")
	if !strings.Contains(settings, "STAT item_size_max 2097152\r\n") {
		t.Errorf("stats settings = %q; want item_size_max 2097152",
			settings)
	}
}

func TestFailureIsReportedToTheTest(t *testing.T) {
	t.Parallel()
	bin := testutil.RequireBinary(t)

	// The binary runs memcached once, then fails.
	dir := t.TempDir()
	script := filepath.Join(dir, "memcached")
	body := fmt.Sprintf("#!/bin/sh\n[ -e %[1]s/ran ] && exit 3\n"+
		": > %[1]s/ran\nexec %[2]s \"$@\"\n", dir, bin)
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}

	rec := &recorder{TB: t}
	s := testutil.StartServer(rec, testutil.Options{Binary: script})
	s.Restart()
	if len(rec.errors) != 1 || !strings.Contains(rec.errors[0], s.Addr()) {
		t.Errorf("Restart reported %q; want one error naming %s",
			rec.errors, s.Addr())
	}
}

// recorder is a test that keeps the errors reported to it.
type recorder struct {
	testing.TB

	mu     sync.Mutex
	errors []string
}

func (r *recorder) Error(args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()

	r.errors = append(r.errors, fmt.Sprint(args...))
}

func (r *recorder) Errorf(format string, args ...any) {
	r.Error(fmt.Sprintf(format, args...))
}

func TestServerIsStoppedWhenItsTestEnds(t *testing.T) {
	t.Parallel()
	var s *testutil.Server
	t.Run("owner", func(t *testing.T) {
		s = testutil.StartServer(t)
	})

	s.Restart() // too late: must not start a process nobody stops
	if s.Running() {
		t.Error("Running() = true after the owning test ended")
	}
	if c, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
		c.Close()
		t.Errorf("dial %s after the owning test ended succeeded", s.Addr())
	}
}
