package scsstore_test

import (
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/mcsession/mcsession/scsstore"
)

// An app server keeps its scs sessions in Memcached by setting the Store
// once; every other app server behind the load balancer does the same
// with the same servers, and they share the sessions.
func Example() {
	sessionManager := scs.New()
	sessionManager.Lifetime = 12 * time.Hour
	sessionManager.Store = scsstore.New("10.0.0.1:11211", "10.0.0.2:11211")

	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		visits := sessionManager.GetInt(r.Context(), "visits") + 1
		sessionManager.Put(r.Context(), "visits", visits)
		fmt.Fprintf(w, "visit %d\n", visits)
	})

	log.Fatal(http.ListenAndServe(":8080", sessionManager.LoadAndSave(mux)))
}

// NewStore takes the full configuration, here writing every session to
// two of three nodes so that it survives one of them going down.
func ExampleNewStore() {
	store, err := scsstore.NewStore(scsstore.Config{
		Servers: []string{
			"10.0.0.1:11211", "10.0.0.2:11211", "10.0.0.3:11211",
		},
		Replicas: 2,
		Prefix:   "shop:",
		Timeout:  200 * time.Millisecond,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	sessionManager := scs.New()
	sessionManager.Store = store
}

// CompactCodec replaces scs's gob codec on the session manager, beside
// the store: the values keep their types, at a fraction of gob's cost.
func ExampleCompactCodec() {
	sessionManager := scs.New()
	sessionManager.Store = scsstore.New("10.0.0.1:11211", "10.0.0.2:11211")
	sessionManager.Codec = scsstore.CompactCodec{}

	data, _ := sessionManager.Codec.Encode(time.Now().Add(time.Hour),
		map[string]any{"user_id": int64(42), "cart": []string{"tea"}})
	_, values, _ := sessionManager.Codec.Decode(data)
	fmt.Printf("%T %v\n", values["user_id"], values["cart"])
	// Output: int64 [tea]
}
