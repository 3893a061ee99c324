package main

import (
	"context"
	"encoding/binary"

	"github.com/alexedwards/scs/goredisstore"
	"github.com/alexedwards/scs/redisstore"
	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"
	goredis "github.com/redis/go-redis/v9"

	"github.com/mcsession/mcsession/scsstore"
)

// scsClient is a browser with one scs session. Every request goes
// through the SessionManager, as the LoadAndSave middleware does: Load
// with the token from the last response, then Commit, so each store
// pays for the manager's own encoding too.
type scsClient struct {
	sm    *scs.SessionManager
	size  int
	token string
	n     uint64 // the count stored in the value's first 8 bytes
}

// newSCSClient returns a client whose session was committed once with a
// value of size bytes.
func newSCSClient(sm *scs.SessionManager, size int) (*scsClient, error) {
	c := &scsClient{sm: sm, size: size}
	ctx, err := sm.Load(context.Background(), "")
	if err != nil {
		return nil, err
	}
	sm.Put(ctx, "v", newValue(size))
	c.token, _, err = sm.Commit(ctx)
	return c, err
}

// request loads the session, checks and increments the count in its
// value, and commits it.
func (c *scsClient) request() error {
	ctx, err := c.sm.Load(context.Background(), c.token)
	if err != nil {
		return err
	}

	v := c.sm.GetBytes(ctx, "v")
	if len(v) != c.size || binary.LittleEndian.Uint64(v) != c.n {
		return errLost
	}
	binary.LittleEndian.PutUint64(v, c.n+1)
	c.sm.Put(ctx, "v", v)
	if c.token, _, err = c.sm.Commit(ctx); err != nil {
		return err
	}

	c.n++
	return nil
}

// scsTargets returns the scs stores to compare: ours over one node,
// three nodes, and three nodes with two replicas, and the stores an scs
// app would pick instead.
func scsTargets(env *environment) []*target {
	ours := func(name string, servers []string, replicas int,
		codec scs.Codec) *target {
		_, compact := codec.(scsstore.CompactCodec)
		return &target{name: name, side: sideSCS, ours: true,
			compact: compact,
			open: func() (any, func(), error) {
				s, err := scsstore.NewStore(scsstore.Config{
					Servers: servers, Replicas: replicas})
				if err != nil {
					return nil, nil, err
				}
				return manager(s, codec), func() { s.Close() }, nil
			}}
	}
	redigo := func(name string, codec scs.Codec) *target {
		_, compact := codec.(scsstore.CompactCodec)
		return &target{name: name, side: sideSCS, redis: true,
			compact: compact,
			open: func() (any, func(), error) {
				pool := newRedigoPool(env.redis, 64)
				return manager(redisstore.New(pool), codec),
					func() { pool.Close() }, nil
			}}
	}
	gob, compact := scs.GobCodec{}, scsstore.CompactCodec{}
	return []*target{
		ours("scsstore, 1 node", env.memcached[:1], 1, gob),
		ours("scsstore, 1 node, CompactCodec", env.memcached[:1], 1, compact),
		ours("scsstore, 3 nodes", env.memcached, 1, gob),
		ours("scsstore, 3 nodes, Replicas 2", env.memcached, 2, gob),
		redigo("redisstore (redigo)", gob),
		redigo("redisstore (redigo), CompactCodec", compact),
		{name: "goredisstore (go-redis)", side: sideSCS, redis: true,
			open: func() (any, func(), error) {
				rc := goredis.NewClient(&goredis.Options{Addr: env.redis})
				return manager(goredisstore.New(rc), gob),
					func() { rc.Close() }, nil
			}},
		{name: "memstore (in process)", side: sideSCS, local: true,
			open: func() (any, func(), error) {
				ms := memstore.NewWithCleanupInterval(0)
				return manager(ms, gob), func() {}, nil
			}},
	}
}

// manager returns a SessionManager with scs's defaults over store,
// but for its codec.
func manager(store scs.Store, codec scs.Codec) *scs.SessionManager {
	sm := scs.New()
	sm.Store = store
	sm.Codec = codec
	return sm
}
