// Package mcproc runs memcached processes on free loopback ports, and kills,
// pauses, resumes and restarts them. Package testutil wraps it for tests;
// programs without a test to report to, such as the load-balanced demo, use
// it directly, so every method returns its error.
//
// On Linux a Proc keeps its port bound while its process is down, so that no
// other socket takes the port before a restart, and the kernel kills the
// process if the program that started it dies without calling Close.
// Elsewhere ports are picked the simple way, and Pause and Resume return an
// error.
package mcproc

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Limits on waiting for a server. They are generous because a loaded CI
// machine running many tests in parallel can be slow to start a process.
const (
	readyTimeout   = 10 * time.Second // from start to the first answer
	restartTimeout = 10 * time.Second // retrying a port that is still busy
	commandTimeout = 10 * time.Second // one Command round trip
	probeTimeout   = time.Second      // one readiness check
	startAttempts  = 5                // fresh ports tried by Start
	outputLimit    = 64 << 10         // bytes of server output kept
)

// errPortInUse means memcached exited because its port was taken.
var errPortInUse = errors.New("port in use")

// Options configures a process. The zero value starts memcached with its
// default settings.
type Options struct {
	// Args holds extra memcached flags. Leave out -l, -p and -U, which
	// Start sets. With -Z (or --enable-ssl) in Args, the package talks to
	// the server over TLS without checking its certificate.
	Args []string

	// Binary is the memcached binary; see Find for the default.
	Binary string
}

// Proc is one memcached server: a process, and the address it keeps across
// Kill and Restart. Its methods are safe to call from several goroutines;
// they take effect one at a time.
type Proc struct {
	bin     string
	args    []string // everything after the binary, port included
	addr    string
	tls     bool
	release func() // gives the port back to the system

	mu     sync.Mutex
	run    *run // nil while the server is down
	paused bool
	closed bool
}

// Start starts memcached on a free loopback port (127.0.0.1, TCP only) and
// waits until it answers. When root, it runs memcached as root, which
// memcached otherwise refuses. If the port turns out to be taken, Start
// tries a few fresh ones. An error about a failed start holds the server's
// own output. The caller must Close the Proc.
func Start(opts Options) (*Proc, error) {
	bin, err := Find(opts.Binary)
	if err != nil {
		return nil, err
	}

	for attempt := 1; ; attempt++ {
		p, err := startOnFreePort(bin, opts.Args)
		if err == nil || !errors.Is(err, errPortInUse) ||
			attempt == startAttempts {
			return p, err
		}
	}
}

// startOnFreePort reserves a port and starts the first process on it.
func startOnFreePort(bin string, extra []string) (*Proc, error) {
	port, release, err := reservePort()
	if err != nil {
		return nil, fmt.Errorf("mcproc: start memcached: %w", err)
	}

	p := &Proc{
		bin:     bin,
		args:    serverArgs(port, extra),
		addr:    net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		tls:     wantsTLS(extra),
		release: release,
	}
	if p.run, err = p.launch(); err != nil {
		release()
		return nil, p.wrap("start", err)
	}
	return p, nil
}

// serverArgs returns the flags for a server on port, then extra.
func serverArgs(port int, extra []string) []string {
	args := []string{"-l", "127.0.0.1", "-p", strconv.Itoa(port), "-U", "0"}
	if os.Geteuid() == 0 {
		args = append(args, "-u", "root")
	}
	return append(args, extra...)
}

// Addr returns the server's address, "127.0.0.1:PORT". It stays the same
// across Kill and Restart.
func (p *Proc) Addr() string {
	return p.addr
}

// Running reports whether the server's process is alive. A paused server is
// running; one that was killed, or that crashed, is not.
func (p *Proc) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()

	return p.alive()
}

// Kill kills the server with SIGKILL and waits for it to exit; its data is
// lost. Clients then get "connection refused": the port is kept for
// Restart, and on Linux no other socket can be handed it meanwhile. Killing
// a paused server works. Killing a server that is not running, or a closed
// one, does nothing.
func (p *Proc) Kill() error {
	p.mu.Lock()
	defer p.mu.Unlock()

	return p.wrap("kill", p.kill())
}

// Pause stops the server with SIGSTOP. A paused server still accepts
// connections (the kernel completes them) but answers nothing, as a hung or
// overloaded node would, so clients see timeouts. Pausing a paused, dead or
// closed server does nothing.
func (p *Proc) Pause() error {
	return p.setPaused(true)
}

// Resume continues a paused server with SIGCONT; it then answers the
// requests that queued up meanwhile. Resuming a server that is not paused
// does nothing.
func (p *Proc) Resume() error {
	return p.setPaused(false)
}

// Restart kills the server if it is running, even if paused, then starts a
// fresh process on the same address with the same flags and waits until it
// answers. The new process starts empty. If the port is busy, Restart keeps
// trying for a while before it returns an error. Restarting a closed server
// does nothing and returns nil, so a straggling goroutine cannot start a
// process that nobody stops.
func (p *Proc) Restart() error {
	p.mu.Lock()
	defer p.mu.Unlock()

	if p.closed {
		return nil
	}
	return p.wrap("restart", p.relaunch())
}

// Close stops the server for good and gives its port back to the system.
// Later calls of Close, Kill, Pause, Resume and Restart do nothing and
// return nil.
func (p *Proc) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()

	if p.closed {
		return
	}
	_ = p.kill()
	p.release()
	p.closed = true
}

// alive reports whether the process runs. The caller holds p.mu.
func (p *Proc) alive() bool {
	return p.run != nil && !p.run.exited()
}

// kill ends the current process, if any. The caller holds p.mu.
func (p *Proc) kill() error {
	if p.run == nil {
		return nil
	}
	if err := p.run.kill(); err != nil {
		return err
	}
	p.run, p.paused = nil, false
	return nil
}

// setPaused stops or continues the process. It takes p.mu.
func (p *Proc) setPaused(paused bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()

	if !p.alive() || p.paused == paused {
		return nil
	}
	if err := signalPause(p.run.cmd.Process, paused); err != nil {
		if paused {
			return p.wrap("pause", err)
		}
		return p.wrap("resume", err)
	}
	p.paused = paused
	return nil
}

// relaunch kills the process, if any, and starts a new one, retrying for a
// while if the port is busy. The caller holds p.mu.
func (p *Proc) relaunch() error {
	if err := p.kill(); err != nil {
		return err
	}

	deadline := time.Now().Add(restartTimeout)
	for {
		r, err := p.launch()
		if err == nil {
			p.run = r
			return nil
		}
		if !errors.Is(err, errPortInUse) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// wrap names the verb and the server in err; it returns nil for nil.
func (p *Proc) wrap(verb string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("mcproc: %s memcached on %s: %w", verb, p.addr, err)
}

// launch starts a process and waits until it answers. The caller holds
// p.mu, or is the only one that knows p.
func (p *Proc) launch() (*run, error) {
	r := &run{done: make(chan struct{})}
	r.cmd = exec.Command(p.bin, p.args...)
	r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.out
	r.cmd.SysProcAttr = sysProcAttr()
	if err := r.cmd.Start(); err != nil {
		return nil, err
	}
	go r.wait()

	if err := p.waitReady(r); err != nil {
		_ = r.kill()
		return nil, err
	}
	return r, nil
}

// waitReady polls the server until it answers, r exits, or time runs out.
func (p *Proc) waitReady(r *run) error {
	deadline := time.Now().Add(readyTimeout)
	for {
		err := p.probe(r)
		if r.exited() {
			return r.exitError()
		}
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %v: %w\n%s",
				readyTimeout, err, r.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// probe asks the server for its stats and checks that the process that
// answers is r, not some other server that holds the port. A server started
// with -Y answers CLIENT_ERROR to a client that has not logged in, which
// also counts.
func (p *Proc) probe(r *run) error {
	reply, err := p.roundTrip("stats", probeTimeout)
	if err != nil || strings.HasPrefix(reply, "CLIENT_ERROR ") {
		return err
	}
	pid := fmt.Sprintf("\nSTAT pid %d\r\n", r.cmd.Process.Pid)
	if !strings.Contains("\n"+reply, pid) {
		return errors.New("another server answers on the port")
	}
	return nil
}

// dial connects to the server, over TLS if it was started with TLS.
func (p *Proc) dial(timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	if p.tls {
		d := &tls.Dialer{Config: &tls.Config{InsecureSkipVerify: true}}
		return d.DialContext(ctx, "tcp", p.addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", p.addr)
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

// run is one run of memcached.
type run struct {
	cmd  *exec.Cmd
	out  outputBuffer  // stdout and stderr together
	done chan struct{} // closed when the process has exited
	err  error         // the exit status; read it after done is closed
}

func (r *run) wait() {
	r.err = r.cmd.Wait()
	close(r.done)
}

func (r *run) exited() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL, which ends a stopped process too, and waits.
func (r *run) kill() error {
	err := r.cmd.Process.Kill()
	if err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	<-r.done
	return nil
}

// exitError explains why a process exited before it was ready.
func (r *run) exitError() error {
	out := r.out.String()
	if strings.Contains(out, "Address already in use") {
		return fmt.Errorf("%w\n%s", errPortInUse, out)
	}
	return fmt.Errorf("exited: %v\n%s", r.err, out)
}

// outputBuffer keeps the start of a process's output, where memcached says
// why it could not start.
type outputBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write keeps p, up to the buffer's limit.
func (b *outputBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()

	if room := outputLimit - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// String returns what was kept.
func (b *outputBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()

	return b.buf.String()
}
