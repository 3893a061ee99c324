package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/boj/redistore"
	"github.com/gomodule/redigo/redis"
	"github.com/gorilla/sessions"

	"github.com/mcsession/mcsession/gorillastore"
)

// cookieName is the name of every benchmarked session and its cookie.
const cookieName = "bench"

// cookieKey signs the cookies of every gorilla store. It authenticates
// without encrypting, as sessions.NewCookieStore(key) does.
var cookieKey = []byte("0123456789abcdef0123456789abcdef")

var benchURL = &url.URL{Scheme: "http", Host: "bench", Path: "/"}

// gorillaClient is a browser with one gorilla session. It carries the
// session's cookie from one request to the next, as a browser would.
type gorillaClient struct {
	store  sessions.Store
	size   int
	cookie []string // the Cookie header: "name=value", or none
	n      uint64   // the count stored in the value's first 8 bytes
}

// newGorillaClient returns a client whose session was saved once with a
// value of size bytes.
func newGorillaClient(store sessions.Store, size int) (*gorillaClient,
	error) {
	c := &gorillaClient{store: store, size: size}
	r, w := c.newRequest()
	s, err := store.Get(r, cookieName)
	if err != nil {
		return nil, err
	}
	s.Values["v"] = newValue(size)
	if err := s.Save(r, w); err != nil {
		return nil, err
	}
	return c, c.keepCookie(w)
}

// request loads the session, checks and increments the count in its
// value, and saves it.
func (c *gorillaClient) request() error {
	r, w := c.newRequest()
	s, err := c.store.Get(r, cookieName)
	if err != nil {
		return err
	}

	v, _ := s.Values["v"].([]byte)
	if s.IsNew || len(v) != c.size || binary.LittleEndian.Uint64(v) != c.n {
		return errLost
	}
	binary.LittleEndian.PutUint64(v, c.n+1)
	s.Values["v"] = v
	if err := s.Save(r, w); err != nil {
		return err
	}

	c.n++
	return c.keepCookie(w)
}

// newRequest returns a GET request carrying the client's cookie, and a
// recorder for its response.
func (c *gorillaClient) newRequest() (*http.Request,
	*httptest.ResponseRecorder) {
	r := &http.Request{Method: http.MethodGet, URL: benchURL,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{}, Host: benchURL.Host}
	if c.cookie != nil {
		r.Header["Cookie"] = c.cookie
	}
	return r, httptest.NewRecorder()
}

// keepCookie takes the name=value part of the session cookie that w
// set, for the next request.
func (c *gorillaClient) keepCookie(w *httptest.ResponseRecorder) error {
	for _, line := range w.Header()["Set-Cookie"] {
		pair, _, _ := strings.Cut(line, ";")
		if strings.HasPrefix(pair, cookieName+"=") {
			c.cookie = []string{pair}
			return nil
		}
	}
	return errors.New("no session cookie in the response")
}

// newValue returns size bytes of a fixed pattern, starting with a count
// of 0.
func newValue(size int) []byte {
	v := make([]byte, size)
	for i := 8; i < size; i++ {
		v[i] = byte('a' + i%26)
	}
	return v
}

// gorillaTargets returns the gorilla stores to compare: ours over one
// node, three nodes, and three nodes with two replicas, and the stores
// a gorilla app would pick instead.
func gorillaTargets(env *environment) []*target {
	ours := func(name string, servers []string, replicas int,
		sz gorillastore.Serializer) *target {
		_, compact := sz.(gorillastore.CompactSerializer)
		return &target{name: name, side: sideGorilla, ours: true,
			compact: compact,
			open: func() (any, func(), error) {
				s, err := gorillastore.NewStore(gorillastore.Config{
					Servers: servers, Replicas: replicas}, cookieKey)
				if err != nil {
					return nil, nil, err
				}
				s.Serializer = sz
				return s, func() { s.Close() }, nil
			}}
	}
	gob, compact := gorillastore.GobSerializer{},
		gorillastore.CompactSerializer{}
	return []*target{
		ours("gorillastore, 1 node", env.memcached[:1], 1, gob),
		ours("gorillastore, 1 node, CompactSerializer", env.memcached[:1],
			1, compact),
		ours("gorillastore, 3 nodes", env.memcached, 1, gob),
		ours("gorillastore, 3 nodes, Replicas 2", env.memcached, 2, gob),
		{name: "sessions.CookieStore", side: sideGorilla,
			open: func() (any, func(), error) {
				return sessions.NewCookieStore(cookieKey), func() {}, nil
			},
			why: func(err error) string {
				if strings.Contains(err.Error(), "too long") {
					return "n/a (cookie limit)"
				}
				return ""
			}},
		{name: "sessions.FilesystemStore", side: sideGorilla, local: true,
			open: openFilesystemStore},
		{name: "redistore (NewRediStore)", side: sideGorilla, redis: true,
			open: func() (any, func(), error) {
				return openRediStore(env.redis, true, nil)
			}},
		{name: "redistore (pool, no PING)", side: sideGorilla, redis: true,
			open: func() (any, func(), error) {
				return openRediStore(env.redis, false, nil)
			}},
		{name: "redistore (pool, no PING), CompactSerializer",
			side: sideGorilla, redis: true, compact: true,
			open: func() (any, func(), error) {
				return openRediStore(env.redis, false, compact)
			}},
	}
}

// openFilesystemStore returns a FilesystemStore in a new temporary
// directory, without its default limit of 4096 bytes per session.
func openFilesystemStore() (any, func(), error) {
	dir, err := os.MkdirTemp("", "mcsession-bench-fs-")
	if err != nil {
		return nil, nil, err
	}
	s := sessions.NewFilesystemStore(dir, cookieKey)
	s.MaxLength(0)
	return s, func() { os.RemoveAll(dir) }, nil
}

// openRediStore returns a redistore over the Redis server at addr,
// without its default limit of 4096 bytes per session. With ping, it is
// made as the package's README shows, by NewRediStore, whose pool
// PINGs every connection it hands out; without, over a pool that does
// not, which saves a round trip per load and per save. A serializer
// other than nil replaces its default, gob.
func openRediStore(addr string, ping bool,
	sz redistore.SessionSerializer) (any, func(), error) {
	const size = 64 // idle connections, one per client at concurrency 64
	var (
		s   *redistore.RediStore
		err error
	)
	if ping {
		s, err = redistore.NewRediStore(size, "tcp", addr, "", "",
			cookieKey)
	} else {
		s, err = redistore.NewRediStoreWithPool(newRedigoPool(addr, size),
			cookieKey)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("redistore: %w", err)
	}
	s.SetMaxLength(0)
	if sz != nil {
		s.SetSerializer(sz)
	}
	return s, func() { s.Close() }, nil
}

// newRedigoPool returns a redigo pool to addr that keeps up to size idle
// connections and does not check them when handing them out.
func newRedigoPool(addr string, size int) *redis.Pool {
	return &redis.Pool{
		MaxIdle:     size,
		IdleTimeout: 240 * time.Second,
		Dial: func() (redis.Conn, error) {
			return redis.Dial("tcp", addr)
		},
	}
}
