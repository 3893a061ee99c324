package ring

import (
	"bufio"
	"crypto/md5"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
)

// referencePool is the weighted pool behind ketama_libmemcached.tsv.
var referencePool = []Server{
	{"10.0.1.1:11211", 600}, {"10.0.1.2:11211", 300},
	{"10.0.1.3:11211", 200}, {"10.0.1.4:11211", 350},
	{"10.0.1.5:11211", 1000}, {"10.0.1.6:11211", 800},
	{"10.0.1.7:11211", 950}, {"10.0.1.8:11211", 100},
}

func TestLibmemcachedPlacements(t *testing.T) {
	f, err := os.Open("testdata/ketama_libmemcached.tsv")
	if err != nil {
		t.Fatalf("open reference data: %v", err)
	}
	defer f.Close()

	r := New(referencePool)
	rows := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		rows++
		col := strings.Split(line, "\t")
		key, server := col[0], col[3]
		wantHash, _ := strconv.ParseUint(col[1], 10, 32)
		wantPoint, _ := strconv.ParseUint(col[2], 10, 32)

		h := Hash(key)
		if uint64(h) != wantHash {
			t.Errorf("Hash(%q) = %d; want %d", key, h, wantHash)
		}
		if p := r.PointHash(r.Point(h)); uint64(p) != wantPoint {
			t.Errorf("point for %q = %d; want %d", key, p, wantPoint)
		}
		got := referencePool[r.Lookup(h)].Addr
		if got != server+":11211" {
			t.Errorf("server for %q = %s; want %s", key, got, server)
		}
	}
	if rows != 50 {
		t.Fatalf("read %d reference rows; want 50", rows)
	}
}

func TestPointNameKeepsNonDefaultPort(t *testing.T) {
	tests := []struct{ addr, want string }{
		{"10.0.0.1:11211", "10.0.0.1-3"},
		{"10.0.0.1:11212", "10.0.0.1:11212-3"},
		{"cache.internal:11211", "cache.internal-3"},
	}
	for _, tt := range tests {
		if got := pointName(tt.addr, 3); got != tt.want {
			t.Errorf("pointName(%q, 3) = %q; want %q", tt.addr, got, tt.want)
		}
	}
}

func equalServers(n int) []Server {
	s := make([]Server, n)
	for i := range s {
		s[i] = Server{Addr: fmt.Sprintf("10.1.0.%d:11211", i+1)}
	}
	return s
}

// TestBalanceAndMovement prints and bounds the two figures that make
// consistent hashing worth having: how evenly keys spread over equal
// servers, and how few move when a server joins.
func TestBalanceAndMovement(t *testing.T) {
	if testing.Short() {
		t.Skip("one million keys; not in -short")
	}
	const keys = 1_000_000
	ten, eleven := New(equalServers(10)), New(equalServers(11))
	rng := rand.New(rand.NewPCG(1, 2))
	counts := make([]int, 10)
	moved := 0
	var buf [16]byte
	for i := 0; i < keys; i++ {
		for j := range buf {
			buf[j] = byte(rng.Uint32())
		}
		h := Hash(string(buf[:]))
		before := ten.Lookup(h)
		counts[before]++
		if eleven.Lookup(h) != before {
			moved++
		}
	}

	most, least := counts[0], counts[0]
	for _, c := range counts {
		most, least = max(most, c), min(least, c)
	}
	ratio := float64(most) / float64(least)
	share := float64(moved) / keys
	t.Logf("10 nodes, %d keys: busiest/least busy = %.3f", keys, ratio)
	t.Logf("adding an 11th node moved %.4f of keys (ideal %.4f, %.3f×)",
		share, 1.0/11, share*11)
	if ratio > 1.25 {
		t.Errorf("busiest/least busy = %.3f; want ≤ 1.25", ratio)
	}
	if share > 1.15/11 {
		t.Errorf("moved %.4f of keys; want ≤ %.4f", share, 1.15/11)
	}
}

func TestSuccessors(t *testing.T) {
	r := New(equalServers(3))
	h := Hash("some key")

	all := r.Successors(nil, h, 5, nil)
	if len(all) != 3 || all[0] == all[1] || all[1] == all[2] ||
		all[0] == all[2] {
		t.Fatalf("Successors(n=5) = %v; want the 3 distinct servers", all)
	}
	if all[0] != r.Lookup(h) {
		t.Errorf("first successor %d; want owner %d", all[0], r.Lookup(h))
	}

	skipOwner := func(s int) bool { return s == all[0] }
	got := r.Successors(nil, h, 2, skipOwner)
	if len(got) != 2 || got[0] != all[1] || got[1] != all[2] {
		t.Errorf("skipping the owner gave %v; want %v", got, all[1:])
	}

	none := r.Successors(nil, h, 2, func(int) bool { return true })
	if len(none) != 0 {
		t.Errorf("skipping everything gave %v; want none", none)
	}
	if got := New(nil).Successors(nil, h, 1, nil); len(got) != 0 {
		t.Errorf("empty ring gave %v; want none", got)
	}
}

func TestHashOfAnyLength(t *testing.T) {
	for _, n := range []int{0, 1, maxKeyLen, maxKeyLen + 1, 4096} {
		key := strings.Repeat("k", n)
		sum := md5.Sum([]byte(key))
		want := binary.LittleEndian.Uint32(sum[:])
		if got := Hash(key); got != want {
			t.Errorf("Hash of %d bytes = %d; want %d", n, got, want)
		}
	}
}

func TestHashOfMemcachedKeyAllocatesNothing(t *testing.T) {
	key := strings.Repeat("k", maxKeyLen)
	if n := testing.AllocsPerRun(100, func() { Hash(key) }); n != 0 {
		t.Errorf("Hash of a %d-byte key: %v allocations; want 0",
			len(key), n)
	}
}

func BenchmarkLookup(b *testing.B) {
	r := New(equalServers(10))
	h := Hash("session key")
	b.ReportAllocs()
	for b.Loop() {
		r.Lookup(h)
	}
}

func BenchmarkSuccessors(b *testing.B) {
	r := New(equalServers(10))
	h := Hash("session key")
	dst := make([]int, 0, 3)
	b.ReportAllocs()
	for b.Loop() {
		dst = r.Successors(dst[:0], h, 3, nil)
	}
}
