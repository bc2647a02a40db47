package kmshttp

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// WithHealth makes the handler answer a load balancer's checks besides the
// KMS API (which only takes POST requests):
//
//   - GET (or HEAD) /healthz answers 200 "ok" while the process serves;
//   - GET (or HEAD) /readyz answers 200 "ok" when the service can answer
//     calls (kms.Service.Ready, given readyTimeout: a cluster node reaches
//     its store and catches up with its latest revision), and 503 with the
//     reason otherwise. A cluster node's 200 answer adds its
//     kms.ClusterStatus: "ok revision=R reloads=N retries=M".
//
// Neither needs credentials, and neither changes anything but a cluster
// node's copy of the cluster's state. readyTimeout must be positive.
func WithHealth(readyTimeout time.Duration) Option {
	return func(c *config) { c.health, c.ready = true, readyTimeout }
}

// health answers r when it is a health check, and reports whether it was.
func (h *Handler) health(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead || r.URL.Path != "/healthz" && r.URL.Path != "/readyz" {
		return false
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/plain; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	if r.URL.Path == "/readyz" {
		ctx, cancel := context.WithTimeout(r.Context(), h.readyTimeout)
		defer cancel()
		if err := h.svc.Ready(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, err)
			return true
		}
		if cs, ok := h.svc.ClusterStatus(); ok {
			fmt.Fprintf(w, "ok revision=%d reloads=%d retries=%d\n", cs.Revision, cs.Reloads, cs.Retries)
			return true
		}
	}
	fmt.Fprintln(w, "ok")
	return true
}
