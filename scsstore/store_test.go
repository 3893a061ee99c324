package scsstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/mcsession/mcsession/testutil"
)

// newStore returns a Store over servers with a key prefix of its own, so
// that tests can share servers without flushing them.
func newStore(t testing.TB, servers []*testutil.Server) *Store {
	t.Helper()
	return newStoreWithPrefix(t, servers, randomPrefix())
}

func newStoreWithPrefix(t testing.TB, servers []*testutil.Server,
	prefix string) *Store {
	t.Helper()
	s, err := NewStore(Config{Servers: testutil.Addrs(servers),
		Prefix: prefix})
	if err != nil {
		t.Fatalf("NewStore: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func randomPrefix() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b) + ":"
}

// newToken returns a token shaped like the ones scs makes.
func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// itemKey returns the Memcached key that holds the session token.
func (s *Store) itemKey(token string) string { return s.c.Key(token) }

// wantNoItem fails t unless no server holds key.
func wantNoItem(t *testing.T, servers []*testutil.Server, key string) {
	t.Helper()
	for _, srv := range servers {
		got := srv.Command(t, "mg "+key+" v")
		if !strings.HasPrefix(got, "EN") {
			t.Errorf("mg on %s = %q; want EN", srv.Addr(), got)
		}
	}
}

// ttlOf returns the remaining TTL, in seconds, of key on srv.
func ttlOf(t *testing.T, srv *testutil.Server, key string) int {
	t.Helper()
	got := strings.TrimSpace(srv.Command(t, "mg "+key+" t"))
	secs, ok := strings.CutPrefix(got, "HD t")
	n, err := strconv.Atoi(secs)
	if !ok || err != nil {
		t.Fatalf("mg %s t = %q; want HD t<seconds>", key, got)
	}
	return n
}

func mustCommit(t *testing.T, s *Store, token string, b []byte,
	expiry time.Time) {
	t.Helper()
	if err := s.CommitCtx(t.Context(), token, b, expiry); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

func wantFound(t *testing.T, s *Store, token string, want []byte) {
	t.Helper()
	got, found, err := s.FindCtx(t.Context(), token)
	if err != nil || !found || !bytes.Equal(got, want) {
		t.Fatalf("Find = %.40q, %v, %v; want %.40q, true, nil",
			got, found, err, want)
	}
}

func wantNotFound(t *testing.T, s *Store, token string) {
	t.Helper()
	got, found, err := s.FindCtx(t.Context(), token)
	if err != nil || found || got != nil {
		t.Fatalf("Find = %.40q, %v, %v; want nil, false, nil",
			got, found, err)
	}
}

func TestNewRefusesBadServerLists(t *testing.T) {
	t.Parallel()
	tests := map[string][]string{
		"none":     nil,
		"empty":    {""},
		"repeated": {"127.0.0.1:11211", "127.0.0.1:11211"},
	}
	for name, servers := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := NewStore(Config{Servers: servers}); err == nil {
				t.Errorf("NewStore(%q) succeeded; want an error", servers)
			}
			defer func() {
				if recover() == nil {
					t.Errorf("New(%q) did not panic", servers)
				}
			}()
			New(servers...)
		})
	}
}

func TestCommitFindDelete(t *testing.T) {
	t.Parallel()
	s := newStore(t, testutil.StartCluster(t, 1))
	token := newToken()
	expiry := time.Now().Add(time.Hour)

	wantNotFound(t, s, token)
	mustCommit(t, s, token, []byte("one"), expiry)
	wantFound(t, s, token, []byte("one"))

	mustCommit(t, s, token, []byte("two"), expiry)
	wantFound(t, s, token, []byte("two"))

	for range 2 {
		if err := s.DeleteCtx(t.Context(), token); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		wantNotFound(t, s, token)
	}
}

func TestPlainMethodsMatchCtxOnes(t *testing.T) {
	t.Parallel()
	s := newStore(t, testutil.StartCluster(t, 1))
	token := newToken()

	err := s.Commit(token, []byte("v"), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if got, found, err := s.Find(token); err != nil || !found ||
		string(got) != "v" {
		t.Fatalf("Find = %q, %v, %v; want \"v\", true, nil", got, found, err)
	}
	if err := s.Delete(token); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, found, err := s.Find(token); err != nil || found {
		t.Fatalf("Find after Delete = %v, %v; want false, nil", found, err)
	}
}

func TestDeleteMissingIsNotAnError(t *testing.T) {
	t.Parallel()
	s := newStore(t, testutil.StartCluster(t, 1))

	if err := s.DeleteCtx(t.Context(), newToken()); err != nil {
		t.Errorf("Delete of a missing token = %v; want nil", err)
	}
}

// Tokens that cannot be keys come from hostile or broken clients; they
// must cost no round trip, so the store is pointed at a dead server.
func TestIllegalTokensNeedNoServer(t *testing.T) {
	t.Parallel()
	srv := testutil.StartServer(t)
	s := newStore(t, []*testutil.Server{srv})
	srv.Kill()

	tests := map[string]string{
		"empty":    "",
		"space":    "a b",
		"300 long": strings.Repeat("x", 300),
		"NUL":      "a\x00b",
		"newline":  "a\r\nflush_all",
		"tab":      "a\tb",
		"DEL":      "a\x7fb",
	}
	for name, token := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			wantNotFound(t, s, token)
			if err := s.DeleteCtx(t.Context(), token); err != nil {
				t.Errorf("Delete = %v; want nil", err)
			}
			err := s.CommitCtx(t.Context(), token, []byte("v"),
				time.Now().Add(time.Hour))
			if !errors.Is(err, errBadToken) {
				t.Errorf("Commit = %v; want %v", err, errBadToken)
			}
		})
	}

	_, _, err := s.FindCtx(t.Context(), newToken())
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("Find of a legal token on a dead server = %v; want %v",
			err, ErrUnavailable)
	}
}

func TestLongestLegalTokenIsStored(t *testing.T) {
	t.Parallel()
	s := newStore(t, testutil.StartCluster(t, 1))
	token := strings.Repeat("é", 125) // 250 bytes

	mustCommit(t, s, token, []byte("v"), time.Now().Add(time.Hour))
	wantFound(t, s, token, []byte("v"))
}

func TestGarbageItemIsNotFound(t *testing.T) {
	t.Parallel()
	srv := testutil.StartServer(t)
	s := newStore(t, []*testutil.Server{srv})
	token := newToken()

	srv.Command(t, "set "+s.itemKey(token)+" 0 0 7\r\ngarbage")
	wantNotFound(t, s, token)
}

func TestShortExpiryLeavesNoItem(t *testing.T) {
	t.Parallel()
	srv := testutil.StartServer(t)
	s := newStore(t, []*testutil.Server{srv})

	tests := map[string]time.Duration{
		"an hour ago":  -time.Hour,
		"a second ago": -time.Second,
		"now":          0,
		"in 1ns":       time.Nanosecond,
		"in 500ms":     500 * time.Millisecond,
		"in 999ms":     999 * time.Millisecond,
	}
	for name, d := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			token := newToken()
			mustCommit(t, s, token, []byte("v"), time.Now().Add(time.Hour))

			mustCommit(t, s, token, []byte("v"), time.Now().Add(d))
			wantNoItem(t, []*testutil.Server{srv}, s.itemKey(token))
			wantNotFound(t, s, token)
		})
	}
}

// Memcached reads a TTL above 30 days as a Unix time.
func TestLongExpiryIsStored(t *testing.T) {
	t.Parallel()
	srv := testutil.StartServer(t)
	s := newStore(t, []*testutil.Server{srv})

	tests := map[string]time.Duration{
		"30 days":  30 * 24 * time.Hour,
		"31 days":  31 * 24 * time.Hour,
		"one year": 365 * 24 * time.Hour,
	}
	for name, d := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			token := newToken()
			mustCommit(t, s, token, []byte("v"), time.Now().Add(d))

			wantFound(t, s, token, []byte("v"))
			got := ttlOf(t, srv, s.itemKey(token))
			if want := int(d / time.Second); got < want-2 || got > want+2 {
				t.Errorf("TTL in memcached = %ds; want %ds", got, want)
			}
		})
	}
}

func TestDeadNodeIsUnavailable(t *testing.T) {
	t.Parallel()
	srv := testutil.StartServer(t)
	s := newStore(t, []*testutil.Server{srv})
	token := newToken()
	mustCommit(t, s, token, []byte("v"), time.Now().Add(time.Hour))
	srv.Kill()

	ops := map[string]func() error{
		"find": func() error {
			_, _, err := s.FindCtx(t.Context(), token)
			return err
		},
		"commit": func() error {
			return s.CommitCtx(t.Context(), token, []byte("w"),
				time.Now().Add(time.Hour))
		},
		"delete": func() error { return s.DeleteCtx(t.Context(), token) },
	}
	for name, op := range ops {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := op()
			if !errors.Is(err, ErrUnavailable) {
				t.Fatalf("err = %v; want %v", err, ErrUnavailable)
			}
			var ne *NodeError
			if !errors.As(err, &ne) || ne.Addr == "" {
				t.Errorf("err = %#v; want a *NodeError naming the node", err)
			}
		})
	}
}

func TestTooLargeKeepsStoredSession(t *testing.T) {
	t.Parallel()
	s := newStore(t, testutil.StartCluster(t, 1))
	token := newToken()
	mustCommit(t, s, token, []byte("small"), time.Now().Add(time.Hour))

	err := s.CommitCtx(t.Context(), token, make([]byte, 2<<20),
		time.Now().Add(time.Hour))
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Commit of 2 MiB = %v; want %v", err, ErrTooLarge)
	}
	wantFound(t, s, token, []byte("small"))
}

func TestDoneContextIsReturned(t *testing.T) {
	t.Parallel()
	s := newStore(t, testutil.StartCluster(t, 1))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	_, _, err := s.FindCtx(ctx, newToken())
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Find = %v; want %v", err, context.Canceled)
	}
	err = s.CommitCtx(ctx, newToken(), []byte("v"), time.Now().Add(time.Hour))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Commit = %v; want %v", err, context.Canceled)
	}
	if err := s.DeleteCtx(ctx, newToken()); !errors.Is(err, context.Canceled) {
		t.Errorf("Delete = %v; want %v", err, context.Canceled)
	}
}

// BenchmarkFindCommit measures one request's round trips: the Find that
// loads the session and the Commit that saves it.
func BenchmarkFindCommit(b *testing.B) {
	s := newStore(b, testutil.StartCluster(b, 1))
	token := newToken()
	data, err := scs.GobCodec{}.Encode(time.Now().Add(time.Hour),
		map[string]any{"user": 42, "name": "ada", "cart": []string{"a"}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	expiry := time.Now().Add(time.Hour)
	if err := s.CommitCtx(ctx, token, data, expiry); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()

	for b.Loop() {
		if _, found, err := s.FindCtx(ctx, token); !found || err != nil {
			b.Fatalf("Find = %v, %v", found, err)
		}
		if err := s.CommitCtx(ctx, token, data, expiry); err != nil {
			b.Fatal(err)
		}
	}
}
