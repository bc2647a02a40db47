package kmshttp_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/kms/kmshttp"
	"github.com/kmsmodel/kmsmodel/store"
)

// TestHealth: with WithHealth, GET /healthz is 200 while the handler
// serves and GET /readyz 200 while the service is ready, 503 with the
// reason once it is closed; other requests still go to the API, and
// without WithHealth neither path is answered as a check.
func TestHealth(t *testing.T) {
	get := func(h http.Handler, method, path string) (int, string) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(method, path, nil))
		b, _ := io.ReadAll(w.Result().Body)
		return w.Code, string(b)
	}
	svc, err := kms.Open(context.Background(), store.NewSharedMemory())
	if err != nil {
		t.Fatal(err)
	}
	h, err := kmshttp.New(svc, kmshttp.WithHealth(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if code, body := get(h, http.MethodGet, p); code != 200 || !strings.HasPrefix(body, "ok") {
			t.Errorf("GET %s: %d %q", p, code, body)
		}
		if code, _ := get(h, http.MethodHead, p); code != 200 {
			t.Errorf("HEAD %s: %d", p, code)
		}
		if code, _ := get(h, http.MethodPost, p); code == 200 {
			t.Errorf("POST %s answered as a check", p)
		}
	}
	if _, body := get(h, http.MethodGet, "/readyz"); !strings.HasPrefix(body, "ok revision=") || !strings.Contains(body, " reloads=0 retries=0") {
		t.Errorf("a cluster node's readyz: %q, want its ClusterStatus", body)
	}
	if code, _ := get(h, http.MethodGet, "/other"); code == 200 {
		t.Errorf("GET /other: 200")
	}
	svc.Close()
	if code, body := get(h, http.MethodGet, "/healthz"); code != 200 {
		t.Errorf("healthz after Close: %d %q", code, body)
	}
	if code, body := get(h, http.MethodGet, "/readyz"); code != 503 || !strings.Contains(body, "not ready: closed") {
		t.Errorf("readyz after Close: %d %q, want 503 saying why", code, body)
	}
	plain, err := kmshttp.New(kms.New())
	if err != nil {
		t.Fatal(err)
	}
	if code, body := get(plain, http.MethodGet, "/readyz"); code == 200 || body == "ok\n" {
		t.Errorf("without WithHealth, GET /readyz: %d %q", code, body)
	}
	for _, d := range []time.Duration{0, -time.Second} {
		if _, err := kmshttp.New(kms.New(), kmshttp.WithHealth(d)); err == nil || !strings.Contains(err.Error(), "WithHealth("+d.String()+")") {
			t.Errorf("WithHealth(%v): %v, want an error naming the timeout given", d, err)
		}
	}
}
