package main

import (
	"fmt"
	"os"
	"testing"
)

// The Go benchmarks run one client of each store through the same
// request as the command does, so that the standard tools apply:
//
//	go test -run NONE -bench "Request/gorillastore,_1_node/4_KiB" \
//		-memprofile mem.out -cpuprofile cpu.out
//	go tool pprof -sample_index=alloc_objects -top mem.out

var testEnv *environment

func TestMain(m *testing.M) {
	var err error
	if testEnv, err = startEnvironment(nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	testEnv.stop()
	os.Exit(code)
}

func BenchmarkRequest(b *testing.B) {
	for _, t := range testEnv.targets() {
		for _, size := range sizes {
			b.Run(t.name+"/"+sizeName(size), func(b *testing.B) {
				clients, release, err := openClients(t, size, 1)
				if err != nil {
					b.Skip(reason(t, err))
				}
				defer release()

				b.ReportAllocs()
				for b.Loop() {
					if err := clients[0].request(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestEveryStoreKeepsItsSessions checks that each store that can hold a
// session of each size gives back, request after request, what the
// previous request saved.
func TestEveryStoreKeepsItsSessions(t *testing.T) {
	for _, tg := range testEnv.targets() {
		for _, size := range sizes {
			clients, release, err := openClients(tg, size, 2)
			if err != nil {
				if tg.why == nil || tg.why(err) == "" {
					t.Errorf("%s, %s: %v", tg.name, sizeName(size), err)
				}
				continue
			}
			for range 5 {
				for _, c := range clients {
					if err := c.request(); err != nil {
						t.Errorf("%s, %s: %v", tg.name, sizeName(size), err)
					}
				}
			}
			release()
		}
	}
}
