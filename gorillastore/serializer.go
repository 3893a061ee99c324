package gorillastore

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"fmt"

	"github.com/gorilla/sessions"

	"github.com/mcsession/mcsession/internal/valuecodec"
)

// Serializer turns a session's Values into the bytes a Store keeps in
// Memcached, and back. Implementations must be safe for concurrent use.
// The Store returns their errors to the caller unchanged.
type Serializer interface {
	// Serialize returns the encoding of session.Values.
	Serialize(session *sessions.Session) ([]byte, error)

	// Deserialize adds the values encoded in data to session.Values,
	// which is empty and not nil. On an error the Store discards
	// whatever it added.
	Deserialize(data []byte, session *sessions.Session) error
}

// GobSerializer encodes session values with encoding/gob, the way
// gorilla's own stores do. Values of your own types must be registered
// with gob.Register, or Save fails with gob's error. It is the default.
//
// It also reads what CompactSerializer writes, so that app servers can
// switch from one to the other one at a time, and back.
type GobSerializer struct{}

// Serialize gob-encodes session.Values.
func (GobSerializer) Serialize(session *sessions.Session) ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(session.Values); err != nil {
		return nil, fmt.Errorf("mcsession: encode session %q: %w",
			session.Name(), err)
	}
	return buf.Bytes(), nil
}

// Deserialize decodes data written by Serialize, or by
// CompactSerializer, into session.Values. Data that gob cannot decode is
// an error, including data that makes gob
// panic: encoding/gob is not hardened against hostile input, and a writer
// to Memcached can plant some (a map key of a slice type, for one) unless
// Config.EncryptionKeys are set. And gob makes a map of a type you
// registered with gob.Register as large as the data says before reading
// any of it, so a hundred planted bytes can cost gigabytes and the
// process (golang/go#79539); until a Go release fixes gob, only
// EncryptionKeys keep such data out.
func (GobSerializer) Deserialize(data []byte,
	session *sessions.Session) error {
	if valuecodec.IsCompact(data) {
		return decodeCompact(data, session)
	}
	return decodeGob(data, session)
}

// decodeGob decodes gob data into session.Values.
func decodeGob(data []byte, session *sessions.Session) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("mcsession: decode session %q: gob: %v",
				session.Name(), p)
		}
	}()

	err = gob.NewDecoder(bytes.NewReader(data)).Decode(&session.Values)
	if err != nil {
		return fmt.Errorf("mcsession: decode session %q: %w",
			session.Name(), err)
	}
	return nil
}

// CompactSerializer encodes session values in mcsession's compact binary
// form, about ten times cheaper than gob in CPU and allocations, when
// every key and value is nil, a bool, a string, a []byte, an integer or
// float type, a time.Time, or a []string, []any or map[string]any of
// those. Values come back with the types they were saved with, as gob
// gives them back. A session holding anything else, a struct of your
// own say, is gob-encoded whole, and then gob's rule applies: such types
// must be registered with gob.Register (the types above need not be).
//
// It reads what GobSerializer writes, and GobSerializer reads what it
// writes, so app servers switch from one to the other one at a time,
// with sessions already stored, and can switch back. Gob data, old or
// planted, it reads as GobSerializer does, whose doc says what hostile
// gob data can still cost.
type CompactSerializer struct{}

// Serialize encodes session.Values compactly, or with gob when a key or
// value has a type the compact form does not cover.
func (CompactSerializer) Serialize(session *sessions.Session) ([]byte,
	error) {
	if data, ok := valuecodec.EncodeMap(session.Values); ok {
		return data, nil
	}
	return GobSerializer{}.Serialize(session)
}

// Deserialize decodes data written by Serialize or by GobSerializer into
// session.Values.
func (CompactSerializer) Deserialize(data []byte,
	session *sessions.Session) error {
	return GobSerializer{}.Deserialize(data, session)
}

// decodeCompact decodes data in the compact form into session.Values.
func decodeCompact(data []byte, session *sessions.Session) error {
	if err := valuecodec.DecodeMap(data, session.Values); err != nil {
		return fmt.Errorf("mcsession: decode session %q: %w",
			session.Name(), err)
	}
	return nil
}

// JSONSerializer encodes session values as a JSON object, readable by
// programs in other languages. Every key must be a string; values come
// back as JSON gives them (numbers as float64, objects as
// map[string]any, arrays, flashes included, as []any).
type JSONSerializer struct{}

// Serialize encodes session.Values as a JSON object. A key that is not a
// string is an error that names the key and its type.
func (JSONSerializer) Serialize(session *sessions.Session) ([]byte, error) {
	m := make(map[string]any, len(session.Values))
	for k, v := range session.Values {
		ks, ok := k.(string)
		if !ok {
			return nil, fmt.Errorf("mcsession: session %q: key %v has "+
				"type %T; JSONSerializer takes string keys only",
				session.Name(), k, k)
		}
		m[ks] = v
	}

	data, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("mcsession: encode session %q: %w",
			session.Name(), err)
	}
	return data, nil
}

// Deserialize decodes a JSON object written by Serialize into
// session.Values.
func (JSONSerializer) Deserialize(data []byte,
	session *sessions.Session) error {
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("mcsession: decode session %q: %w",
			session.Name(), err)
	}

	for k, v := range m {
		session.Values[k] = v
	}
	return nil
}
