package gorillastore

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"

	"github.com/mcsession/mcsession/internal/cluster"
)

// Config configures the Memcached cluster behind a Store: servers,
// replicas, key prefix, timeouts, and DefaultTTL, how long the server
// keeps a session whose MaxAge is 0. A Config with only Servers set is a
// good production configuration. The README's Configuration table lists
// every field; go doc github.com/mcsession/mcsession/internal/cluster.Config
// documents them.
type Config = cluster.Config

// Errors returned by Store methods, usually inside a *NodeError that
// names the node. Match them with errors.Is.
var (
	// ErrTooLarge means a session is larger than a node's item size
	// limit (memcached -I). Save wrote nothing: the stored session and
	// the cookie are as they were.
	ErrTooLarge = cluster.ErrTooLarge

	// ErrServer means a node answered with an error of its own, for
	// example SERVER_ERROR when it is out of memory.
	ErrServer = cluster.ErrServer

	// ErrUnavailable means a node could not be reached in time, or no
	// node was left to try.
	ErrUnavailable = cluster.ErrUnavailable

	// ErrCorrupt means the item stored for a session was not written by
	// mcsession: garbage, or a value damaged in Memcached. New returns it
	// with a new, empty session, which Save stores under a fresh ID.
	ErrCorrupt = cluster.ErrCorrupt
)

// NodeError is an error about one Memcached node: its address, the
// operation and one of the errors above, which it matches with
// errors.Is. Get it from an error with errors.As.
type NodeError = cluster.NodeError

// idLen is the number of random bytes in a session ID.
const idLen = 32

// errBadID is the error for a cookie that decodes, signed with one of
// the store's keys, but holds no session ID: a cookie of the same name
// set by another store, sessions.CookieStore say, with the same key.
var errBadID = errors.New("mcsession: cookie holds no session ID")

var _ sessions.Store = (*Store)(nil)

// Store keeps gorilla sessions in Memcached. The cookie holds only the
// session ID, signed (and encrypted when the key pair has an encryption
// key) by Codecs; the values live on the nodes of the cluster.
//
// A Store is safe for concurrent use once its fields are set. Change
// Codecs, Options and Serializer before serving requests, not during.
type Store struct {
	// Codecs sign, and optionally encrypt, the session ID in the cookie.
	// The first codec encodes; every codec is tried to decode, so that
	// keys can be rotated.
	Codecs []securecookie.Codec

	// Options are the defaults copied into every new session. They
	// start as Path "/", MaxAge 30 days, Secure, HttpOnly and
	// SameSite=Lax.
	Options *sessions.Options

	// Serializer turns a session's values into the bytes stored in
	// Memcached and back. It starts as GobSerializer; nil means
	// GobSerializer too.
	Serializer Serializer

	cluster    *cluster.Cluster
	defaultTTL time.Duration
}

// New returns a Store over the Memcached servers ("host:port"), with
// keyPairs as in sessions.NewCookieStore: an authentication key, then
// an optional encryption key of 16, 24 or 32 bytes, then older pairs
// still accepted in cookies. It is the one-line replacement for
// sessions.NewCookieStore.
//
// New does no network I/O. It panics when servers is empty or repeats
// a server, or when a key pair is unusable, because that is a mistake
// in the program; use NewStore to get an error instead.
func New(servers []string, keyPairs ...[]byte) *Store {
	s, err := NewStore(Config{Servers: servers}, keyPairs...)
	if err != nil {
		panic(err)
	}
	return s
}

// NewStore returns a Store over the cluster that cfg describes, with
// keyPairs as for New. It does no network I/O, and fails only for an
// invalid cfg or for key pairs that securecookie cannot use (no pairs,
// a missing authentication key, an encryption key of the wrong length).
func NewStore(cfg Config, keyPairs ...[]byte) (*Store, error) {
	codecs, err := codecsFromPairs(keyPairs)
	if err != nil {
		return nil, err
	}

	c, err := cluster.New(cfg)
	if err != nil {
		return nil, err
	}

	s := &Store{
		Codecs: codecs,
		Options: &sessions.Options{Path: "/", MaxAge: 86400 * 30,
			Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode},
		Serializer: GobSerializer{},
		cluster:    c,
		defaultTTL: c.Config().DefaultTTL,
	}
	s.MaxAge(s.Options.MaxAge)
	return s, nil
}

// codecsFromPairs builds the codecs for keyPairs and checks that each of
// them can encode a cookie. They put the ID's bytes in the cookie as
// they are, not gob-encoded as securecookie does by default, which
// would cost a fresh gob encoder and decoder per request.
func codecsFromPairs(keyPairs [][]byte) ([]securecookie.Codec, error) {
	if len(keyPairs) == 0 {
		return nil, errors.New("mcsession: no cookie key pairs given")
	}

	codecs := securecookie.CodecsFromPairs(keyPairs...)
	for i, c := range codecs {
		c.(*securecookie.SecureCookie).SetSerializer(securecookie.NopEncoder{})
		if _, err := c.Encode("mcsession", []byte("probe")); err != nil {
			return nil, fmt.Errorf("mcsession: cookie key pair %d: %w",
				i+1, err)
		}
	}
	return codecs, nil
}

// Get returns the session called name for r, through the request's
// sessions.Registry: the first call per request loads it, later calls
// return the same session. See New for what it returns on a miss or an
// error.
func (s *Store) Get(r *http.Request, name string) (*sessions.Session,
	error) {
	return sessions.GetRegistry(r).Get(s, name)
}

// New loads the session called name from Memcached, using the ID in
// r's cookie of that name, without adding it to the registry. It never
// returns a nil session.
//
// Without a cookie, or when the session has expired or was deleted, it
// returns a new, empty session (IsNew) and no error. A cookie that fails
// to decode (tampered, signed with a retired key) gives a new session and
// securecookie's error, as sessions.CookieStore does, and Memcached is
// not asked. When the cluster fails (ErrUnavailable, ErrCorrupt) or the
// stored values do not deserialize, New returns a new, empty session and
// the error. A new session has no ID until it is saved.
func (s *Store) New(r *http.Request, name string) (*sessions.Session,
	error) {
	session := sessions.NewSession(s, name)
	opts := *s.Options
	session.Options = &opts
	session.IsNew = true

	id, err := s.cookieID(r, name)
	if id == "" || err != nil {
		return session, err
	}
	return session, s.load(r.Context(), id, session)
}

// cookieID returns the session ID in r's cookie called name: "" without
// such a cookie, securecookie's error for one that does not decode, and
// errBadID for one that holds something else.
func (s *Store) cookieID(r *http.Request, name string) (string, error) {
	c, err := r.Cookie(name)
	if err != nil {
		return "", nil
	}

	var id []byte
	err = securecookie.DecodeMulti(name, c.Value, &id, s.Codecs...)
	if err != nil {
		return "", err
	}
	if !cluster.ValidID(string(id)) {
		return "", errBadID
	}
	return string(id), nil
}

// load fills the new session with what is stored for id, and gives it
// the ID when that worked.
func (s *Store) load(ctx context.Context, id string,
	session *sessions.Session) error {
	value, found, err := s.cluster.Get(ctx, id)
	if err != nil || !found {
		return err
	}

	if err := s.serializer().Deserialize(value, session); err != nil {
		session.Values = make(map[any]any)
		return err
	}
	session.ID = id
	session.IsNew = false
	return nil
}

// Save writes session to Memcached and sets its cookie on w. A session
// without an ID gets a fresh random one.
//
// The session's Options.MaxAge sets its lifetime: above 0 the server
// keeps it for MaxAge seconds (2 at least), as long as the cookie lives;
// 0 makes a browser-session cookie while the server keeps the session
// for Config.DefaultTTL; below 0 deletes the session from Memcached and
// expires the cookie. Deleting a session that is already gone is not an
// error. A session that New could not load is deleted under the ID in r's
// cookie, so that a logout reaches the stored copy even then, or fails.
//
// When Save fails (the values cannot be serialized, the session is too
// large, a node is unavailable) it returns the error and sets no cookie,
// and the copy in Memcached is left as it was, except that a failed
// delete may have reached some replicas.
func (s *Store) Save(r *http.Request, w http.ResponseWriter,
	session *sessions.Session) error {
	if session.Options.MaxAge < 0 {
		return s.erase(r, w, session)
	}

	value, err := s.serializer().Serialize(session)
	if err != nil {
		return err
	}

	id := session.ID
	if id == "" {
		id = newID()
	}
	if !cluster.ValidID(id) {
		return fmt.Errorf("mcsession: session ID %q: want 1 to %d bytes, "+
			"no spaces or control bytes", id, cluster.MaxID)
	}
	encoded, err := securecookie.EncodeMulti(session.Name(), []byte(id),
		s.Codecs...)
	if err != nil {
		return err
	}

	expiresAt := time.Now().Add(lifetime(session.Options.MaxAge,
		s.defaultTTL))
	if err := s.cluster.Set(r.Context(), id, value, expiresAt); err != nil {
		return err
	}

	session.ID = id
	http.SetCookie(w, sessions.NewCookie(session.Name(), encoded,
		session.Options))
	return nil
}

// erase deletes session from Memcached and expires its cookie.
func (s *Store) erase(r *http.Request, w http.ResponseWriter,
	session *sessions.Session) error {
	if err := s.forget(r, session); err != nil {
		return err
	}

	session.ID = ""
	http.SetCookie(w, sessions.NewCookie(session.Name(), "",
		session.Options))
	return nil
}

// RenewID deletes the stored copy of session and gives it a fresh ID;
// the next Save stores the session under that ID and sends the new
// cookie. Call it when a user logs in, so that an ID planted in the
// browser before login (session fixation) is worthless after it.
//
// When the delete fails, RenewID returns the error and the session keeps
// its ID: do not complete the login. Like a logout, RenewID deletes a
// session that New could not load under the ID in r's cookie.
func (s *Store) RenewID(r *http.Request, session *sessions.Session) error {
	if err := s.forget(r, session); err != nil {
		return err
	}

	session.ID = newID()
	return nil
}

// forget deletes the stored copy of session: under its ID, or when it
// has none (New could not load it), under the ID in r's cookie, if any.
func (s *Store) forget(r *http.Request, session *sessions.Session) error {
	id := session.ID
	if id == "" {
		id, _ = s.cookieID(r, session.Name())
	}
	if id == "" {
		return nil
	}
	return s.cluster.Delete(r.Context(), id)
}

// MaxAge sets the default MaxAge of new sessions to age seconds, and the
// age past which the securecookie codecs refuse a cookie. The codecs
// check the time a cookie was last saved against the store's MaxAge, not
// the session's: a session given a longer Options.MaxAge is refused once
// it has not been saved for the store's MaxAge, so set the longest
// lifetime you use here.
func (s *Store) MaxAge(age int) {
	s.Options.MaxAge = age

	for _, c := range s.Codecs {
		if sc, ok := c.(*securecookie.SecureCookie); ok {
			sc.MaxAge(age)
		}
	}
}

// Close closes the idle connections to the Memcached nodes. The Store
// must not be used after.
func (s *Store) Close() error {
	return s.cluster.Close()
}

// Nodes returns the addresses of the nodes that the session id (a
// session's ID field) is written to now, its primary first: the first
// Config.Replicas live nodes after it on the ring. It does no network
// I/O.
func (s *Store) Nodes(id string) []string {
	return s.cluster.Replicas(id)
}

func (s *Store) serializer() Serializer {
	if s.Serializer == nil {
		return GobSerializer{}
	}
	return s.Serializer
}

// key returns the Memcached key of the session id, for tests.
func (s *Store) key(id string) string {
	return s.cluster.Key(id)
}

// minLifetime is the shortest time the server keeps a session. The
// cluster deletes instead of storing a session with less than a second
// left, and part of the first second is gone by the time it checks.
const minLifetime = 2 * time.Second

// lifetime returns how long the server keeps a session whose cookie has
// the given positive or zero MaxAge: at least minLifetime, and capped at
// what Memcached can express (2038).
func lifetime(maxAge int, defaultTTL time.Duration) time.Duration {
	switch {
	case maxAge == 0:
		return defaultTTL
	case int64(maxAge) > math.MaxInt32:
		return math.MaxInt32 * time.Second
	}
	return max(time.Duration(maxAge)*time.Second, minLifetime)
}

// newID returns a random session ID: 32 bytes from crypto/rand as
// unpadded URL-safe base64.
func newID() string {
	b := make([]byte, idLen)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
