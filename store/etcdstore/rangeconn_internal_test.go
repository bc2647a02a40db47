package etcdstore

import (
	"crypto/tls"
	"slices"
	"testing"
)

// TestRangeReaderOnlyWhereItCan: a store reads its revision over a
// connection of its own only when its client does not authenticate and
// every endpoint is host:port, http://host:port or https://host:port;
// TLS or not as the client decides it, from the first endpoint's scheme
// (http: never; https: Options.TLS, or the system's roots) and, without
// one, from Options.TLS.
func TestRangeReaderOnlyWhereItCan(t *testing.T) {
	withTLS := &tls.Config{ServerName: "x"}
	for _, c := range []struct {
		opts    Options
		want    []string // nil: no reader
		wantTLS *tls.Config
		system  bool // wantTLS is the system's default config
	}{
		{opts: Options{Endpoints: []string{"127.0.0.1:2379"}}, want: []string{"127.0.0.1:2379"}},
		{opts: Options{Endpoints: []string{"127.0.0.1:2379"}, TLS: withTLS}, want: []string{"127.0.0.1:2379"}, wantTLS: withTLS},
		{opts: Options{Endpoints: []string{"http://a:1", "http://b:2/"}}, want: []string{"a:1", "b:2"}},
		{opts: Options{Endpoints: []string{"https://a:1"}, TLS: withTLS}, want: []string{"a:1"}, wantTLS: withTLS},
		{opts: Options{Endpoints: []string{"http://a:1", "https://b:2"}, TLS: withTLS}, want: []string{"a:1", "b:2"}}, // the client drops TLS
		{opts: Options{Endpoints: []string{"https://a:1"}}, want: []string{"a:1"}, system: true},
		{opts: Options{Endpoints: []string{"http://a:1"}, Username: "u"}}, // tokens
		{opts: Options{Endpoints: []string{"unix:///run/etcd.sock"}}},
		{opts: Options{Endpoints: []string{"http://a:1", "unix://b"}}},
		{opts: Options{Endpoints: []string{"http://a"}}}, // no port
		{opts: Options{Endpoints: []string{"http://a:1/path"}}},
		{opts: Options{Endpoints: []string{"a"}}},
		{opts: Options{}},
	} {
		r := newRangeReader(c.opts)
		switch {
		case c.want == nil:
			if r != nil {
				t.Errorf("%+v: a reader of %v", c.opts, r.endpoints)
			}
		case r == nil || !slices.Equal(r.endpoints, c.want):
			t.Errorf("%+v: reader %+v, want endpoints %v", c.opts, r, c.want)
		case c.system && (r.tls == nil || r.tls == c.opts.TLS || r.tls.RootCAs != nil):
			t.Errorf("%+v: TLS %+v, want the system's default", c.opts, r.tls)
		case !c.system && r.tls != c.wantTLS:
			t.Errorf("%+v: TLS %+v, want %+v", c.opts, r.tls, c.wantTLS)
		}
	}
}
