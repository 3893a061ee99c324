package cluster

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mcsession/mcsession/internal/envelope"
	"github.com/mcsession/mcsession/internal/itemtest"
	"github.com/mcsession/mcsession/internal/seal"
	"github.com/mcsession/mcsession/testutil"
)

var (
	oldKey = bytes.Repeat([]byte("old key "), 4)
	newKey = bytes.Repeat([]byte("new key "), 4)
)

// sealWith returns a tweak that seals with keys under prefix, so that
// clusters with different keys see the same items.
func sealWith(prefix string, keys ...[]byte) func(*Config) {
	return func(cfg *Config) {
		cfg.Prefix = prefix
		cfg.EncryptionKeys = keys
	}
}

// sealedSession returns a server, and a cluster over it that sealed
// value as the session "a".
func sealedSession(t *testing.T, value string) (*testutil.Server, *Cluster) {
	t.Helper()
	srv := testutil.StartServer(t)
	c := newCluster(t, []*testutil.Server{srv}, sealWith("s:", oldKey))
	mustSet(t, c, "a", []byte(value))
	return srv, c
}

func wantCorrupt(t *testing.T, c *Cluster, id string) {
	t.Helper()
	got, found, err := c.Get(ctx, id)
	if !errors.Is(err, ErrCorrupt) || found {
		t.Fatalf("Get(%q) = %.40q, %v, %v; want ErrCorrupt", id, got,
			found, err)
	}
}

func TestSealedValueHidesSession(t *testing.T) {
	t.Parallel()
	srv, c := sealedSession(t, "user=ann")

	raw := itemtest.Value(t, srv, c.Key("a"))
	if !seal.IsSealed(raw) || bytes.Contains(raw, []byte("ann")) {
		t.Fatalf("stored %q; want a sealed value", raw)
	}
	wantValue(t, c, "a", []byte("user=ann"))
}

// A flipped bit anywhere in a sealed item, header, nonce, ciphertext or
// tag, makes it corrupt.
func TestSealedFlippedBitIsCorrupt(t *testing.T) {
	t.Parallel()
	srv, c := sealedSession(t, "user=ann")
	key := c.Key("a")
	raw := itemtest.Value(t, srv, key)

	for _, bit := range itemtest.Bits(raw, 13) {
		itemtest.Put(t, srv, key, itemtest.Flip(raw, bit))
		wantCorrupt(t, c, "a")
	}
	itemtest.Put(t, srv, key, raw)
	wantValue(t, c, "a", []byte("user=ann"))
}

func TestSealedValueMovedToOtherKeyIsCorrupt(t *testing.T) {
	t.Parallel()
	srv, c := sealedSession(t, "user=admin")
	mustSet(t, c, "b", []byte("user=guest"))

	itemtest.Put(t, srv, c.Key("b"), itemtest.Value(t, srv, c.Key("a")))
	wantCorrupt(t, c, "b")
	wantValue(t, c, "a", []byte("user=admin"))
}

// Sessions sealed with the old key open once a new key is put first, and
// stop opening when the old key is removed.
func TestKeyRotation(t *testing.T) {
	t.Parallel()
	servers := testutil.StartCluster(t, 1)
	prefix := randomID(4) + ":"
	before := newCluster(t, servers, sealWith(prefix, oldKey))
	during := newCluster(t, servers, sealWith(prefix, newKey, oldKey))
	after := newCluster(t, servers, sealWith(prefix, newKey))

	mustSet(t, before, "old", []byte("sealed with the old key"))
	wantValue(t, during, "old", []byte("sealed with the old key"))
	mustSet(t, during, "new", []byte("sealed with the new key"))
	wantValue(t, after, "new", []byte("sealed with the new key"))
	wantCorrupt(t, before, "new")
	wantCorrupt(t, after, "old")
}

// With keys set, an unsealed envelope, as written before sealing was
// turned on, is corrupt unless AcceptPlaintext is set; a write then seals.
func TestPlaintextNeedsAcceptPlaintext(t *testing.T) {
	t.Parallel()
	servers := testutil.StartCluster(t, 1)
	prefix := randomID(4) + ":"
	plain := newCluster(t, servers, sealWith(prefix))
	strict := newCluster(t, servers, sealWith(prefix, oldKey))
	migrating := newCluster(t, servers, func(cfg *Config) {
		sealWith(prefix, oldKey)(cfg)
		cfg.AcceptPlaintext = true
	})

	mustSet(t, plain, "s", []byte("written before sealing"))
	wantCorrupt(t, strict, "s")
	wantValue(t, migrating, "s", []byte("written before sealing"))

	mustSet(t, migrating, "s", []byte("now sealed"))
	wantValue(t, strict, "s", []byte("now sealed"))
	wantCorrupt(t, plain, "s")
}

// Tombstones are sealed too, and still keep a deleted session deleted.
func TestSealedReplicatedDelete(t *testing.T) {
	t.Parallel()
	servers := testutil.StartCluster(t, 2)
	c := newCluster(t, servers, func(cfg *Config) {
		sealWith(randomID(4)+":", oldKey)(cfg)
		cfg.Replicas = 2
	})
	mustSet(t, c, "s", []byte("v"))
	if err := c.Delete(ctx, "s"); err != nil {
		t.Fatal(err)
	}
	for _, srv := range servers {
		if raw := itemtest.Value(t, srv, c.Key("s")); !seal.IsSealed(raw) {
			t.Errorf("tombstone on %s is %q; want it sealed", srv.Addr(),
				raw)
		}
	}
	wantMissing(t, c, "s")
}

func TestConfigRefusesBadSecurity(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		cfg  Config
		want string
	}{
		"short key": {Config{EncryptionKeys: [][]byte{oldKey, []byte("k")}},
			"EncryptionKeys: key 2 is 1 bytes"},
		"repeated key": {Config{EncryptionKeys: [][]byte{oldKey, oldKey}},
			"EncryptionKeys: key 2 repeats"},
		"user with space": {Config{Username: "a b", Password: "p"},
			"Username and Password"},
		"password with newline": {Config{Username: "a", Password: "p\r\n"},
			"Username and Password"},
		"password alone": {Config{Password: "p"}, "needs a Username"},
	}
	for name, tt := range tests {
		tt.cfg.Servers = []string{"a:1"}
		_, err := New(tt.cfg)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: New = %v; want an error containing %q", name,
				err, tt.want)
		}
	}
}

// FuzzDecode feeds the codec hostile items with sealing on: nothing may
// panic, and only a seed sealed for "mcs:k", unchanged, may decode. Seals
// differ from one run, and one fuzz worker, to the next, so a decoded
// item is checked against the seeds' envelopes.
func FuzzDecode(f *testing.F) {
	c, err := New(Config{Servers: []string{"unused:1"},
		EncryptionKeys: [][]byte{newKey, oldKey}})
	if err != nil {
		f.Fatal(err)
	}
	seeds := map[string]bool{} // encoded envelopes
	for _, env := range []envelope.Envelope{
		{Kind: envelope.Live, Version: 7, ExpiresAt: time.Unix(1e9, 0),
			Payload: []byte("session")},
		{Kind: envelope.Tombstone, Version: 8},
	} {
		seeds[string(envelope.Append(nil, env))] = true
		f.Add(c.encode("mcs:k", env), "mcs:k")
		f.Add(envelope.Append(nil, env), "mcs:k")
	}
	f.Add([]byte{seal.Format}, "")

	f.Fuzz(func(t *testing.T, b []byte, key string) {
		env, err := c.decode(key, b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("decode(%q, %x) = %v; want ErrCorrupt", key, b, err)
			}
			return
		}
		plain := envelope.Append(nil, env)
		if key != "mcs:k" || !seeds[string(plain)] ||
			len(b) != seal.Overhead+len(plain) {
			t.Fatalf("decode(%q, %x) = %+v; want ErrCorrupt", key, b, env)
		}
	})
}
