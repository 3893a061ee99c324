package cluster

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/mcsession/mcsession/internal/seal"
)

// Defaults for the zero values of Config.
const (
	DefaultPrefix        = "mcs:"
	DefaultTimeout       = 500 * time.Millisecond
	DefaultMaxIdleConns  = 100
	DefaultFailureLimit  = 3
	DefaultRetryInterval = 5 * time.Second
	DefaultTTL           = 24 * time.Hour
)

// maxPrefix keeps every item key within Memcached's 250 bytes.
const maxPrefix = 250 - hashedIDLen

// Config configures a session store's Memcached cluster. It is shared by
// both store packages. A Config with only Servers set is a good
// production configuration: every zero value means the default stated on
// its field.
type Config struct {
	// Servers lists the Memcached nodes as "host:port", or a path for a
	// Unix socket. Host names are resolved again on every new connection,
	// so a node that moves to a new address is followed. Order does not
	// matter: placement depends only on the addresses and weights.
	Servers []string

	// Weights gives a server, by its string in Servers, a share of the
	// sessions relative to the others. Servers not in the map weigh 1.
	// A weight below 1, or a server not in Servers, is a configuration
	// error.
	Weights map[string]int

	// Replicas is the number of distinct nodes each session is written
	// to, 1 (the default) up to len(Servers).
	Replicas int

	// Prefix starts every item key, so that several applications can share
	// a cluster. The default is "mcs:". It must be a legal part of a
	// Memcached key (no spaces or control bytes) of at most 207 bytes.
	Prefix string

	// Timeout bounds each network round trip to a node, including the
	// connect. The default is 500ms.
	Timeout time.Duration

	// MaxIdleConns is the number of idle connections kept open to each
	// node. The default of 100 suits a busy web tier; connections beyond
	// it are closed after use.
	MaxIdleConns int

	// FailureLimit is the number of consecutive failures (refused or
	// timed-out connections) after which a node is ejected from the ring
	// and its sessions go to the next node. The default is 3.
	FailureLimit int

	// RetryInterval is how long an ejected node is left alone before it
	// is checked again in the background. The default is 5s.
	RetryInterval time.Duration

	// DefaultTTL is how long a session is kept when the session library
	// gives no lifetime (a gorilla session with MaxAge 0). The default is
	// 24 hours.
	DefaultTTL time.Duration

	// LocalFallback, when above zero, turns on a degraded mode: a write
	// that no replica could take is kept in this process's memory, in an
	// LRU of this many sessions, and served from there until a replica
	// answers again; it is written back to Memcached when a node rejoins
	// or on its next read, whichever comes first. Such sessions are
	// visible to this app server only: behind a load balancer, the other
	// servers see the session as it was before the outage. A delete that
	// no replica took still fails, but this server stops serving the
	// session. Off by default.
	LocalFallback int

	// Logger, when set, receives a line each time a node changes state:
	// ejected, still down at a retry, rejoined. Nothing else is logged,
	// and never a key or a value.
	Logger *slog.Logger

	// EncryptionKeys, when set, seal every stored value with AES-256-GCM,
	// bound to its item key: a reader of Memcached learns nothing from a
	// value, and a value changed in Memcached, or copied under another
	// session's key, is refused as ErrCorrupt (package seal has the
	// format). Each key is 16, 24 or 32 random bytes (32 is best). The
	// first key seals; every key opens, so to rotate, put a new key first
	// and drop the old one once the sessions it sealed have expired. Keep
	// the keys out of Memcached and out of the code. Off by default.
	EncryptionKeys [][]byte

	// AcceptPlaintext, with EncryptionKeys set, also accepts the unsealed
	// values written before sealing was turned on, so that turning it on
	// logs no one out. Values are always written sealed. Leave it on for
	// one session lifetime, then turn it off: while it is on, a writer to
	// Memcached can plant an unsealed session. Without EncryptionKeys it
	// does nothing.
	AcceptPlaintext bool

	// TLS, when set, encrypts the connections to every node (memcached
	// -Z) and checks the node's certificate against it. ServerName
	// defaults to the host of the server address; set it, or
	// InsecureSkipVerify, for a Unix socket. A failed handshake is an
	// error that says TLS and matches ErrUnavailable. The config is
	// copied by New and must not be changed after.
	TLS *tls.Config

	// Username and Password log in to nodes that require it (memcached
	// -Y with an auth file of "user:password" lines), on every new
	// connection. Neither may hold spaces or control bytes. A node that
	// refuses them fails with an error that says authentication failed
	// and matches ErrUnavailable, and so is ejected like a node that is
	// down, moving its sessions to nodes that accept the app. The login
	// is sent as a set whose item expires at once, so a node without -Y
	// keeps nothing readable. Without TLS the password crosses the
	// network in clear text.
	Username, Password string

	// sealer seals values; withDefaults builds it from EncryptionKeys.
	sealer *seal.Keys
}

// withDefaults validates c and returns it with defaults filled in.
func (c Config) withDefaults() (Config, error) {
	if len(c.Servers) == 0 {
		return c, errors.New("mcsession: no servers configured")
	}
	seen := make(map[string]bool, len(c.Servers))
	for _, s := range c.Servers {
		if s == "" || seen[s] {
			return c, fmt.Errorf("mcsession: empty or repeated server %q", s)
		}
		seen[s] = true
	}
	for s, w := range c.Weights {
		if !seen[s] || w < 1 {
			return c, fmt.Errorf("mcsession: Weights[%q] is %d; want 1 "+
				"or more, for a server in Servers", s, w)
		}
	}
	if c.Replicas < 0 || c.Replicas > len(c.Servers) {
		return c, fmt.Errorf("mcsession: Replicas is %d; want 1 to %d",
			c.Replicas, len(c.Servers))
	}
	if !legalKeyPart(c.Prefix) || len(c.Prefix) > maxPrefix {
		return c, fmt.Errorf("mcsession: Prefix %q is not a legal key "+
			"start of at most %d bytes", c.Prefix, maxPrefix)
	}
	if c.Timeout < 0 || c.RetryInterval < 0 || c.DefaultTTL < 0 {
		return c, errors.New("mcsession: negative duration in Config")
	}

	c.Replicas = orDefault(c.Replicas, 1)
	c.Prefix = orDefault(c.Prefix, DefaultPrefix)
	c.Timeout = orDefault(c.Timeout, DefaultTimeout)
	c.MaxIdleConns = orDefault(c.MaxIdleConns, DefaultMaxIdleConns)
	c.FailureLimit = orDefault(c.FailureLimit, DefaultFailureLimit)
	c.RetryInterval = orDefault(c.RetryInterval, DefaultRetryInterval)
	c.DefaultTTL = orDefault(c.DefaultTTL, DefaultTTL)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c.withSecurity()
}

// withSecurity validates the encryption keys, credentials and TLS config
// of c, and returns c ready to seal and to dial.
func (c Config) withSecurity() (Config, error) {
	if len(c.EncryptionKeys) > 0 {
		s, err := seal.New(c.EncryptionKeys)
		if err != nil {
			return c, fmt.Errorf("mcsession: EncryptionKeys: %w", err)
		}
		c.sealer = s
	}
	if !legalKeyPart(c.Username) || !legalKeyPart(c.Password) ||
		(c.Username == "" && c.Password != "") {
		return c, errors.New("mcsession: Username and Password must " +
			"have no spaces or control bytes, and a Password needs a " +
			"Username")
	}
	if c.TLS != nil {
		c.TLS = c.TLS.Clone()
	}
	return c, nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func legalKeyPart(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool {
		return r <= ' ' || r == 0x7f
	})
}
