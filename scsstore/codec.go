package scsstore

import (
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
// gob's rule applies: every such type must be registered with
// gob.Register.
//
// Set it beside the store, on the SessionManager:
//
//	sessionManager.Store = scsstore.New("10.0.0.1:11211")
//	sessionManager.Codec = scsstore.CompactCodec{}
//
// It works with any scs store. It reads what GobCodec wrote, so an app
// switches to it with sessions already stored; app servers still on
// GobCodec cannot read what it writes, so switch every server of a
// deployment together.
type CompactCodec struct{}

var _ scs.Codec = CompactCodec{}

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
func (CompactCodec) Decode(b []byte) (deadline time.Time,
	values map[string]any, err error) {
	if valuecodec.IsCompact(b) {
		return valuecodec.DecodeDeadline(b)
	}

	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("mcsession: decode session: gob: %v", p)
		}
	}()
	deadline, values, err = scs.GobCodec{}.Decode(b)
	if err == nil && values == nil {
		values = map[string]any{}
	}
	return deadline, values, err
}
