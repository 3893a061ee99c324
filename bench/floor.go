package main

import (
	"encoding/binary"
	"strconv"
	"sync/atomic"

	"github.com/bradfitz/gomemcache/memcache"
)

// floorClient does the least any Memcached-backed store must do per
// request: one get and one set of the session's bytes, on one node, with
// gomemcache and nothing around it.
type floorClient struct {
	mc   *memcache.Client
	key  string
	size int
	n    uint64
}

var floorKeys atomic.Int64

// newFloorClient stores a value of size bytes under a key of its own.
func newFloorClient(mc *memcache.Client, size int) (*floorClient, error) {
	c := &floorClient{mc: mc, size: size,
		key: "floor:" + strconv.FormatInt(floorKeys.Add(1), 10)}
	return c, mc.Set(&memcache.Item{Key: c.key, Value: newValue(size)})
}

func (c *floorClient) request() error {
	it, err := c.mc.Get(c.key)
	if err != nil {
		return err
	}

	v := it.Value
	if len(v) != c.size || binary.LittleEndian.Uint64(v) != c.n {
		return errLost
	}
	binary.LittleEndian.PutUint64(v, c.n+1)
	if err := c.mc.Set(&memcache.Item{Key: c.key, Value: v}); err != nil {
		return err
	}

	c.n++
	return nil
}

// floorTarget returns the floor over the first memcached node, with as
// many idle connections as our stores keep by default, so that it pays
// no dial per request at concurrency 64.
func floorTarget(env *environment) *target {
	return &target{name: "floor: gomemcache get + set", side: sideFloor,
		open: func() (any, func(), error) {
			mc := memcache.New(env.memcached[0])
			mc.MaxIdleConns = 100
			return mc, func() { mc.Close() }, nil
		}}
}
