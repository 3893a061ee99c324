package scsstore

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// FuzzToken sends the store hostile tokens, as a client's cookie would.
// A token that could not be a key must be answered without a round trip:
// the context is already cancelled, so anything that went on to a node
// would return its error. A legal token must give a legal item key.
func FuzzToken(f *testing.F) {
	sock := filepath.Join(f.TempDir(), "no-memcached.sock")
	s, err := NewStore(Config{Servers: []string{sock}})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{newToken(), "", "a b", "a\r\nflush_all",
		string(make([]byte, 251))} {
		f.Add(seed)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	f.Fuzz(func(t *testing.T, token string) {
		b, found, err := s.FindCtx(ctx, token)
		if !validToken(token) {
			if b != nil || found || err != nil {
				t.Fatalf("Find(%q) = %q, %v, %v; want nil, false, nil",
					token, b, found, err)
			}
			err = s.CommitCtx(ctx, token, nil, time.Now().Add(time.Hour))
			if !errors.Is(err, errBadToken) {
				t.Fatalf("Commit(%q) = %v; want errBadToken", token, err)
			}
			return
		}

		if !errors.Is(err, context.Canceled) || found {
			t.Fatalf("Find(%q) = %v, %v; want context.Canceled", token,
				found, err)
		}
		if key := s.itemKey(token); len(key) > 250 || !validToken(key) {
			t.Fatalf("token %q gave the illegal key %q", token, key)
		}
	})
}
