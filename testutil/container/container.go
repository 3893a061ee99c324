package container

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	dockercontainer "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
)

// Limits on starting and changing a server. They are generous because a
// loaded CI machine starting many containers at once can be slow.
const (
	opTimeout     = 90 * time.Second // one start, kill, stop or removal
	readyTimeout  = 30 * time.Second // from start to the first answer
	stopTimeout   = 10 * time.Second // from SIGTERM to SIGKILL in Stop
	startAttempts = 5                // fresh host ports tried by a start
)

// memcachedPort is the port memcached listens on inside the container.
var memcachedPort = network.MustParsePort("11211/tcp")

// Options configures a server. The zero value runs memcached with its
// default settings, in the default image.
type Options struct {
	// Image is the image to run. The default is the image that the
	// environment variable MCSESSION_MEMCACHED_IMAGE names, else
	// memcached:1.6-alpine (see the package documentation).
	Image string

	// Args holds extra memcached flags, such as []string{"-I", "2m"} for a
	// larger item size limit or []string{"-m", "1"} for a tiny cache.
	// Leave out -p and -l: memcached must listen on port 11211 of the
	// container's own interfaces.
	Args []string
}

// Memcached is one memcached server in a container. Its methods are safe
// to call from several goroutines; they take effect one at a time.
//
// Kill, Stop, Pause, Resume and Restart report failures with t.Errorf on
// the test that started the server, which is safe from any goroutine, and
// then return. Once the test has finished they do nothing, so a straggling
// goroutine cannot start a container that nobody removes.
type Memcached struct {
	t   testing.TB
	e   *engine
	ctr *testcontainers.DockerContainer

	mu    sync.Mutex
	addr  string
	ended bool // the test is over and the container removed
}

// Start starts a memcached container for the test and waits until it
// answers. It takes at most one Options. The container is removed when the
// test and its subtests finish.
//
// If no Docker engine can be reached, or the image is neither on the
// machine nor pullable, Start skips the test, or fails it when
// MCSESSION_REQUIRE_DOCKER=1 is set. Any other failure to start fails the
// test, so call Start from the test's goroutine.
func Start(t testing.TB, opts ...Options) *Memcached {
	t.Helper()

	return StartCluster(t, 1, opts...)[0]
}

// StartCluster starts n memcached containers for the test, each as Start
// would with the same Options. It starts them all at once and returns when
// every one answers.
func StartCluster(t testing.TB, n int, opts ...Options) []*Memcached {
	t.Helper()

	if len(opts) > 1 {
		t.Fatalf("testutil/container: takes at most one Options, got %d",
			len(opts))
	}
	var o Options
	if len(opts) == 1 {
		o = opts[0]
	}
	e, image := prepare(t, o)

	servers := make([]*Memcached, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range servers {
		wg.Go(func() { servers[i], errs[i] = start(t, e, image, o.Args) })
	}
	wg.Wait()
	t.Cleanup(func() { removeAll(servers) })

	for _, err := range errs {
		if err != nil {
			t.Fatalf("testutil/container: start %s: %v", image, err)
		}
	}
	return servers
}

// Addrs returns the addresses of servers, in order.
func Addrs(servers []*Memcached) []string {
	addrs := make([]string, len(servers))
	for i, m := range servers {
		addrs[i] = m.Addr()
	}
	return addrs
}

// Addr returns the address that reaches the server, "127.0.0.1:PORT" when
// the Docker engine runs on this machine. It stays the same across Kill,
// Stop and Restart: the package publishes the container's port on a host
// port of its own choosing, not one that Docker picks anew at every start.
// Only with a Docker engine on another host (DOCKER_HOST) does Docker pick
// the port, which then may change at Restart; call Addr again after it.
func (m *Memcached) Addr() string {
	m.mu.Lock()
	defer m.mu.Unlock()

	return m.addr
}

// Container returns the testcontainers-go container, for what the package
// does not wrap, such as its logs. Stopping, starting or removing it
// directly leaves Running and Restart to find out what happened.
func (m *Memcached) Container() *testcontainers.DockerContainer {
	return m.ctr
}

// Running reports whether the server's container is running. A paused
// server is running; one that was killed or stopped, or that crashed, is
// not. Once the test has finished it reports false.
func (m *Memcached) Running() bool {
	running := false
	m.do("inspect", func(ctx context.Context) error {
		st, err := m.ctr.State(ctx)
		running = err == nil && st.Running
		return err
	})
	return running
}

// Kill kills memcached with SIGKILL and waits until the container has
// exited; its data is lost. Clients then get "connection refused" from
// Addr, as from a dead host. Killing a paused server works. Killing a
// server that is not running does nothing.
func (m *Memcached) Kill() {
	m.do("kill", m.kill)
}

// Stop stops the container as "docker stop" does: memcached gets SIGTERM
// and exits, closing its connections; if it has not exited within ten
// seconds it is killed. Its data is lost, and clients then get "connection
// refused". A paused server is resumed first, so that it can see the
// signal. Stopping a server that is not running does nothing.
func (m *Memcached) Stop() {
	m.do("stop", func(ctx context.Context) error {
		if err := m.resume(ctx); err != nil {
			return err
		}
		timeout := stopTimeout
		return m.ctr.Stop(ctx, &timeout)
	})
}

// Pause freezes the container ("docker pause"). The published port still
// accepts connections but memcached answers nothing, as a hung or
// overloaded node would, so clients see timeouts. Pausing a paused or
// stopped server does nothing.
func (m *Memcached) Pause() {
	m.do("pause", func(ctx context.Context) error {
		st, err := m.ctr.State(ctx)
		if err != nil || !st.Running || st.Paused {
			return err
		}
		_, err = m.e.api.ContainerPause(ctx, m.ctr.ID,
			client.ContainerPauseOptions{})
		return err
	})
}

// Resume thaws a paused container; memcached then answers the requests
// that queued up meanwhile. Resuming a server that is not paused does
// nothing.
func (m *Memcached) Resume() {
	m.do("resume", m.resume)
}

// Restart kills the server if it is running, even if paused, then starts
// the same container again, with the same image and flags, and waits until
// it answers. Memcached starts empty. The address stays the same (see Addr),
// unless another program took the host port while the server was down, in
// which case Restart reports an error.
func (m *Memcached) Restart() {
	m.do("restart", func(ctx context.Context) error {
		if err := m.kill(ctx); err != nil {
			return err
		}
		if err := m.ctr.Start(ctx); err != nil {
			return err
		}
		addr, err := published(ctx, m.e.host, m.ctr)
		if err == nil {
			m.addr = addr
		}
		return err
	})
}

// kill is Kill. The caller holds m.mu.
func (m *Memcached) kill(ctx context.Context) error {
	st, err := m.ctr.State(ctx)
	if err != nil || !st.Running {
		return err
	}
	_, err = m.e.api.ContainerKill(ctx, m.ctr.ID,
		client.ContainerKillOptions{Signal: "KILL"})
	if err != nil {
		return err
	}

	for {
		st, err := m.ctr.State(ctx)
		if err != nil || !st.Running {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("container still running: %w", ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// resume is Resume. The caller holds m.mu.
func (m *Memcached) resume(ctx context.Context) error {
	st, err := m.ctr.State(ctx)
	if err != nil || !st.Paused {
		return err
	}
	_, err = m.e.api.ContainerUnpause(ctx, m.ctr.ID,
		client.ContainerUnpauseOptions{})
	return err
}

// do runs one verb on the container and reports its error to the test,
// unless the test has ended.
func (m *Memcached) do(verb string, f func(ctx context.Context) error) {
	m.mu.Lock()
	defer m.mu.Unlock()

	if m.ended {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if err := f(ctx); err != nil {
		m.t.Errorf("testutil/container: %s %s: %v", verb, m.addr, err)
	}
}

// removeAll removes the containers of servers, all at once; it runs as a
// cleanup of the test. Entries may be nil.
func removeAll(servers []*Memcached) {
	var wg sync.WaitGroup
	for _, m := range servers {
		if m != nil {
			wg.Go(m.remove)
		}
	}
	wg.Wait()
}

// remove removes the container for good.
func (m *Memcached) remove() {
	m.mu.Lock()
	defer m.mu.Unlock()

	m.ended = true
	if err := terminate(m.ctr); err != nil {
		m.t.Errorf("testutil/container: remove %s: %v", m.addr, err)
	}
}

// prepare reaches the engine and chooses the image, or ends the test.
func prepare(t testing.TB, o Options) (*engine, string) {
	t.Helper()

	e, err := theEngine()
	if err != nil {
		skipOrFail(t, err)
	}
	image, err := e.image(cmp.Or(o.Image, os.Getenv(imageEnv)))
	if err != nil {
		if _, ok := err.(*envError); ok {
			skipOrFail(t, err)
		}
		t.Fatalf("testutil/container: %v", err)
	}
	return e, image
}

// start runs one container and waits until it answers. On an engine on
// this machine it publishes memcached's port on a free loopback port that
// it picks itself, and tries a few in case another program takes one
// first.
func start(t testing.TB, e *engine, image string, args []string) (
	*Memcached, error) {
	for attempt := 1; ; attempt++ {
		m, err := startOnce(t, e, image, args)
		if !portTaken(err) || attempt == startAttempts {
			return m, err
		}
	}
}

// startOnce is one attempt of start. If it fails after creating the
// container, it removes it.
func startOnce(t testing.TB, e *engine, image string, args []string) (
	*Memcached, error) {
	hostPort := 0
	if e.loopback {
		var err error
		if hostPort, err = freePort(); err != nil {
			return nil, err
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	ctr, err := testcontainers.Run(ctx, image,
		request(t, e.host, args, hostPort)...)
	var addr string
	if err == nil {
		addr, err = published(ctx, e.host, ctr)
	}
	if err != nil && ctr != nil {
		if terr := terminate(ctr); terr != nil {
			err = errors.Join(err, fmt.Errorf("remove it: %w", terr))
		}
	}
	if err != nil {
		return nil, err
	}
	return &Memcached{t: t, e: e, ctr: ctr, addr: addr}, nil
}

// request describes a container running memcached with args, publishing
// its port on hostPort of the loopback interface, or on a port Docker
// picks when hostPort is 0, and waiting until it answers on host.
func request(t testing.TB, host string, args []string,
	hostPort int) []testcontainers.ContainerCustomizer {
	name, _ := os.Hostname()
	opts := []testcontainers.ContainerCustomizer{
		testcontainers.WithLogger(tclog.TestLogger(t)),
		testcontainers.WithCmd(append([]string{"memcached"}, args...)...),
		testcontainers.WithExposedPorts(memcachedPort.String()),
		testcontainers.WithLabels(map[string]string{
			labelHost: name,
			labelPID:  strconv.Itoa(os.Getpid()),
		}),
		testcontainers.WithWaitStrategyAndDeadline(readyTimeout,
			answering{host: host}),
	}
	if hostPort == 0 {
		return opts
	}

	binding := network.PortBinding{
		HostIP:   netip.AddrFrom4([4]byte{127, 0, 0, 1}),
		HostPort: strconv.Itoa(hostPort),
	}
	return append(opts, testcontainers.WithHostConfigModifier(
		func(hc *dockercontainer.HostConfig) {
			hc.PortBindings = network.PortMap{
				memcachedPort: {binding},
			}
		}))
}

// terminate removes ctr, killing memcached at once.
func terminate(ctr *testcontainers.DockerContainer) error {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()

	return ctr.Terminate(ctx, testcontainers.StopTimeout(0))
}

// freePort returns a loopback TCP port that is free now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()

	return l.Addr().(*net.TCPAddr).Port, nil
}

// portTaken reports whether err says that the host port was taken before
// Docker could publish on it. The engine says so only in words.
func portTaken(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "port is already allocated") ||
		strings.Contains(msg, "address already in use")
}
