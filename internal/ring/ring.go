// Package ring places keys on servers with weighted ketama consistent
// hashing, the MD5 variant of libmemcached's KETAMA_WEIGHTED distribution
// (and of twemproxy's "distribution: ketama, hash: md5"). Given the same
// servers and weights, a Ring and those clients pick the same server for
// every key.
//
// A Ring is immutable, does no I/O and is safe for concurrent use.
package ring

import (
	"crypto/md5"
	"encoding/binary"
	"math"
	"slices"
	"strconv"
	"strings"
)

// pointsPerGroup is the number of ring points one MD5 digest yields.
const pointsPerGroup = 4

// groupsPerServer is the number of digests an average-weight server gets
// (libmemcached's 160 points per server, four points per digest).
const groupsPerServer = 40

// Server is one member of a ring.
type Server struct {
	// Addr is the server's address as "host:port". The port 11211 is
	// left out of the string the server's points are hashed from, as
	// libmemcached does.
	Addr string

	// Weight is the server's share of the keys relative to the others.
	// A weight of zero or less counts as 1.
	Weight int
}

type point struct {
	hash   uint32
	server int
}

// Ring maps key hashes to servers.
type Ring struct {
	points []point
	n      int
}

// New builds the ring for servers. Servers are identified by their index
// in the slice in every later answer.
func New(servers []Server) *Ring {
	total := 0
	for _, s := range servers {
		total += weight(s)
	}

	r := &Ring{n: len(servers)}
	for i, s := range servers {
		share := float64(weight(s)) / float64(total)
		groups := int(math.Floor(
			share*groupsPerServer*float64(len(servers)) + 1e-10))
		for k := 0; k < groups; k++ {
			r.addGroup(i, pointName(s.Addr, k))
		}
	}

	slices.SortStableFunc(r.points, func(a, b point) int {
		return int64Sign(int64(a.hash) - int64(b.hash))
	})
	return r
}

func (r *Ring) addGroup(server int, name string) {
	sum := md5.Sum([]byte(name))
	for i := 0; i < pointsPerGroup; i++ {
		h := binary.LittleEndian.Uint32(sum[i*4:])
		r.points = append(r.points, point{hash: h, server: server})
	}
}

// pointName is the string hashed for group k of a server.
func pointName(addr string, k int) string {
	host, found := strings.CutSuffix(addr, ":11211")
	if found {
		return host + "-" + strconv.Itoa(k)
	}
	return addr + "-" + strconv.Itoa(k)
}

func weight(s Server) int {
	return max(s.Weight, 1)
}

func int64Sign(d int64) int {
	switch {
	case d < 0:
		return -1
	case d > 0:
		return 1
	}
	return 0
}

// maxKeyLen is memcached's limit on the length of a key.
const maxKeyLen = 250

// Hash returns the ring hash of key: the first four bytes of its MD5
// digest, read little-endian. It allocates nothing for a key that
// memcached accepts, which is at most 250 bytes.
func Hash(key string) uint32 {
	var sum [md5.Size]byte
	if len(key) <= maxKeyLen {
		var buf [maxKeyLen]byte
		sum = md5.Sum(buf[:copy(buf[:], key)])
	} else {
		sum = md5.Sum([]byte(key))
	}
	return binary.LittleEndian.Uint32(sum[:4])
}

// Len returns the number of servers on the ring.
func (r *Ring) Len() int { return r.n }

// Point returns the index of the first ring point at or after hash,
// wrapping past the end. It is what Lookup walks from.
func (r *Ring) Point(hash uint32) int {
	i, _ := slices.BinarySearchFunc(r.points, hash,
		func(p point, h uint32) int { return int64Sign(int64(p.hash) - int64(h)) })
	if i == len(r.points) {
		return 0
	}
	return i
}

// PointHash returns the hash of ring point i, as returned by Point.
func (r *Ring) PointHash(i int) uint32 { return r.points[i].hash }

// Lookup returns the index of the server that owns hash.
func (r *Ring) Lookup(hash uint32) int {
	return r.points[r.Point(hash)].server
}

// Successors appends to dst, in ring order from hash, the distinct
// servers for which skip returns false, stopping at n of them or when the
// ring is exhausted. A nil skip skips nothing. With an empty ring or n < 1
// it returns dst unchanged. It allocates only when dst lacks capacity.
func (r *Ring) Successors(dst []int, hash uint32, n int,
	skip func(server int) bool) []int {
	if len(r.points) == 0 || n < 1 {
		return dst
	}

	start, base := r.Point(hash), len(dst)
	for i := 0; i < len(r.points) && len(dst)-base < n; i++ {
		s := r.points[(start+i)%len(r.points)].server
		if slices.Contains(dst[base:], s) || (skip != nil && skip(s)) {
			continue
		}
		dst = append(dst, s)
		if len(dst)-base == r.n {
			break
		}
	}
	return dst
}
