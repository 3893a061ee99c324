package cluster

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"strconv"
	"testing"
	"time"

	"github.com/mcsession/mcsession/testutil"
)

func BenchmarkGetSet(b *testing.B) {
	for _, nodes := range []int{1, 3} {
		b.Run(strconv.Itoa(nodes)+"nodes", func(b *testing.B) {
			benchGetSet(b, testutil.StartCluster(b, nodes))
		})
	}
}

// benchGetSet saves and loads sessions of 1 KiB in turn, as a request
// that changes its session does, over 64 IDs spread on the ring. The IDs
// are as long as scs's tokens.
func benchGetSet(b *testing.B, servers []*testutil.Server) {
	c, err := New(Config{Servers: testutil.Addrs(servers),
		Prefix: randomID(4) + ":"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	ids := make([]string, 64)
	for i := range ids {
		token := make([]byte, 32)
		rand.Read(token)
		ids[i] = base64.RawURLEncoding.EncodeToString(token)
	}
	value := bytes.Repeat([]byte("v"), 1024)
	expiresAt := time.Now().Add(time.Hour)

	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		id := ids[i%len(ids)]
		if err := c.Set(ctx, id, value, expiresAt); err != nil {
			b.Fatal(err)
		}
		if _, found, err := c.Get(ctx, id); err != nil || !found {
			b.Fatalf("Get = %v, %v", found, err)
		}
	}
}
