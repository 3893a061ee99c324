package container_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mcsession/mcsession/gorillastore"
	"github.com/mcsession/mcsession/testutil/container"
)

var t testing.TB // the test that would run the example

// A test starts two memcached containers, builds its store over them,
// and kills one to see that a session with two replicas survives.
func Example() {
	servers := container.StartCluster(t, 2) // removed when t ends
	store, err := gorillastore.NewStore(gorillastore.Config{
		Servers:  container.Addrs(servers), // "127.0.0.1:PORT", ...
		Replicas: 2,
	}, []byte("a-32-byte-key-for-signing-cookie"))
	if err != nil {
		t.Fatal(err)
	}

	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	session, _ := store.Get(r, "app")
	session.Values["user"] = "ada"
	if err := session.Save(r, w); err != nil {
		t.Fatal(err)
	}

	servers[0].Kill() // or Stop, Pause and Resume; Restart brings it back
	r = httptest.NewRequest(http.MethodGet, "/", nil)
	for _, c := range w.Result().Cookies() {
		r.AddCookie(c)
	}
	session, err = store.Get(r, "app")
	if err != nil || session.Values["user"] != "ada" {
		t.Errorf("after Kill: %v, %v; want the session of ada",
			session.Values, err)
	}
}

// Options name an image and pass flags to memcached.
func ExampleStart() {
	m := container.Start(t, container.Options{
		Image: "mcsession/memcached:local", // scripts/build-memcached-image.sh
		Args:  []string{"-I", "2m"},        // 2 MiB items
	})
	_ = m.Addr()
}
