package mcprom_test

import (
	"log"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mcsession/mcsession/mcprom"
	"github.com/mcsession/mcsession/scsstore"
)

// One line registers a store's metrics with the default registry, which
// promhttp.Handler serves.
func ExampleNewCollector() {
	store := scsstore.New("10.0.0.1:11211", "10.0.0.2:11211")
	prometheus.MustRegister(mcprom.NewCollector(store))

	http.Handle("/metrics", promhttp.Handler())
	log.Fatal(http.ListenAndServe(":9090", nil))
}

// Two stores in one registry each get a label of their own, or their
// metrics would collide.
func ExampleNewCollector_severalStores() {
	servers := []string{"10.0.0.1:11211", "10.0.0.2:11211"}
	stores := map[string]*scsstore.Store{
		"shop":  scsstore.New(servers...),
		"admin": scsstore.New(servers...),
	}

	reg := prometheus.NewRegistry()
	for name, store := range stores {
		labelled := prometheus.WrapRegistererWith(
			prometheus.Labels{"store": name}, reg)
		labelled.MustRegister(mcprom.NewCollector(store))
	}
	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
}
