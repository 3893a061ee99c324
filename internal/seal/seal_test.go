package seal

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

var (
	oldKey = bytes.Repeat([]byte{1}, 32)
	newKey = bytes.Repeat([]byte{2}, 16)
)

func mustNew(t *testing.T, secrets ...[]byte) *Keys {
	t.Helper()
	k, err := New(secrets)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return k
}

func wantOpen(t *testing.T, k *Keys, sealed, ad, want []byte) {
	t.Helper()
	got, err := k.Open(nil, sealed, ad)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Open = %q, %v; want %q, nil", got, err, want)
	}
}

func wantRefused(t *testing.T, k *Keys, sealed, ad []byte) {
	t.Helper()
	if got, err := k.Open(nil, sealed, ad); !errors.Is(err, ErrOpen) {
		t.Fatalf("Open = %q, %v; want ErrOpen", got, err)
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	k := mustNew(t, oldKey)
	for _, msg := range [][]byte{nil, []byte("x"), make([]byte, 1<<16)} {
		sealed := k.Seal([]byte("prefix"), msg, []byte("ad"))
		if !bytes.HasPrefix(sealed, []byte("prefix")) {
			t.Fatalf("Seal dropped dst: %q", sealed[:6])
		}
		sealed = sealed[len("prefix"):]
		if len(sealed) != len(msg)+Overhead || !IsSealed(sealed) {
			t.Fatalf("sealed %d bytes as %d, first byte %#x", len(msg),
				len(sealed), sealed[0])
		}
		wantOpen(t, k, sealed, []byte("ad"), msg)
	}
}

func TestSameValueSealsDifferently(t *testing.T) {
	t.Parallel()
	k := mustNew(t, oldKey)
	a := k.Seal(nil, []byte("same"), nil)
	b := k.Seal(nil, []byte("same"), nil)
	if bytes.Equal(a, b) {
		t.Fatal("two seals of one value are equal; want fresh nonces")
	}
}

// Every single-bit change anywhere in a sealed value is refused.
func TestFlippedBitIsRefused(t *testing.T) {
	t.Parallel()
	k := mustNew(t, oldKey)
	sealed := k.Seal(nil, []byte("a session"), []byte("mcs:key"))
	for i := range len(sealed) * 8 {
		b := bytes.Clone(sealed)
		b[i/8] ^= 1 << (i % 8)
		wantRefused(t, k, b, []byte("mcs:key"))
	}
}

func TestOtherAdditionalDataIsRefused(t *testing.T) {
	t.Parallel()
	k := mustNew(t, oldKey)
	sealed := k.Seal(nil, []byte("session of A"), []byte("mcs:A"))
	wantRefused(t, k, sealed, []byte("mcs:B"))
	wantRefused(t, k, sealed, nil)
}

func TestRotation(t *testing.T) {
	t.Parallel()
	before := mustNew(t, oldKey)
	during := mustNew(t, newKey, oldKey)
	after := mustNew(t, newKey)

	old := before.Seal(nil, []byte("old"), nil)
	wantOpen(t, during, old, nil, []byte("old"))
	wantRefused(t, after, old, nil)

	fresh := during.Seal(nil, []byte("new"), nil)
	wantOpen(t, after, fresh, nil, []byte("new"))
	wantRefused(t, before, fresh, nil)
}

func TestNewRefusesBadKeys(t *testing.T) {
	t.Parallel()
	tests := map[string][][]byte{
		"none":     nil,
		"empty":    {{}},
		"short":    {make([]byte, 15)},
		"odd size": {oldKey, make([]byte, 31)},
		"long":     {make([]byte, 64)},
		"repeated": {oldKey, newKey, bytes.Clone(oldKey)},
	}
	for name, secrets := range tests {
		if _, err := New(secrets); err == nil {
			t.Errorf("%s: New succeeded; want an error", name)
		}
	}

	_, err := New([][]byte{oldKey, make([]byte, 10)})
	if err == nil || !strings.Contains(err.Error(), "key 2 is 10 bytes") {
		t.Errorf("New with a 10-byte second key: %v; want it named", err)
	}
}

func TestGarbageIsRefused(t *testing.T) {
	t.Parallel()
	k := mustNew(t, oldKey)
	sealed := k.Seal(nil, []byte("v"), nil)
	tests := map[string][]byte{
		"empty":       nil,
		"format only": {Format},
		"short":       sealed[:Overhead-1],
		"no tag":      sealed[:len(sealed)-tagLen],
		"plain":       append([]byte{1}, sealed[1:]...),
		"other key":   mustNew(t, newKey).Seal(nil, []byte("v"), nil),
	}
	for name, b := range tests {
		if _, err := k.Open(nil, b, nil); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: Open = %v; want ErrOpen", name, err)
		}
	}
}
