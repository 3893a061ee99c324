package container

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	dockercontainer "github.com/moby/moby/api/types/container"
	"github.com/testcontainers/testcontainers-go/wait"
)

// Limits on probing a starting server.
const (
	probeTimeout  = time.Second           // one "version" round trip
	probeInterval = 50 * time.Millisecond // between probes
	logLimit      = 4 << 10               // bytes of output in an error
)

// answering is a wait strategy that is satisfied once memcached answers
// "version" on its published port, on host. A connection alone proves
// nothing: Docker's proxy accepts connections for a container that is not
// yet listening. If the container exits first, the error holds its output.
type answering struct{ host string }

// WaitUntilReady polls the server until it answers, its container exits,
// or ctx is done.
func (a answering) WaitUntilReady(ctx context.Context,
	target wait.StrategyTarget) error {
	for {
		addr, err := published(ctx, a.host, target)
		if err == nil {
			if err = probe(ctx, addr); err == nil {
				return nil
			}
		}

		st, serr := target.State(ctx)
		if serr == nil && !st.Running {
			return exited(ctx, target, st)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("memcached did not answer: %v", err)
		case <-time.After(probeInterval):
		}
	}
}

// published returns the address of memcached's port as published on host.
func published(ctx context.Context, host string,
	target wait.StrategyTarget) (string, error) {
	port, err := target.MappedPort(ctx, memcachedPort.String())
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(host, port.Port()), nil
}

// probe sends "version" to addr and checks the reply.
func probe(ctx context.Context, addr string) error {
	d := net.Dialer{Timeout: probeTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()

	_ = conn.SetDeadline(time.Now().Add(probeTimeout))
	if _, err := io.WriteString(conn, "version\r\n"); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "VERSION ") {
		return fmt.Errorf("version: unexpected reply %q", line)
	}
	return nil
}

// exited describes a container that stopped while starting, with the end
// of its output.
func exited(ctx context.Context, target wait.StrategyTarget,
	st *dockercontainer.State) error {
	err := fmt.Errorf("memcached exited with code %d", st.ExitCode)
	logs, lerr := target.Logs(ctx)
	if lerr != nil {
		return err
	}
	defer logs.Close()

	out, _ := io.ReadAll(io.LimitReader(logs, 64*logLimit))
	if len(out) > logLimit {
		out = out[len(out)-logLimit:]
	}
	return fmt.Errorf("%w; its output: %q", err, out)
}
