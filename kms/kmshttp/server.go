package kmshttp

import (
	"bytes"
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kmsmodel/kmsmodel/kms"
)

// Limits bound what one client can hold of a Server: time to send a
// request, time idle between requests, header bytes, and connections. A
// zero field takes its default (DefaultLimits).
type Limits struct {
	// ReadHeaderTimeout is how long a client has to send a request's
	// headers, from the first byte (default 10s).
	ReadHeaderTimeout time.Duration
	// ReadTimeout is how long a client has to send a whole request,
	// headers and body (default 30s). A body not complete by then is
	// refused with RequestAbortedException and the connection closed.
	ReadTimeout time.Duration
	// WriteTimeout is how long the server spends on a request once its
	// headers are read, handling it and writing the response (default
	// 60s): a client that does not read its response loses the
	// connection then.
	WriteTimeout time.Duration
	// IdleTimeout is how long a keep-alive connection may wait for its
	// next request (default 60s).
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request's header block (default 32 KiB;
	// net/http allows 4 KiB of slack). A larger one is refused with HTTP
	// 431 and RequestEntityTooLargeException.
	MaxHeaderBytes int
	// MaxConns bounds the connections open at once (default 1024). When
	// they are all open the server accepts no more until one closes: new
	// connections wait in the kernel's accept queue.
	MaxConns int
}

// DefaultLimits returns the limits a Server uses for the zero fields of
// its Limits.
func DefaultLimits() Limits {
	return Limits{
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    32 << 10,
		MaxConns:          1024,
	}
}

// withDefaults returns l with its zero fields set to the defaults.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.ReadHeaderTimeout <= 0 {
		l.ReadHeaderTimeout = d.ReadHeaderTimeout
	}
	if l.ReadTimeout <= 0 {
		l.ReadTimeout = d.ReadTimeout
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = d.WriteTimeout
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = d.IdleTimeout
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = d.MaxHeaderBytes
	}
	if l.MaxConns <= 0 {
		l.MaxConns = d.MaxConns
	}
	return l
}

// connOverhead is the memory one connection may hold besides its header
// block: the serving goroutines' stacks, net/http's 4 KiB read and write
// buffers and connection state, and a body of up to SmallBodyBytes read
// with room to grow.
const connOverhead = 64<<10 + 2*SmallBodyBytes

// MemoryBound is the most memory, in bytes, that a Server with limits l
// over a Handler with body memory bodyMemory (WithBodyMemory) holds for
// its connections and their requests, whatever its clients do: per
// connection twice the header block net/http may read (MaxHeaderBytes +
// 4 KiB, once as read and once parsed) and a fixed overhead (stacks,
// buffers, a small body), plus the body memory shared by all large
// bodies. The model's own state (keys, aliases) and responses being
// written come on top. With the defaults (1024 connections, 32 KiB
// headers, 64 MiB body memory) it is 232 MiB.
func MemoryBound(l Limits, bodyMemory int64) int64 {
	l = l.withDefaults()
	perConn := 2*int64(l.MaxHeaderBytes+4096) + connOverhead
	return int64(l.MaxConns)*perConn + bodyMemory
}

// Server serves a Handler over HTTP/1.1 within Limits, so that hostile or
// broken clients (slow headers, stalled bodies, idle connections, huge
// headers) cannot hold its memory or connections for long. Refusals that
// net/http itself writes before any handler runs (a header block over
// MaxHeaderBytes, a malformed request) are rewritten into AWS's error
// shape. Shutdown does not wait for clients that are still sending.
type Server struct {
	srv     *http.Server
	h       http.Handler
	limits  Limits
	newID   func() string
	sem     chan struct{}
	closing atomic.Bool

	mu    sync.Mutex
	conns map[*conn]struct{}
}

// NewServer returns a Server serving h within limits (zero fields take
// DefaultLimits). errorLog, if not nil, receives net/http's own errors.
// When h is a *Handler, refusals written by the Server carry request IDs
// from it.
func NewServer(h http.Handler, limits Limits, errorLog *log.Logger) *Server {
	l := limits.withDefaults()
	s := &Server{h: h, limits: l, sem: make(chan struct{}, l.MaxConns), conns: map[*conn]struct{}{}}
	if kh, ok := h.(*Handler); ok {
		s.newID = kh.requestID
	}
	s.srv = &http.Server{
		Handler:           http.HandlerFunc(s.serveHTTP),
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    l.MaxHeaderBytes,
		ErrorLog:          errorLog,
		ConnState:         s.connState,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			cc, ok := c.(*conn)
			if !ok {
				return ctx
			}
			ctx = context.WithValue(ctx, connKey{}, cc)
			// The connection's address is its requests' aws:SourceIp
			// (D64): given once, for all of them.
			cc.remote = c.RemoteAddr().String()
			if ap, err := netip.ParseAddrPort(cc.remote); err == nil {
				cc.sourced = true
				ctx = kms.WithSourceIP(ctx, ap.Addr())
			}
			return ctx
		},
	}
	return s
}

// Limits returns the server's limits, defaults filled in.
func (s *Server) Limits() Limits { return s.limits }

// Serve accepts connections on ln, at most Limits.MaxConns open at once,
// and serves them until Shutdown. It returns http.ErrServerClosed after
// Shutdown, or the error that stopped it.
func (s *Server) Serve(ln net.Listener) error {
	return s.srv.Serve(&limitListener{Listener: ln, s: s, done: make(chan struct{})})
}

// Shutdown stops the server gracefully: it closes the listener and idle
// connections, waits for the requests being handled to finish, and
// returns. Clients still sending are not waited for: a connection whose
// request headers are incomplete is closed, and a request body still
// being read is cut (its request is refused with RequestAbortedException).
// If ctx ends first, Shutdown returns its error and the connections left
// stay open (see Close).
func (s *Server) Shutdown(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Shutdown(ctx) }()
	s.closing.Store(true)
	s.mu.Lock()
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.cut()
	}
	return <-errc
}

// Close closes the listener and every connection at once.
func (s *Server) Close() error { return s.srv.Close() }

// connKey is the context key of the *conn a request came on.
type connKey struct{}

// serveHTTP marks the connection as reading its body while h reads it,
// so that Shutdown can cut a stalled body.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	c, _ := r.Context().Value(connKey{}).(*conn)
	if c == nil || r.Body == nil || r.Body == http.NoBody {
		s.h.ServeHTTP(w, r)
		return
	}
	c.setReading(true)
	defer c.setReading(false)
	r.Body = &watchedBody{ReadCloser: r.Body, c: c}
	s.h.ServeHTTP(w, r)
}

func (s *Server) connState(nc net.Conn, st http.ConnState) {
	c, ok := nc.(*conn)
	if !ok {
		return
	}
	c.mu.Lock()
	c.state = st
	c.mu.Unlock()
	if st == http.StateNew && s.closing.Load() {
		c.cut()
	}
}

// limitListener accepts at most cap(s.sem) connections open at once,
// blocking in Accept while they are all open.
type limitListener struct {
	net.Listener
	s         *Server
	closeOnce sync.Once
	done      chan struct{} // closed by Close
}

// Accept waits for a free connection slot, then for a connection.
func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.s.sem <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	nc, err := l.Listener.Accept()
	if err != nil {
		<-l.s.sem
		return nil, err
	}
	c := &conn{Conn: nc, s: l.s}
	l.s.mu.Lock()
	l.s.conns[c] = struct{}{}
	l.s.mu.Unlock()
	return c, nil
}

// Close closes the listener and wakes an Accept waiting for a slot.
func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// conn is a connection of a Server: it gives its slot back when closed,
// knows its state for Shutdown, and rewrites net/http's plain-text
// refusals into AWS's error shape.
type conn struct {
	net.Conn
	s         *Server
	closeOnce sync.Once

	mu      sync.Mutex
	state   http.ConnState
	reading bool // a handler is reading the request body

	// remote is the client's address, and sourced says that the
	// connection's context gives it to its requests as their source
	// address (kms.WithSourceIP). Both are set before the first request.
	remote  string
	sourced bool
}

// sourcedBy reports whether r's context gives it its connection's
// address as its source address, which r.RemoteAddr still is.
func sourcedBy(r *http.Request) bool {
	c, _ := r.Context().Value(connKey{}).(*conn)
	return c != nil && c.sourced && c.remote == r.RemoteAddr
}

// Close closes the connection and frees its slot.
func (c *conn) Close() error {
	err := c.Conn.Close()
	c.closeOnce.Do(func() {
		c.s.mu.Lock()
		delete(c.s.conns, c)
		c.s.mu.Unlock()
		<-c.s.sem
	})
	return err
}

func (c *conn) setReading(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reading = on
	if on && c.s.closing.Load() {
		_ = c.Conn.SetReadDeadline(time.Now())
	}
}

// cut ends what a shutdown does not wait for: a connection that has not
// yet sent a whole request is closed, a body being read is cut by a read
// deadline in the past. A request being handled after its body was read
// is left to finish.
func (c *conn) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.state == http.StateNew:
		_ = c.Conn.Close() // Close (the slot) is net/http's to call
	case c.reading:
		_ = c.Conn.SetReadDeadline(time.Now())
	}
}

// watchedBody clears its connection's reading mark when the body ends.
type watchedBody struct {
	io.ReadCloser
	c *conn
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.c.setReading(false)
	}
	return n, err
}

func (b *watchedBody) Close() error { return b.ReadCloser.Close() }

// plainErrorHeaders is what net/http writes after the status line of a
// refusal it sends itself, before any handler runs (server.go's
// errorHeaders). A response from a handler never has it right after its
// status line: net/http writes a Date header between Connection and the
// blank line.
const plainErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// Write passes p on, except net/http's own plain-text refusal, which it
// replaces with the same status in AWS's shape.
func (c *conn) Write(p []byte) (int, error) {
	if bytes.HasPrefix(p, []byte("HTTP/1.1 ")) {
		if i := bytes.Index(p, []byte("\r\n")); i > 0 && bytes.HasPrefix(p[i:], []byte(plainErrorHeaders)) {
			if _, err := c.Conn.Write(c.s.refusal(p[:i], p[i+len(plainErrorHeaders):])); err != nil {
				return 0, err
			}
			return len(p), nil
		}
	}
	return c.Conn.Write(p)
}

// refusal is the AWS-shaped response for net/http's refusal with the
// given status line and text.
func (s *Server) refusal(statusLine, text []byte) []byte {
	code, status := "BadRequestException", http.StatusBadRequest
	if f := bytes.Fields(statusLine); len(f) >= 2 {
		if n, err := strconv.Atoi(string(f[1])); err == nil && n >= 400 && n < 600 {
			status = n
		}
	}
	msg := string(text)
	if status == http.StatusRequestHeaderFieldsTooLarge {
		code = "RequestEntityTooLargeException"
		msg = "Request header fields are larger than the limit of " + strconv.Itoa(s.limits.MaxHeaderBytes) + " bytes"
	}
	w := writer{}
	w.open()
	w.str("__type", code)
	w.optStr("message", msg)
	w.close()
	b := make([]byte, 0, 256+len(w.b))
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	b = append(b, http.StatusText(status)...)
	b = append(b, "\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amzn-Errortype: "...)
	b = append(b, code...)
	if s.newID != nil {
		b = append(b, "\r\nX-Amzn-Requestid: "...)
		b = append(b, s.newID()...)
	}
	b = append(b, "\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(w.b)), 10)
	b = append(b, "\r\nConnection: close\r\n\r\n"...)
	return append(b, w.b...)
}
