package main

import (
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
)

// roundRobin returns a reverse proxy that sends each request to the next
// backend in turn. There is no stickiness: consecutive requests of one
// client land on different app servers.
func roundRobin(backends []*url.URL) http.Handler {
	var next atomic.Uint64
	return &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			target := backends[(next.Add(1)-1)%uint64(len(backends))]
			r.SetURL(target)
			r.Out.Host = r.In.Host
		},
	}
}
