package scsstore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/mcsession/mcsession/testutil"
)

// app is one app server behind the load balancer: a session manager of
// its own over a Store of its own.
type app struct {
	sm      *scs.SessionManager
	store   *Store
	handler http.Handler
	srv     *httptest.Server
}

// newApp starts an app server whose sessions live on servers under
// prefix. tweak, if not nil, configures the session manager.
func newApp(t *testing.T, servers []*testutil.Server, prefix string,
	tweak func(*scs.SessionManager)) *app {
	t.Helper()
	a := &app{sm: scs.New(), store: newStoreWithPrefix(t, servers, prefix)}
	a.sm.Store = a.store
	if tweak != nil {
		tweak(a.sm)
	}

	a.handler = a.sm.LoadAndSave(a.routes())
	a.srv = httptest.NewServer(a.handler)
	t.Cleanup(a.srv.Close)
	return a
}

// routes serves the paths the tests use. All but /pop answer with the
// session's counter after their action.
func (a *app) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/get", a.count)
	mux.HandleFunc("/incr", func(w http.ResponseWriter, r *http.Request) {
		a.sm.Put(r.Context(), "n", a.sm.GetInt(r.Context(), "n")+1)
		a.count(w, r)
	})
	mux.HandleFunc("/flash", func(w http.ResponseWriter, r *http.Request) {
		a.sm.Put(r.Context(), "flash", r.URL.Query().Get("msg"))
		a.count(w, r)
	})
	mux.HandleFunc("/pop", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, a.sm.PopString(r.Context(), "flash"))
	})
	mux.HandleFunc("/renew", a.after(a.sm.RenewToken))
	mux.HandleFunc("/destroy", a.after(a.sm.Destroy))
	return mux
}

// count writes the session's counter, "n".
func (a *app) count(w http.ResponseWriter, r *http.Request) {
	fmt.Fprint(w, a.sm.GetInt(r.Context(), "n"))
}

// after returns a handler that calls action, then writes the counter.
func (a *app) after(action func(context.Context) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := action(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		a.count(w, r)
	}
}

// client is a browser: it keeps the session cookie across app servers,
// which share a host and so a cookie.
type client struct {
	jar *cookiejar.Jar
	hc  *http.Client
}

func newClient(t *testing.T) *client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &client{jar: jar, hc: &http.Client{Jar: jar}}
}

// get requests path from a and returns the response, whose body it has
// read into the returned string. Any status but 200 fails t.
func (c *client) get(t *testing.T, a *app, path string) (string,
	*http.Response) {
	t.Helper()
	resp, err := c.hc.Get(a.srv.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()

	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d %q, %v; want 200", path, resp.StatusCode,
			body, err)
	}
	return string(body), resp
}

// want requests path from a and fails t unless the body is want.
func (c *client) want(t *testing.T, a *app, path, want string) {
	t.Helper()
	if got, _ := c.get(t, a, path); got != want {
		t.Fatalf("GET %s = %q; want %q", path, got, want)
	}
}

// token returns the session cookie the client holds for a, or "".
func (c *client) token(t *testing.T, a *app) string {
	t.Helper()
	u, err := url.Parse(a.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	for _, ck := range c.jar.Cookies(u) {
		if ck.Name == a.sm.Cookie.Name {
			return ck.Value
		}
	}
	return ""
}

// withCookie serves a request for path by a's handler, with a Cookie
// header built by hand, so that values a Go client would refuse reach the
// session manager.
func withCookie(a *app, path, value string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Cookie", a.sm.Cookie.Name+"="+value)
	rec := httptest.NewRecorder()
	a.handler.ServeHTTP(rec, req)
	return rec
}

// sessionCookie returns the session cookie set by resp, or nil.
func sessionCookie(resp *http.Response, name string) *http.Cookie {
	for _, ck := range resp.Cookies() {
		if ck.Name == name {
			return ck
		}
	}
	return nil
}

// hashToken is what scs stores instead of a token with HashTokenInStore.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// wantItem fails t unless some server holds key.
func wantItem(t *testing.T, servers []*testutil.Server, key string) {
	t.Helper()
	for _, srv := range servers {
		if strings.HasPrefix(srv.Command(t, "mg "+key+" v"), "VA") {
			return
		}
	}
	t.Errorf("no server holds %s", key)
}

// twoApps starts two app servers over a cluster of three memcached nodes.
func twoApps(t *testing.T, tweak func(*scs.SessionManager)) (
	[]*testutil.Server, *app, *app) {
	t.Helper()
	servers := testutil.StartCluster(t, 3)
	prefix := randomPrefix()
	return servers, newApp(t, servers, prefix, tweak),
		newApp(t, servers, prefix, tweak)
}

func TestAppServersShareSessions(t *testing.T) {
	t.Parallel()
	_, a, b := twoApps(t, nil)

	for i := range 4 {
		t.Run(fmt.Sprint("client", i), func(t *testing.T) {
			t.Parallel()
			c := newClient(t)
			for n := 1; n <= 10; n++ {
				c.want(t, []*app{a, b}[n%2], "/incr", strconv.Itoa(n))
			}
		})
	}
}

func TestPopOnAnotherAppServer(t *testing.T) {
	t.Parallel()
	_, a, b := twoApps(t, nil)
	c := newClient(t)

	c.want(t, a, "/flash?msg=saved", "0")
	c.want(t, b, "/pop", "saved")
	c.want(t, a, "/pop", "")
}

func TestRenewTokenRemovesOldItem(t *testing.T) {
	t.Parallel()
	servers, a, b := twoApps(t, nil)
	c := newClient(t)
	c.want(t, a, "/incr", "1")
	old := c.token(t, a)

	c.want(t, b, "/renew", "1")
	if renewed := c.token(t, a); renewed == old || renewed == "" {
		t.Fatalf("token after RenewToken = %q; want a new one", renewed)
	}
	wantNoItem(t, servers, a.store.itemKey(old))

	c.want(t, a, "/incr", "2")
	if got := withCookie(b, "/get", old).Body.String(); got != "0" {
		t.Errorf("old cookie after RenewToken sees %q; want \"0\"", got)
	}
}

func TestDestroyForgetsSession(t *testing.T) {
	t.Parallel()
	servers, a, b := twoApps(t, nil)
	c := newClient(t)
	c.want(t, a, "/incr", "1")
	c.want(t, b, "/incr", "2")
	old := c.token(t, a)

	c.want(t, b, "/destroy", "0")
	if tok := c.token(t, a); tok != "" {
		t.Errorf("cookie after Destroy = %q; want none", tok)
	}
	wantNoItem(t, servers, a.store.itemKey(old))

	rec := withCookie(a, "/get", old)
	if rec.Code != http.StatusOK || rec.Body.String() != "0" {
		t.Errorf("replayed cookie = %d %q; want 200 \"0\"", rec.Code,
			rec.Body.String())
	}
}

func TestHashTokenInStore(t *testing.T) {
	t.Parallel()
	servers, a, b := twoApps(t, func(sm *scs.SessionManager) {
		sm.HashTokenInStore = true
	})
	c := newClient(t)
	c.want(t, a, "/incr", "1")
	c.want(t, b, "/incr", "2")
	old := c.token(t, a)

	wantItem(t, servers, a.store.itemKey(hashToken(old)))
	wantNoItem(t, servers, a.store.itemKey(old))

	c.want(t, a, "/renew", "2")
	wantNoItem(t, servers, a.store.itemKey(hashToken(old)))
	renewed := c.token(t, a)
	c.want(t, b, "/destroy", "0")
	wantNoItem(t, servers, a.store.itemKey(hashToken(renewed)))
}

// Cookies no scs server would set, or whose session is gone or garbage,
// must start a fresh session rather than fail the request.
func TestHostileCookiesGetFreshSession(t *testing.T) {
	t.Parallel()
	servers, a, _ := twoApps(t, nil)
	garbage := newToken()
	for _, srv := range servers {
		srv.Command(t, "set "+a.store.itemKey(garbage)+" 0 0 7\r\ngarbage")
	}

	tests := map[string]string{
		"space":        "a b",
		"300 long":     strings.Repeat("x", 300),
		"NUL":          "a\x00b",
		"unknown":      newToken(),
		"garbage item": garbage,
	}
	for name, value := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rec := withCookie(a, "/incr", value)
			if rec.Code != http.StatusOK || rec.Body.String() != "1" {
				t.Fatalf("GET /incr = %d %q; want 200 \"1\"", rec.Code,
					rec.Body.String())
			}
			ck := sessionCookie(rec.Result(), a.sm.Cookie.Name)
			if ck == nil || ck.Value == value || !validToken(ck.Value) {
				t.Errorf("session cookie = %v; want a fresh token", ck)
			}
		})
	}
}

func TestSessionsExpireInMemcached(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		lifetime    time.Duration
		idleTimeout time.Duration
		pauses      []time.Duration // between requests to /incr
		want        string          // the counter after the pauses
	}{
		{"lifetime", 2 * time.Second, 0,
			[]time.Duration{3500 * time.Millisecond}, "1"},
		{"idle timeout", time.Hour, 2 * time.Second,
			[]time.Duration{3500 * time.Millisecond}, "1"},
		{"activity renews idle timeout", time.Hour, 3 * time.Second,
			[]time.Duration{time.Second, time.Second, time.Second,
				time.Second}, "5"},
		{"lifetime ends despite activity", 3 * time.Second, 0,
			[]time.Duration{time.Second, time.Second, 2 * time.Second}, "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			servers, a, b := twoApps(t, func(sm *scs.SessionManager) {
				sm.Lifetime = tt.lifetime
				sm.IdleTimeout = tt.idleTimeout
			})
			c := newClient(t)
			c.want(t, a, "/incr", "1")
			old := c.token(t, a)

			var got string
			for i, d := range tt.pauses {
				time.Sleep(d)
				got, _ = c.get(t, []*app{b, a}[i%2], "/incr")
			}
			if got != tt.want {
				t.Errorf("counter after pauses %v = %q; want %q",
					tt.pauses, got, tt.want)
			}
			if tt.want == "1" {
				wantNoItem(t, servers, a.store.itemKey(old))
			}
		})
	}
}

// With IdleTimeout, every request commits the session again with a new
// expiry; the item in Memcached must follow it, not keep the first one
// (which would be 3s short by the time it is read). scs rounds the
// cookie's expiry up to a whole second and Memcached's clock ticks once a
// second, so they agree to within a second and a half.
func TestIdleTimeoutTTLFollowsCookie(t *testing.T) {
	t.Parallel()
	srv := testutil.StartServer(t)
	a := newApp(t, []*testutil.Server{srv}, randomPrefix(),
		func(sm *scs.SessionManager) { sm.IdleTimeout = time.Minute })
	c := newClient(t)
	c.want(t, a, "/incr", "1")
	time.Sleep(3 * time.Second)

	_, resp := c.get(t, a, "/get")
	ck := sessionCookie(resp, a.sm.Cookie.Name)
	if ck == nil || ck.Expires.IsZero() {
		t.Fatalf("second response's session cookie = %v; want one "+
			"with Expires", ck)
	}
	got := ttlOf(t, srv, a.store.itemKey(ck.Value))
	want := time.Until(ck.Expires).Seconds()
	if math.Abs(float64(got)-want) > 1.5 {
		t.Errorf("TTL in memcached = %ds; cookie expires in %.1fs",
			got, want)
	}
}
