package main

import (
	"fmt"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/bradfitz/gomemcache/memcache"
	"github.com/gorilla/sessions"
)

// The sides of the comparison: gorilla stores with gorilla stores, scs
// stores with scs stores, and the floor that bounds both.
const (
	sideFloor   = "floor"
	sideGorilla = "gorilla"
	sideSCS     = "scs"
)

// environment is the servers the stores run against.
type environment struct {
	memcached []string // three nodes; single-node stores use the first
	// memcachedArgs are the flags given to memcached beyond address and
	// user.
	memcachedArgs []string
	redis         string
	servers       []*server
	stopOnce      sync.Once
}

// startEnvironment starts three memcached servers, with the extra flags
// in memcachedArgs, and a redis-server.
func startEnvironment(memcachedArgs []string) (*environment, error) {
	env := &environment{memcachedArgs: memcachedArgs}
	for range 3 {
		s, err := startMemcached(memcachedArgs)
		if err != nil {
			env.stop()
			return nil, fmt.Errorf("memcached: %w (run.sh installs it)", err)
		}
		env.servers = append(env.servers, s)
		env.memcached = append(env.memcached, s.addr)
	}

	s, err := startRedis()
	if err != nil {
		env.stop()
		return nil, fmt.Errorf("redis-server: %w (run.sh installs it)", err)
	}
	env.servers = append(env.servers, s)
	env.redis = s.addr
	return env, nil
}

// serverCPU returns the CPU time all the servers have used.
func (env *environment) serverCPU() time.Duration {
	var sum time.Duration
	for _, s := range env.servers {
		sum += s.cpu()
	}
	return sum
}

// stop kills every server. Calls after the first do nothing.
func (env *environment) stop() {
	env.stopOnce.Do(func() {
		for _, s := range env.servers {
			s.stop()
		}
	})
}

// targets returns the floor, then the gorilla stores, then the scs
// stores.
func (env *environment) targets() []*target {
	ts := []*target{floorTarget(env)}
	ts = append(ts, gorillaTargets(env)...)
	return append(ts, scsTargets(env)...)
}

// target is one store in one configuration.
type target struct {
	name  string
	side  string
	ours  bool // one of mcsession's stores
	redis bool // backed by the Redis server
	local bool // keeps sessions on one machine, not shared by app servers

	// compact is set for the stores that encode values with mcsession's
	// compact encoding instead of gob. The targets compare each of ours
	// with the peers that encode alike.
	compact bool

	// open returns the store, ready for clients (a sessions.Store, an
	// *scs.SessionManager or a *memcache.Client), and a function that
	// releases it.
	open func() (any, func(), error)

	// why, when set, turns an error in setting up a session into the
	// reason the store cannot run the cell, or returns "" when the error
	// is not one it expects.
	why func(error) string
}

// peer reports whether t is a store a user would pick instead of ours.
func (t *target) peer() bool { return !t.ours && t.side != sideFloor }

// newClient returns a client of store with a session of size bytes.
func newClient(store any, size int) (client, error) {
	switch s := store.(type) {
	case *memcache.Client:
		return newFloorClient(s, size)
	case sessions.Store:
		return newGorillaClient(s, size)
	case *scs.SessionManager:
		return newSCSClient(s, size)
	}
	panic(fmt.Sprintf("bench: no client for %T", store))
}

// runCells measures every target with conc clients, each with a session
// of size bytes, for d in all. It opens every target first, and warms
// each up; then it runs the targets in turn, rounds times, for d/rounds
// each time, going back and forth through the list. So a burst of load
// from outside the benchmark falls on all of them, not on a few, and
// two runs rank the stores alike.
func runCells(env *environment, targets []*target, size, conc int,
	warmup, d time.Duration, rounds int) []result {
	results := make([]result, len(targets))
	tallies := make([]tally, len(targets))
	clients := make([][]client, len(targets))
	for i, t := range targets {
		cs, release, err := openClients(t, size, conc)
		if err != nil {
			results[i].unavailable = reason(t, err)
			continue
		}
		defer release()
		clients[i] = cs
		run(cs, warmup, nil)
	}

	for r := range rounds {
		for k := range targets {
			i := k
			if r%2 == 1 {
				i = len(targets) - 1 - k
			}
			if clients[i] != nil {
				tallies[i].measure(clients[i], d/time.Duration(rounds),
					env.serverCPU)
			}
		}
	}

	for i := range targets {
		if clients[i] != nil {
			results[i] = tallies[i].result()
		}
	}
	return results
}

// openClients opens t and gives each of conc clients a session of size
// bytes.
func openClients(t *target, size, conc int) ([]client, func(), error) {
	store, release, err := t.open()
	if err != nil {
		return nil, nil, err
	}

	clients := make([]client, conc)
	for i := range clients {
		if clients[i], err = newClient(store, size); err != nil {
			release()
			return nil, nil, err
		}
	}
	return clients, release, nil
}

// reason returns what RESULTS.md says instead of the figures of a cell
// that t could not set up because of err.
func reason(t *target, err error) string {
	if t.why != nil {
		if r := t.why(err); r != "" {
			return r
		}
	}
	return "failed: " + err.Error()
}
