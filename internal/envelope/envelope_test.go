package envelope

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	want := Envelope{Kind: Live, Version: 1<<60 + 7,
		ExpiresAt: time.Unix(4_000_000_000, 0), Payload: []byte("hello")}
	got, err := Decode(Append(nil, want))
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind != want.Kind || got.Version != want.Version ||
		!got.ExpiresAt.Equal(want.ExpiresAt) ||
		!bytes.Equal(got.Payload, want.Payload) {
		t.Errorf("Decode(Append(%+v)) = %+v", want, got)
	}
}

func TestDecodeRejectsGarbage(t *testing.T) {
	tomb := Append(nil, Envelope{Kind: Tombstone, Version: 1})
	tests := map[string][]byte{
		"empty":             nil,
		"short":             {formatV1, 0, 1},
		"unknown format":    append([]byte{9}, tomb[1:]...),
		"unknown kind":      append([]byte{formatV1, 7}, tomb[2:]...),
		"tombstone payload": append(tomb, 'x'),
		"plain text":        []byte("a session someone else wrote here"),
	}
	for name, b := range tests {
		if _, err := Decode(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: Decode = %v; want ErrCorrupt", name, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(Append(nil, Envelope{Version: 3, Payload: []byte("v")}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Decode(b)
		if err != nil {
			return
		}
		if again := Append(nil, e); !bytes.Equal(again, b) {
			t.Fatalf("re-encoding %x gave %x", b, again)
		}
	})
}
