package main

import (
	"strings"
	"testing"
)

func TestMetricsEndpoint(t *testing.T) {
	srv, _ := startDemo(t)
	for _, library := range []string{"gorilla", "scs"} {
		b := newBrowser(t, srv.URL)
		b.state("POST", "/"+library+"/incr")
		b.state("GET", "/"+library+"/api/state")
	}

	code, page := newBrowser(t, srv.URL).do("GET", "/metrics", nil)
	if code != 200 {
		t.Fatalf("GET /metrics = %d", code)
	}
	for _, want := range []string{
		`mcsession_sets_total{app="gorilla-1",node=`,
		`mcsession_gets_total{app="scs-2",node=`,
		`mcsession_operation_duration_seconds_bucket{app="scs-1",`,
		`mcsession_server_up{app="gorilla-2",node=`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, page)
		}
	}
}
