package testutil

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Limits on waiting for a server. They are generous because a loaded CI
// machine running many tests in parallel can be slow to start a process.
const (
	readyTimeout   = 10 * time.Second // from start to the first answer
	restartTimeout = 10 * time.Second // retrying a port that is still busy
	commandTimeout = 10 * time.Second // one Command round trip
	startAttempts  = 5                // fresh ports tried by a first start
	outputLimit    = 64 << 10         // bytes of server output kept
)

// errPortInUse means memcached exited because its port was taken.
var errPortInUse = errors.New("port in use")

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
	t       testing.TB
	bin     string
	args    []string // everything after the binary, port included
	addr    string
	tls     bool
	release func() // gives the port back to the system

	mu     sync.Mutex
	proc   *process // nil while the server is down
	paused bool
	closed bool // the test is over
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

	s := &Server{t: t, bin: findOrSkip(t, o.Binary), tls: wantsTLS(o.Args)}
	t.Cleanup(s.stop)
	for attempt := 1; ; attempt++ {
		err := s.firstStart(o.Args)
		if err == nil {
			return s
		}
		if !errors.Is(err, errPortInUse) || attempt == startAttempts {
			t.Fatalf("testutil: start memcached: %v", err)
		}
	}
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

// Addr returns the server's address, "127.0.0.1:PORT". It stays the same
// across Kill and Restart.
func (s *Server) Addr() string {
	return s.addr
}

// Running reports whether the server's process is alive. A paused server is
// running; one that was killed, or that crashed, is not.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()

	return s.proc != nil && !s.proc.exited()
}

// Kill kills the server with SIGKILL and waits for it to exit; its data is
// lost. Clients then get "connection refused": the port is kept for
// Restart, and on Linux no other socket can be handed it meanwhile. Killing
// a paused server works. Killing a server that is not running does nothing.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.kill()
}

// Pause stops the server with SIGSTOP. A paused server still accepts
// connections (the kernel completes them) but answers nothing, as a hung or
// overloaded node would, so clients see timeouts. Pausing a paused or dead
// server does nothing.
func (s *Server) Pause() {
	s.mu.Lock()
	defer s.mu.Unlock()

	if s.proc == nil || s.proc.exited() || s.paused || s.closed {
		return
	}
	if err := signalStop(s.proc.cmd.Process); err != nil {
		s.t.Errorf("testutil: pause %s: %v", s.addr, err)
		return
	}
	s.paused = true
}

// Resume continues a paused server with SIGCONT; it then answers the
// requests that queued up meanwhile. Resuming a server that is not paused
// does nothing.
func (s *Server) Resume() {
	s.mu.Lock()
	defer s.mu.Unlock()

	if s.proc == nil || s.proc.exited() || !s.paused {
		return
	}
	if err := signalCont(s.proc.cmd.Process); err != nil {
		s.t.Errorf("testutil: resume %s: %v", s.addr, err)
		return
	}
	s.paused = false
}

// Restart kills the server if it is running, even if paused, then starts a
// fresh process on the same address with the same flags and waits until it
// answers. The new process starts empty. If the port is busy, Restart keeps
// trying for a while before it reports an error.
func (s *Server) Restart() {
	s.mu.Lock()
	defer s.mu.Unlock()

	if s.closed {
		return
	}
	s.kill()

	deadline := time.Now().Add(restartTimeout)
	for {
		p, err := s.launch()
		if err == nil {
			s.proc = p
			return
		}
		if !errors.Is(err, errPortInUse) || time.Now().After(deadline) {
			s.t.Errorf("testutil: restart memcached: %v", err)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
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

	conn, err := s.dial(commandTimeout)
	if err != nil {
		t.Fatalf("testutil: %s: %v", s.addr, err)
	}
	defer conn.Close()

	_ = conn.SetDeadline(time.Now().Add(commandTimeout))
	if _, err := io.WriteString(conn, line+"\r\n"); err != nil {
		t.Fatalf("testutil: %s: send %q: %v", s.addr, line, err)
	}
	reply, err := readReply(bufio.NewReader(conn))
	if err != nil {
		t.Fatalf("testutil: %s: reply to %q: %v (got %q)",
			s.addr, line, err, reply)
	}
	return reply
}

// firstStart picks a port and starts the first process on it.
func (s *Server) firstStart(extra []string) error {
	port, release, err := reservePort()
	if err != nil {
		return err
	}

	s.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	s.args = []string{"-l", "127.0.0.1", "-p", strconv.Itoa(port), "-U", "0"}
	if os.Geteuid() == 0 {
		// memcached refuses to run as root unless told which user to be.
		s.args = append(s.args, "-u", "root")
	}
	s.args = append(s.args, extra...)

	s.mu.Lock()
	defer s.mu.Unlock()

	p, err := s.launch()
	if err != nil {
		release()
		return err
	}
	s.proc, s.release = p, release
	return nil
}

// launch starts a process and waits until it answers. The caller holds
// s.mu.
func (s *Server) launch() (*process, error) {
	p := &process{done: make(chan struct{})}
	p.cmd = exec.Command(s.bin, s.args...)
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	p.cmd.SysProcAttr = sysProcAttr()
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go p.wait()

	if err := s.waitReady(p); err != nil {
		p.kill()
		return nil, err
	}
	return p, nil
}

// waitReady polls the server until it answers, it exits, or time runs out.
func (s *Server) waitReady(p *process) error {
	deadline := time.Now().Add(readyTimeout)
	for {
		err := s.probe(p)
		if p.exited() {
			return p.exitError(s.addr)
		}
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("memcached on %s not ready after %v: %w\n%s",
				s.addr, readyTimeout, err, p.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// probe asks the server for its stats and checks that the process that
// answers is p, not some other server that holds the port. A server started
// with -Y answers CLIENT_ERROR to a client that has not logged in, which
// also counts.
func (s *Server) probe(p *process) error {
	conn, err := s.dial(time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()

	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := io.WriteString(conn, "stats\r\n"); err != nil {
		return err
	}
	reply, err := readReply(bufio.NewReader(conn))
	if err != nil || strings.HasPrefix(reply, "CLIENT_ERROR ") {
		return err
	}
	pid := fmt.Sprintf("\nSTAT pid %d\r\n", p.cmd.Process.Pid)
	if !strings.Contains("\n"+reply, pid) {
		return errors.New("another server answers on the port")
	}
	return nil
}

// dial connects to the server, over TLS if it was started with TLS.
func (s *Server) dial(timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	if s.tls {
		d := &tls.Dialer{Config: &tls.Config{InsecureSkipVerify: true}}
		return d.DialContext(ctx, "tcp", s.addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", s.addr)
}

// kill ends the current process, if any. The caller holds s.mu.
func (s *Server) kill() {
	if s.proc != nil {
		s.proc.kill()
	}
	s.proc, s.paused = nil, false
}

// stop ends the server for good; it runs as a cleanup of the test.
func (s *Server) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.kill()
	if s.release != nil {
		s.release()
	}
	s.closed = true
}

// process is one run of memcached.
type process struct {
	cmd  *exec.Cmd
	out  outputBuffer  // stdout and stderr together
	done chan struct{} // closed when the process has exited
	err  error         // the exit status; read it after done is closed
}

func (p *process) wait() {
	p.err = p.cmd.Wait()
	close(p.done)
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL, which ends a stopped process too, and waits.
func (p *process) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// exitError explains why a process exited before it was ready.
func (p *process) exitError(addr string) error {
	out := p.out.String()
	if strings.Contains(out, "Address already in use") {
		return fmt.Errorf("%w: %s\n%s", errPortInUse, addr, out)
	}
	return fmt.Errorf("memcached on %s exited: %v\n%s", addr, p.err, out)
}

// outputBuffer keeps the start of a process's output, where memcached says
// why it could not start.
type outputBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *outputBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()

	if room := outputLimit - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *outputBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()

	return b.buf.String()
}

// wantsTLS reports whether memcached flags turn TLS on.
func wantsTLS(args []string) bool {
	for _, a := range args {
		if a == "-Z" || a == "--enable-ssl" {
			return true
		}
	}
	return false
}

// readReply reads one reply of the text protocol, through its last line.
func readReply(r *bufio.Reader) (string, error) {
	var reply strings.Builder
	for first := true; ; first = false {
		line, err := r.ReadString('\n')
		reply.WriteString(line)
		if err != nil {
			return reply.String(), err
		}

		fields := strings.Fields(line)
		if n, ok := blockSize(fields); ok {
			block := make([]byte, n+len("\r\n"))
			_, err := io.ReadFull(r, block)
			reply.Write(block)
			if err != nil || fields[0] == "VA" {
				return reply.String(), err
			}
			continue
		}
		if isLastLine(fields, first) {
			return reply.String(), nil
		}
	}
}

// blockSize reports the length of the data block that follows a reply
// line: "VALUE key flags bytes [cas]" or "VA bytes [flags]".
func blockSize(fields []string) (int, bool) {
	i := 0
	switch {
	case len(fields) >= 4 && fields[0] == "VALUE":
		i = 3
	case len(fields) >= 2 && fields[0] == "VA":
		i = 1
	default:
		return 0, false
	}
	n, err := strconv.Atoi(fields[i])
	return n, err == nil && n >= 0
}

// isLastLine reports whether a reply line ends the reply. A bare number
// does only as the first line: it is the reply to incr and decr.
func isLastLine(fields []string, first bool) bool {
	if len(fields) == 0 {
		return false
	}
	switch fields[0] {
	case "END", "OK", "ERROR", "RESET", "VERSION",
		"CLIENT_ERROR", "SERVER_ERROR",
		"STORED", "NOT_STORED", "EXISTS", "NOT_FOUND", "DELETED", "TOUCHED",
		"HD", "EN", "NF", "NS", "EX", "MN", "ME",
		"BUSY", "BADCLASS", "NOSPARE", "NOTFULL", "UNSAFE", "SAME":
		return true
	}
	_, err := strconv.ParseUint(fields[0], 10, 64)
	return first && len(fields) == 1 && err == nil
}
