package cluster

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// loginKey is the key of the set that carries the credentials. memcached
// -Y ignores it; a node without -Y stores the set under it, already
// expired.
const loginKey = "mcsession:login"

// errAuthFailed is the cause of a login that the node refused.
var errAuthFailed = errors.New("authentication failed: memcached " +
	"refused the username or password")

// dial connects to the node, for its gomemcache client and for stats:
// the connection, then the TLS handshake when Config.TLS is set, then
// the login when Config.Username is set, all before ctx's deadline. An
// error from the handshake or the login names the node and says which
// step failed.
func (n *node) dial(ctx context.Context, network, address string) (net.Conn,
	error) {
	d := net.Dialer{Timeout: n.cfg.Timeout}
	conn, err := d.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	if n.cfg.TLS == nil && n.cfg.Username == "" {
		return &batchConn{Conn: conn}, nil
	}

	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(n.cfg.Timeout)
	}
	conn.SetDeadline(deadline)
	if conn, err = n.secure(ctx, conn, address); err != nil {
		return nil, err
	}
	conn.SetDeadline(time.Time{})
	return &batchConn{Conn: conn}, nil
}

// secure runs the TLS handshake and the login that n's config asks for
// on conn, and returns the connection to use. It closes conn on failure.
func (n *node) secure(ctx context.Context, conn net.Conn,
	address string) (net.Conn, error) {
	if n.cfg.TLS != nil {
		tc := tls.Client(conn, tlsConfig(n.cfg.TLS, address))
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("mcsession: tls handshake with %s: %w",
				address, err)
		}
		conn = tc
	}

	if n.cfg.Username != "" {
		if err := login(conn, n.cfg.Username, n.cfg.Password); err != nil {
			conn.Close()
			return nil, fmt.Errorf("mcsession: login to %s: %w", address,
				err)
		}
	}
	return conn, nil
}

// tlsConfig returns cfg with ServerName set to the host of address when
// cfg leaves it empty, as tls.Dial would.
func tlsConfig(cfg *tls.Config, address string) *tls.Config {
	if cfg.ServerName != "" {
		return cfg
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return cfg // a Unix socket: the handshake says what is missing
	}
	cfg = cfg.Clone()
	cfg.ServerName = host
	return cfg
}

// login sends memcached's ASCII authentication: a set whose data is the
// user and password, answered STORED when the node accepts them. The
// set expires at once, so a node that does not check credentials never
// serves them back.
func login(conn net.Conn, user, password string) error {
	cred := user + " " + password
	_, err := fmt.Fprintf(conn, "set %s 0 -1 %d\r\n%s\r\n", loginKey,
		len(cred), cred)
	if err != nil {
		return err
	}

	// memcached sends nothing unasked, so the reader takes no byte
	// beyond this reply.
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	switch line = strings.TrimSpace(line); line {
	case "STORED":
		return nil
	case "CLIENT_ERROR authentication failure":
		return errAuthFailed
	}
	return fmt.Errorf("unexpected reply %.60q", line)
}
