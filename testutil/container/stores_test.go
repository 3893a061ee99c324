package container_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/mcsession/mcsession/gorillastore"
	"github.com/mcsession/mcsession/scsstore"
	"github.com/mcsession/mcsession/testutil/container"
)

// These tests run both stores against memcached in containers, the way an
// app's own tests would: a browser with a cookie jar counts its visits.

var hashKey = []byte("0123456789abcdef0123456789abcdef")

// storeTimeout replaces the stores' 500ms default, which a machine loaded
// by other tests can exceed. A dead container refuses connections at once,
// so it does not slow the failover tests.
const storeTimeout = 2 * time.Second

// newGorilla returns a gorilla store for cfg with storeTimeout, closed
// with the test.
func newGorilla(t *testing.T, cfg gorillastore.Config) *gorillastore.Store {
	t.Helper()

	cfg.Timeout = storeTimeout
	store, err := gorillastore.NewStore(cfg, hashKey)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

// newSCS returns an scs store for cfg with storeTimeout, closed with the
// test.
func newSCS(t *testing.T, cfg scsstore.Config) *scsstore.Store {
	t.Helper()

	cfg.Timeout = storeTimeout
	store, err := scsstore.NewStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

// gorillaCounter serves the visit count of a gorilla session.
func gorillaCounter(t *testing.T, store *gorillastore.Store) string {
	t.Helper()

	srv := httptest.NewServer(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			session, err := store.Get(r, "visits")
			if err != nil {
				http.Error(w, err.Error(), http.StatusServiceUnavailable)
				return
			}
			n, _ := session.Values["n"].(int)
			session.Values["n"] = n + 1
			if err := session.Save(r, w); err != nil {
				http.Error(w, err.Error(), http.StatusServiceUnavailable)
				return
			}
			fmt.Fprint(w, n+1)
		}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// scsCounter serves the visit count of an scs session.
func scsCounter(t *testing.T, store *scsstore.Store) string {
	t.Helper()

	sm := scs.New()
	sm.Store = store
	srv := httptest.NewServer(sm.LoadAndSave(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			n := sm.GetInt(r.Context(), "n") + 1
			sm.Put(r.Context(), "n", n)
			fmt.Fprint(w, n)
		})))
	t.Cleanup(srv.Close)
	return srv.URL
}

// browser is an HTTP client that keeps cookies.
func browser(t *testing.T) *http.Client {
	t.Helper()

	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

// countTo visits url from the visit numbered from up to the one numbered
// to, and checks that each answer is its number.
func countTo(t *testing.T, c *http.Client, url string, from, to int) {
	t.Helper()

	for want := from; want <= to; want++ {
		resp, err := c.Get(url)
		if err != nil {
			t.Fatalf("visit %d: %v", want, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("visit %d: %v", want, err)
		}
		if resp.StatusCode != http.StatusOK ||
			string(body) != strconv.Itoa(want) {
			t.Fatalf("visit %d: want %q; got %d %q", want,
				strconv.Itoa(want), resp.StatusCode, body)
		}
	}
}

func TestGorillaStoreCountsOnContainers(t *testing.T) {
	t.Parallel()
	servers := container.StartCluster(t, 2)
	store := newGorilla(t, gorillastore.Config{
		Servers: container.Addrs(servers),
	})

	countTo(t, browser(t), gorillaCounter(t, store), 1, 10)
}

func TestSCSStoreCountsOnContainers(t *testing.T) {
	t.Parallel()
	servers := container.StartCluster(t, 2)
	store := newSCS(t, scsstore.Config{Servers: container.Addrs(servers)})

	countTo(t, browser(t), scsCounter(t, store), 1, 10)
}

// With two replicas a session outlives its first node's container, and
// the container comes back on the same address, empty.
func TestGorillaSessionSurvivesAKilledContainer(t *testing.T) {
	t.Parallel()
	servers := container.StartCluster(t, 2)
	store := newGorilla(t, gorillastore.Config{
		Servers:  container.Addrs(servers),
		Replicas: 2,
	})
	c, url := browser(t), gorillaCounter(t, store)

	countTo(t, c, url, 1, 5)
	servers[0].Kill()
	countTo(t, c, url, 6, 10)
	servers[0].Restart()
	countTo(t, c, url, 11, 15)
}

func TestSCSSessionSurvivesAKilledContainer(t *testing.T) {
	t.Parallel()
	servers := container.StartCluster(t, 2)
	store := newSCS(t, scsstore.Config{
		Servers:  container.Addrs(servers),
		Replicas: 2,
	})
	c, url := browser(t), scsCounter(t, store)

	countTo(t, c, url, 1, 5)
	servers[1].Kill()
	countTo(t, c, url, 6, 10)
}

// noEjection keeps a dead node in the ring, so that every operation on
// it meets the dead container instead of moving to the other node.
const noEjection = 1 << 20

// maxWait bounds an operation on a dead node: its failure must come back,
// not hang.
const maxWait = 2 * storeTimeout

// With one replica, a session whose node's container was killed is
// unavailable, and says so with ErrUnavailable naming the node.
func TestSCSKilledContainerIsUnavailable(t *testing.T) {
	t.Parallel()
	servers := container.StartCluster(t, 2)
	addrs := container.Addrs(servers)
	store := newSCS(t, scsstore.Config{
		Servers:      addrs,
		FailureLimit: noEjection,
	})

	tokenOn := map[string]string{} // node address → a token it holds
	for i := 0; len(tokenOn) < len(addrs); i++ {
		token := fmt.Sprintf("token-%d", i)
		tokenOn[store.Nodes(token)[0]] = token
	}
	expiry := time.Now().Add(time.Hour)
	for _, token := range tokenOn {
		if err := store.Commit(token, []byte(token), expiry); err != nil {
			t.Fatalf("Commit(%q) = %v; want nil", token, err)
		}
	}

	servers[0].Kill()
	dead, live := tokenOn[addrs[0]], tokenOn[addrs[1]]

	start := time.Now()
	_, found, err := store.Find(dead)
	if d := time.Since(start); d > maxWait {
		t.Errorf("Find on the dead node took %v; want under %v", d, maxWait)
	}
	checkUnavailable(t, "Find", err, scsstore.ErrUnavailable, addrs[0])
	if found {
		t.Error("Find on the dead node: found = true; want false")
	}
	err = store.Commit(dead, []byte("new"), expiry)
	checkUnavailable(t, "Commit", err, scsstore.ErrUnavailable, addrs[0])

	b, found, err := store.Find(live)
	if err != nil || !found || string(b) != live {
		t.Errorf("Find on the live node = %q, %v, %v; want %q, true, nil",
			b, found, err, live)
	}
}

// The same for gorilla, where the session's node is not known up front:
// of twenty sessions, those on the dead node fail with ErrUnavailable and
// the others load.
func TestGorillaKilledContainerIsUnavailable(t *testing.T) {
	t.Parallel()
	servers := container.StartCluster(t, 2)
	addrs := container.Addrs(servers)
	store := newGorilla(t, gorillastore.Config{
		Servers:      addrs,
		FailureLimit: noEjection,
	})
	url := gorillaCounter(t, store)

	browsers := make([]*http.Client, 20)
	for i := range browsers {
		browsers[i] = browser(t)
		countTo(t, browsers[i], url, 1, 1)
	}

	servers[0].Kill()
	var lost, kept int
	for i, c := range browsers {
		req := httptest.NewRequest(http.MethodGet, url, nil)
		for _, cookie := range c.Jar.Cookies(req.URL) {
			req.AddCookie(cookie)
		}
		start := time.Now()
		session, err := store.Get(req, "visits")
		if d := time.Since(start); d > maxWait {
			t.Errorf("browser %d: Get took %v; want under %v", i, d, maxWait)
		}
		switch {
		case err == nil && !session.IsNew && session.Values["n"] == 1:
			kept++
		case err != nil:
			checkUnavailable(t, "Get", err, gorillastore.ErrUnavailable,
				addrs[0])
			lost++
		default:
			t.Errorf("browser %d: Get = new %v, values %v; want the "+
				"stored session or ErrUnavailable", i, session.IsNew,
				session.Values)
		}
	}
	if lost == 0 || kept == 0 {
		t.Errorf("%d sessions unavailable, %d loaded; want some of each",
			lost, kept)
	}
}

// checkUnavailable checks that err is kind, about the node at addr.
func checkUnavailable(t *testing.T, op string, err, kind error,
	addr string) {
	t.Helper()

	if !errors.Is(err, kind) {
		t.Errorf("%s on the dead node = %v; want %v", op, err, kind)
		return
	}
	var ne *scsstore.NodeError // the same type as gorillastore.NodeError
	if errors.As(err, &ne) && ne.Addr != addr {
		t.Errorf("%s: NodeError.Addr = %q; want %q", op, ne.Addr, addr)
	}
}
