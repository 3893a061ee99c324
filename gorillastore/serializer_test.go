package gorillastore

import (
	"encoding/gob"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/sessions"

	"github.com/mcsession/mcsession/internal/valuecodec"
)

// roundTrip serializes values with sz and deserializes them into a new
// session.
func roundTrip(sz Serializer, values map[any]any) (map[any]any, error) {
	return transfer(sz, sz, values)
}

// transfer serializes values with write and deserializes them with read
// into a new session.
func transfer(write, read Serializer, values map[any]any) (map[any]any,
	error) {
	in := sessions.NewSession(nil, "s")
	in.Values = values
	data, err := write.Serialize(in)
	if err != nil {
		return nil, err
	}

	out := sessions.NewSession(nil, "s")
	err = read.Deserialize(data, out)
	return out.Values, err
}

func TestSerializersRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		sz   Serializer
		in   map[any]any
		want map[any]any
	}{
		{GobSerializer{}, map[any]any{}, map[any]any{}},
		{GobSerializer{}, map[any]any{"n": 1, 2: []byte("x")},
			map[any]any{"n": 1, 2: []byte("x")}},
		{CompactSerializer{}, map[any]any{}, map[any]any{}},
		{CompactSerializer{}, map[any]any{"n": 1, 2: []byte("x"),
			"_flash": []any{"hi"}},
			map[any]any{"n": 1, 2: []byte("x"), "_flash": []any{"hi"}}},
		{CompactSerializer{}, map[any]any{"own": own{A: 1}},
			map[any]any{"own": own{A: 1}}},
		{JSONSerializer{}, map[any]any{}, map[any]any{}},
		{JSONSerializer{}, map[any]any{"n": 1, "s": "x", "b": true},
			map[any]any{"n": 1.0, "s": "x", "b": true}},
		{JSONSerializer{}, map[any]any{"_flash": []any{"hi"}},
			map[any]any{"_flash": []any{"hi"}}},
	}
	for _, tt := range tests {
		got, err := roundTrip(tt.sz, tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%T round trip of %v = %v, %v; want %v", tt.sz,
				tt.in, got, err, tt.want)
		}
	}
}

// own is a type of the app's own, which CompactSerializer leaves to gob.
type own struct{ A int }

func init() { gob.Register(own{}) }

// GobSerializer and CompactSerializer read what the other writes, so
// that app servers switch from one to the other one at a time, and back,
// without logging users out.
func TestGobAndCompactReadEachOther(t *testing.T) {
	t.Parallel()
	values := map[any]any{"user": "ann", "n": 3, "b": []byte("x")}
	for _, tt := range []struct{ write, read Serializer }{
		{GobSerializer{}, CompactSerializer{}},
		{CompactSerializer{}, GobSerializer{}},
	} {
		got, err := transfer(tt.write, tt.read, values)
		if err != nil || !reflect.DeepEqual(got, values) {
			t.Errorf("%T read %T's data as %v, %v; want %v", tt.read,
				tt.write, got, err, values)
		}
	}
}

// CompactSerializer writes gob for a session holding a type it does not
// cover.
func TestCompactSerializerFallsBackToGob(t *testing.T) {
	t.Parallel()
	in := sessions.NewSession(nil, "s")
	in.Values = map[any]any{"own": own{A: 2}}
	data, err := CompactSerializer{}.Serialize(in)
	if err != nil || valuecodec.IsCompact(data) {
		t.Errorf("session with an own type encoded as %q, %v; want gob",
			data, err)
	}
}

// Regression (newcomer review): a session holding a time.Time and a
// struct of the app's own falls back to gob whole, and gob refused the
// time.Time, which the compact form had taken without registration.
func TestGobFallbackKeepsCoveredTypes(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC)
	values := map[any]any{"at": at, "own": own{A: 1},
		"prefs": map[string]any{"dark": true}, "tags": []any{"a"}}
	for _, sz := range []Serializer{CompactSerializer{}, GobSerializer{}} {
		got, err := roundTrip(sz, values)
		if err != nil || !reflect.DeepEqual(got, values) {
			t.Errorf("%T: %v, %v; want %v", sz, got, err, values)
		}
	}
}

func TestJSONSerializerNamesBadKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key  any
		want string
	}{
		{42, "key 42 has type int"},
		{struct{ ID int }{7}, "key {7} has type struct { ID int }"},
	}
	for _, tt := range tests {
		_, err := roundTrip(JSONSerializer{}, map[any]any{tt.key: "v"})
		if err == nil || !strings.Contains(err.Error(), tt.want) ||
			!strings.HasPrefix(err.Error(), "mcsession: ") {
			t.Errorf("key %#v: error %v; want one saying %q", tt.key, err,
				tt.want)
		}
	}
}

func TestSerializersRejectOthersData(t *testing.T) {
	t.Parallel()
	values := map[any]any{"user": "ann"}
	tests := []struct {
		write, read Serializer
	}{
		{JSONSerializer{}, GobSerializer{}},
		{GobSerializer{}, JSONSerializer{}},
		{CompactSerializer{}, JSONSerializer{}},
	}
	for _, tt := range tests {
		if got, err := transfer(tt.write, tt.read, values); err == nil {
			t.Errorf("%T read %T's data as %v; want an error", tt.read,
				tt.write, got)
		}
	}
}

// Regression (found by FuzzDeserialize): gob data whose map key is a
// slice made gob panic inside Deserialize instead of returning an error.
func TestGobUnhashableKeyIsAnError(t *testing.T) {
	t.Parallel()
	data := []byte("\r\x7f\x04\x01\x02\xff0\x00\x01\x10\x01\x10\x00\x000\xff" +
		"\x80\x000\x0e[]interface {}\xff\x81\x02\x01\x00\x01\x10\x00\x000" +
		"\xff\x820\x00\x01\x06string\f0\x00\x010\x0000000000000000000000000000")
	session := sessions.NewSession(nil, "s")
	if err := (GobSerializer{}).Deserialize(data, session); err == nil {
		t.Fatal("Deserialize of a slice-keyed map succeeded; want an error")
	}
}
