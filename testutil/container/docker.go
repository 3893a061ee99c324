package container

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// Names the package reads or points to.
const (
	defaultImage = "memcached:1.6-alpine"
	localImage   = "mcsession/memcached:local"
	buildScript  = "scripts/build-memcached-image.sh"
	imageEnv     = "MCSESSION_MEMCACHED_IMAGE"
	requireEnv   = "MCSESSION_REQUIRE_DOCKER"
	ryukEnv      = "TESTCONTAINERS_RYUK_DISABLED"

	hostOverrideEnv = "TESTCONTAINERS_HOST_OVERRIDE"

	// Labels on every container, so that sweep can find those of a test
	// binary that died.
	labelHost = "io.mcsession.testutil.host"
	labelPID  = "io.mcsession.testutil.pid"
)

// Limits on talking to the engine.
const (
	engineTimeout = 10 * time.Second // one question to the engine
	pullTimeout   = 2 * time.Minute  // pulling an image
)

// envError is a failure of the machine rather than of the test: no Docker
// engine, or no image. A test skips on it unless Docker is required.
type envError struct{ msg string }

// Error returns the message, which says what to set or install.
func (e *envError) Error() string { return e.msg }

// images is what choosing an image needs from the engine.
type images interface {
	present(ctx context.Context, ref string) (bool, error)
	pull(ctx context.Context, ref string) error
}

// engine is the Docker engine and what this test binary found out about it.
type engine struct {
	provider *testcontainers.DockerProvider
	api      client.APIClient
	host     string   // where published ports are reached
	loopback bool     // host is this machine's loopback interface
	chosen   sync.Map // image named by the caller → func() (string, error)
}

// theEngine reaches the engine once per test binary, removes what earlier
// binaries left behind, and checks that Ryuk can start unless it is off.
var theEngine = sync.OnceValues(func() (*engine, error) {
	p, err := testcontainers.NewDockerProvider()
	if err != nil {
		return nil, &envError{fmt.Sprintf(
			"no Docker engine found (%v); start one or set DOCKER_HOST", err)}
	}
	e := &engine{provider: p, api: p.Client()}

	ctx, cancel := context.WithTimeout(context.Background(), engineTimeout)
	defer cancel()
	if err := p.Health(ctx); err != nil {
		return nil, &envError{fmt.Sprintf(
			"the Docker engine does not answer: %v", err)}
	}
	if err := e.findHost(ctx); err != nil {
		return nil, err
	}
	e.sweep(ctx)

	if testcontainers.ReadConfig().RyukDisabled || hubPrefix() {
		return e, nil
	}
	ryuk := testcontainers.ReaperDefaultImage
	if err := obtain(e, ryuk); err != nil {
		return nil, &envError{fmt.Sprintf("Ryuk, testcontainers-go's "+
			"reaper, cannot start: %v; set %s=true, as the package "+
			"removes its containers itself", err, ryukEnv)}
	}
	return e, nil
})

// image returns the image to run for a caller that named the image named,
// or none: named itself, else defaultImage if present, else localImage if
// present, else defaultImage once pulled. It is worked out once per name.
func (e *engine) image(named string) (string, error) {
	once, _ := e.chosen.LoadOrStore(named, sync.OnceValues(
		func() (string, error) { return chooseImage(e, named) }))
	return once.(func() (string, error))()
}

// chooseImage is image without the cache, over any images.
func chooseImage(imgs images, named string) (string, error) {
	if hubPrefix() {
		return cmp.Or(named, defaultImage), nil
	}
	if named != "" {
		return named, obtainMemcached(imgs, named)
	}

	for _, ref := range []string{defaultImage, localImage} {
		ok, err := presentNow(imgs, ref)
		if err != nil || ok {
			return ref, err
		}
	}
	return defaultImage, obtainMemcached(imgs, defaultImage)
}

// obtainMemcached is obtain for a memcached image: the error for one that
// cannot be had says how to build one.
func obtainMemcached(imgs images, ref string) error {
	err := obtain(imgs, ref)
	if env, ok := err.(*envError); ok {
		return &envError{fmt.Sprintf("%s; to build %s from this machine's "+
			"memcached, run %s and set %s=%s", env.msg, localImage,
			buildScript, imageEnv, localImage)}
	}
	return err
}

// obtain makes sure the image ref is on the machine, pulling it if needed.
// An image that can be neither found nor pulled is an envError.
func obtain(imgs images, ref string) error {
	ok, err := presentNow(imgs, ref)
	if err != nil || ok {
		return err
	}

	ctx, cancel := context.WithTimeout(context.Background(), pullTimeout)
	defer cancel()
	if err := imgs.pull(ctx, ref); err != nil {
		return &envError{fmt.Sprintf("image %s is not on this machine and "+
			"cannot be pulled (%v)", ref, err)}
	}
	return nil
}

// presentNow asks imgs whether ref is present, within engineTimeout.
func presentNow(imgs images, ref string) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), engineTimeout)
	defer cancel()

	return imgs.present(ctx, ref)
}

// findHost works out where the engine publishes ports. An engine reached
// through a local socket whose host name is ours runs in this machine's
// network, as the engine of the machine or in the same container as the
// tests, and publishes on our loopback interface. testcontainers-go would
// look for a gateway instead whenever the tests run in a container, which
// is right only for an engine outside it. For every other engine, the host
// is testcontainers-go's DaemonHost.
func (e *engine) findHost(ctx context.Context) error {
	u, err := url.Parse(e.api.DaemonHost())
	if err != nil {
		return fmt.Errorf("parse the Docker host: %w", err)
	}
	info, err := e.api.Info(ctx, client.InfoOptions{})
	if err != nil {
		return fmt.Errorf("ask the Docker engine for its name: %w", err)
	}
	name, _ := os.Hostname()
	_, override := os.LookupEnv(hostOverrideEnv)
	if !override && (u.Scheme == "unix" || u.Scheme == "npipe") &&
		info.Info.Name == name {
		e.host, e.loopback = "127.0.0.1", true
		return nil
	}

	host, err := e.provider.DaemonHost(ctx)
	if err != nil {
		return fmt.Errorf("find the Docker engine's host: %w", err)
	}
	ip, err := netip.ParseAddr(host)
	e.host = host
	e.loopback = host == "localhost" || err == nil && ip.IsLoopback()
	if e.loopback {
		e.host = "127.0.0.1" // where the package publishes
	}
	return nil
}

// hubPrefix reports whether testcontainers-go is set to prepend a registry
// to image names. The names the package would check are then not the ones
// run, so it leaves checking and pulling to testcontainers-go.
func hubPrefix() bool {
	return testcontainers.ReadConfig().Config.HubImageNamePrefix != ""
}

func (e *engine) present(ctx context.Context, ref string) (bool, error) {
	_, err := e.api.ImageInspect(ctx, ref)
	if cerrdefs.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("inspect image %s: %w", ref, err)
	}
	return true, nil
}

func (e *engine) pull(ctx context.Context, ref string) error {
	resp, err := e.api.ImagePull(ctx, ref, client.ImagePullOptions{})
	if err != nil {
		return err
	}
	defer resp.Close()

	return resp.Wait(ctx)
}

// sweep removes the containers of test binaries on this host that died
// before their cleanups ran, as Ryuk would have. A container whose process
// may still run, or whose labels do not parse, is left alone. Errors are
// ignored: the sweep only tidies.
func (e *engine) sweep(ctx context.Context) {
	host, err := os.Hostname()
	if err != nil {
		return
	}
	list, err := e.api.ContainerList(ctx, client.ContainerListOptions{
		All:     true,
		Filters: make(client.Filters).Add("label", labelHost+"="+host),
	})
	if err != nil {
		return
	}

	for _, c := range list.Items {
		pid, err := strconv.Atoi(c.Labels[labelPID])
		if err != nil || pid == os.Getpid() || !processGone(pid) {
			continue
		}
		_, _ = e.api.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{
			Force: true, RemoveVolumes: true})
	}
}

// processGone reports whether the process pid has surely exited. Any doubt,
// such as a process of another user, counts as running.
func processGone(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	return errors.Is(p.Signal(syscall.Signal(0)), os.ErrProcessDone)
}

// requireDocker reports whether a missing engine or image must fail tests
// rather than skip them.
func requireDocker(getenv func(string) string) bool {
	return getenv(requireEnv) == "1"
}

// skipOrFail ends the test for err, which is about the environment.
func skipOrFail(t testing.TB, err error) {
	t.Helper()

	msg := "testutil/container: " + err.Error()
	if requireDocker(os.Getenv) {
		t.Fatal(msg)
	}
	t.Skip(msg + " (set " + requireEnv + "=1 to fail instead)")
}
