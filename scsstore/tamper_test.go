package scsstore

import (
	"bytes"
	"testing"
	"time"

	"github.com/mcsession/mcsession/internal/itemtest"
	"github.com/mcsession/mcsession/testutil"
)

// A stored session with a bit flipped is not found, and is no error.
// Unsealed, the payload is scs's own and a flip there may still decode,
// so only the envelope's format and kind bytes are flipped; sealed, every
// bit counts.
func TestFlippedBitIsNotFound(t *testing.T) {
	t.Parallel()
	srv := testutil.StartServer(t)
	sealKey := bytes.Repeat([]byte("seal"), 8)
	tests := map[string]struct {
		keys [][]byte
		step int // flip every step-th bit; 0 for the header bits
	}{
		"plain":  {nil, 0},
		"sealed": {[][]byte{sealKey}, 11},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, err := NewStore(Config{Servers: []string{srv.Addr()},
				Prefix: randomPrefix(), EncryptionKeys: tt.keys})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			token := newToken()
			mustCommit(t, s, token, []byte("scs data"),
				time.Now().Add(time.Hour))
			raw := itemtest.Value(t, srv, s.itemKey(token))

			bits := []int{0, 9}
			if tt.step > 0 {
				bits = itemtest.Bits(raw, tt.step)
			}
			for _, bit := range bits {
				itemtest.Put(t, srv, s.itemKey(token), itemtest.Flip(raw, bit))
				wantNotFound(t, s, token)
			}
		})
	}
}
