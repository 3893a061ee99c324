package valuecodec

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"
)

// covered holds one value of each type the encoding covers, with the
// edges of each range.
var covered = map[any]any{
	"nil":     nil,
	"false":   false,
	"true":    true,
	"string":  "héllo\x00\n",
	"empty":   "",
	"bytes":   []byte{0, 1, 2, 255},
	"nobytes": []byte{},
	"int":     math.MinInt,
	"int8":    int8(math.MinInt8),
	"int16":   int16(math.MaxInt16),
	"int32":   int32(math.MinInt32),
	"int64":   int64(math.MaxInt64),
	"uint":    uint(math.MaxUint),
	"uint8":   uint8(math.MaxUint8),
	"uint16":  uint16(math.MaxUint16),
	"uint32":  uint32(math.MaxUint32),
	"uint64":  uint64(math.MaxUint64),
	"float32": float32(-1.5),
	"float64": math.Inf(-1),
	"time":    time.Date(2026, 12, 3, 14, 0, 0, 5, time.FixedZone("", 3600)),
	"utc":     time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC),
	"strings": []string{"a", "", "c"},
	"_flash":  []any{"saved", 3, []any{true}},
	"user":    map[string]any{"id": int64(7), "roles": []string{"admin"}},
	7:         "an int key",
	int8(-1):  "an int8 key",
	1.5:       "a float key",
	true:      "a bool key",
	time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC): "a time key",
}

// viaGob returns what gob gives back for m, the behaviour the compact
// encoding keeps.
func viaGob(t *testing.T, m map[any]any) map[any]any {
	t.Helper()
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(m); err != nil {
		t.Fatal(err)
	}
	out := map[any]any{}
	if err := gob.NewDecoder(&buf).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// show prints a map with its keys sorted and every type named, so that
// two maps compare equal, NaN and all, when they print the same.
func show(m any) string { return fmt.Sprintf("%#v", m) }

func TestMapRoundTripsAsGobDoes(t *testing.T) {
	t.Parallel()
	data, ok := EncodeMap(covered)
	if !ok {
		t.Fatal("EncodeMap refused the covered types")
	}
	if !IsCompact(data) {
		t.Fatalf("encoding starts with %#x, not a format byte", data[0])
	}

	got := map[any]any{}
	if err := DecodeMap(data, got); err != nil {
		t.Fatal(err)
	}
	if want := viaGob(t, covered); show(got) != show(want) {
		t.Errorf("compact gives\n%s\ngob gives\n%s", show(got), show(want))
	}
}

func TestDeadlineRoundTrips(t *testing.T) {
	t.Parallel()
	deadline := time.Now().Add(time.Hour)
	values := map[string]any{"v": []byte("x"), "n": 3, "f": []any{"a"}}

	data, ok := EncodeDeadline(deadline, values)
	if !ok {
		t.Fatal("EncodeDeadline refused the values")
	}
	gotDeadline, got, err := DecodeDeadline(data)
	if err != nil {
		t.Fatal(err)
	}
	if !gotDeadline.Equal(deadline) {
		t.Errorf("deadline %v; want %v", gotDeadline, deadline)
	}
	if show(got) != show(values) {
		t.Errorf("values %s; want %s", show(got), show(values))
	}

	_, empty, err := DecodeDeadline(must(EncodeDeadline(deadline, nil)))
	if err != nil || empty == nil {
		t.Errorf("no values: got %#v, %v; want an empty map", empty, err)
	}
}

type own struct{ A int }

func TestUncoveredTypesAreRefused(t *testing.T) {
	t.Parallel()
	deep := []any{}
	for range maxDepth + 1 {
		deep = []any{deep}
	}
	for _, v := range []any{own{1}, &own{}, []int{1}, map[any]any{},
		complex(1, 2), []any{own{}}, map[string]any{"x": own{}}, deep} {
		if _, ok := EncodeMap(map[any]any{"k": v}); ok {
			t.Errorf("EncodeMap took a value of type %T", v)
		}
		if _, ok := EncodeDeadline(time.Now(), map[string]any{"k": v}); ok {
			t.Errorf("EncodeDeadline took a value of type %T", v)
		}
	}
	if _, ok := EncodeMap(map[any]any{own{}: 1}); ok {
		t.Error("EncodeMap took a key of type own")
	}
}

func TestBadDataIsCorrupt(t *testing.T) {
	t.Parallel()
	good, _ := EncodeMap(map[any]any{"k": []any{int8(1), "s", 2.5}})
	for name, data := range map[string][]byte{
		"empty":        {},
		"gob":          {0x0d, 0x7f, 0x04},
		"other format": {Deadline, 0},
		"no count":     {Map},
		"count too big": {Map, 0xff, 0xff, 0xff, 0xff, 0x0f,
			tagNil, tagNil},
		"value missing":   {Map, 1, tagNil},
		"unknown tag":     {Map, 1, tagNil, 99},
		"string too long": {Map, 1, tagString, 5, 'a', tagNil},
		"slice as key":    {Map, 1, tagSlice, 0, tagNil},
		"bytes as key":    {Map, 1, tagBytes, 0, tagNil},
		"int8 overflow":   {Map, 1, tagNil, tagInt8, 0x80, 0x02},
		"uint8 overflow":  {Map, 1, tagNil, tagUint8, 0x80, 0x02},
		"short float":     {Map, 1, tagNil, tagFloat64, 1, 2},
		"bad varint":      {Map, 1, tagNil, tagInt, 0x80},
		"bad time":        {Map, 1, tagNil, tagTime, 1, 9},
		"trailing bytes":  append(append([]byte{}, good...), 0),
		"truncated":       good[:len(good)-1],
		"too deep": append([]byte{Map, 1, tagNil},
			bytes.Repeat([]byte{tagSlice, 1}, maxDepth+1)...),
	} {
		err := DecodeMap(data, map[any]any{})
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: error %v; want ErrCorrupt", name, err)
		}
	}
}

// Regression: DecodeDeadline counted the session's own map as a level
// of nesting and EncodeDeadline did not, so an scs session holding a
// value nested maxDepth deep saved and then failed every load.
func TestDeadlineReadsValuesAsDeepAsItWrites(t *testing.T) {
	t.Parallel()
	var deepest any = "leaf" // maxDepth slices and maps around it
	for i := range maxDepth {
		if i%2 == 0 {
			deepest = []any{deepest}
		} else {
			deepest = map[string]any{"k": deepest}
		}
	}

	data, ok := EncodeDeadline(time.Now(), map[string]any{"v": deepest})
	if !ok {
		t.Fatal("EncodeDeadline refused a value maxDepth deep")
	}
	if _, _, err := DecodeDeadline(data); err != nil {
		t.Errorf("DecodeDeadline of what EncodeDeadline wrote: %v", err)
	}
	data = must(EncodeMap(map[any]any{"v": deepest}))
	if err := DecodeMap(data, map[any]any{}); err != nil {
		t.Errorf("DecodeMap of what EncodeMap wrote: %v", err)
	}
}

// Regression: each slice or map checked its count against all the data
// left, not against what the slices and maps around it still needed, so
// maxDepth of them nested could each allocate for the whole rest: a
// 1 MiB item cost 1.5 GB and six seconds to refuse.
func TestNestedCountsShareTheData(t *testing.T) {
	const size = 64 << 10
	for _, tag := range []byte{tagSlice, tagStringMap} {
		data := []byte{Map, 1, tagNil}
		for range maxDepth {
			data = append(binary.AppendUvarint(append(data, tag), size), 0)
		}
		data = append(data, make([]byte, size)...)

		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		err := DecodeMap(data, map[any]any{})
		runtime.ReadMemStats(&after)

		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("tag %d: error %v; want ErrCorrupt", tag, err)
		}
		// One level may take all the data: 40 bytes a map entry.
		if n := after.TotalAlloc - before.TotalAlloc; n > 64*size {
			t.Errorf("tag %d: %d bytes of data allocated %d", tag,
				len(data), n)
		}
	}
}

func TestIsCompactNeverTakesGob(t *testing.T) {
	t.Parallel()
	for _, m := range []map[any]any{{}, covered,
		{"big": strings.Repeat("x", 1<<20)}} {
		var buf bytes.Buffer
		if err := gob.NewEncoder(&buf).Encode(m); err != nil {
			t.Fatal(err)
		}
		if IsCompact(buf.Bytes()) {
			t.Errorf("gob data starting %#x taken for compact",
				buf.Bytes()[0])
		}
	}
}

func must(b []byte, ok bool) []byte {
	if !ok {
		panic("encoding refused")
	}
	return b
}

// FuzzDecodeMap checks that no data makes DecodeMap panic, and that what
// it decodes encodes and decodes to the same values.
func FuzzDecodeMap(f *testing.F) {
	f.Add(must(EncodeMap(covered)))
	f.Add([]byte{Map, 1, tagSlice, 2, tagTrue, tagStringMap, 0, tagNil})
	f.Fuzz(func(t *testing.T, data []byte) {
		got := map[any]any{}
		if DecodeMap(data, got) != nil {
			return
		}
		again, ok := EncodeMap(got)
		if !ok {
			t.Fatalf("decoded %s but cannot encode it", show(got))
		}
		back := map[any]any{}
		if err := DecodeMap(again, back); err != nil {
			t.Fatal(err)
		}
		if show(back) != show(got) {
			t.Fatalf("%s came back as %s", show(got), show(back))
		}
	})
}

// FuzzDecodeDeadline checks that no data makes DecodeDeadline panic, and
// that what it decodes encodes and decodes to the same values.
func FuzzDecodeDeadline(f *testing.F) {
	f.Add(must(EncodeDeadline(time.Now(), map[string]any{"a": []any{1}})))
	f.Fuzz(func(t *testing.T, data []byte) {
		deadline, got, err := DecodeDeadline(data)
		if err != nil {
			return
		}
		again, ok := EncodeDeadline(deadline, got)
		if !ok {
			t.Fatalf("decoded %s but cannot encode it", show(got))
		}
		backDeadline, back, err := DecodeDeadline(again)
		if err != nil {
			t.Fatal(err)
		}
		if !backDeadline.Equal(deadline) || show(back) != show(got) {
			t.Fatalf("%v %s came back as %v %s", deadline, show(got),
				backDeadline, show(back))
		}
	})
}

func BenchmarkEncodeMap(b *testing.B) {
	m := map[any]any{"v": make([]byte, 4096), "user": "ada", "n": 3}
	b.ReportAllocs()
	for b.Loop() {
		EncodeMap(m)
	}
}

func BenchmarkDecodeMap(b *testing.B) {
	data := must(EncodeMap(map[any]any{"v": make([]byte, 4096),
		"user": "ada", "n": 3}))
	b.ReportAllocs()
	for b.Loop() {
		DecodeMap(data, map[any]any{})
	}
}
