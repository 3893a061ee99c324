package main

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// errLost means a request did not find the value the previous request of
// the same client had saved: a store that drops or mixes up sessions.
var errLost = errors.New("session lost")

// A client is one browser with one session. Its request loads the
// session, changes its value and saves it. A client is used by one
// goroutine at a time.
type client interface {
	request() error
}

// result holds the figures of one cell: one store, session size and
// concurrency.
type result struct {
	requests     int
	errors       int
	firstErr     error
	elapsed      time.Duration
	p50, p99     time.Duration
	requestsPerS float64
	rateErr      float64       // standard error of requestsPerS, as a fraction
	allocs       float64       // heap objects allocated per request
	bytes        float64       // heap bytes allocated per request
	cpu          time.Duration // this process's CPU time per request
	serverCPU    time.Duration // the servers' CPU time per request
	unavailable  string        // why the store cannot run the cell
}

// measure runs every client in its own goroutine, first for warmup, then
// for d, and returns the figures of the second run. serverCPU returns
// the CPU time the servers have used.
func measure(clients []client, warmup, d time.Duration,
	serverCPU func() time.Duration) result {
	run(clients, warmup, nil)
	var t tally
	t.measure(clients, d, serverCPU)
	return t.result()
}

// tally adds up the figures of one cell over several runs.
type tally struct {
	hist     histogram
	errors   int
	firstErr error
	elapsed  time.Duration
	cpu      time.Duration
	srvCPU   time.Duration
	rates    []float64 // requests per second of each run
	mallocs  uint64
	bytes    uint64
}

// measure runs every client in its own goroutine for d, after a garbage
// collection so that the last run's garbage is not counted against this
// one, and adds the figures to t.
func (t *tally) measure(clients []client, d time.Duration,
	serverCPU func() time.Duration) {
	runtime.GC()
	hists := make([]histogram, len(clients))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu, srv := cpuTime(), serverCPU()
	start := time.Now()
	errs, firstErr := run(clients, d, hists)
	elapsed := time.Since(start)
	t.elapsed += elapsed
	t.cpu += cpuTime() - cpu
	t.srvCPU += serverCPU() - srv
	runtime.ReadMemStats(&after)

	n := t.hist.count()
	for i := range hists {
		t.hist.add(&hists[i])
	}
	t.rates = append(t.rates,
		float64(t.hist.count()-n)/elapsed.Seconds())
	t.mallocs += after.Mallocs - before.Mallocs
	t.bytes += after.TotalAlloc - before.TotalAlloc
	if t.errors == 0 {
		t.firstErr = firstErr
	}
	t.errors += errs
}

// result returns the figures per request and per second.
func (t *tally) result() result {
	n := t.hist.count()
	res := result{requests: n, errors: t.errors, firstErr: t.firstErr,
		elapsed: t.elapsed, p50: t.hist.quantile(0.50),
		p99: t.hist.quantile(0.99)}
	if n > 0 {
		res.requestsPerS = float64(n) / t.elapsed.Seconds()
		res.rateErr = stdErr(t.rates) / res.requestsPerS
		res.allocs = float64(t.mallocs) / float64(n)
		res.bytes = float64(t.bytes) / float64(n)
		res.cpu = t.cpu / time.Duration(n)
		res.serverCPU = t.srvCPU / time.Duration(n)
	}
	return res
}

// stdErr returns the standard error of the mean of xs: their standard
// deviation over the square root of their number. It is 0 for fewer
// than two.
func stdErr(xs []float64) float64 {
	if len(xs) < 2 {
		return 0
	}
	var sum, sq float64
	for _, x := range xs {
		sum += x
	}
	mean := sum / float64(len(xs))
	for _, x := range xs {
		sq += (x - mean) * (x - mean)
	}
	n := float64(len(xs))
	return math.Sqrt(sq/(n-1)) / math.Sqrt(n)
}

// cpuTime returns the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// summary returns the cell's figures on one line, for the log.
func (r result) summary() string {
	if r.unavailable != "" {
		return r.unavailable
	}
	s := fmt.Sprintf("%8.0f req/s  p50 %-9s p99 %-9s %5.1f allocs "+
		"%9.0f B  cpu %s + %s", r.requestsPerS, r.p50, r.p99, r.allocs,
		r.bytes, r.cpu, r.serverCPU)
	if r.errors > 0 {
		s += fmt.Sprintf("  %d errors, first: %v", r.errors, r.firstErr)
	}
	return s
}

// run keeps every client busy with requests for d, recording the
// latency of each successful one in hists[i] when hists is not nil.
// It returns the number of failed requests and the first error.
func run(clients []client, d time.Duration, hists []histogram) (int,
	error) {
	var (
		stop     atomic.Bool
		failures atomic.Int64
		once     sync.Once
		firstErr error
		wg       sync.WaitGroup
	)
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				t := time.Now()
				err := c.request()
				if err != nil {
					failures.Add(1)
					once.Do(func() { firstErr = err })
					continue
				}
				if hists != nil {
					hists[i].record(time.Since(t))
				}
			}
		}()
	}

	time.Sleep(d)
	stop.Store(true)
	wg.Wait()
	return int(failures.Load()), firstErr
}

// histogram counts latencies in buckets 1/32 of a power of two wide
// (about 3% apart), in fixed memory, so recording allocates nothing.
type histogram [64 + 58*32]uint32

func (h *histogram) record(d time.Duration) {
	h[bucket(uint64(max(d, 0)))]++
}

func (h *histogram) add(o *histogram) {
	for i, n := range o {
		h[i] += n
	}
}

func (h *histogram) count() int {
	n := 0
	for _, c := range h {
		n += int(c)
	}
	return n
}

// quantile returns the latency below which the fraction q of the
// recorded latencies fall, to the middle of its bucket.
func (h *histogram) quantile(q float64) time.Duration {
	rank := int(q * float64(h.count()))
	seen := 0
	for i, c := range h {
		seen += int(c)
		if seen > rank {
			return time.Duration(middle(i))
		}
	}
	return 0
}

// bucket returns the histogram index of v nanoseconds: v itself below
// 64, else 32 buckets for each power of two.
func bucket(v uint64) int {
	if v < 64 {
		return int(v)
	}
	e := bits.Len64(v) - 6
	return 64 + (e-1)*32 + int(v>>e) - 32
}

// middle returns the middle of bucket i in nanoseconds.
func middle(i int) uint64 {
	if i < 64 {
		return uint64(i)
	}
	e := (i-64)/32 + 1
	m := uint64((i-64)%32 + 32)
	return m<<e + 1<<e/2
}
