package scsstore

import (
	"context"
	"encoding/gob"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"

	"github.com/mcsession/mcsession/testutil"
)

// withCompactCodec sets CompactCodec on a session manager.
func withCompactCodec(sm *scs.SessionManager) { sm.Codec = CompactCodec{} }

// Two app servers on CompactCodec share counters and flashes.
func TestCompactCodecSharesSessions(t *testing.T) {
	t.Parallel()
	_, a, b := twoApps(t, withCompactCodec)
	c := newClient(t)

	for n := 1; n <= 4; n++ {
		c.want(t, []*app{a, b}[n%2], "/incr", fmt.Sprint(n))
	}
	c.want(t, a, "/flash?msg=saved", "4")
	c.want(t, b, "/pop", "saved")
	c.want(t, a, "/pop", "")
}

// point is a type of the app's own, which CompactCodec leaves to gob.
type point struct{ X, Y int }

func init() { gob.Register(point{}) }

// CompactCodec reads what scs's GobCodec wrote, so an app switches
// codecs without logging its users out, and falls back to GobCodec for
// a session holding a type it does not cover.
func TestCompactCodecReadsGob(t *testing.T) {
	t.Parallel()
	deadline := time.Now().Add(time.Hour).Round(0)
	values := map[string]any{"n": 3, "name": "ann", "at": point{1, 2}}

	for name, codec := range map[string]scs.Codec{
		"GobCodec": scs.GobCodec{}, "CompactCodec": CompactCodec{}} {
		b, err := codec.Encode(deadline, values)
		if err != nil {
			t.Fatal(err)
		}
		gotDeadline, got, err := CompactCodec{}.Decode(b)
		if err != nil || !gotDeadline.Equal(deadline) ||
			!reflect.DeepEqual(got, values) {
			t.Errorf("%s data read as %v, %v, %v; want %v, %v", name,
				gotDeadline, got, err, deadline, values)
		}
	}
}

// Behind one load balancer, app servers on this package's GobCodec and
// on CompactCodec share sessions both ways, so a fleet switches one
// server at a time; and scs's own GobCodec reads what GobCodec writes.
func TestRollingSwitchToCompactCodec(t *testing.T) {
	t.Parallel()
	servers := testutil.StartCluster(t, 1)
	prefix := randomPrefix()
	old := newApp(t, servers, prefix, func(sm *scs.SessionManager) {
		sm.Codec = GobCodec{}
	})
	updated := newApp(t, servers, prefix, withCompactCodec)
	c := newClient(t)

	for n := 1; n <= 4; n++ {
		c.want(t, []*app{old, updated}[n%2], "/incr", fmt.Sprint(n))
	}

	deadline := time.Now().Add(time.Hour).Round(0)
	b, err := GobCodec{}.Encode(deadline, map[string]any{"n": 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, got, err := (scs.GobCodec{}).Decode(b); err != nil ||
		got["n"] != 1 {
		t.Errorf("scs.GobCodec read GobCodec's data as %v, %v", got, err)
	}
}

// Regression (newcomer review): a session holding a time.Time and a
// struct of the app's own falls back to gob whole, and gob refused the
// time.Time, which the compact form had taken without registration.
func TestGobFallbackKeepsCoveredTypes(t *testing.T) {
	t.Parallel()
	values := map[string]any{"at": time.Date(2026, 12, 3, 0, 0, 0, 0,
		time.UTC), "own": point{1, 2}, "prefs": map[string]any{"a": 1}}
	b, err := CompactCodec{}.Encode(time.Now(), values)
	if err != nil {
		t.Fatal(err)
	}
	if _, got, err := (CompactCodec{}).Decode(b); err != nil ||
		!reflect.DeepEqual(got, values) {
		t.Errorf("got %v, %v; want %v", got, err, values)
	}
}

// Regression (found by FuzzCompactCodec): gob made the values map as
// large as the count in the data said, so a planted item of 147 bytes
// allocated 80 MB here, and one with a larger count killed the process.
func TestGobValuesCountAllocatesNothing(t *testing.T) {
	b := []byte("%\x7f\x03\x01\x02\xff0\x00\x01\x02\x01\b00000000\x01" +
		"\xff\x82\x00\x01\x06Values\x01\xff\x84\x00\x00\x00\x10\xff\x81" +
		"\x05\x01\x01\x040000\x01\xff0\x00\x00\x00'\xff\x83\x04\x01\x01" +
		"\x1700000000000000000000000\x01\xff0\x00\x01\f\x01\x10\x00\x000" +
		"\xff\x80\x01\x0f000000000000000\x01" +
		"\xfa\x00\x00\x00\x10\x00\x00" + // 1<<20 values
		"0000000000\xff\x8100000\xff\x8000000")

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := CompactCodec{}.Decode(b)
	runtime.ReadMemStats(&after)

	if err == nil {
		t.Error("Decode of a truncated map succeeded; want an error")
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("%d bytes of gob allocated %d", len(b), n)
	}
}

// Decode errors say where they come from, whichever encoding failed.
func TestCompactCodecErrorsAreOurs(t *testing.T) {
	t.Parallel()
	for _, b := range [][]byte{{0xC2, 1}, {0x03, 0x7f}, {0xC1}} {
		_, _, err := CompactCodec{}.Decode(b)
		if err == nil || !strings.HasPrefix(err.Error(),
			"mcsession: decode session: ") {
			t.Errorf("Decode(%q) error %v; want one of ours", b, err)
		}
	}
}

// An scs session manager keeps working through CompactCodec when the
// last value is removed, the token renewed and the session destroyed.
func TestCompactCodecThroughSessionManager(t *testing.T) {
	t.Parallel()
	sm := scs.New()
	sm.Store = memstore.New()
	sm.Codec = CompactCodec{}
	load := func(token string) context.Context {
		t.Helper()
		ctx, err := sm.Load(context.Background(), token)
		if err != nil {
			t.Fatal(err)
		}
		return ctx
	}
	commit := func(ctx context.Context) string {
		t.Helper()
		token, _, err := sm.Commit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return token
	}

	ctx := load("")
	sm.Put(ctx, "user", "ann")
	ctx = load(commit(ctx))
	sm.Remove(ctx, "user")
	ctx = load(commit(ctx))
	if keys := sm.Keys(ctx); len(keys) != 0 {
		t.Errorf("keys after removing the last one: %v", keys)
	}

	sm.Put(ctx, "n", 1) // a nil values map would panic here
	if err := sm.RenewToken(ctx); err != nil {
		t.Fatal(err)
	}
	token := commit(ctx)
	ctx = load(token)
	if got := sm.PopInt(ctx, "n"); got != 1 {
		t.Errorf("Pop after RenewToken = %d; want 1", got)
	}
	if err := sm.Destroy(ctx); err != nil {
		t.Fatal(err)
	}
	if keys := sm.Keys(load(token)); len(keys) != 0 {
		t.Errorf("keys after Destroy: %v", keys)
	}
}

// FuzzCompactCodec feeds CompactCodec hostile stored bytes, which a
// writer to an unsealed Memcached could plant: nothing may panic, and
// what decodes has a values map that scs can write to.
func FuzzCompactCodec(f *testing.F) {
	for _, codec := range []scs.Codec{scs.GobCodec{}, CompactCodec{}} {
		b, err := codec.Encode(time.Now(), map[string]any{"n": 1,
			"flash": "hi"})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}

	f.Fuzz(func(t *testing.T, b []byte) {
		_, values, err := CompactCodec{}.Decode(b)
		if err == nil && values == nil {
			t.Fatalf("Decode(%q) gave nil values", b)
		}
	})
}
