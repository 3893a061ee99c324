package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mcsession/mcsession/mcprom"
)

// register adds the metrics of a's session store to the demo's registry,
// with an "app" label that tells the four stores apart.
func (d *demo) register(a *app) {
	labelled := prometheus.WrapRegistererWith(
		prometheus.Labels{"app": a.name}, d.metrics)
	labelled.MustRegister(mcprom.NewCollector(a.sessions.source()))
}

func (g gorillaCounter) source() mcprom.Source { return g.store }

func (s scsCounter) source() mcprom.Source { return s.store }
