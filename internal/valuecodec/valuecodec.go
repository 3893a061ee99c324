// Package valuecodec is mcsession's compact encoding of session values:
// a tagged binary form of the types sessions mostly hold (strings, byte
// slices, booleans, integers, floats, times, and slices and string-keyed
// maps of them), about ten times cheaper to encode and decode than gob,
// which must describe its types in every independent message and compile
// a decoder for them each time.
//
// The stores use it through gorillastore.CompactSerializer and
// scsstore.CompactCodec. A session holding a value of any other type
// (a struct of the app's own, say) is gob-encoded whole instead, so
// those keep gob's rules: gob.Register, and gob's errors. Importing the
// package registers time.Time, []any and map[string]any with gob, so
// that they need no registration by the app in either form.
//
// Every encoding starts with a format byte from 0x80 to 0xF7. No gob
// stream starts with one of those (gob starts with a message length:
// below 0x80, or a byte count from 0xF8 up), so a decoder tells compact
// data from gob data written before a switch of serializer by its first
// byte alone.
package valuecodec

import (
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"math"
	"time"
)

// The types covered here that gob does not know without registration
// are registered with it, so that a session holding them keeps working
// when it falls back to gob for a value of another type.
func init() {
	gob.Register(time.Time{})
	gob.Register([]any{})
	gob.Register(map[string]any{})
}

// Format bytes: the first byte of an encoding.
const (
	// Map is the format of a gorilla session's map[any]any.
	Map byte = 0xC1

	// Deadline is the format of an scs session: its deadline, then its
	// map[string]any.
	Deadline byte = 0xC2
)

// IsCompact reports whether data starts with one of the format bytes.
// Data that does not is gob, or garbage.
func IsCompact(data []byte) bool {
	return len(data) > 0 && data[0] >= 0x80 && data[0] <= 0xF7
}

// ErrCorrupt means the data is not a well-formed encoding.
var ErrCorrupt = errors.New("valuecodec: malformed data")

// Type tags: the byte before each value.
const (
	tagNil byte = iota
	tagFalse
	tagTrue
	tagString
	tagBytes
	tagInt
	tagInt8
	tagInt16
	tagInt32
	tagInt64
	tagUint
	tagUint8
	tagUint16
	tagUint32
	tagUint64
	tagFloat32
	tagFloat64
	tagTime
	tagSlice       // []any
	tagStringSlice // []string
	tagStringMap   // map[string]any
)

// maxDepth bounds the nesting of slices and maps, so that hostile data
// cannot run the decoder's stack deep.
const maxDepth = 32

// EncodeMap returns the encoding of a gorilla session's values, in the
// Map format. It returns false when a key or a value has a type this
// encoding does not cover: the caller encodes the map with gob instead.
func EncodeMap(m map[any]any) ([]byte, bool) {
	n := 1 + binary.MaxVarintLen64
	for k, v := range m {
		n += size(k) + size(v)
	}
	dst := binary.AppendUvarint(append(make([]byte, 0, n), Map),
		uint64(len(m)))
	for k, v := range m {
		var ok bool
		if dst, ok = appendValue(dst, k, 0); !ok {
			return nil, false
		}
		if dst, ok = appendValue(dst, v, 0); !ok {
			return nil, false
		}
	}
	return dst, true
}

// DecodeMap adds the values encoded in data, in the Map format, to m.
// It returns ErrCorrupt for anything else; m may then hold some of the
// values.
func DecodeMap(data []byte, m map[any]any) error {
	r, err := open(data, Map)
	if err != nil {
		return err
	}
	n, err := r.count(2)
	if err != nil {
		return err
	}
	for range n {
		r.owed -= 2
		k, err := r.key()
		if err != nil {
			return err
		}
		if m[k], err = r.value(0); err != nil {
			return err
		}
	}
	return r.done()
}

// EncodeDeadline returns the encoding of an scs session's deadline and
// values, in the Deadline format. It returns false when a value has a
// type this encoding does not cover, or the deadline is one that
// time.Time.MarshalBinary refuses: the caller uses gob instead.
func EncodeDeadline(deadline time.Time, m map[string]any) ([]byte, bool) {
	n := 1 + 16 + size(m) // the format byte, the deadline, the values
	dst, err := appendTime(append(make([]byte, 0, n), Deadline), deadline)
	if err != nil {
		return nil, false
	}
	dst = binary.AppendUvarint(dst, uint64(len(m)))
	for k, v := range m {
		var ok bool
		if dst, ok = appendValue(appendString(dst, k), v, 0); !ok {
			return nil, false
		}
	}
	return dst, true
}

// DecodeDeadline returns the deadline and values encoded in data, in the
// Deadline format, or ErrCorrupt for anything else.
func DecodeDeadline(data []byte) (time.Time, map[string]any, error) {
	r, err := open(data, Deadline)
	if err != nil {
		return time.Time{}, nil, err
	}
	deadline, err := r.readTime()
	if err != nil {
		return time.Time{}, nil, err
	}
	m, err := r.stringMap(0) // at depth 0, as EncodeDeadline counts them
	if err != nil {
		return time.Time{}, nil, err
	}
	return deadline, m, r.done()
}

// open returns a reader past data's format byte, which must be format.
func open(data []byte, format byte) (reader, error) {
	if len(data) == 0 || data[0] != format {
		return reader{}, fmt.Errorf("%w: not in format %#x", ErrCorrupt,
			format)
	}
	return reader{b: data[1:]}, nil
}

func appendValue(dst []byte, v any, depth int) ([]byte, bool) {
	n := len(dst)
	switch v := v.(type) {
	case nil:
		return append(dst, tagNil), true
	case bool:
		if v {
			return append(dst, tagTrue), true
		}
		return append(dst, tagFalse), true
	case string:
		return appendString(append(dst, tagString), v), true
	case []byte:
		dst = binary.AppendUvarint(append(dst, tagBytes), uint64(len(v)))
		return append(dst, v...), true
	case int:
		return binary.AppendVarint(append(dst, tagInt), int64(v)), true
	case int8:
		return binary.AppendVarint(append(dst, tagInt8), int64(v)), true
	case int16:
		return binary.AppendVarint(append(dst, tagInt16), int64(v)), true
	case int32:
		return binary.AppendVarint(append(dst, tagInt32), int64(v)), true
	case int64:
		return binary.AppendVarint(append(dst, tagInt64), v), true
	case uint:
		return binary.AppendUvarint(append(dst, tagUint), uint64(v)), true
	case uint8:
		return binary.AppendUvarint(append(dst, tagUint8), uint64(v)), true
	case uint16:
		return binary.AppendUvarint(append(dst, tagUint16), uint64(v)), true
	case uint32:
		return binary.AppendUvarint(append(dst, tagUint32), uint64(v)), true
	case uint64:
		return binary.AppendUvarint(append(dst, tagUint64), v), true
	case float32:
		return binary.LittleEndian.AppendUint32(append(dst, tagFloat32),
			math.Float32bits(v)), true
	case float64:
		return binary.LittleEndian.AppendUint64(append(dst, tagFloat64),
			math.Float64bits(v)), true
	case time.Time:
		if out, err := appendTime(append(dst, tagTime), v); err == nil {
			return out, true
		}
	case []string:
		dst = binary.AppendUvarint(append(dst, tagStringSlice),
			uint64(len(v)))
		for _, s := range v {
			dst = appendString(dst, s)
		}
		return dst, true
	case []any:
		if depth < maxDepth {
			return appendSlice(dst, v, depth)
		}
	case map[string]any:
		if depth < maxDepth {
			return appendStringMap(dst, v, depth)
		}
	}
	return dst[:n], false
}

func appendSlice(dst []byte, s []any, depth int) ([]byte, bool) {
	dst = binary.AppendUvarint(append(dst, tagSlice), uint64(len(s)))
	for _, e := range s {
		var ok bool
		if dst, ok = appendValue(dst, e, depth+1); !ok {
			return dst, false
		}
	}
	return dst, true
}

func appendStringMap(dst []byte, m map[string]any, depth int) ([]byte,
	bool) {
	dst = binary.AppendUvarint(append(dst, tagStringMap), uint64(len(m)))
	for k, e := range m {
		var ok bool
		if dst, ok = appendValue(appendString(dst, k), e, depth+1); !ok {
			return dst, false
		}
	}
	return dst, true
}

// appendString appends s with its length in front.
func appendString(dst []byte, s string) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(s))), s...)
}

// appendTime appends t as time.Time.MarshalBinary gives it (the instant
// and the zone offset, as gob keeps them), with its length in front.
func appendTime(dst []byte, t time.Time) ([]byte, error) {
	b, err := t.MarshalBinary()
	if err != nil {
		return dst, err
	}
	return append(binary.AppendUvarint(dst, uint64(len(b))), b...), nil
}

// size returns a close upper estimate of the encoded size of v: the
// bytes of its strings and byte slices and a few per value. The stores
// size their buffer with it so that encoding allocates once.
func size(v any) int {
	switch v := v.(type) {
	case string:
		return len(v) + 11
	case []byte:
		return len(v) + 11
	case []string:
		n := 11
		for _, s := range v {
			n += len(s) + 10
		}
		return n
	case []any:
		n := 11
		for _, e := range v {
			n += size(e)
		}
		return n
	case map[string]any:
		n := 11
		for k, e := range v {
			n += len(k) + 10 + size(e)
		}
		return n
	}
	return 20
}

// reader decodes values from the front of an encoding, which it does not
// copy: byte slices it returns are copies, strings are new. Its methods
// return ErrCorrupt for data that ends early or holds an unknown tag, a
// length past the end, or an integer out of its type's range; they never
// panic and never allocate more than the data's size calls for.
type reader struct {
	b []byte

	// owed is how many of b's bytes the elements still to come of the
	// slices and maps being read need at least. A count is checked
	// against what is left after them, so that slices nested in one
	// another cannot each claim the whole rest of the data.
	owed int
}

// done returns ErrCorrupt unless every byte was read.
func (r *reader) done() error {
	if len(r.b) != 0 {
		return fmt.Errorf("%w: %d bytes left over", ErrCorrupt, len(r.b))
	}
	return nil
}

// count reads a count of elements, each of which takes at least per
// bytes, and adds those bytes to r.owed: a count past what the data
// could hold is refused before anything is allocated for it. The caller
// takes per off r.owed as it starts on each element.
func (r *reader) count(per int) (int, error) {
	n, err := r.uvarint()
	if err != nil {
		return 0, err
	}
	free := len(r.b) - r.owed
	if free < 0 || n > uint64(free/per) {
		return 0, fmt.Errorf("%w: count %d past the end", ErrCorrupt, n)
	}
	r.owed += int(n) * per
	return int(n), nil
}

// readString reads a string written by appendString.
func (r *reader) readString() (string, error) {
	b, err := r.chunk()
	return string(b), err
}

// readTime reads a time written by appendTime.
func (r *reader) readTime() (time.Time, error) {
	b, err := r.chunk()
	if err != nil {
		return time.Time{}, err
	}
	var t time.Time
	if err := t.UnmarshalBinary(b); err != nil {
		return time.Time{}, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return t, nil
}

// key reads a value that can be a map key: not a slice or a map, which
// Go could not hash.
func (r *reader) key() (any, error) {
	if len(r.b) > 0 {
		switch r.b[0] {
		case tagBytes, tagSlice, tagStringSlice, tagStringMap:
			return nil, fmt.Errorf("%w: map key of tag %d", ErrCorrupt,
				r.b[0])
		}
	}
	return r.value(0)
}

func (r *reader) value(depth int) (any, error) {
	if len(r.b) == 0 {
		return nil, fmt.Errorf("%w: value missing", ErrCorrupt)
	}
	tag := r.b[0]
	r.b = r.b[1:]

	switch tag {
	case tagNil:
		return nil, nil
	case tagFalse:
		return false, nil
	case tagTrue:
		return true, nil
	case tagString:
		return r.readString()
	case tagBytes:
		b, err := r.chunk()
		if len(b) == 0 {
			return []byte(nil), err // as gob gives an empty slice back
		}
		return append([]byte(nil), b...), err
	case tagInt, tagInt8, tagInt16, tagInt32, tagInt64:
		return r.int(tag)
	case tagUint, tagUint8, tagUint16, tagUint32, tagUint64:
		return r.uint(tag)
	case tagFloat32:
		b, err := r.fixed(4)
		if err != nil {
			return nil, err
		}
		return math.Float32frombits(binary.LittleEndian.Uint32(b)), nil
	case tagFloat64:
		b, err := r.fixed(8)
		if err != nil {
			return nil, err
		}
		return math.Float64frombits(binary.LittleEndian.Uint64(b)), nil
	case tagTime:
		return r.readTime()
	case tagStringSlice:
		return r.stringSlice()
	case tagSlice, tagStringMap:
		if depth >= maxDepth {
			return nil, fmt.Errorf("%w: nested deeper than %d", ErrCorrupt,
				maxDepth)
		}
		if tag == tagSlice {
			return r.slice(depth + 1)
		}
		return r.stringMap(depth + 1)
	}
	return nil, fmt.Errorf("%w: unknown tag %d", ErrCorrupt, tag)
}

// int reads a signed integer and gives it the type its tag names.
func (r *reader) int(tag byte) (any, error) {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		return nil, fmt.Errorf("%w: bad integer", ErrCorrupt)
	}
	r.b = r.b[n:]

	switch {
	case tag == tagInt && v == int64(int(v)):
		return int(v), nil
	case tag == tagInt8 && v == int64(int8(v)):
		return int8(v), nil
	case tag == tagInt16 && v == int64(int16(v)):
		return int16(v), nil
	case tag == tagInt32 && v == int64(int32(v)):
		return int32(v), nil
	case tag == tagInt64:
		return v, nil
	}
	return nil, fmt.Errorf("%w: integer %d out of range", ErrCorrupt, v)
}

// uint reads an unsigned integer and gives it the type its tag names.
func (r *reader) uint(tag byte) (any, error) {
	v, err := r.uvarint()
	if err != nil {
		return nil, err
	}

	switch {
	case tag == tagUint && v == uint64(uint(v)):
		return uint(v), nil
	case tag == tagUint8 && v == uint64(uint8(v)):
		return uint8(v), nil
	case tag == tagUint16 && v == uint64(uint16(v)):
		return uint16(v), nil
	case tag == tagUint32 && v == uint64(uint32(v)):
		return uint32(v), nil
	case tag == tagUint64:
		return v, nil
	}
	return nil, fmt.Errorf("%w: integer %d out of range", ErrCorrupt, v)
}

func (r *reader) stringSlice() ([]string, error) {
	n, err := r.count(1)
	if err != nil || n == 0 {
		return nil, err
	}
	s := make([]string, n)
	for i := range s {
		r.owed--
		if s[i], err = r.readString(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// slice reads a []any whose elements are at depth.
func (r *reader) slice(depth int) ([]any, error) {
	n, err := r.count(1)
	if err != nil || n == 0 {
		return nil, err
	}
	s := make([]any, n)
	for i := range s {
		r.owed--
		if s[i], err = r.value(depth); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// stringMap reads a map[string]any whose values are at depth.
func (r *reader) stringMap(depth int) (map[string]any, error) {
	n, err := r.count(2)
	if err != nil {
		return nil, err
	}
	m := make(map[string]any, n)
	for range n {
		r.owed -= 2
		k, err := r.readString()
		if err != nil {
			return nil, err
		}
		if m[k], err = r.value(depth); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (r *reader) uvarint() (uint64, error) {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		return 0, fmt.Errorf("%w: bad length or integer", ErrCorrupt)
	}
	r.b = r.b[n:]
	return v, nil
}

// chunk reads a length and that many bytes, without copying them.
func (r *reader) chunk() ([]byte, error) {
	n, err := r.uvarint()
	if err != nil {
		return nil, err
	}
	if n > uint64(len(r.b)) {
		return nil, fmt.Errorf("%w: length %d past the end", ErrCorrupt, n)
	}
	return r.fixed(int(n))
}

func (r *reader) fixed(n int) ([]byte, error) {
	if n > len(r.b) {
		return nil, fmt.Errorf("%w: data ends early", ErrCorrupt)
	}
	b := r.b[:n]
	r.b = r.b[n:]
	return b, nil
}
