package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/kms/kmshttp"
	"github.com/kmsmodel/kmsmodel/store/etcdstore"
)

// The model log of a cluster (serve --etcd). IAM, AWS Organizations and VPC
// endpoints are not the key space's: each node builds them from its flags.
// The KmsModel targets that change them while serve runs
// (kmshttp.IsModelChange) would change only the node that answers, so a
// client behind a load balancer would see its change on one node in
// three. Instead each change is an entry of a log in etcd, under the key
// space's prefix (modelLogDir, which the store ignores), and every node
// applies every entry, in etcd's revision order, to what its flags built,
// entries written before it started included. The node that takes a
// change answers once it has applied it itself, with its own answer; the
// others apply it as their watch brings it, within milliseconds, as IAM's
// own changes take time to reach every endpoint. A KmsModel target that
// reads them (GetIdentityPolicy, GetUserId, …) first waits until the node
// has applied every change acknowledged before it. Entries are kept: a
// node started later replays them all.

// modelLogDir is where the model log lives under the store's prefix.
const modelLogDir = "kmssim/model/"

// modelEntry is one change in the log: a KmsModel target and its request
// body.
type modelEntry struct {
	Target string `json:"target"`
	Body   []byte `json:"body"`
}

// modelResult is what applying an entry answered.
type modelResult struct {
	resp []byte
	err  error
}

// etcdModelLog is a kmshttp.ModelLog in etcd (see above).
type etcdModelLog struct {
	cli    *clientv3.Client
	prefix string
	h      *kmshttp.Handler // set before follow
	log    *slog.Logger

	mu      sync.Mutex
	applied int64                       // the revision of the last entry applied
	wake    chan struct{}               // closed when applied moves
	waiting map[string]chan modelResult // this node's entries not yet applied, by etcd key
	stopped error                       // why the watch ended, once it has
	cancel  context.CancelFunc
	done    chan struct{} // closed when the watch has ended
}

// newModelLog connects to the etcd cluster of o for the model log.
func newModelLog(o *etcdstore.Options, log *slog.Logger) (*etcdModelLog, error) {
	cli, err := etcdstore.Dial(*o)
	if err != nil {
		return nil, fmt.Errorf("the model log: connect: %w", err)
	}
	return &etcdModelLog{cli: cli, prefix: o.Prefix + modelLogDir, log: log, wake: make(chan struct{}),
		waiting: make(map[string]chan modelResult), done: make(chan struct{})}, nil
}

// replay applies the entries written so far (within timeout) through
// h, and returns the revision to follow the log from. serve replays the
// log before the service answers any call.
func (l *etcdModelLog) replay(h *kmshttp.Handler, timeout time.Duration) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	resp, err := l.cli.Get(ctx, l.prefix, clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByModRevision, clientv3.SortAscend))
	cancel()
	if err != nil {
		return 0, fmt.Errorf("the model log: read: %w", err)
	}
	l.h = h
	for _, kv := range resp.Kvs {
		l.apply(string(kv.Key), kv.Value, kv.ModRevision)
	}
	return resp.Header.Revision + 1, nil
}

// start follows the log from revision from through h until close.
func (l *etcdModelLog) start(h *kmshttp.Handler, from int64) {
	l.h = h
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	go l.follow(ctx, from)
}

// follow applies the log's entries from revision from on, as etcd's watch
// brings them, until ctx ends. A watch that etcd ends (a compaction it
// fell behind, a lost connection) is started again after what was
// applied.
func (l *etcdModelLog) follow(ctx context.Context, from int64) {
	defer close(l.done)
	for ctx.Err() == nil {
		wch := l.cli.Watch(ctx, l.prefix, clientv3.WithPrefix(), clientv3.WithRev(from))
		for wr := range wch {
			if wr.CompactRevision != 0 {
				// Behind a compaction: read what was missed instead.
				from = l.catchUp(ctx)
				break
			}
			if err := wr.Err(); err != nil {
				l.log.Warn("the model log's watch failed; watching again", "err", err)
				break
			}
			for _, ev := range wr.Events {
				if ev.Type == clientv3.EventTypePut {
					l.apply(string(ev.Kv.Key), ev.Kv.Value, ev.Kv.ModRevision)
					from = ev.Kv.ModRevision + 1
				}
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	l.mu.Lock()
	l.stopped = errors.New("the model log is closed")
	for k, ch := range l.waiting {
		ch <- modelResult{err: l.stopped}
		delete(l.waiting, k)
	}
	l.mu.Unlock()
}

// catchUp applies the entries after the last applied one, read anew, and
// returns the revision to watch from.
func (l *etcdModelLog) catchUp(ctx context.Context) int64 {
	l.mu.Lock()
	after := l.applied
	l.mu.Unlock()
	resp, err := l.cli.Get(ctx, l.prefix, clientv3.WithPrefix(), clientv3.WithMinModRev(after+1),
		clientv3.WithSort(clientv3.SortByModRevision, clientv3.SortAscend))
	if err != nil {
		l.log.Warn("the model log's watch fell behind, and reading it failed; watching again", "err", err)
		return after + 1
	}
	for _, kv := range resp.Kvs {
		l.apply(string(kv.Key), kv.Value, kv.ModRevision)
	}
	return resp.Header.Revision + 1
}

// apply applies the entry at key, of revision rev, to the handler, and
// hands its answer to the call that wrote it on this node, if one waits.
func (l *etcdModelLog) apply(key string, value []byte, rev int64) {
	var e modelEntry
	var r modelResult
	if err := json.Unmarshal(value, &e); err != nil {
		r.err = fmt.Errorf("the model log: entry %s (revision %d) is not an entry: %w", key, rev, err)
		l.log.Warn("skipping a model log entry", "key", key, "revision", rev, "err", err)
	} else {
		r.resp, r.err = l.h.ApplyModelChange(e.Target, e.Body)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if ch := l.waiting[key]; ch != nil {
		ch <- r
		delete(l.waiting, key)
	} else if r.err != nil && e.Target != "" {
		// Refused here as on the node that took it, which answered so.
		l.log.Debug("a change from the model log was refused here", "target", e.Target, "err", r.err)
	}
	if rev > l.applied {
		l.applied = rev
		close(l.wake)
		l.wake = make(chan struct{})
	}
}

// Change writes the change to the log and waits until this node has
// applied it (kmshttp.ModelLog).
func (l *etcdModelLog) Change(ctx context.Context, target string, body []byte) ([]byte, error) {
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, err
	}
	key := l.prefix + hex.EncodeToString(id[:])
	value, err := json.Marshal(modelEntry{Target: target, Body: body})
	if err != nil {
		return nil, err
	}
	ch := make(chan modelResult, 1)
	l.mu.Lock()
	if l.stopped != nil {
		l.mu.Unlock()
		return nil, l.stopped
	}
	l.waiting[key] = ch
	l.mu.Unlock()
	if _, err := l.cli.Put(ctx, key, string(value)); err != nil {
		// Perhaps written all the same: then every node applies it.
		l.mu.Lock()
		delete(l.waiting, key)
		l.mu.Unlock()
		return nil, fmt.Errorf("the model log: write %s: %w", target, err)
	}
	select {
	case r := <-ch:
		return r.resp, r.err
	case <-ctx.Done():
		l.mu.Lock()
		delete(l.waiting, key)
		l.mu.Unlock()
		return nil, fmt.Errorf("the model log: %s written, not yet applied here: %w", target, ctx.Err())
	}
}

// Sync waits until this node has applied the log's last entry as of now
// (kmshttp.ModelLog).
func (l *etcdModelLog) Sync(ctx context.Context) error {
	resp, err := l.cli.Get(ctx, l.prefix, append(clientv3.WithLastRev(), clientv3.WithPrefix(), clientv3.WithKeysOnly())...)
	if err != nil {
		return fmt.Errorf("the model log: read: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return nil
	}
	last := resp.Kvs[0].ModRevision
	for {
		l.mu.Lock()
		applied, wake, stopped := l.applied, l.wake, l.stopped
		l.mu.Unlock()
		switch {
		case applied >= last:
			return nil
		case stopped != nil:
			return stopped
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return fmt.Errorf("the model log: not yet at revision %d (at %d): %w", last, applied, ctx.Err())
		}
	}
}

// close stops following the log and closes its connection.
func (l *etcdModelLog) close() error {
	if l.cancel != nil {
		l.cancel()
		<-l.done
	}
	return l.cli.Close()
}

// openModelLog opens the model log of c's cluster and replays it onto
// the IAM, Organizations and VPC endpoints that c's flags built, before
// the service exists (replay); it returns the revision to follow from.
func openModelLog(c *serveConfig, log *slog.Logger) (*etcdModelLog, int64, error) {
	l, err := newModelLog(c.etcd, log)
	if err != nil {
		return nil, 0, err
	}
	// A handler over a service of its own: only its KmsModel targets,
	// which change what the flags built, are used.
	h, err := kmshttp.New(kms.New(), c.modelOptions(nil)...)
	if err == nil {
		var from int64
		if from, err = l.replay(h, c.etcd.DialTimeout); err == nil {
			return l, from, nil
		}
	}
	_ = l.cli.Close()
	return nil, 0, err
}

// modelOptions appends to opts the handler options of what c's flags
// built: IAM, Organizations and VPC endpoints.
func (c *serveConfig) modelOptions(opts []kmshttp.Option) []kmshttp.Option {
	if c.identities != nil {
		opts = append(opts, kmshttp.WithIdentityPolicies(c.identities))
	}
	if c.orgs != nil {
		opts = append(opts, kmshttp.WithOrganizations(c.orgs))
	}
	for _, ep := range c.vpces {
		opts = append(opts, kmshttp.WithVPCEndpoints(ep))
	}
	return opts
}
