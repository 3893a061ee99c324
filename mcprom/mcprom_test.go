package mcprom_test

import (
	"bytes"
	"crypto/rand"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	promtest "github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/mcsession/mcsession/gorillastore"
	"github.com/mcsession/mcsession/mcprom"
	"github.com/mcsession/mcsession/scsstore"
	"github.com/mcsession/mcsession/testutil"
)

var (
	_ mcprom.Source = (*gorillastore.Store)(nil)
	_ mcprom.Source = (*scsstore.Store)(nil)
)

// newStore returns an scs store for cfg and a registry holding its
// collector.
func newStore(t *testing.T, cfg scsstore.Config) (*scsstore.Store,
	*prometheus.Registry) {
	t.Helper()
	store, err := scsstore.NewStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })

	reg := prometheus.NewRegistry()
	reg.MustRegister(mcprom.NewCollector(store))
	return store, reg
}

// samples are the values of a scrape by metric name, then by node.
type samples map[string]map[string]float64

// scrape gathers reg and returns every sample: the value of a counter or
// a gauge, the count of a histogram.
func scrape(t *testing.T, reg *prometheus.Registry) samples {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}

	got := samples{}
	for _, f := range families {
		got[f.GetName()] = map[string]float64{}
		for _, m := range f.GetMetric() {
			node := m.GetLabel()[0].GetValue()
			got[f.GetName()][node] = m.GetCounter().GetValue() +
				m.GetGauge().GetValue() +
				float64(m.GetHistogram().GetSampleCount())
		}
	}
	return got
}

func newToken() string { return rand.Text() }

func TestCountsAMixOfOperations(t *testing.T) {
	t.Parallel()
	server := testutil.StartServer(t)
	store, reg := newStore(t, scsstore.Config{Servers: []string{server.Addr()}})
	expiry := time.Now().Add(time.Hour)
	tokens := make([]string, 10)
	for i := range tokens {
		tokens[i] = newToken()
		if err := store.Commit(tokens[i], []byte("v"), expiry); err != nil {
			t.Fatal(err)
		}
	}

	for _, token := range tokens {
		store.Find(token)
	}
	for range 5 {
		store.Find(newToken()) // never stored
	}
	for _, token := range tokens[:3] {
		store.Delete(token)
	}

	got := scrape(t, reg)
	node := server.Addr()
	for name, want := range map[string]float64{
		"mcsession_gets_total": 15, "mcsession_hits_total": 10,
		"mcsession_misses_total": 5, "mcsession_sets_total": 10,
		"mcsession_deletes_total": 3, "mcsession_repairs_total": 0,
		"mcsession_errors_total": 0, "mcsession_timeouts_total": 0,
		"mcsession_ejections_total": 0, "mcsession_rejoins_total": 0,
		"mcsession_node_ejected":               0,
		"mcsession_operation_duration_seconds": 28,
		"mcsession_server_up":                  1,
		"mcsession_server_items":               7,
		"mcsession_server_limit_bytes":         64 << 20,
		"mcsession_server_get_hits_total":      10,
		"mcsession_server_get_misses_total":    5,
	} {
		if got[name][node] != want {
			t.Errorf("%s = %v; want %v", name, got[name][node], want)
		}
	}
	ratio := got["mcsession_hits_total"][node] /
		got["mcsession_gets_total"][node]
	if math.Abs(ratio-2.0/3) > 1e-9 {
		t.Errorf("hit ratio = %v; want 2/3", ratio)
	}
	if got["mcsession_server_bytes"][node] == 0 ||
		got["mcsession_server_connections"][node] == 0 {
		t.Errorf("server_bytes or server_connections is 0: %v", got)
	}
}

func TestTinyServerEvicts(t *testing.T) {
	t.Parallel()
	// 2 MB is the least memcached takes with its 1 MB item limit.
	server := testutil.StartServer(t, testutil.Options{Args: []string{
		"-m", "2"}})
	store, reg := newStore(t, scsstore.Config{Servers: []string{server.Addr()}})
	expiry := time.Now().Add(time.Hour)
	value := bytes.Repeat([]byte("x"), 100<<10)
	tokens := make([]string, 40) // 4 MB into 2
	for i := range tokens {
		tokens[i] = newToken()
		if err := store.Commit(tokens[i], value, expiry); err != nil {
			t.Fatal(err)
		}
	}

	for _, token := range tokens {
		store.Find(token)
	}

	got := scrape(t, reg)
	node := server.Addr()
	hits := got["mcsession_hits_total"][node]
	if evicted := got["mcsession_server_evictions_total"][node]; evicted == 0 {
		t.Errorf("server_evictions_total = 0 after 4 MB into 2")
	}
	if misses := got["mcsession_misses_total"][node]; hits+misses != 40 ||
		misses == 0 || hits != got["mcsession_server_get_hits_total"][node] {
		t.Errorf("hits %v, misses %v, server hits %v; want evicted "+
			"sessions missed, the rest hit", hits, misses,
			got["mcsession_server_get_hits_total"][node])
	}
	t.Logf("hit ratio with evictions: %.2f", hits/40)
}

func TestKilledNodeIsInMetricsAndLog(t *testing.T) {
	t.Parallel()
	servers := testutil.StartCluster(t, 2)
	logs, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	store, reg := newStore(t, scsstore.Config{
		Servers: testutil.Addrs(servers), FailureLimit: 2,
		RetryInterval: time.Minute, // stays out for the test
		Logger:        slog.New(slog.NewTextHandler(logs, nil)),
	})
	dead, alive := servers[0].Addr(), servers[1].Addr()
	servers[0].Kill()

	var tokens []string
	for store.Stats().Nodes[0].Ejections == 0 && len(tokens) < 1000 {
		token := newToken()
		tokens = append(tokens, token)
		store.Commit(token, []byte("v"), time.Now().Add(time.Hour))
	}

	got := scrape(t, reg)
	for _, w := range []struct {
		name, node string
		want       float64
	}{
		{"mcsession_ejections_total", dead, 1},
		{"mcsession_node_ejected", dead, 1},
		{"mcsession_server_up", dead, 0},
		{"mcsession_ejections_total", alive, 0},
		{"mcsession_node_ejected", alive, 0},
		{"mcsession_server_up", alive, 1},
	} {
		if got[w.name][w.node] != w.want {
			t.Errorf("%s{node=%q} = %v; want %v", w.name, w.node,
				got[w.name][w.node], w.want)
		}
	}
	if got["mcsession_errors_total"][dead] == 0 {
		t.Errorf("no errors counted for the dead node")
	}
	if _, ok := got["mcsession_server_items"][dead]; ok {
		t.Errorf("server_items reported for the dead node")
	}

	b, err := os.ReadFile(logs.Name())
	if err != nil {
		t.Fatal(err)
	}
	log := string(b)
	if !strings.Contains(log, "node ejected") ||
		!strings.Contains(log, "node="+dead) {
		t.Errorf("no ejection of %s logged:\n%s", dead, log)
	}
	for _, token := range tokens {
		if strings.Contains(log, token) {
			t.Fatalf("log holds a session token:\n%s", log)
		}
	}
}

func TestMetricsFollowPrometheusConventions(t *testing.T) {
	t.Parallel()
	store, _ := newStore(t, scsstore.Config{Servers: testutil.Addrs(
		testutil.StartCluster(t, 2))})
	store.Find(newToken())

	problems, err := promtest.CollectAndLint(mcprom.NewCollector(store))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

func TestStoresDoNotCompilePrometheus(t *testing.T) {
	t.Parallel()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list dependencies with")
	}

	out, err := exec.Command(goBin, "list", "-deps",
		"github.com/mcsession/mcsession/gorillastore",
		"github.com/mcsession/mcsession/scsstore").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "prometheus") {
		t.Errorf("a store package depends on Prometheus:\n%s", out)
	}
}
