package expiry

import (
	"math"
	"testing"
	"time"
)

func TestExptime(t *testing.T) {
	now := time.Unix(1_800_000_000, 250_000_000)
	year := 365 * 24 * time.Hour
	tests := []struct {
		name   string
		ttl    time.Duration
		want   int32
		stored bool
	}{
		{"zero", 0, 0, false},
		{"0.3 s is less than a second", 300 * time.Millisecond, 0, false},
		{"past", -time.Hour, 0, false},
		{"one second", time.Second, 2, true},
		{"1.5 s rounds up", 1500 * time.Millisecond, 3, true},
		{"30 days less 1 s is relative", 2_591_999 * time.Second,
			2_592_000, true},
		{"30 days is absolute", 2_592_000 * time.Second,
			1_800_000_000 + 2_592_000, true},
		{"30 days and 1 s is absolute", 2_592_001 * time.Second,
			1_800_000_000 + 2_592_001, true},
		{"one year", year, int32(1_800_000_000 + year/time.Second), true},
		{"100 years is capped", 100 * year, math.MaxInt32, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, stored := Exptime(now.Add(tt.ttl), now)
			if got != tt.want || stored != tt.stored {
				t.Errorf("Exptime(now+%v) = %d, %v; want %d, %v",
					tt.ttl, got, stored, tt.want, tt.stored)
			}
		})
	}
}
