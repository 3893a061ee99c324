package scsstore

import (
	"encoding/gob"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
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
