package scsstore

import (
	"context"
	"errors"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/mcsession/mcsession/internal/cluster"
)

// Config configures the Memcached cluster behind a Store. Its fields and
// their defaults are listed in the README's Configuration table and
// documented on the type it aliases (go doc
// github.com/mcsession/mcsession/internal/cluster.Config); a Config with
// only Servers
// set is a good production configuration. DefaultTTL does not apply: scs
// gives every session its expiry.
type Config = cluster.Config

// Errors returned by a Store, usually wrapped in a *NodeError that names
// the node. Match them with errors.Is. A session that is not found is
// never an error.
var (
	// ErrTooLarge means the session is larger than a node's item size
	// limit (memcached -I). Nothing was written and the session stored
	// before is unchanged.
	ErrTooLarge = cluster.ErrTooLarge

	// ErrServer means a node answered with an error of its own, for
	// example SERVER_ERROR when it is out of memory.
	ErrServer = cluster.ErrServer

	// ErrUnavailable means a node could not be reached in time, or no
	// node was left to try.
	ErrUnavailable = cluster.ErrUnavailable
)

// NodeError is an error about one node: its address, the operation and
// one of ErrTooLarge, ErrServer or ErrUnavailable. Get it from an error
// with errors.As.
type NodeError = cluster.NodeError

// errBadToken is returned by Commit for a token that Find would never
// look up.
var errBadToken = errors.New("mcsession: token cannot name a session: " +
	"empty, over 250 bytes, or holding spaces or control bytes")

// Store is an scs session store over a Memcached cluster. It implements
// scs.Store and scs.CtxStore, but not scs.IterableStore (see the package
// documentation). It is safe for concurrent use.
//
// The Ctx methods check their context before each round trip to a node
// and return its error once it is done. gomemcache cannot cancel a round
// trip already on the wire, so one that has started runs to its end,
// bounded by Config.Timeout (500ms by default). The methods without a
// context use context.Background.
type Store struct {
	c *cluster.Cluster
}

var (
	_ scs.Store    = (*Store)(nil)
	_ scs.CtxStore = (*Store)(nil)
)

// New returns a Store over the Memcached servers given as "host:port" (or
// a Unix socket path), with every other setting at its default. It does
// no network I/O. It panics with the configuration error when the list is
// invalid: empty, or with a server that is "" or repeated. Use NewStore to
// get the error instead.
func New(servers ...string) *Store {
	s, err := NewStore(Config{Servers: servers})
	if err != nil {
		panic(err)
	}
	return s
}

// NewStore returns a Store over the cluster that cfg describes. It does
// no network I/O: nodes are dialled on first use. It fails only for an
// invalid cfg.
func NewStore(cfg Config) (*Store, error) {
	c, err := cluster.New(cfg)
	if err != nil {
		return nil, err
	}
	return &Store{c: c}, nil
}

// Close closes the idle connections to every node. The Store must not be
// used after.
func (s *Store) Close() error { return s.c.Close() }

// Find returns the data of the session token. See FindCtx.
func (s *Store) Find(token string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), token)
}

// Commit stores the session token. See CommitCtx.
func (s *Store) Commit(token string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, b, expiry)
}

// Delete removes the session token. See DeleteCtx.
func (s *Store) Delete(token string) error {
	return s.DeleteCtx(context.Background(), token)
}

// FindCtx returns the data of the session token. A token that was never
// stored, has expired, was deleted or is malformed gives found == false
// and a nil error, and so does an item in Memcached that is not a session
// written by this package. A token that could not be a Memcached key is
// answered without a round trip. err is non-nil only for a failure of the
// system: no node that holds the session answered, or ctx is done.
func (s *Store) FindCtx(ctx context.Context, token string) (b []byte,
	found bool, err error) {
	if !validToken(token) {
		return nil, false, nil
	}

	b, found, err = s.c.Get(ctx, token)
	if errors.Is(err, cluster.ErrCorrupt) {
		return nil, false, nil
	}
	return b, found, err
}

// CommitCtx stores b as the session token until expiry, replacing any
// data and expiry stored before. An expiry in the past or less than a
// second away deletes the session instead. A session too large for a
// node gives an error matching ErrTooLarge and leaves the stored one as
// it was. A token that FindCtx would refuse is an error.
func (s *Store) CommitCtx(ctx context.Context, token string, b []byte,
	expiry time.Time) error {
	if !validToken(token) {
		return errBadToken
	}
	return s.c.Set(ctx, token, b, expiry)
}

// DeleteCtx removes the session token. Deleting a session that does not
// exist, or a token that FindCtx would refuse, is not an error. It fails,
// and the session may still be found, when the session's home node could
// not be reached.
func (s *Store) DeleteCtx(ctx context.Context, token string) error {
	if !validToken(token) {
		return nil
	}
	return s.c.Delete(ctx, token)
}

// validToken reports whether token could be a Memcached key: 1 to 250
// bytes, none of them a space, a control byte or DEL. Tokens made by scs,
// 43 bytes of URL-safe base64 whether hashed or not, always are.
func validToken(token string) bool { return cluster.ValidID(token) }

// Nodes returns the addresses of the nodes that the session token is
// written to now, its primary first: the first Config.Replicas live nodes
// after it on the ring. It does no network I/O. With HashTokenInStore set,
// pass the hashed token, as the store sees it.
func (s *Store) Nodes(token string) []string { return s.c.Replicas(token) }
