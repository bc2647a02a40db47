//go:build !linux

package etcdstore

import (
	"errors"
	"net"
	"sync/atomic"
	"time"
)

// blockingSockets is whether dialBlocking is available here: not on this
// system, whose stores read their revision through the etcd client.
const blockingSockets = false

// blockingConn is not used on this system (see blocking_linux.go).
type blockingConn struct{ net.Conn }

func dialBlocking(string, time.Duration) (*blockingConn, error) {
	return nil, errors.New("etcdstore: no blocking sockets on this system")
}

func (c *blockingConn) shutdown() {}

// keptP counts nothing here (see blocking_linux.go).
var keptP atomic.Int64
