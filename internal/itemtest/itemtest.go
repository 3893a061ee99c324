// Package itemtest reads and writes the raw Memcached items behind a
// session, for tests that damage, move or inspect them.
package itemtest

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/mcsession/mcsession/testutil"
)

// Value returns the value of key on s as stored, and fails t on a miss.
func Value(t testing.TB, s *testutil.Server, key string) []byte {
	t.Helper()
	reply := s.Command(t, "mg "+key+" v")
	head, data, _ := strings.Cut(reply, "\r\n")
	f := strings.Fields(head)
	n := -1
	if len(f) >= 2 && f[0] == "VA" {
		n, _ = strconv.Atoi(f[1])
	}
	if n < 0 || len(data) < n {
		t.Fatalf("mg %s v on %s = %.60q; want a value", key, s.Addr(),
			reply)
	}
	return []byte(data[:n])
}

// Put stores v under key on s as it is, for an hour.
func Put(t testing.TB, s *testutil.Server, key string, v []byte) {
	t.Helper()
	cmd := fmt.Sprintf("set %s 0 3600 %d\r\n%s", key, len(v), v)
	if reply := s.Command(t, cmd); reply != "STORED\r\n" {
		t.Fatalf("set %s on %s = %q; want STORED", key, s.Addr(), reply)
	}
}

// Flip returns a copy of v with bit i (counted from the first byte's
// lowest bit) inverted.
func Flip(v []byte, i int) []byte {
	v = bytes.Clone(v)
	v[i/8] ^= 1 << (i % 8)
	return v
}

// Bits returns every step-th bit index of v, from the first, for a test
// that flips them one at a time.
func Bits(v []byte, step int) []int {
	var bits []int
	for i := 0; i < len(v)*8; i += step {
		bits = append(bits, i)
	}
	return bits
}
