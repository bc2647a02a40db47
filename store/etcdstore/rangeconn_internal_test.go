package etcdstore

import (
	"crypto/tls"
	"testing"
)

// TestRangeReaderOnlyWhereItCan: a store reads its revision over a
// connection of its own only when its client does not authenticate and
// every endpoint is host:port, http://host:port or, with TLS,
// https://host:port.
func TestRangeReaderOnlyWhereItCan(t *testing.T) {
	withTLS := &tls.Config{}
	for _, c := range []struct {
		opts Options
		want []string // nil: no reader
	}{
		{Options{Endpoints: []string{"127.0.0.1:2379"}}, []string{"127.0.0.1:2379"}},
		{Options{Endpoints: []string{"http://a:1", "http://b:2/"}}, []string{"a:1", "b:2"}},
		{Options{Endpoints: []string{"https://a:1"}, TLS: withTLS}, []string{"a:1"}},
		{Options{Endpoints: []string{"http://a:1"}, TLS: withTLS}, []string{"a:1"}},
		{Options{Endpoints: []string{"https://a:1"}}, nil},               // TLS the reader does not know
		{Options{Endpoints: []string{"http://a:1"}, Username: "u"}, nil}, // tokens
		{Options{Endpoints: []string{"unix:///run/etcd.sock"}}, nil},
		{Options{Endpoints: []string{"http://a:1", "unix://b"}}, nil},
		{Options{Endpoints: []string{"http://a"}}, nil}, // no port
		{Options{Endpoints: []string{"http://a:1/path"}}, nil},
		{Options{Endpoints: []string{"a"}}, nil},
		{Options{}, nil},
	} {
		r := newRangeReader(c.opts)
		switch {
		case c.want == nil && r != nil:
			t.Errorf("%+v: a reader of %v", c.opts, r.endpoints)
		case c.want != nil && (r == nil || len(r.endpoints) != len(c.want)):
			t.Errorf("%+v: reader %+v, want endpoints %v", c.opts, r, c.want)
		case c.want != nil:
			for i := range c.want {
				if r.endpoints[i] != c.want[i] {
					t.Errorf("%+v: endpoints %v, want %v", c.opts, r.endpoints, c.want)
				}
			}
			if r.tls != c.opts.TLS {
				t.Errorf("%+v: TLS %v", c.opts, r.tls)
			}
		}
	}
}
