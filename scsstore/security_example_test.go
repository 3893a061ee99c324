package scsstore_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"log"
	"os"

	"github.com/alexedwards/scs/v2"

	"github.com/mcsession/mcsession/scsstore"
)

// A store for a network that others share: values sealed with keys kept
// outside the code, TLS to the nodes (memcached -Z) and a login on each
// connection (memcached -Y). The environment holds the keys as base64,
// the new one first while the old one is still being rotated out.
func ExampleNewStore_security() {
	var keys [][]byte
	for _, name := range []string{"SESSION_KEY", "SESSION_KEY_OLD"} {
		key, err := base64.StdEncoding.DecodeString(os.Getenv(name))
		if err != nil {
			log.Fatal(err)
		}
		if len(key) > 0 {
			keys = append(keys, key)
		}
	}
	ca, err := os.ReadFile("/etc/memcached/ca.pem")
	if err != nil {
		log.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca)

	store, err := scsstore.NewStore(scsstore.Config{
		Servers:        []string{"10.0.0.1:11211", "10.0.0.2:11211"},
		EncryptionKeys: keys,
		TLS:            &tls.Config{RootCAs: roots},
		Username:       "shop",
		Password:       os.Getenv("MEMCACHED_PASSWORD"),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	sessionManager := scs.New()
	sessionManager.Cookie.Secure = true
	sessionManager.Store = store
}
