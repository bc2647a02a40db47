package etcdstore

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/protobuf/proto"
)

// The revision read's own connection.
//
// Every linearizable call of a cluster node reads the store's revision
// (Revision), and through the etcd client each read cost the node 130–230
// µs of CPU: the client's goroutines hand the request and the response to
// each other, and each hand-off, through the network poller, wakes a
// thread. A revision read made on a connection of its own, by the reading
// goroutine alone, blocked in the read system call until etcd answers
// (blockingConn), costs 38 µs; Revision, its callers' hand-off included,
// 70 µs against 205 (BenchmarkRevision, one caller). So the store makes its
// revision reads as gRPC calls over HTTP/2 that it frames itself
// (golang.org/x/net/http2) on such a connection to one endpoint: the same
// linearizable Range request (etcd's ReadIndex) the client would send,
// with TLS when the client would use it
// (the first endpoint's scheme decides, as it does for the client; without
// one, Options.TLS). Any failure (an endpoint down, a
// timeout, a GOAWAY, an error status) closes the connection, and the read
// and the next rangeConnBackoff ones go through the client, which knows
// how to fail over; then the next endpoint is tried. Stores whose client
// authenticates (Options.Username), whose endpoints are not host:port
// URLs, or that New made over a caller's client, read through the client
// only.

// rangeConnTimeout bounds connecting to an endpoint and each read and
// write on the connection (blockingConn): a revision read that takes
// longer goes through the client, which waits up to revisionTimeout.
const rangeConnTimeout = 2 * time.Second

// rangeConnBackoff is how many revision reads go through the client after
// the connection failed, before the next endpoint is tried.
const rangeConnBackoff = 64

// rangeReader makes the store's revision reads over a connection of its
// own (see above). Only the store's one revision reader at a time
// (readRevision) calls revision; close may be called concurrently.
type rangeReader struct {
	endpoints []string // host:port
	tls       *tls.Config
	next      int // index in endpoints of the next one to connect to
	skip      int // reads to leave to the client before connecting again
	conn      *rangeConn

	// mu guards conn and busy against close, which may run concurrently.
	mu     sync.Mutex
	closed atomic.Bool
	busy   bool // a read is under way on conn

	reads, failures atomic.Int64 // revision reads made over the connection, and failed
}

// newRangeReader returns the reader for a store opened with opts, or nil
// when the store must read through the client (see above).
func newRangeReader(opts Options) *rangeReader {
	if opts.Username != "" || len(opts.Endpoints) == 0 || !blockingSockets {
		return nil
	}
	r := &rangeReader{}
	// TLS or not for every endpoint, as the client decides it: from the
	// first endpoint's scheme, and without one from Options.TLS.
	switch first := opts.Endpoints[0]; {
	case strings.HasPrefix(first, "https://"):
		r.tls = opts.TLS
		if r.tls == nil {
			r.tls = &tls.Config{} // the system's roots, as the client's
		}
	case !strings.Contains(first, "://"):
		r.tls = opts.TLS
	}
	for _, ep := range opts.Endpoints {
		host, ok := endpointHost(ep)
		if !ok {
			return nil
		}
		r.endpoints = append(r.endpoints, host)
	}
	return r
}

// endpointHost returns the host:port of an etcd client endpoint, and
// whether the reader can use it: "host:port", "http://host:port" or
// "https://host:port".
func endpointHost(ep string) (string, bool) {
	if !strings.Contains(ep, "://") {
		_, _, err := net.SplitHostPort(ep)
		return ep, err == nil
	}
	u, err := url.Parse(ep)
	if err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") || (u.Scheme != "http" && u.Scheme != "https") {
		return "", false
	}
	_, _, err = net.SplitHostPort(u.Host)
	return u.Host, err == nil
}

// revision reads key's ModRevision and the cluster's revision over the
// connection; ok is false when the caller must read through the client
// instead.
func (r *rangeReader) revision(key string) (rev, at int64, ok bool) {
	if r == nil || r.closed.Load() {
		return 0, 0, false
	}
	if r.skip > 0 {
		r.skip--
		return 0, 0, false
	}
	r.mu.Lock()
	c := r.conn
	r.mu.Unlock()
	if c == nil {
		host := r.endpoints[r.next%len(r.endpoints)]
		r.next++
		c, err := dialRange(host, r.tls)
		if err != nil {
			r.failed()
			return 0, 0, false
		}
		r.mu.Lock()
		if r.closed.Load() {
			r.mu.Unlock()
			c.close()
			return 0, 0, false
		}
		r.conn = c
		r.mu.Unlock()
	}
	r.mu.Lock()
	c = r.conn
	if r.closed.Load() || c == nil { // close came first
		r.mu.Unlock()
		return 0, 0, false
	}
	r.busy = true
	r.mu.Unlock()
	rev, at, err := c.rangeRevision(key)
	r.mu.Lock()
	r.busy = false
	if r.closed.Load() && r.conn != nil { // close left this read to end the connection
		r.conn.close()
		r.conn = nil
	}
	r.mu.Unlock()
	if err != nil {
		r.failed()
		return 0, 0, false
	}
	r.reads.Add(1)
	return rev, at, true
}

// failed closes the connection after a failure and leaves the next reads
// to the client.
func (r *rangeReader) failed() {
	r.failures.Add(1)
	r.skip = rangeConnBackoff
	r.mu.Lock()
	if r.conn != nil {
		r.conn.close()
		r.conn = nil
	}
	r.mu.Unlock()
}

// close ends the connection: a read blocked on it returns at once (and
// goes through the client, which the store closes too).
func (r *rangeReader) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed.Store(true)
	switch {
	case r.conn == nil:
	case r.busy:
		r.conn.sock.shutdown() // the reader closes it once the read returns
	default:
		r.conn.close()
		r.conn = nil
	}
}

// rangeConn is one HTTP/2 connection to an etcd member carrying Range
// calls one at a time.
type rangeConn struct {
	sock      *blockingConn
	rw        io.ReadWriter // sock, or TLS over it
	out       bytes.Buffer  // frames to send
	fr        *http2.Framer
	hbuf      bytes.Buffer // the request's header block
	enc       *hpack.Encoder
	authority string
	stream    uint32 // the next stream ID
	sendWin   int64  // what the connection may send (the member's receive window)
	received  int64  // DATA bytes received since the last WINDOW_UPDATE sent
	msg       []byte // the response message being received
}

// h2Window is the receive window the connection announces, for each
// stream and for the connection; it tops the latter up once half is used.
const h2Window = 1 << 30

// dialRange connects to the etcd member at host, with TLS when tlsConfig
// is not nil, and opens an HTTP/2 connection.
func dialRange(host string, tlsConfig *tls.Config) (*rangeConn, error) {
	sock, err := dialBlocking(host, rangeConnTimeout)
	if err != nil {
		return nil, err
	}
	c := &rangeConn{sock: sock, rw: sock, authority: host, stream: 1, sendWin: 65535}
	if tlsConfig != nil {
		cfg := tlsConfig.Clone()
		cfg.NextProtos = []string{"h2"}
		if cfg.ServerName == "" {
			cfg.ServerName, _, _ = net.SplitHostPort(host)
		}
		tc := tls.Client(sock, cfg)
		if err := tc.Handshake(); err != nil {
			sock.Close()
			return nil, err
		}
		if p := tc.ConnectionState().NegotiatedProtocol; p != "h2" {
			sock.Close()
			return nil, fmt.Errorf("etcdstore: %s negotiated %q, not h2", host, p)
		}
		c.rw = tc
	}
	c.fr = http2.NewFramer(&c.out, bufio.NewReaderSize(c.rw, 16<<10))
	c.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	c.enc = hpack.NewEncoder(&c.hbuf)
	c.out.WriteString(http2.ClientPreface)
	if err := c.fr.WriteSettings(http2.Setting{ID: http2.SettingEnablePush, Val: 0},
		http2.Setting{ID: http2.SettingInitialWindowSize, Val: h2Window}); err != nil {
		sock.Close()
		return nil, err
	}
	if err := c.fr.WriteWindowUpdate(0, h2Window-65535); err != nil {
		sock.Close()
		return nil, err
	}
	if err := c.flush(); err != nil {
		sock.Close()
		return nil, err
	}
	return c, nil
}

func (c *rangeConn) flush() error {
	_, err := c.rw.Write(c.out.Bytes())
	c.out.Reset()
	return err
}

func (c *rangeConn) close() { c.sock.Close() }

// errRangeConn is the error of a Range call the connection could not
// complete; the caller then reads through the client.
var errRangeConn = errors.New("etcdstore: revision connection")

// rangeRevision makes a linearizable Range of key (keys only) and returns
// the key's ModRevision and the response header's revision.
func (c *rangeConn) rangeRevision(key string) (rev, at int64, err error) {
	if c.stream > 1<<30 {
		return 0, 0, fmt.Errorf("%w: stream IDs used up", errRangeConn)
	}
	body, err := proto.Marshal(&pb.RangeRequest{Key: []byte(key), KeysOnly: true})
	if err != nil {
		return 0, 0, err
	}
	msg := make([]byte, 5+len(body)) // gRPC's message prefix: not compressed, length
	binary.BigEndian.PutUint32(msg[1:], uint32(len(body)))
	copy(msg[5:], body)
	if int64(len(msg)) > c.sendWin {
		return 0, 0, fmt.Errorf("%w: the member's flow-control window is closed", errRangeConn)
	}
	c.sendWin -= int64(len(msg))

	c.hbuf.Reset()
	for _, f := range [...]hpack.HeaderField{
		{Name: ":method", Value: "POST"}, {Name: ":scheme", Value: c.scheme()},
		{Name: ":path", Value: "/etcdserverpb.KV/Range"}, {Name: ":authority", Value: c.authority},
		{Name: "content-type", Value: "application/grpc"}, {Name: "te", Value: "trailers"},
	} {
		if err := c.enc.WriteField(f); err != nil {
			return 0, 0, err
		}
	}
	id := c.stream
	c.stream += 2
	if err := c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: c.hbuf.Bytes(), EndHeaders: true}); err != nil {
		return 0, 0, err
	}
	if err := c.fr.WriteData(id, true, msg); err != nil {
		return 0, 0, err
	}
	if err := c.flush(); err != nil {
		return 0, 0, err
	}

	c.msg = c.msg[:0]
	for {
		f, err := c.fr.ReadFrame()
		if err != nil {
			return 0, 0, err
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				if err := c.fr.WriteSettingsAck(); err != nil {
					return 0, 0, err
				}
				if err := c.flush(); err != nil {
					return 0, 0, err
				}
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				if err := c.fr.WritePing(true, f.Data); err != nil {
					return 0, 0, err
				}
				if err := c.flush(); err != nil {
					return 0, 0, err
				}
			}
		case *http2.WindowUpdateFrame:
			if f.StreamID == 0 {
				c.sendWin += int64(f.Increment)
			}
		case *http2.GoAwayFrame:
			return 0, 0, fmt.Errorf("%w: GOAWAY %v", errRangeConn, f.ErrCode)
		case *http2.RSTStreamFrame:
			if f.StreamID == id {
				return 0, 0, fmt.Errorf("%w: stream reset: %v", errRangeConn, f.ErrCode)
			}
		case *http2.DataFrame:
			if err := c.consumed(len(f.Data())); err != nil {
				return 0, 0, err
			}
			if f.StreamID == id {
				c.msg = append(c.msg, f.Data()...)
			}
		case *http2.MetaHeadersFrame:
			if f.StreamID != id || !f.StreamEnded() {
				continue // the response's headers; its trailers end it
			}
			if status := f.PseudoValue("status"); status != "" && status != "200" {
				return 0, 0, fmt.Errorf("%w: HTTP status %s", errRangeConn, status)
			}
			if s := f.Fields; grpcStatus(s) != "0" {
				return 0, 0, fmt.Errorf("%w: gRPC status %s", errRangeConn, grpcStatus(s))
			}
			return rangeResult(c.msg)
		}
	}
}

func (c *rangeConn) scheme() string {
	if c.rw == io.ReadWriter(c.sock) {
		return "http"
	}
	return "https"
}

// consumed counts n bytes of DATA received and gives the member back its
// connection window once half of it is used.
func (c *rangeConn) consumed(n int) error {
	c.received += int64(n)
	if c.received < h2Window/2 {
		return nil
	}
	if err := c.fr.WriteWindowUpdate(0, uint32(c.received)); err != nil {
		return err
	}
	c.received = 0
	return c.flush()
}

// grpcStatus returns the grpc-status field of trailers ("" when absent).
func grpcStatus(fields []hpack.HeaderField) string {
	for _, f := range fields {
		if f.Name == "grpc-status" {
			return f.Value
		}
	}
	return ""
}

// rangeResult decodes a gRPC message holding a RangeResponse.
func rangeResult(msg []byte) (rev, at int64, err error) {
	if len(msg) < 5 || msg[0] != 0 || int(binary.BigEndian.Uint32(msg[1:5])) != len(msg)-5 {
		return 0, 0, fmt.Errorf("%w: a malformed gRPC message", errRangeConn)
	}
	var resp pb.RangeResponse
	if err := proto.Unmarshal(msg[5:], &resp); err != nil {
		return 0, 0, fmt.Errorf("%w: %v", errRangeConn, err)
	}
	if resp.Header == nil {
		return 0, 0, fmt.Errorf("%w: a response without a header", errRangeConn)
	}
	if len(resp.Kvs) == 0 {
		return 0, resp.Header.Revision, errRevisionMissing
	}
	return resp.Kvs[0].ModRevision, resp.Header.Revision, nil
}

// errRevisionMissing: the store's revision record is not there.
var errRevisionMissing = errors.New("etcdstore: the revision record is missing")
