package gorillastore

import (
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

// FuzzCookie sends Store.New hostile Cookie headers. The store points at
// a Unix socket that does not exist, so a cookie that decodes costs no
// network and fails fast. Nothing may panic, and every answer is a new,
// empty session.
func FuzzCookie(f *testing.F) {
	sock := filepath.Join(f.TempDir(), "no-memcached.sock")
	store, err := NewStore(Config{Servers: []string{sock}}, hashKey,
		blockKey)
	if err != nil {
		f.Fatal(err)
	}
	valid, err := securecookie.EncodeMulti("s", []byte("an-id"),
		store.Codecs...)
	if err != nil {
		f.Fatal(err)
	}
	f.Add("s=" + valid)
	f.Add("s=" + valid[:len(valid)/2])
	f.Add("s=" + valid + "; s=x; other=1")
	f.Add("")

	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Cookie", header)
		session, _ := store.New(r, "s")
		if session == nil || !session.IsNew || len(session.Values) != 0 ||
			session.Name() != "s" {
			t.Fatalf("New with Cookie %q = %+v; want a new session",
				header, session)
		}
	})
}

// FuzzDeserialize feeds each serializer hostile stored bytes, as a writer
// to an unsealed Memcached could plant: nothing may panic.
func FuzzDeserialize(f *testing.F) {
	serializers := []Serializer{GobSerializer{}, JSONSerializer{},
		CompactSerializer{}}
	values := map[any]any{"user": "ann", "n": 3.0, "roles": []any{"a"}}
	for _, s := range serializers {
		session := sessions.NewSession(nil, "s")
		session.Values = values
		b, err := s.Serialize(session)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}

	f.Fuzz(func(t *testing.T, b []byte) {
		for _, s := range serializers {
			session := sessions.NewSession(nil, "s")
			if err := s.Deserialize(b, session); err != nil {
				continue
			}
			if session.Values == nil {
				t.Fatalf("%T.Deserialize(%q) left Values nil", s, b)
			}
		}
	})
}
