package gorillastore_test

import (
	"fmt"
	"log"
	"net/http"
	"os"

	"github.com/gorilla/sessions"

	"github.com/mcsession/mcsession/gorillastore"
)

// The store that used to be sessions.NewCookieStore(key) is made by
// gorillastore.New; the handler does not change.
func Example() {
	key := []byte(os.Getenv("SESSION_KEY")) // 32 or 64 random bytes
	servers := []string{"10.0.0.1:11211", "10.0.0.2:11211"}
	store := gorillastore.New(servers, key)
	defer store.Close()

	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		session, err := store.Get(r, "app")
		if err != nil {
			// session is new, empty and usable.
			log.Printf("session: %v", err)
		}

		n, _ := session.Values["visits"].(int)
		session.Values["visits"] = n + 1
		if err := session.Save(r, w); err != nil {
			http.Error(w, "session not saved", http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "visit %d\n", n+1)
	})
	http.ListenAndServe(":8080", nil)
}

// At login, renew the session ID before saving, so that an ID planted in
// the browser beforehand is worthless afterwards.
func ExampleStore_RenewID() {
	store := gorillastore.New([]string{"127.0.0.1:11211"},
		[]byte(os.Getenv("SESSION_KEY")))

	http.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		session, _ := store.Get(r, "app")
		// ... check the user's credentials ...
		if err := store.RenewID(r, session); err != nil {
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		session.Values["user"] = r.FormValue("user")
		if err := session.Save(r, w); err != nil {
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
}

// Logging out deletes the session from Memcached; an error means the
// delete did not reach the session's node, and the session may still be
// live there.
func ExampleStore_Save_logout() {
	store := gorillastore.New([]string{"127.0.0.1:11211"},
		[]byte(os.Getenv("SESSION_KEY")))

	http.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		session, _ := store.Get(r, "app")
		session.Options.MaxAge = -1
		if err := sessions.Save(r, w); err != nil {
			http.Error(w, "logout failed", http.StatusServiceUnavailable)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
}

// NewStore takes a Config for everything past the server list, and
// reports a bad configuration as an error.
func ExampleNewStore() {
	store, err := gorillastore.NewStore(gorillastore.Config{
		Servers:  []string{"10.0.0.1:11211", "10.0.0.2:11211"},
		Replicas: 2,
		Prefix:   "shop:",
	}, []byte(os.Getenv("SESSION_KEY")))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()

	store.Serializer = gorillastore.CompactSerializer{}
	store.Options.HttpOnly = true
	store.MaxAge(7 * 24 * 60 * 60)
}
