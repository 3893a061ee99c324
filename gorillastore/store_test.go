package gorillastore

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"

	"github.com/mcsession/mcsession/testutil"
)

var (
	hashKey  = []byte("0123456789abcdef0123456789abcdef")
	blockKey = []byte("fedcba9876543210")
	oldKey   = []byte("retired-retired-retired-retired!")
)

// newStore returns a store over servers, signing with hashKey, with a key
// prefix of its own so that tests never see each other's sessions.
func newStore(t testing.TB, servers []*testutil.Server,
	tweak func(*Config)) *Store {
	t.Helper()
	cfg := Config{Servers: testutil.Addrs(servers), Prefix: randomHex(4) + ":"}
	if tweak != nil {
		tweak(&cfg)
	}
	s, err := NewStore(cfg, hashKey)
	if err != nil {
		t.Fatalf("NewStore: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// request returns a request that carries cookies.
func request(cookies ...*http.Cookie) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	for _, c := range cookies {
		r.AddCookie(c)
	}
	return r
}

// save stores a new session called "s" holding values, with edit applied
// before the save, and returns it with the cookie sent.
func save(t *testing.T, store *Store, values map[any]any,
	edit func(*sessions.Session)) (*sessions.Session, *http.Cookie) {
	t.Helper()
	r := request()
	session, err := store.New(r, "s")
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	for k, v := range values {
		session.Values[k] = v
	}
	if edit != nil {
		edit(session)
	}

	w := httptest.NewRecorder()
	if err := store.Save(r, w, session); err != nil {
		t.Fatalf("Save: %v", err)
	}
	return session, onlyCookie(t, w)
}

// onlyCookie returns the one cookie set on w.
func onlyCookie(t *testing.T, w *httptest.ResponseRecorder) *http.Cookie {
	t.Helper()
	cookies := w.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("got %d cookies; want 1: %v", len(cookies),
			w.Header()["Set-Cookie"])
	}
	return cookies[0]
}

// load returns what store.New makes of a request carrying c.
func load(store *Store, c *http.Cookie) (*sessions.Session, error) {
	return store.New(request(c), c.Name)
}

// mustLoad loads the session of c and fails unless it was stored.
func mustLoad(t *testing.T, store *Store, c *http.Cookie) *sessions.Session {
	t.Helper()
	session, err := load(store, c)
	if err != nil || session.IsNew {
		t.Fatalf("load: IsNew %v, err %v; want a stored session",
			session.IsNew, err)
	}
	return session
}

// wantNew fails unless session is new and empty.
func wantNew(t *testing.T, session *sessions.Session) {
	t.Helper()
	if !session.IsNew || len(session.Values) != 0 {
		t.Fatalf("got IsNew %v with values %v; want a new, empty session",
			session.IsNew, session.Values)
	}
}

// wantNoCookie fails if w sets a cookie.
func wantNoCookie(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	if h := w.Header()["Set-Cookie"]; len(h) != 0 {
		t.Fatalf("Set-Cookie %q; want none", h)
	}
}

// command sends a raw protocol line to s and returns its reply without
// the line ending.
func command(t *testing.T, s *testutil.Server, line string) string {
	t.Helper()
	return strings.TrimSpace(s.Command(t, line))
}

// ttl returns the seconds the item key has left on s.
func ttl(t *testing.T, s *testutil.Server, key string) int {
	t.Helper()
	reply := command(t, s, "mg "+key+" t")
	f := strings.Fields(reply)
	if len(f) != 2 || f[0] != "HD" || !strings.HasPrefix(f[1], "t") {
		t.Fatalf("mg %s t = %q; want HD t<seconds>", key, reply)
	}
	n, err := strconv.Atoi(f[1][1:])
	if err != nil {
		t.Fatalf("mg %s t = %q: %v", key, reply, err)
	}
	return n
}

// nearTTL reports whether a server TTL of got seconds is what a lifetime
// of want seconds gives. The cluster makes a relative TTL (up to 30 days)
// a second longer, because Memcached's clock ticks once a second.
func nearTTL(got, want int) bool {
	return got >= want-3 && got <= want+1
}

// wantGone fails unless s has no item for key.
func wantGone(t *testing.T, s *testutil.Server, key string) {
	t.Helper()
	if reply := command(t, s, "mg "+key+" v"); reply != "EN" {
		t.Fatalf("mg %s v = %.60q; want EN", key, reply)
	}
}

// counter is a handler that counts the requests of one client.
func counter(store *Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		session, err := store.Get(r, "counter")
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}

		n, _ := session.Values["n"].(int)
		session.Values["n"] = n + 1
		if err := sessions.Save(r, w); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, n+1)
	})
}

// Two app servers over three nodes serve one client in turn, as behind a
// load balancer without sticky sessions.
func TestLoadBalancedCounter(t *testing.T) {
	t.Parallel()
	nodes := testutil.StartCluster(t, 3)
	prefix := randomHex(4) + ":"
	var apps [2]*httptest.Server
	for i := range apps {
		store := newStore(t, nodes, func(c *Config) { c.Prefix = prefix })
		store.Options.Secure = false // httptest serves plain HTTP
		apps[i] = httptest.NewServer(counter(store))
		t.Cleanup(apps[i].Close)
	}

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	for want := 1; want <= 100; want++ {
		resp, err := client.Get(apps[want%2].URL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := string(body); got != strconv.Itoa(want) {
			t.Fatalf("request %d answered %q; want %d", want, got, want)
		}
	}
}

// The server keeps a session exactly as long as its cookie lives, on both
// sides of Memcached's 30-day limit for relative TTLs, and a session with
// a MaxAge of one second is stored rather than deleted.
func TestMaxAgeSetsServerTTL(t *testing.T) {
	t.Parallel()
	nodes := testutil.StartCluster(t, 1)
	store := newStore(t, nodes, nil)
	store.MaxAge(365 * 86400)

	for _, maxAge := range []int{
		1,
		60,
		86400,
		30 * 86400,
		30*86400 + 1,
		31 * 86400,
		365 * 86400,
	} {
		session, c := save(t, store, map[any]any{"k": "v"},
			func(s *sessions.Session) { s.Options.MaxAge = maxAge })

		if c.MaxAge != maxAge {
			t.Errorf("MaxAge %d: cookie Max-Age %d", maxAge, c.MaxAge)
		}
		left := time.Until(c.Expires).Seconds()
		if left < float64(maxAge-5) || left > float64(maxAge+1) {
			t.Errorf("MaxAge %d: cookie expires in %.0fs", maxAge, left)
		}
		got := ttl(t, nodes[0], store.key(session.ID))
		if !nearTTL(got, max(maxAge, 2)) {
			t.Errorf("MaxAge %d: server TTL %d", maxAge, got)
		}
		mustLoad(t, store, c)
	}
}

// MaxAge 0 makes a browser-session cookie; the server keeps the session
// for Config.DefaultTTL.
func TestMaxAgeZeroIsBrowserSession(t *testing.T) {
	t.Parallel()
	nodes := testutil.StartCluster(t, 1)

	tests := []struct {
		defaultTTL time.Duration
		want       int
	}{
		{0, 24 * 3600},
		{2 * time.Hour, 2 * 3600},
		{45 * 24 * time.Hour, 45 * 24 * 3600},
	}
	for _, tt := range tests {
		store := newStore(t, nodes,
			func(c *Config) { c.DefaultTTL = tt.defaultTTL })
		session, c := save(t, store, map[any]any{"k": 1},
			func(s *sessions.Session) { s.Options.MaxAge = 0 })

		if c.MaxAge != 0 || !c.Expires.IsZero() ||
			strings.Contains(c.Raw, "Max-Age") {
			t.Errorf("DefaultTTL %v: cookie %q; want no Max-Age or "+
				"Expires", tt.defaultTTL, c.Raw)
		}
		got := ttl(t, nodes[0], store.key(session.ID))
		if !nearTTL(got, tt.want) {
			t.Errorf("DefaultTTL %v: server TTL %d; want %d",
				tt.defaultTTL, got, tt.want)
		}
		mustLoad(t, store, c)
	}
}

// A negative MaxAge deletes the session from Memcached and expires the
// cookie; doing so for a session that is already gone is fine.
func TestMaxAgeNegativeDeletes(t *testing.T) {
	t.Parallel()
	nodes := testutil.StartCluster(t, 1)
	store := newStore(t, nodes, nil)

	for _, goneFirst := range []bool{false, true} {
		_, c := save(t, store, map[any]any{"user": "ann"}, nil)
		session := mustLoad(t, store, c)
		key := store.key(session.ID)
		if goneFirst {
			command(t, nodes[0], "md "+key)
		}

		session.Options.MaxAge = -1
		w := httptest.NewRecorder()
		if err := store.Save(request(c), w, session); err != nil {
			t.Fatalf("gone first %v: Save with MaxAge -1: %v",
				goneFirst, err)
		}
		expired := onlyCookie(t, w)
		if expired.MaxAge >= 0 || expired.Value != "" {
			t.Errorf("gone first %v: cookie %q; want it expired",
				goneFirst, expired.Raw)
		}

		wantGone(t, nodes[0], key)
		session, err := load(store, c)
		if err != nil {
			t.Fatalf("gone first %v: load after delete: %v", goneFirst,
				err)
		}
		wantNew(t, session)
	}
}

// A logout that cannot reach the session's node fails, so that the app
// knows the session may still be live, and keeps the cookie. This holds
// too when the node was already down when the session was loaded, and
// the app ignored that error.
func TestLogoutWithNodeDownFails(t *testing.T) {
	t.Parallel()
	for _, downAtLoad := range []bool{false, true} {
		nodes := testutil.StartCluster(t, 1)
		store := newStore(t, nodes, nil)
		_, c := save(t, store, map[any]any{"user": "ann"}, nil)
		if downAtLoad {
			nodes[0].Kill()
		}
		session, _ := load(store, c)
		if !downAtLoad {
			nodes[0].Kill()
		}

		session.Options.MaxAge = -1
		w := httptest.NewRecorder()
		err := store.Save(request(c), w, session)
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("down at load %v: logout = %v; want ErrUnavailable",
				downAtLoad, err)
		}
		var ne *NodeError
		if !errors.As(err, &ne) || ne.Addr != nodes[0].Addr() {
			t.Errorf("error %v does not name node %s", err,
				nodes[0].Addr())
		}
		wantNoCookie(t, w)
	}
}

// A cookie whose session has expired or was evicted gets a new session,
// without an error.
func TestMissingSessionIsNew(t *testing.T) {
	t.Parallel()
	nodes := testutil.StartCluster(t, 1)
	store := newStore(t, nodes, nil)
	old, c := save(t, store, map[any]any{"user": "ann"}, nil)
	if reply := command(t, nodes[0], "md "+store.key(old.ID)); reply != "HD" {
		t.Fatalf("md = %q; want HD", reply)
	}

	session, err := load(store, c)
	if err != nil {
		t.Fatalf("load of an evicted session: %v", err)
	}
	wantNew(t, session)
	if session.ID != "" {
		t.Errorf("new session has ID %q; want a fresh one on Save",
			session.ID)
	}

	w := httptest.NewRecorder()
	if err := store.Save(request(c), w, session); err != nil {
		t.Fatal(err)
	}
	if session.ID == old.ID {
		t.Errorf("the evicted session's ID was reused")
	}
}

// A cookie that does not decode gives a new session and the decode error,
// and Memcached is not asked: the store's only node is dead, and only a
// good cookie reports it.
func TestBadCookieIsNotLookedUp(t *testing.T) {
	t.Parallel()
	nodes := testutil.StartCluster(t, 1)
	store := newStore(t, nodes, nil)
	_, good := save(t, store, map[any]any{"k": "v"}, nil)

	retired, err := NewStore(Config{Servers: testutil.Addrs(nodes)}, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { retired.Close() })
	_, old := save(t, retired, map[any]any{"k": "v"}, nil)
	nodes[0].Kill()

	tests := []struct {
		name, value string
	}{
		{"tampered", good.Value[:len(good.Value)-2] + "AA"},
		{"retired key", old.Value},
		{"garbage", "not-a-cookie"},
		{"empty", ""},
		{"other name", mustEncode(t, store, "other", []byte("some-id"))},
		{"not an ID", mustEncode(t, store, "s", []byte("two\nlines"))},
		{"from CookieStore", cookieStoreValue(t)},
	}
	for _, tt := range tests {
		c := &http.Cookie{Name: "s", Value: tt.value}
		session, err := load(store, c)
		if err == nil || errors.Is(err, ErrUnavailable) {
			t.Errorf("%s cookie: err %v; want a decode error", tt.name,
				err)
		}
		wantNew(t, session)
	}

	if _, err := load(store, good); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("good cookie: err %v; want ErrUnavailable", err)
	}
}

// cookieStoreValue returns the cookie that sessions.CookieStore, with the
// same key, sets for a session called "s": what browsers send just after
// an app swaps its CookieStore for a Store.
func cookieStoreValue(t *testing.T) string {
	t.Helper()
	cs := sessions.NewCookieStore(hashKey)
	r := request()
	session, _ := cs.New(r, "s")
	session.Values["user"] = "ann"
	w := httptest.NewRecorder()
	if err := cs.Save(r, w, session); err != nil {
		t.Fatal(err)
	}
	return onlyCookie(t, w).Value
}

// mustEncode returns value as a cookie called name, signed by store.
func mustEncode(t *testing.T, store *Store, name string, value any) string {
	t.Helper()
	encoded, err := securecookie.EncodeMulti(name, value, store.Codecs...)
	if err != nil {
		t.Fatal(err)
	}
	return encoded
}

// Cookies signed with a key that moved to a later pair still load, and new
// cookies are signed with the first pair.
func TestKeyRotation(t *testing.T) {
	t.Parallel()
	nodes := testutil.StartCluster(t, 1)
	before, err := NewStore(Config{Servers: testutil.Addrs(nodes)}, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { before.Close() })
	after, err := NewStore(Config{Servers: testutil.Addrs(nodes)},
		hashKey, blockKey, oldKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { after.Close() })

	_, c := save(t, before, map[any]any{"user": "ann"}, nil)
	session := mustLoad(t, after, c)
	if session.Values["user"] != "ann" {
		t.Fatalf("values after rotation: %v", session.Values)
	}

	w := httptest.NewRecorder()
	if err := after.Save(request(c), w, session); err != nil {
		t.Fatal(err)
	}
	if _, err := load(before, onlyCookie(t, w)); err == nil {
		t.Errorf("a cookie from the new key decoded with the old one")
	}
}

// Stored data that no longer decodes gives a new session and an error,
// never an emptied session that looks loaded.
func TestUndecodableStoredData(t *testing.T) {
	t.Parallel()
	nodes := testutil.StartCluster(t, 1)
	prefix := randomHex(4) + ":"
	samePrefix := func(c *Config) { c.Prefix = prefix }
	gobStore := newStore(t, nodes, samePrefix)
	jsonStore := newStore(t, nodes, samePrefix)
	jsonStore.Serializer = JSONSerializer{}

	t.Run("json read as gob", func(t *testing.T) {
		t.Parallel()
		_, c := save(t, jsonStore, map[any]any{"user": "ann"}, nil)
		session, err := load(gobStore, c)
		if err == nil {
			t.Fatal("load succeeded; want a decode error")
		}
		wantNew(t, session)
	})

	t.Run("garbage item", func(t *testing.T) {
		t.Parallel()
		old, c := save(t, gobStore, map[any]any{"user": "ann"}, nil)
		key := gobStore.key(old.ID)
		reply := command(t, nodes[0], "set "+key+" 0 0 7\r\ngarbage")
		if reply != "STORED" {
			t.Fatalf("set = %q", reply)
		}

		session, err := load(gobStore, c)
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("load: %v; want ErrCorrupt", err)
		}
		wantNew(t, session)

		session.Values["user"] = "bob"
		w := httptest.NewRecorder()
		if err := gobStore.Save(request(c), w, session); err != nil {
			t.Fatal(err)
		}
		fresh := onlyCookie(t, w)
		if got := mustLoad(t, gobStore, fresh).Values["user"]; got != "bob" {
			t.Errorf("saved over garbage: user %v; want bob", got)
		}
		if session.ID == old.ID {
			t.Errorf("the garbage item's ID was reused")
		}
	})

	t.Run("logout deletes garbage", func(t *testing.T) {
		t.Parallel()
		old, c := save(t, gobStore, map[any]any{"user": "ann"}, nil)
		key := gobStore.key(old.ID)
		command(t, nodes[0], "set "+key+" 0 0 7\r\ngarbage")

		session, _ := load(gobStore, c)
		session.Options.MaxAge = -1
		w := httptest.NewRecorder()
		if err := gobStore.Save(request(c), w, session); err != nil {
			t.Fatal(err)
		}
		wantGone(t, nodes[0], key)
	})
}

type unregistered struct{ N int }

// Values that cannot be encoded fail Save before anything is sent: the
// stored session and the cookie stay as they were.
func TestUnencodableValuesNotSaved(t *testing.T) {
	t.Parallel()
	nodes := testutil.StartCluster(t, 1)
	store := newStore(t, nodes, nil)
	_, c := save(t, store, map[any]any{"user": "ann"}, nil)

	session := mustLoad(t, store, c)
	session.Values["user"] = "bob"
	session.Values["thing"] = unregistered{1}
	w := httptest.NewRecorder()
	err := store.Save(request(c), w, session)
	if err == nil || !strings.Contains(err.Error(), "not registered") {
		t.Fatalf("Save of an unregistered gob type: %v; want gob's error",
			err)
	}

	wantNoCookie(t, w)
	if got := mustLoad(t, store, c).Values["user"]; got != "ann" {
		t.Errorf("stored user %v; want ann", got)
	}
}

// A session over the node's item size limit fails with ErrTooLarge and
// changes neither the stored session nor the cookie; one under it saves.
func TestTooLarge(t *testing.T) {
	t.Parallel()
	node := testutil.StartServer(t,
		testutil.Options{Args: []string{"-I", "2m"}})
	nodes := []*testutil.Server{node}
	store := newStore(t, nodes, nil)
	_, c := save(t, store, map[any]any{"user": "ann"}, nil)

	tests := []struct {
		size    int
		wantErr error
	}{
		{3 << 20, ErrTooLarge},
		{2<<20 + 1, ErrTooLarge},
		{3 << 19, nil},
	}
	for _, tt := range tests {
		session := mustLoad(t, store, c)
		session.Values["blob"] = strings.Repeat("x", tt.size)
		w := httptest.NewRecorder()
		err := store.Save(request(c), w, session)
		if !errors.Is(err, tt.wantErr) {
			t.Fatalf("Save of %d bytes: %v; want %v", tt.size, err,
				tt.wantErr)
		}
		if tt.wantErr != nil {
			wantNoCookie(t, w)
			got := mustLoad(t, store, c)
			if len(got.Values) != 1 || got.Values["user"] != "ann" {
				t.Fatalf("after a failed Save of %d bytes: stored "+
					"%d values; want the old session", tt.size,
					len(got.Values))
			}
		}
	}
}

// Sessions of 64 KiB, far past what a cookie holds, work.
func TestLargeSession(t *testing.T) {
	t.Parallel()
	nodes := testutil.StartCluster(t, 1)
	store := newStore(t, nodes, nil)
	blob := make([]byte, 64<<10)
	rand.Read(blob)

	_, c := save(t, store, map[any]any{"blob": blob}, nil)
	got, _ := mustLoad(t, store, c).Values["blob"].([]byte)
	if string(got) != string(blob) {
		t.Fatalf("loaded %d bytes; want the 64 KiB stored", len(got))
	}
}

// RenewID deletes the session under its old ID; the next Save stores it
// under a new one and sends the new cookie.
func TestRenewID(t *testing.T) {
	t.Parallel()
	nodes := testutil.StartCluster(t, 1)
	store := newStore(t, nodes, nil)
	_, oldCookie := save(t, store, map[any]any{"cart": 3}, nil)

	r := request(oldCookie)
	session, err := store.Get(r, "s")
	if err != nil {
		t.Fatal(err)
	}
	oldID := session.ID
	if err := store.RenewID(r, session); err != nil {
		t.Fatalf("RenewID: %v", err)
	}
	if session.ID == oldID || len(session.ID) != 43 {
		t.Fatalf("ID after RenewID %q; want a fresh one", session.ID)
	}
	wantGone(t, nodes[0], store.key(oldID))

	session.Values["user"] = "ann"
	w := httptest.NewRecorder()
	if err := sessions.Save(r, w); err != nil {
		t.Fatal(err)
	}
	newCookie := onlyCookie(t, w)
	loaded := mustLoad(t, store, newCookie)
	if loaded.ID != session.ID || loaded.Values["cart"] != 3 ||
		loaded.Values["user"] != "ann" {
		t.Errorf("loaded %q %v; want %q with cart and user", loaded.ID,
			loaded.Values, session.ID)
	}
	wantGone(t, nodes[0], store.key(oldID))
	old, err := load(store, oldCookie)
	if err != nil {
		t.Fatal(err)
	}
	wantNew(t, old)
}

// RenewID that cannot delete the old copy fails and keeps the ID, also
// when the node was already down when the session was loaded.
func TestRenewIDWithNodeDownFails(t *testing.T) {
	t.Parallel()
	for _, downAtLoad := range []bool{false, true} {
		nodes := testutil.StartCluster(t, 1)
		store := newStore(t, nodes, nil)
		_, c := save(t, store, map[any]any{"cart": 3}, nil)
		if downAtLoad {
			nodes[0].Kill()
		}
		session, _ := load(store, c)
		if !downAtLoad {
			nodes[0].Kill()
		}

		id := session.ID
		err := store.RenewID(request(c), session)
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("down at load %v: RenewID = %v; want "+
				"ErrUnavailable", downAtLoad, err)
		}
		if session.ID != id {
			t.Errorf("down at load %v: a failed RenewID changed the ID",
				downAtLoad)
		}
	}
}

// sessions.Save saves every session of the request's registry.
func TestRegistrySavesNamedSessions(t *testing.T) {
	t.Parallel()
	nodes := testutil.StartCluster(t, 1)
	store := newStore(t, nodes, nil)

	r := request()
	for _, name := range []string{"prefs", "auth"} {
		session, err := store.Get(r, name)
		if err != nil {
			t.Fatal(err)
		}
		session.Values["name"] = name
	}
	w := httptest.NewRecorder()
	if err := sessions.Save(r, w); err != nil {
		t.Fatalf("sessions.Save: %v", err)
	}

	cookies := w.Result().Cookies()
	if len(cookies) != 2 {
		t.Fatalf("got %d cookies; want 2", len(cookies))
	}
	r = request(cookies...)
	for _, name := range []string{"prefs", "auth"} {
		session, err := store.Get(r, name)
		if err != nil || session.IsNew || session.Values["name"] != name {
			t.Errorf("Get(%q) = %v, IsNew %v, %v", name, session.Values,
				session.IsNew, err)
		}
	}
}

// Flashes survive a round trip through Memcached with every serializer.
func TestFlashes(t *testing.T) {
	t.Parallel()
	nodes := testutil.StartCluster(t, 1)

	for _, sz := range []Serializer{GobSerializer{}, JSONSerializer{},
		CompactSerializer{}} {
		store := newStore(t, nodes, nil)
		store.Serializer = sz
		_, c := save(t, store, nil, func(s *sessions.Session) {
			s.AddFlash("saved")
			s.AddFlash("welcome", "greeting")
		})

		session := mustLoad(t, store, c)
		got := fmt.Sprint(session.Flashes(), session.Flashes("greeting"))
		if want := "[saved] [welcome]"; got != want {
			t.Errorf("%T: flashes %s; want %s", sz, got, want)
		}
	}
}

// 100 clients, each with its own session, run at once without an error.
func TestConcurrentSessions(t *testing.T) {
	t.Parallel()
	nodes := testutil.StartCluster(t, 3)
	store := newStore(t, nodes, nil)

	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- drive(store, 10)
		}()
	}
	wg.Wait()
	close(errs)

	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// drive runs n requests of one client through store, checking that each
// sees the count the one before saved.
func drive(store *Store, n int) error {
	var c *http.Cookie
	for want := 1; want <= n; want++ {
		r := request()
		if c != nil {
			r.AddCookie(c)
		}
		w := httptest.NewRecorder()
		counter(store).ServeHTTP(w, r)
		if got := w.Body.String(); got != strconv.Itoa(want) {
			return fmt.Errorf("request %d answered %q", want, got)
		}
		if cookies := w.Result().Cookies(); len(cookies) == 1 {
			c = cookies[0]
		}
	}
	return nil
}

func TestNewStoreDefaults(t *testing.T) {
	t.Parallel()
	s := New([]string{"127.0.0.1:1"}, hashKey)

	if o := s.Options; o.Path != "/" || o.MaxAge != 86400*30 ||
		!o.Secure || !o.HttpOnly || o.SameSite != http.SameSiteLaxMode {
		t.Errorf("Options %+v; want Path /, MaxAge 30 days, Secure, "+
			"HttpOnly and SameSite=Lax", s.Options)
	}
	if _, ok := s.Serializer.(GobSerializer); !ok {
		t.Errorf("Serializer %T; want GobSerializer", s.Serializer)
	}
	if s.defaultTTL != 24*time.Hour {
		t.Errorf("default TTL %v; want 24h", s.defaultTTL)
	}
}

func TestNewStoreErrors(t *testing.T) {
	t.Parallel()
	one := []string{"127.0.0.1:1"}
	tests := []struct {
		name string
		cfg  Config
		keys [][]byte
	}{
		{"no servers", Config{}, [][]byte{hashKey}},
		{"repeated server", Config{Servers: []string{"a:1", "a:1"}},
			[][]byte{hashKey}},
		{"bad prefix", Config{Servers: one, Prefix: "a b"},
			[][]byte{hashKey}},
		{"no keys", Config{Servers: one}, nil},
		{"empty hash key", Config{Servers: one}, [][]byte{nil}},
		{"bad block key", Config{Servers: one},
			[][]byte{hashKey, []byte("short")}},
	}
	for _, tt := range tests {
		s, err := NewStore(tt.cfg, tt.keys...)
		if err == nil || s != nil {
			t.Errorf("%s: NewStore = %v, %v; want an error", tt.name, s,
				err)
			continue
		}
		if !strings.HasPrefix(err.Error(), "mcsession: ") {
			t.Errorf("%s: error %q lacks the mcsession prefix", tt.name,
				err)
		}
	}
}

func TestNewPanicsOnBadServers(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("New(nil servers) did not panic")
		}
	}()
	New(nil, hashKey)
}

func TestLifetime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		maxAge int
		want   time.Duration
	}{
		{0, 3 * time.Hour},
		{1, 2 * time.Second},
		{2, 2 * time.Second},
		{3, 3 * time.Second},
		{86400 * 31, 31 * 24 * time.Hour},
		{1 << 31, (1<<31 - 1) * time.Second},
		{int(^uint(0) >> 1), (1<<31 - 1) * time.Second},
	}
	for _, tt := range tests {
		if got := lifetime(tt.maxAge, 3*time.Hour); got != tt.want {
			t.Errorf("lifetime(%d) = %v; want %v", tt.maxAge, got,
				tt.want)
		}
	}
}

// BenchmarkGetSave measures one request that loads its session, changes
// it and saves it, against one real memcached.
func BenchmarkGetSave(b *testing.B) {
	nodes := testutil.StartCluster(b, 1)
	store := newStore(b, nodes, nil)
	r := request()
	session, _ := store.New(r, "s")
	session.Values["user"] = "ann"
	w := httptest.NewRecorder()
	if err := store.Save(r, w, session); err != nil {
		b.Fatal(err)
	}
	c := w.Result().Cookies()[0]

	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r := request(c)
		session, err := store.Get(r, "s")
		if err != nil || session.IsNew {
			b.Fatalf("Get: IsNew %v, %v", session.IsNew, err)
		}
		session.Values["n"] = i
		if err := session.Save(r, httptest.NewRecorder()); err != nil {
			b.Fatal(err)
		}
	}
}

// An ID set by the app that a cookie could not bring back is refused by
// Save, before anything is stored.
func TestSaveRefusesUnusableID(t *testing.T) {
	t.Parallel()
	store := newStore(t, testutil.StartCluster(t, 1), nil)

	for _, id := range []string{"two words", "line\n", strings.Repeat("x",
		251)} {
		r := request()
		session, _ := store.New(r, "s")
		session.ID = id
		w := httptest.NewRecorder()
		if err := store.Save(r, w, session); err == nil ||
			len(w.Result().Cookies()) != 0 {
			t.Errorf("Save with ID %.20q: err %v, cookies %v; want an "+
				"error and none", id, err, w.Result().Cookies())
		}
	}
}
