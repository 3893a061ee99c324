package gorillastore

import (
	"bytes"
	"testing"

	"github.com/mcsession/mcsession/internal/itemtest"
	"github.com/mcsession/mcsession/testutil"
)

var sealKey = bytes.Repeat([]byte("seal"), 8)

// headerBits are bits of an unsealed item that no decoder may accept
// flipped: the envelope's format byte, its kind byte (live becomes an
// unknown kind), and the top bit of the first gob byte, which turns a
// short message length into a malformed one.
var headerBits = []int{0, 9, 18*8 + 7}

// A stored session with a bit flipped gives a new, empty session and an
// error, never a panic or the damaged values. Sealed, every bit counts.
func TestFlippedBitGivesNewSession(t *testing.T) {
	t.Parallel()
	nodes := testutil.StartCluster(t, 1)
	tests := map[string]struct {
		keys [][]byte
		step int // flip every step-th bit; 0 for headerBits
	}{
		"plain":  {nil, 0},
		"sealed": {[][]byte{sealKey}, 11},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			store := newStore(t, nodes, func(cfg *Config) {
				cfg.EncryptionKeys = tt.keys
			})
			saved, c := save(t, store, map[any]any{"user": "ann"}, nil)
			key := store.key(saved.ID)
			raw := itemtest.Value(t, nodes[0], key)

			bits := headerBits
			if tt.step > 0 {
				bits = itemtest.Bits(raw, tt.step)
			}
			for _, bit := range bits {
				itemtest.Put(t, nodes[0], key, itemtest.Flip(raw, bit))
				session, err := load(store, c)
				if err == nil {
					t.Fatalf("bit %d flipped: loaded %v; want an error",
						bit, session.Values)
				}
				wantNew(t, session)
			}
		})
	}
}
