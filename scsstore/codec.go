package scsstore

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/mcsession/mcsession/internal/valuecodec"
)

// CompactCodec is an scs.Codec that encodes sessions in mcsession's
// compact binary form, about ten times cheaper than scs's GobCodec in
// CPU and allocations, when every value is nil, a bool, a string, a
// []byte, an integer or float type, a time.Time, or a []string, []any or
// map[string]any of those. Values come back with the types they were put
// with, as gob gives them back. A session holding anything else, a
// struct of your own say, is encoded whole by scs.GobCodec, and then
// gob's rule applies: such types must be registered with gob.Register
// (the types above need not be).
//
// Set it beside the store, on the SessionManager:
//
//	sessionManager.Store = scsstore.New("10.0.0.1:11211")
//	sessionManager.Codec = scsstore.CompactCodec{}
//
// It works with any scs store. It reads what scs.GobCodec wrote, so an
// app switches to it with sessions already stored. App servers on
// scs.GobCodec cannot read what it writes: to switch servers one at a
// time, first give every server this package's GobCodec, which writes
// gob and reads both; that is also the way back.
type CompactCodec struct{}

// GobCodec is an scs.Codec that writes what scs.GobCodec writes and reads
// that and what CompactCodec writes: the first step of switching app
// servers to CompactCodec one at a time, and the way back from it.
type GobCodec struct{}

var (
	_ scs.Codec = CompactCodec{}
	_ scs.Codec = GobCodec{}
)

// Encode returns scs.GobCodec's encoding of a session.
func (GobCodec) Encode(deadline time.Time,
	values map[string]any) ([]byte, error) {
	return scs.GobCodec{}.Encode(deadline, values)
}

// Decode is CompactCodec.Decode: it reads either encoding.
func (GobCodec) Decode(b []byte) (time.Time, map[string]any, error) {
	return CompactCodec{}.Decode(b)
}

// Encode returns the encoding of a session's deadline and values.
func (CompactCodec) Encode(deadline time.Time,
	values map[string]any) ([]byte, error) {
	if data, ok := valuecodec.EncodeDeadline(deadline, values); ok {
		return data, nil
	}
	return scs.GobCodec{}.Encode(deadline, values)
}

// Decode returns the deadline and values that Encode or scs.GobCodec
// encoded in b. Data that neither can decode is an error, including gob
// data that makes gob panic. The values are never a nil map, which the
// session manager's Put would panic on: gob gives one for data without
// values.
//
// Gob data is decoded into a map made beforehand, so that the count of
// values in it allocates nothing: gob would make a map of that size,
// gigabytes for a planted item of a few hundred bytes
// (golang/go#79539). A map type you register with gob.Register can
// still be made so inside the values, until a Go release fixes gob: with
// this package's Store, set Config.EncryptionKeys so that no one but
// your app servers writes sessions.
func (CompactCodec) Decode(b []byte) (deadline time.Time,
	values map[string]any, err error) {
	if valuecodec.IsCompact(b) {
		deadline, values, err = valuecodec.DecodeDeadline(b)
	} else {
		deadline, values, err = decodeGob(b)
	}
	if err != nil {
		return time.Time{}, nil, fmt.Errorf("mcsession: decode session: %w",
			err)
	}
	return deadline, values, nil
}

// decodeGob decodes what scs.GobCodec encoded: a struct whose fields gob
// matches by name.
func decodeGob(b []byte) (deadline time.Time, values map[string]any,
	err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("gob: %v", p)
		}
	}()

	aux := struct {
		Deadline time.Time
		Values   map[string]any
	}{Values: map[string]any{}}
	err = gob.NewDecoder(bytes.NewReader(b)).Decode(&aux)
	return aux.Deadline, aux.Values, err
}
