package testutil

import (
	"os"
	"sync"
	"testing"

	"github.com/mcsession/mcsession/internal/mcproc"
)

// Options configures a server. The zero value starts memcached with its
// default settings.
type Options struct {
	// Args holds extra memcached flags, such as []string{"-I", "2m"} for a
	// larger item size limit or []string{"-m", "1"} for a tiny cache.
	// Leave out -l, -p and -U, which the package sets. When Args holds -Z
	// (or --enable-ssl) the package talks to the server over TLS, without
	// checking its certificate.
	Args []string

	// Binary is the path of the memcached binary. The default is the
	// environment variable MEMCACHED_BIN, else "memcached" from PATH.
	Binary string
}

// Server is one memcached process. Its methods are safe to call from
// several goroutines; they take effect one at a time.
//
// Kill, Pause, Resume and Restart report failures with t.Errorf on the test
// that started the server, which is safe from any goroutine, and then
// return. Once the test has finished they do nothing, so a straggling
// goroutine cannot start a process that nobody stops.
type Server struct {
	t testing.TB
	p *mcproc.Proc

	// mu is held by each method and by the cleanup, so that no method
	// reports to the test after it has ended.
	mu    sync.Mutex
	ended bool
}

// StartServer starts a memcached server for the test and waits until it
// answers. It takes at most one Options. The server is stopped when the
// test and its subtests finish.
//
// If no memcached binary is found, StartServer skips the test, or fails it
// when a real server is required (see the package documentation). Any other
// failure to start fails the test with the server's own output, so call
// StartServer from the test's goroutine.
func StartServer(t testing.TB, opts ...Options) *Server {
	t.Helper()

	if len(opts) > 1 {
		t.Fatalf("testutil: StartServer takes at most one Options, got %d",
			len(opts))
	}
	var o Options
	if len(opts) == 1 {
		o = opts[0]
	}

	o.Binary = findOrSkip(t, o.Binary)
	p, err := mcproc.Start(mcproc.Options(o))
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{t: t, p: p}
	t.Cleanup(s.stop)
	return s
}

// StartCluster starts n memcached servers for the test, each as
// StartServer would with the same Options.
func StartCluster(t testing.TB, n int, opts ...Options) []*Server {
	t.Helper()

	servers := make([]*Server, n)
	for i := range servers {
		servers[i] = StartServer(t, opts...)
	}
	return servers
}

// Addrs returns the addresses of servers, in order.
func Addrs(servers []*Server) []string {
	addrs := make([]string, len(servers))
	for i, s := range servers {
		addrs[i] = s.Addr()
	}
	return addrs
}

// RequireBinary returns the path of the memcached binary that StartServer
// would run by default: $MEMCACHED_BIN if set, else "memcached" from PATH.
// If there is none it skips the test, or fails it when a real server is
// required (see the package documentation).
func RequireBinary(t testing.TB) string {
	t.Helper()

	return findOrSkip(t, "")
}

// findOrSkip finds the binary named by explicit, or the default one, or
// ends the test.
func findOrSkip(t testing.TB, explicit string) string {
	t.Helper()

	path, err := mcproc.Find(explicit)
	if err == nil {
		return path
	}
	if mcproc.RequireReal(os.Getenv) {
		t.Fatal(err)
	}
	t.Skip(err, "(set MCSESSION_REQUIRE_MEMCACHED=1 to fail instead)")
	return ""
}

// Addr returns the server's address, "127.0.0.1:PORT". It stays the same
// across Kill and Restart.
func (s *Server) Addr() string {
	return s.p.Addr()
}

// Running reports whether the server's process is alive. A paused server is
// running; one that was killed, or that crashed, is not.
func (s *Server) Running() bool {
	return s.p.Running()
}

// Kill kills the server with SIGKILL and waits for it to exit; its data is
// lost. Clients then get "connection refused": the port is kept for
// Restart, and on Linux no other socket can be handed it meanwhile. Killing
// a paused server works. Killing a server that is not running does nothing.
func (s *Server) Kill() {
	s.do(s.p.Kill)
}

// Pause stops the server with SIGSTOP. A paused server still accepts
// connections (the kernel completes them) but answers nothing, as a hung or
// overloaded node would, so clients see timeouts. Pausing a paused or dead
// server does nothing.
func (s *Server) Pause() {
	s.do(s.p.Pause)
}

// Resume continues a paused server with SIGCONT; it then answers the
// requests that queued up meanwhile. Resuming a server that is not paused
// does nothing.
func (s *Server) Resume() {
	s.do(s.p.Resume)
}

// Restart kills the server if it is running, even if paused, then starts a
// fresh process on the same address with the same flags and waits until it
// answers. The new process starts empty. If the port is busy, Restart keeps
// trying for a while before it reports an error.
func (s *Server) Restart() {
	s.do(s.p.Restart)
}

// Command sends one command of memcached's text protocol on a new
// connection and returns the whole reply, line endings included. It adds
// the final "\r\n" itself, so a storage command passes its data after an
// inner "\r\n": "set k 0 0 1\r\nx" stores "x".
//
// Command reads up to the line that ends the reply: END after get, stats
// and lru_crawler metadump; the data block after VA; otherwise a single
// status line such as STORED, HD, EN, OK, ERROR or CLIENT_ERROR. Commands
// that answer nothing (noreply, quiet meta flags) or that stream (watch)
// wait for the reply until a timeout. On any failure Command fails the test,
// so call it from the test's goroutine.
func (s *Server) Command(t testing.TB, line string) string {
	t.Helper()

	reply, err := s.p.Command(line)
	if err != nil {
		t.Fatal(err)
	}
	return reply
}

// do runs one verb of the process, and reports its error to the test,
// unless the test has ended.
func (s *Server) do(verb func() error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	if s.ended {
		return
	}
	if err := verb(); err != nil {
		s.t.Error(err)
	}
}

// stop ends the server for good; it runs as a cleanup of the test.
func (s *Server) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.ended = true
	s.p.Close()
}
